"""A fault-injecting HTTP/1.1 test server for retry and robustness tests.

``FaultServer`` is a ``TestServer`` (tests/support/server.py) with a different route table; it
keeps the same API: ``start()``/``stop()``/context manager, ``url()``, ``base_url``,
``requests``, ``connections``, ``errors``.  Every fault happens for real on the socket:
a reset is a TCP RST (``SO_LINGER`` on, timeout 0, then close), a short body ends in a
FIN, a dead keep-alive connection is a FIN after the server has read the next request.

Routes (any method):

``/reset-before``            read the request, then RST before any response byte
``/reset-mid?bytes=N``       200 headers with ``Content-Length: N``, ``N // 2`` body bytes,
                             then RST (N defaults to 1024)
``/short-body?bytes=N``      200 headers with ``Content-Length: N``, ``N // 2`` body bytes,
                             then a normal close (FIN)
``/drip?bytes=N&delay=S``    as in TestServer: one byte per ``delay`` seconds
``/429?after=S``             429 with ``Retry-After: S`` (integer seconds)
``/429-date?after=S``        429 with ``Retry-After`` an HTTP date at least S seconds ahead
                             (``now + S`` rounded *up* to a whole second, RFC 7231 format)
``/503?after=S``             503, ``Retry-After: S`` only if ``after`` is given
``/503-date?after=S``        503 with an HTTP-date ``Retry-After``
                             (all four: ``?raw=TEXT`` sends ``Retry-After: TEXT`` verbatim,
                             to test garbage values; no ``after``/``raw``: no header)
``/close-after-response?when=next|now``
                             200 ``"ok\\n"`` with ``Connection: keep-alive`` and
                             Content-Length, then the connection dies without notice:
                             ``when=next`` (default): the server keeps the connection, reads
                             the *next* request sent on it in full, and closes (FIN) without
                             answering.  The client's second request on the pooled
                             connection deterministically fails (httpx: RemoteProtocolError
                             "Server disconnected without sending a response.").
                             ``when=now``: FIN straight after the response.  httpcore notices
                             the idle socket became readable and silently opens a new
                             connection; a request racing the FIN can still fail.
``/flaky/{key}?fail=N&fault=F&after=S&bytes=B``
                             the first N (default 1) requests for ``key`` (counted per key,
                             thread-safe) get fault F, later ones 200 ``f"ok {key}\\n"``.
                             F (default ``503``) is one of ``reset-before``, ``reset-mid``,
                             ``short-body``, ``503``, ``429`` (``after`` -> Retry-After),
                             ``close`` (read the request, FIN without any response byte).
                             ``FaultServer.attempts(key)`` counts every request for the key.
anything else                200 ``"ok"``

Bad parameters get 400 (and a flaky request with bad parameters is not counted).

``Blackhole`` is a 127.0.0.1 port whose TCP connect never completes: a listening socket
(backlog 0) that never accepts, with its accept queue filled, so Linux drops new SYNs and
the client's connect times out (it is not refused).
"""

from __future__ import annotations

import email.utils
import math
import socket
import struct
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import ClassVar, cast

from support.server import _TEXT_PLAIN, Service, TestServer, _Handler, _parse_nonneg_int

__all__ = ["FAULTS", "Blackhole", "FaultServer", "retry_after_date"]

#: The values ``/flaky/{key}?fault=`` accepts.
FAULTS = ("reset-before", "reset-mid", "short-body", "503", "429", "close")

_DEFAULT_BYTES = 1024
_LINGER_RST = struct.pack("ii", 1, 0)  # l_onoff=1, l_linger=0: close() sends RST

try:  # Linux: bytes in the send queue not yet acknowledged by the peer
    from termios import TIOCOUTQ as _OUTQ
except ImportError:  # pragma: no cover - not Linux/BSD
    _OUTQ = None


def retry_after_date(seconds: float, now: float | None = None) -> str:
    """The HTTP-date ``Retry-After`` value the server sends for ``after=seconds``."""
    when = math.ceil((time.time() if now is None else now) + seconds)
    return email.utils.format_datetime(datetime.fromtimestamp(when, UTC), usegmt=True)


