"""A real HTTP/1.1 test server for the hx test-suite, built on the stdlib only.

``TestServer`` wraps ``http.server.ThreadingHTTPServer`` (one thread per connection,
keep-alive on) bound to an ephemeral port, optionally serving HTTPS through an
``ssl.SSLContext``.  Every request is recorded in ``TestServer.requests``.

Routes (any method; ``HEAD`` gets the same headers and no body):

``/status/{n}``            status n (200..599), body ``"status n\\n"`` (none for 204/304)
``/bytes/{n}``             n bytes of ``bytes(range(256))`` repeated, application/octet-stream
``/text/{n}``              n bytes of ASCII text (``expected_text``), text/plain
``/html``                  a tiny HTML page
``/json``                  ``{"hello": "world", "n": 1}``
``/echo``                  JSON: method, path, raw_path, query, headers, body, body_base64
``/headers``               JSON object of the request headers (lower-case names)
``/redirect/{n}``          302 to ``/redirect/{n-1}``; ``/redirect/0`` is 200 ``"done"``
``/redirect-to?url=U&status=302``   redirect to U (status 300..399, default 302)
``/redirect-loop``         302 to itself
``/slow?delay=S``          sleep S seconds, then 200 ``"slow"``
``/hang``                  no answer: waits for the client to close the connection and
                           notes when in ``TestServer.hangups``
``/drip?bytes=N&delay=S&chunked=0|1``   N bytes of ``b"*"``, one write each, sleeping S
                           seconds before each byte (headers are sent at once)
``/set-cookie?a=1&b=2``    one ``Set-Cookie`` per query parameter, body ``"ok"``
``/content-type?type=T&body=B``   that Content-Type (omitted if no ``type``) and body
``/gzip/{n}``              ``expected_text(n)`` gzip-compressed, Content-Encoding gzip
anything else              404 ``"not found"``
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import re
import select
import socket
import socketserver
import ssl
import string
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self, cast
from urllib.parse import parse_qs, parse_qsl, urlsplit

__all__ = ["RequestLog", "TestServer", "expected_bytes", "expected_text"]

CHUNK_SIZE = 64 * 1024
_MAX_LINE = 65537
_HEX = re.compile(rb"[0-9A-Fa-f]+")

_BYTE_PATTERN = bytes(range(256))
_BYTE_BLOCK = _BYTE_PATTERN * (CHUNK_SIZE // len(_BYTE_PATTERN))
# 64 bytes per line, so a 64 KiB block is a whole number of lines.
_TEXT_PATTERN = (string.ascii_letters + string.digits + "_\n").encode("ascii")
_TEXT_BLOCK = _TEXT_PATTERN * (CHUNK_SIZE // len(_TEXT_PATTERN))
assert len(_TEXT_PATTERN) == 64

_HTML = (
    b"<!DOCTYPE html>\n<html><head><title>hx test</title></head>"
    b"<body><h1>hello</h1><p>hx test page</p></body></html>\n"
)
_JSON = json.dumps({"hello": "world", "n": 1}).encode()
_TEXT_PLAIN = "text/plain; charset=utf-8"


def _cycle(pattern: bytes, n: int) -> bytes:
    return (pattern * (n // len(pattern) + 1))[:n]


def expected_bytes(n: int) -> bytes:
    """The body of ``/bytes/{n}`` (meant for small n in assertions)."""
    return _cycle(_BYTE_PATTERN, n)


def expected_text(n: int) -> str:
    """The body of ``/text/{n}`` and the decompressed body of ``/gzip/{n}``."""
    return _cycle(_TEXT_PATTERN, n).decode("ascii")


@dataclass(frozen=True)
class RequestLog:
    """One request as the server saw it.  ``path`` is the raw request target."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def url_path(self) -> str:
        """``path`` without the query string."""
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query, keep_blank_values=True)


