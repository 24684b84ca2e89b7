"""An ASGI test server under hypercorn: HTTPS with HTTP/2 and HTTP/1.1 by ALPN, h2c in clear.

``AsgiServer`` runs hypercorn in a background thread with its own event loop, on
sockets the server binds itself on 127.0.0.1 port 0 (handed to hypercorn as
``fd://``): a TLS port when given an ``ssl.SSLContext`` (ALPN ``h2``, ``http/1.1``)
and always a cleartext port, which also accepts HTTP/2 with prior knowledge (h2c).
Every request is recorded in ``AsgiServer.requests`` with the HTTP version the
server saw.

Routes (any method):

``/status/{n}``                     status n, body ``"status n\\n"``
``/bytes/{n}``                      n bytes of ``bytes(range(256))`` repeated
``/echo``                           JSON: method, path, query, headers (lower-case names,
                                    repeated ones joined with ", "), http_version, scheme
``/redirect-to?url=U&status=302&cookie=NAME=VALUE``
                                    redirect to U, setting the cookie if ``cookie`` is given
``/set-cookie?a=1&b=2``             one ``Set-Cookie`` (``Path=/``) per query parameter
``/cookies``                        JSON ``{"cookie": <the Cookie header or null>}``
anything else                       404 ``"not found"``

``Certificates`` makes every certificate the transport tests need with trustme.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import trustme
from hypercorn.asyncio import serve
from hypercorn.config import Config

from support.server import Service

__all__ = ["AsgiServer", "Certificates", "SeenRequest", "server_context"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_BYTE_PATTERN = bytes(range(256))


@dataclasses.dataclass(frozen=True)
class SeenRequest:
    """One request as the ASGI server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    http_version: str
    """As in the ASGI scope: ``"1.1"`` or ``"2"``."""
    scheme: str


class Certificates:
    """A trustme CA and the leaf certificates issued by it, written as PEM files in ``root``.

    ``ca_pem``                    the CA certificate, for ``--cacert``
    ``server``                    127.0.0.1 and localhost, valid now
    ``expired``                   127.0.0.1 and localhost, expired a year ago
    ``wrong_host``                only ``wrong.host.example``
    ``client_cert``/``client_key``  a client certificate and its key, for ``--cert``/``--key``
    ``client_cert_and_key``       both in one file, for ``--cert`` alone
    """

    def __init__(self, ca: trustme.CA, root: Path) -> None:
        self.ca = ca
        self.root = root
        self.ca_pem = root / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_pem))
        now = datetime.datetime.now(datetime.UTC)
        self.server = ca.issue_cert("127.0.0.1", "localhost")
        self.expired = ca.issue_cert(
            "127.0.0.1",
            "localhost",
            not_before=now - datetime.timedelta(days=730),
            not_after=now - datetime.timedelta(days=365),
        )
        self.wrong_host = ca.issue_cert("wrong.host.example")
        client = ca.issue_cert("hx-client@example.org", common_name="hx test client")
        self.client_cert = root / "client.pem"
        self.client_key = root / "client.key"
        self.client_cert_and_key = root / "client-and-key.pem"
        self.client_cert.write_bytes(b"".join(blob.bytes() for blob in client.cert_chain_pems))
        client.private_key_pem.write_to_path(str(self.client_key))
        client.private_key_and_cert_chain_pem.write_to_path(str(self.client_cert_and_key))


def server_context(
    leaf: trustme.LeafCert,
    *,
    alpn: list[str] | None = None,
    max_version: ssl.TLSVersion | None = None,
    client_ca: trustme.CA | None = None,
) -> ssl.SSLContext:
    """A server-side SSLContext presenting ``leaf``; ``client_ca``: require a client cert."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    if alpn:
        context.set_alpn_protocols(alpn)
    if max_version is not None:
        context.maximum_version = max_version
    if client_ca is not None:
        client_ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


class _Config(Config):
    """Hypercorn's Config, with TLS from a ready SSLContext rather than file names."""

    def __init__(self, ssl_context: ssl.SSLContext | None) -> None:
        super().__init__()
        self._ssl_context = ssl_context

    @property
    def ssl_enabled(self) -> bool:
        return self._ssl_context is not None

    def create_ssl_context(self) -> ssl.SSLContext | None:
        return self._ssl_context