class _FaultHandler(_Handler):
    # Set by /close-after-response?when=next: the next request on this connection is
    # read and then answered with a bare FIN.  (One handler instance per connection.)
    _close_next: bool = False

    @property
    def fault_owner(self) -> FaultServer:
        return cast(FaultServer, self.owner)

    def _route(self, path: str, headers: dict[str, str], body: bytes) -> None:
        if self._close_next:
            self._close_quietly()
            return
        match path.split("/")[1:]:
            case ["reset-before"]:
                self._reset()
            case ["reset-mid"]:
                if (n := self._int_param("bytes", _DEFAULT_BYTES)) is not None:
                    self._partial_body(n, reset=True)
            case ["short-body"]:
                if (n := self._int_param("bytes", _DEFAULT_BYTES)) is not None:
                    self._partial_body(n, reset=False)
            case ["drip"]:
                self._drip()
            case ["429" | "503" as code]:
                self._retry_status(int(code), date=False)
            case ["429-date" | "503-date" as name]:
                self._retry_status(int(name[:3]), date=True)
            case ["close-after-response"]:
                self._close_after_response()
            case ["flaky", key] if key:
                self._flaky(key)
            case _:
                self._send(200, b"ok")

    # -- helpers -------------------------------------------------------------

    def _int_param(self, name: str, default: int | None) -> int | None:
        """The non-negative integer query parameter, or None after answering 400."""
        text = self._q(name)
        if text is None and default is not None:
            return default
        value = _parse_nonneg_int(text or "")
        if value is None:
            self._bad(f"invalid {name} {text!r}")
        return value

    def _drain(self, timeout: float = 1.0) -> None:
        """Wait until the peer has acknowledged everything sent, so an RST loses nothing."""
        self.wfile.flush()
        if _OUTQ is None:
            time.sleep(0.05)
            return
        import fcntl

        buf = bytearray(4)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                fcntl.ioctl(self.request.fileno(), _OUTQ, buf)
            except OSError:
                time.sleep(0.05)
                return
            if struct.unpack("i", buf)[0] == 0:
                return
            time.sleep(0.001)

    def _reset(self) -> None:
        """Abort the connection: the peer gets a TCP RST."""
        self.close_connection = True
        sock = self.request
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
        # rfile (a makefile) holds a reference that would delay the real close until the
        # handler finishes, after socketserver's shutdown(SHUT_WR) has sent a FIN.
        self.rfile.close()
        sock.close()

    def _close_quietly(self) -> None:
        """Answer nothing; socketserver then shuts the socket down normally (FIN)."""
        self.close_connection = True

    def _partial_body(self, n: int, *, reset: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        self.wfile.write(b"x" * (n // 2))
        self.close_connection = True
        if reset:
            self._drain()
            self._reset()

    def _retry_status(self, status: int, *, date: bool, after: str | None = None) -> None:
        raw = self._q("raw")
        after = self._q("after") if after is None else after
        headers: list[tuple[str, str]] = []
        if raw is not None:
            headers.append(("Retry-After", raw))
        elif after is not None:
            seconds = _parse_nonneg_int(after)
            if seconds is None:
                self._bad(f"invalid after {after!r}")
                return
            value = retry_after_date(seconds) if date else str(seconds)
            headers.append(("Retry-After", value))
        reason = "rate limited" if status == 429 else "unavailable"
        self._send(status, f"{reason}\n".encode(), _TEXT_PLAIN, headers)

    def _close_after_response(self) -> None:
        when = self._q("when") or "next"
        if when not in ("next", "now"):
            self._bad(f"invalid when {when!r}")
            return
        self._send(200, b"ok\n", headers=[("Connection", "keep-alive")])
        if when == "now":
            self.wfile.flush()
            self.request.shutdown(socket.SHUT_WR)  # FIN right behind the body
            self.close_connection = True
        else:
            self.close_connection = False
            self._close_next = True

    def _flaky(self, key: str) -> None:
        fail = self._int_param("fail", 1)
        nbytes = self._int_param("bytes", _DEFAULT_BYTES) if fail is not None else None
        if fail is None or nbytes is None:
            return
        fault = self._q("fault") or "503"
        if fault not in FAULTS:
            self._bad(f"invalid fault {fault!r}; expected one of {', '.join(FAULTS)}")
            return
        after = self._q("after")
        if after is not None and _parse_nonneg_int(after) is None:
            self._bad(f"invalid after {after!r}")
            return
        if self.fault_owner._hit(key) > fail:
            self._send(200, f"ok {key}\n".encode())
            return
        match fault:
            case "reset-before":
                self._reset()
            case "reset-mid":
                self._partial_body(nbytes, reset=True)
            case "short-body":
                self._partial_body(nbytes, reset=False)
            case "close":
                self._close_quietly()
            case _:
                self._retry_status(int(fault), date=False, after=after)


class FaultServer(TestServer):
    """A ``TestServer`` whose routes inject faults (see the module docstring).

    ``attempts(key)``  requests seen so far for ``/flaky/{key}`` (0 if none)
    ``reset_counts()`` forget all flaky counters
    """

    __test__ = False
    handler_class: ClassVar[type[BaseHTTPRequestHandler]] = _FaultHandler
    poll_interval: ClassVar[float] = 0.01  # one server per test: keep stop() fast

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host=host)
        self._attempts: dict[str, int] = {}

    def attempts(self, key: str) -> int:
        with self._lock:
            return self._attempts.get(key, 0)

    def reset_counts(self) -> None:
        with self._lock:
            self._attempts.clear()

    def _hit(self, key: str) -> int:
        """Count one request for ``key``; returns its 1-based attempt number."""
        with self._lock:
            n = self._attempts.get(key, 0) + 1
            self._attempts[key] = n
            return n


class Blackhole(Service):
    """A TCP port on ``host`` where ``connect()`` hangs until the client's timeout.

    The listening socket has backlog 0 and never accepts; ``start()`` opens connections
    to it until one does not complete within ``probe_timeout`` (the accept queue is full,
    so the kernel drops further SYNs without answering).  Raises RuntimeError if the
    kernel refuses or accepts instead (e.g. ``net.ipv4.tcp_abort_on_overflow=1``).
    """

    def __init__(
        self, host: str = "127.0.0.1", probe_timeout: float = 0.1, max_fill: int = 64
    ) -> None:
        self.host = host
        self.port = 0
        self.probe_timeout = probe_timeout
        self.max_fill = max_fill
        self._listener: socket.socket | None = None
        self._fillers: list[socket.socket] = []

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def start(self) -> Blackhole:
        if self._listener is not None:
            return self
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener = listener
        try:
            listener.bind((self.host, 0))
            listener.listen(0)
            self.port = listener.getsockname()[1]
            for _ in range(self.max_fill):
                try:
                    sock = socket.create_connection((self.host, self.port), self.probe_timeout)
                except TimeoutError:
                    return self  # the queue is full: connects now hang
                except OSError as exc:
                    raise RuntimeError(f"cannot make a blackhole port: {exc!r}") from exc
                self._fillers.append(sock)
            raise RuntimeError(f"accept queue not full after {self.max_fill} connections")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for sock in self._fillers:
            sock.close()
        self._fillers.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
