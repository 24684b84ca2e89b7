"""Map the exceptions of httpx, ssl and the OS to an error kind and a readable message."""

from __future__ import annotations

import os
import socket
import ssl
from typing import TypeVar

import httpx

from hx.errors import ErrorKind, HxError, internal_error_message
from hx.models import ErrorInfo
from hx.redact import redact_url
from hx.request.redirects import RedirectRefused

E = TypeVar("E", bound=BaseException)

_TIMEOUT_PHASES: dict[type[httpx.TimeoutException], str] = {
    httpx.ConnectTimeout: "connect timeout",
    httpx.ReadTimeout: "read timeout",
    httpx.WriteTimeout: "write timeout",
    httpx.PoolTimeout: "timed out waiting for a free connection",
}


def classify(exc: BaseException) -> ErrorInfo:
    """The record's ``error`` for an exception raised while making a request; the
    record is all that is kept of it (see :func:`forget_tracebacks`).

    Raises ``exc`` itself for what is not a request's failure: hx's own batch-level
    errors (a CA file that will not load) and exceptions it does not know.
    """
    error = _classify(exc)
    forget_tracebacks(exc)
    return error


def forget_tracebacks(exc: BaseException) -> None:
    """Drop the tracebacks of ``exc`` and of the exceptions it chains.

    Their frames hold the objects the exception passed through, and those often
    hold the exception (a connection keeps its error to raise it again, a writer
    its failed write): a reference cycle, with whatever the frames held (a
    download's buffers), that only the garbage collector would free.
    """
    pending: list[BaseException | None] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += (current.__cause__, current.__context__)


def _classify(exc: BaseException) -> ErrorInfo:
    if isinstance(exc, HxError):
        raise exc
    # Timeouts first: over TLS their chain holds an SSLWantReadError.
    if isinstance(exc, httpx.TimeoutException):
        return ErrorInfo(ErrorKind.TIMEOUT, _TIMEOUT_PHASES.get(type(exc), "timeout"))
    if isinstance(exc, TimeoutError):
        return ErrorInfo(ErrorKind.TIMEOUT, str(exc) or "deadline exceeded")
    tls = _find_in_chain(exc, ssl.SSLError)
    if tls is not None and not isinstance(tls, ssl.SSLWantReadError | ssl.SSLWantWriteError):
        return ErrorInfo(ErrorKind.TLS, _tls_message(tls))
    if isinstance(exc, httpx.ProxyError):
        return ErrorInfo(ErrorKind.PROXY, _message(exc))
    if isinstance(exc, httpx.ConnectError):
        # anyio reports "All connection attempts failed"; the reason is deeper.
        cause = _find_in_chain(exc, OSError, with_errno=True)
        return ErrorInfo(ErrorKind.CONNECT, _message(cause or exc))
    if isinstance(exc, RedirectRefused):
        return ErrorInfo(ErrorKind.REDIRECT, str(exc))
    if isinstance(exc, httpx.TooManyRedirects):
        return ErrorInfo(ErrorKind.TOO_MANY_REDIRECTS, _message(exc))
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return ErrorInfo(ErrorKind.PROTOCOL, _message(exc))
    if isinstance(exc, httpx.HTTPError):
        # RemoteProtocolError, ReadError, DecodingError, ...: the exchange broke.
        return ErrorInfo(ErrorKind.PROTOCOL, _message(exc))
    if isinstance(exc, OSError):
        return ErrorInfo(ErrorKind.IO, _message(exc))
    raise exc


def internal_error(exc: BaseException) -> ErrorInfo:
    """The record's ``error`` for an exception hx did not expect (a bug, or memory ran
    out): the request fails, the batch goes on."""
    return ErrorInfo(ErrorKind.INTERNAL, redact_url(internal_error_message(exc)))


def _find_in_chain(exc: BaseException, kind: type[E], with_errno: bool = False) -> E | None:
    """The first ``kind`` exception in the cause/context chain: httpx wraps the real one."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return None
        if isinstance(seen, kind) and (not with_errno or getattr(seen, "errno", None)):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _tls_message(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    return getattr(exc, "reason", None) or str(exc)


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        # asyncio words a refused connect "Connect call failed (...)"; the
        # errno says what happened.
        errno = exc.errno if not isinstance(exc, socket.gaierror) else None
        reason = os.strerror(errno) if errno is not None and errno > 0 else exc.strerror
        name = f": {exc.filename}" if exc.filename else ""
        return f"{reason.lower()}{name}"
    text = str(exc).strip()
    if text:
        return text
    # httpx's async ReadError often has no message; the OS error under it does.
    cause = _find_in_chain(exc, OSError, with_errno=True)
    return _message(cause) if cause is not None else type(exc).__name__