def _listening_socket() -> tuple[str, int]:
    """A listening socket on 127.0.0.1 port 0: (``fd://N`` bind for hypercorn, port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        port = sock.getsockname()[1]
    except BaseException:
        sock.close()
        raise
    # hypercorn wraps the descriptor in its own socket object and closes it on shutdown.
    return f"fd://{sock.detach()}", port


class AsgiServer(Service):
    """hypercorn on 127.0.0.1: ``url()`` is https when given an SSLContext, ``h2c_url()``
    always cleartext (HTTP/1.1, or HTTP/2 with prior knowledge)."""

    __test__ = False

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.ssl_context = ssl_context
        self.requests: list[SeenRequest] = []
        self.errors: list[BaseException] = []
        self.port = 0
        self.clear_port = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> AsgiServer:
        config = _Config(self.ssl_context)
        config.errorlog = None  # handler errors are collected in self.errors instead
        config.accesslog = None
        config.graceful_timeout = 1.0
        clear_bind, self.clear_port = _listening_socket()
        if self.ssl_context is not None:
            config.bind, self.port = _listening_socket()
            config.insecure_bind = [clear_bind]
        else:
            config.bind, self.port = [clear_bind], self.clear_port
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(config),), name="AsgiServer", daemon=True
        )
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("hypercorn did not start")
        return self

    async def _serve(self, config: Config) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._started.set()
        await serve(self._app, config, shutdown_trigger=self._stop.wait, mode="asgi")

    def stop(self) -> None:
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None or loop is None or stop is None:
            return
        self._thread = None
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        if thread.is_alive():
            raise RuntimeError("hypercorn did not stop")

    # -- addresses and log ---------------------------------------------------

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def h2c_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.clear_port}{path}"

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- the ASGI app --------------------------------------------------------

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        try:
            await self._http(scope, receive, send)
        except Exception as exc:
            self.errors.append(exc)
            raise

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass  # bodies are not needed by any route
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        seen = SeenRequest(
            method=scope["method"],
            path=scope["path"],
            query=dict(query),
            headers=headers,
            http_version=scope["http_version"],
            scheme=scope["scheme"],
        )
        with self._lock:
            self.requests.append(seen)
        status, body, extra = _route(seen, query)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    *((n.encode("latin-1"), v.encode("latin-1")) for n, v in extra),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _route(seen: SeenRequest, query: list[tuple[str, str]]) -> tuple[int, bytes, list[Any]]:
    """(status, body, extra headers) for one request."""
    text = [("content-type", "text/plain; charset=utf-8")]
    match seen.path.split("/")[1:]:
        case ["status", n] if n.isdigit() and 200 <= int(n) <= 599:
            return int(n), f"status {n}\n".encode(), text
        case ["bytes", n] if n.isdigit():
            size = int(n)
            body = (_BYTE_PATTERN * (size // 256 + 1))[:size]
            return 200, body, [("content-type", "application/octet-stream")]
        case ["echo"]:
            payload = {
                "method": seen.method,
                "path": seen.path,
                "query": seen.query,
                "headers": seen.headers,
                "http_version": seen.http_version,
                "scheme": seen.scheme,
            }
            return 200, json.dumps(payload).encode(), [("content-type", "application/json")]
        case ["redirect-to"] if "url" in seen.query:
            headers = [("location", seen.query["url"])]
            if "cookie" in seen.query:
                headers.append(("set-cookie", f"{seen.query['cookie']}; Path=/"))
            return int(seen.query.get("status", "302")), b"redirecting\n", headers
        case ["set-cookie"]:
            cookies = [("set-cookie", f"{k}={v}; Path=/") for k, v in query]
            return 200, b"ok\n", [*text, *cookies]
        case ["cookies"]:
            body = json.dumps({"cookie": seen.headers.get("cookie")}).encode()
            return 200, body, [("content-type", "application/json")]
        case _:
            return 404, b"not found\n", text