def _parse_nonneg_int(text: str) -> int | None:
    if text.isascii() and text.isdigit():
        return int(text)
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hx-test-server"
    sys_version = ""
    disable_nagle_algorithm = True
    _query: dict[str, list[str]]

    # -- plumbing ------------------------------------------------------------

    @property
    def owner(self) -> TestServer:
        return cast(_Server, self.server).owner

    def __getattr__(self, name: str) -> Any:
        # BaseHTTPRequestHandler looks up ``do_<METHOD>``: route every method.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            # Handshake here, in the connection's own thread, not in accept().
            self.request.do_handshake()
        super().setup()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_exact(self, n: int) -> bytes:
        data = self.rfile.read(n)
        if len(data) != n:
            raise ConnectionResetError("client closed the connection mid-body")
        return data

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            line = self.rfile.readline(_MAX_LINE)
            if not line:
                raise ConnectionResetError("client closed the connection mid-body")
            size_text = line.split(b";", 1)[0].strip()
            if not _HEX.fullmatch(size_text):
                raise ValueError(f"bad chunk size line {line!r}")
            size = int(size_text, 16)
            if size == 0:
                break
            chunks.append(self._read_exact(size))
            if self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n"):
                raise ValueError("missing CRLF after chunk data")
        while self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
            pass  # discard trailers
        return b"".join(chunks)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        n = _parse_nonneg_int(length.strip())
        if n is None:
            raise ValueError(f"bad Content-Length {length!r}")
        return self._read_exact(n)

    def _header_dict(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            out[key] = f"{out[key]}, {value}" if key in out else value
        return out

    def _q(self, name: str) -> str | None:
        values = self._query.get(name)
        return values[0] if values else None

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = _TEXT_PLAIN,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.send_response(status)
        bodyless = status in (204, 304)
        if content_type is not None and not bodyless:
            self.send_header("Content-Type", content_type)
        for name, value in headers or []:
            self.send_header(name, value)
        if not bodyless:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not bodyless and self.command != "HEAD":
            self.wfile.write(body)

    def _bad(self, message: str) -> None:
        self._send(400, f"{message}\n".encode())

    # -- dispatch ------------------------------------------------------------

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except ValueError as exc:
            self.close_connection = True
            self._send(
                400, f"bad request body: {exc}\n".encode(), headers=[("Connection", "close")]
            )
            return
        split = urlsplit(self.path)
        self._query = parse_qs(split.query, keep_blank_values=True)
        headers = self._header_dict()
        self.owner._log(RequestLog(self.command, self.path, headers, body))
        try:
            self._route(split.path, headers, body)
        except OSError:
            # Client went away (BrokenPipe, ConnectionReset, TLS EOF): stop quietly.
            self.close_connection = True

    def _route(self, path: str, headers: dict[str, str], body: bytes) -> None:
        match path.split("/")[1:]:
            case ["status", n]:
                self._status(n)
            case ["bytes", n]:
                self._pattern(n, _BYTE_BLOCK, "application/octet-stream")
            case ["text", n]:
                self._pattern(n, _TEXT_BLOCK, _TEXT_PLAIN)
            case ["html"]:
                self._send(200, _HTML, "text/html; charset=utf-8")
            case ["json"]:
                self._send(200, _JSON, "application/json")
            case ["echo"]:
                self._echo(path, headers, body)
            case ["headers"]:
                self._send(200, json.dumps(headers).encode(), "application/json")
            case ["redirect", n]:
                self._redirect_n(n)
            case ["redirect-to"]:
                self._redirect_to()
            case ["redirect-loop"]:
                self._send(302, b"redirecting\n", headers=[("Location", "/redirect-loop")])
            case ["slow"]:
                self._slow()
            case ["hang"]:
                self._hang()
            case ["drip"]:
                self._drip()
            case ["set-cookie"]:
                cookies = parse_qsl(urlsplit(self.path).query, keep_blank_values=True)
                self._send(
                    200, b"ok", headers=[("Set-Cookie", f"{k}={v}; Path=/") for k, v in cookies]
                )
            case ["content-type"]:
                self._send(200, (self._q("body") or "").encode(), self._q("type"))
            case ["gzip", n]:
                self._gzip(n)
            case _:
                self._send(404, b"not found")

    # -- routes --------------------------------------------------------------

    def _status(self, text: str) -> None:
        code = _parse_nonneg_int(text)
        if code is None or not 200 <= code <= 599:
            self._bad(f"invalid status {text!r}")
        else:
            self._send(code, f"status {code}\n".encode())

    def _pattern(self, text: str, block: bytes, content_type: str) -> None:
        n = _parse_nonneg_int(text)
        if n is None:
            self._bad(f"invalid length {text!r}")
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        if self.command == "HEAD":
            return
        remaining = n
        while remaining > 0:
            piece = block if remaining >= len(block) else block[:remaining]
            self.wfile.write(piece)
            remaining -= len(piece)

    def _gzip(self, text: str) -> None:
        n = _parse_nonneg_int(text)
        if n is None:
            self._bad(f"invalid length {text!r}")
            return
        data = gzip.compress(_cycle(_TEXT_PATTERN, n), mtime=0)
        self._send(200, data, _TEXT_PLAIN, headers=[("Content-Encoding", "gzip")])

    def _echo(self, path: str, headers: dict[str, str], body: bytes) -> None:
        try:
            text, is_b64 = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, is_b64 = base64.b64encode(body).decode("ascii"), True
        payload = {
            "method": self.command,
            "path": path,
            "raw_path": self.path,
            "query": self._query,
            "headers": headers,
            "body": text,
            "body_base64": is_b64,
        }
        self._send(200, json.dumps(payload).encode(), "application/json")

    def _redirect_n(self, text: str) -> None:
        n = _parse_nonneg_int(text)
        if n is None:
            self._bad(f"invalid count {text!r}")
        elif n == 0:
            self._send(200, b"done")
        else:
            self._send(302, b"redirecting\n", headers=[("Location", f"/redirect/{n - 1}")])

    def _redirect_to(self) -> None:
        url = self._q("url")
        status_text = self._q("status") or "302"
        status = _parse_nonneg_int(status_text)
        if not url:
            self._bad("missing url")
        elif status is None or not 300 <= status <= 399:
            self._bad(f"invalid redirect status {status_text!r}")
        else:
            self._send(status, b"redirecting\n", headers=[("Location", url)])

    def _float_param(self, name: str, default: float) -> float | None:
        text = self._q(name)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            return None
        return value if math.isfinite(value) and value >= 0 else None

    def _slow(self) -> None:
        delay = self._float_param("delay", 1.0)
        if delay is None:
            self._bad("invalid delay")
            return
        if self.owner._stopping.wait(delay):
            self.close_connection = True  # server is stopping: drop the request
            return
        self._send(200, b"slow")

    def _hang(self) -> None:
        # A client waiting for an answer sends nothing more: the socket turns readable
        # when it closes (EOF or reset). Polled so that stop() ends the wait too.
        while not self.owner._stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                self.owner._hung_up(time.monotonic())
                break
        self.close_connection = True

    def _drip(self) -> None:
        delay = self._float_param("delay", 0.1)
        count = _parse_nonneg_int(self._q("bytes") or "10")
        chunked = self._q("chunked") in ("1", "true", "yes")
        if delay is None or count is None:
            self._bad("invalid drip parameters")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(count))
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            for _ in range(count):
                if self.owner._stopping.wait(delay):
                    self.close_connection = True
                    return
                self.wfile.write(b"1\r\n*\r\n" if chunked else b"*")
                self.wfile.flush()
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except OSError:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
    block_on_close = False  # TestServer.stop() joins handler threads itself

    def __init__(self, owner: TestServer, family: socket.AddressFamily) -> None:
        self.owner = owner
        self.address_family = family
        super().__init__((owner.host, 0), owner.handler_class)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup: skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.owner.host
        self.server_port = int(self.server_address[1])

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        ctx = self.owner.ssl_context
        if ctx is not None:
            try:
                sock = ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            except BaseException:
                sock.close()
                raise
        return sock, addr

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"TestServer:{self.server_port}:conn",
            daemon=True,
        )
        self.owner._connected(request, thread)
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            self.owner._disconnected(request, threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return  # ConnectionError, BrokenPipeError, ssl.SSLError, TimeoutError
        if exc is not None:
            self.owner.errors.append(exc)
        super().handle_error(request, client_address)


class Service:
    """Something a test starts and stops: ``with X() as x`` starts it; leaving stops it."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class TestServer(Service):
    """Threaded HTTP/1.1 server on ``host``:<ephemeral port>; HTTPS if ``ssl_context``.

    ``requests``     list of ``RequestLog``, in arrival order (``clear_log()`` empties it)
    ``connections``  number of accepted TCP connections
    ``errors``       unexpected (non-OSError) exceptions raised by handlers
    ``hangups``      ``time.monotonic()`` of each client closing a ``/hang`` request
    """

    __test__ = False  # not a pytest test class
    #: The request handler; subclasses (tests/support/fault_server.py) add or override routes.
    handler_class: ClassVar[type[BaseHTTPRequestHandler]] = _Handler
    #: How often serve_forever() checks for stop(): the latency of every stop().
    poll_interval: ClassVar[float] = 0.05

    def __init__(self, ssl_context: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        self.ssl_context = ssl_context
        self.host = host
        self.port = 0
        self.requests: list[RequestLog] = []
        self.errors: list[BaseException] = []
        self.hangups: list[float] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._open_sockets: set[socket.socket] = set()
        self._handler_threads: set[threading.Thread] = set()

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> TestServer:
        if self._server is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._stopping.clear()
        server = _Server(self, family)
        self.port = server.server_port
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": self.poll_interval},
            name=f"TestServer:{self.port}",
            daemon=True,
        )
        self._server, self._thread = server, thread
        thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._server = self._thread = None
        self._stopping.set()
        server.shutdown()
        thread.join()
        server.server_close()
        with self._lock:
            open_sockets = list(self._open_sockets)
            handlers = list(self._handler_threads)
        for sock in open_sockets:
            try:
                # The plain-socket method even for SSLSocket: wake any blocked reader.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + 5.0
        for handler in handlers:
            handler.join(max(0.0, deadline - time.monotonic()))

    # -- addresses -----------------------------------------------------------

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_context is not None else "http"

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def url(self, path: str) -> str:
        if not path.startswith("/"):
            path = "/" + path
        return self.base_url + path

    # -- request log ---------------------------------------------------------

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def _log(self, entry: RequestLog) -> None:
        with self._lock:
            self.requests.append(entry)

    def _hung_up(self, when: float) -> None:
        with self._lock:
            self.hangups.append(when)

    def _connected(self, sock: socket.socket, thread: threading.Thread) -> None:
        with self._lock:
            self.connections += 1
            self._open_sockets.add(sock)
            self._handler_threads.add(thread)

    def _disconnected(self, sock: socket.socket, thread: threading.Thread) -> None:
        with self._lock:
            self._open_sockets.discard(sock)
            self._handler_threads.discard(thread)
