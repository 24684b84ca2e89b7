"""hx.request.failures.classify: exceptions from httpx, ssl and the OS become error kinds."""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl

import httpcore
import httpx
import pytest

from hx.errors import ErrorKind
from hx.models import ErrorInfo
from hx.request.failures import classify


def caused_by(exc: BaseException, cause: BaseException) -> BaseException:
    exc.__cause__ = cause
    return exc


def in_context_of(exc: BaseException, context: BaseException) -> BaseException:
    exc.__context__ = context
    return exc


def cert_error(message: str) -> ssl.SSLCertVerificationError:
    """Like the ssl module's own: it sets these attributes, a constructor does not."""
    err = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    err.reason = "CERTIFICATE_VERIFY_FAILED"
    err.verify_code = 19
    err.verify_message = message
    return err


def want_read_error() -> ssl.SSLWantReadError:
    err = ssl.SSLWantReadError(2, "The operation did not complete (read) (_ssl.c:2580)")
    err.reason = None
    return err


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (httpx.ConnectTimeout("timed out"), "connect timeout"),
        (httpx.ReadTimeout("timed out"), "read timeout"),
        (httpx.WriteTimeout("timed out"), "write timeout"),
        (httpx.PoolTimeout("timed out"), "timed out waiting for a free connection"),
        (TimeoutError("no response within 5 s"), "no response within 5 s"),
        (TimeoutError(), "deadline exceeded"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else "",
)
def test_timeouts(exc: BaseException, message: str) -> None:
    assert classify(exc) == ErrorInfo(ErrorKind.TIMEOUT, message)


def test_certificate_error_is_tls() -> None:
    exc = caused_by(
        httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
        cert_error("self-signed certificate in certificate chain"),
    )
    assert classify(exc) == ErrorInfo(
        ErrorKind.TLS, "certificate verify failed: self-signed certificate in certificate chain"
    )


def test_tls_error_found_deeper_in_the_chain() -> None:
    inner = ssl.SSLError(1, "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version")
    inner.reason = "TLSV1_ALERT_PROTOCOL_VERSION"
    exc = caused_by(httpx.ConnectError("x"), caused_by(httpcore.ConnectError("x"), inner))
    assert classify(exc) == ErrorInfo(ErrorKind.TLS, "TLSV1_ALERT_PROTOCOL_VERSION")


def test_connection_refused() -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    exc = caused_by(
        httpx.ConnectError("All connection attempts failed"),
        caused_by(httpcore.ConnectError("All connection attempts failed"), refused),
    )
    assert classify(exc) == ErrorInfo(ErrorKind.CONNECT, "connection refused")


def test_connect_error_reason_found_through_context() -> None:
    unreachable = OSError(errno.ENETUNREACH, "Network is unreachable")
    exc = in_context_of(httpx.ConnectError("All connection attempts failed"), unreachable)
    assert classify(exc) == ErrorInfo(ErrorKind.CONNECT, "network is unreachable")


def test_dns_failure_is_connect() -> None:
    exc = caused_by(
        httpx.ConnectError("[Errno -2] Name or service not known"),
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
    )
    assert classify(exc) == ErrorInfo(ErrorKind.CONNECT, "name or service not known")


def test_connect_error_without_an_errno_keeps_its_own_message() -> None:
    exc = caused_by(httpx.ConnectError("All connection attempts failed"), OSError("no errno"))
    assert classify(exc) == ErrorInfo(ErrorKind.CONNECT, "All connection attempts failed")


def test_connect_error_with_empty_message_names_its_type() -> None:
    assert classify(httpx.ConnectError("")) == ErrorInfo(ErrorKind.CONNECT, "ConnectError")


def test_cyclic_chain_terminates() -> None:
    first = httpx.ConnectError("first")
    second = httpcore.ConnectError("second")
    first.__cause__ = second
    second.__cause__ = first
    assert classify(first) == ErrorInfo(ErrorKind.CONNECT, "first")


@pytest.mark.parametrize(
    ("exc", "kind", "message"),
    [
        (
            httpx.ProxyError("407 Proxy Authentication Required"),
            ErrorKind.PROXY,
            "407 Proxy Authentication Required",
        ),
        (
            httpx.TooManyRedirects("Exceeded maximum allowed redirects."),
            ErrorKind.TOO_MANY_REDIRECTS,
            "Exceeded maximum allowed redirects.",
        ),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            ErrorKind.PROTOCOL,
            "Server disconnected without sending a response.",
        ),
        (httpx.ReadError(""), ErrorKind.PROTOCOL, "ReadError"),
        (httpx.DecodingError("bad gzip"), ErrorKind.PROTOCOL, "bad gzip"),
        (httpx.InvalidURL("Invalid port"), ErrorKind.PROTOCOL, "Invalid port"),
        (
            httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'."),
            ErrorKind.PROTOCOL,
            "Request URL has an unsupported protocol 'ftp://'.",
        ),
        (
            OSError(errno.ENOSPC, "No space left on device", "/out/1-index"),
            ErrorKind.IO,
            "no space left on device: /out/1-index",
        ),
        (PermissionError(errno.EACCES, "Permission denied"), ErrorKind.IO, "permission denied"),
        (OSError("disk went away"), ErrorKind.IO, "disk went away"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else "",
)
def test_kinds(exc: BaseException, kind: ErrorKind, message: str) -> None:
    assert classify(exc) == ErrorInfo(kind, message)


@pytest.mark.parametrize("exc", [KeyError("k"), ValueError("v"), RuntimeError("r")])
def test_unknown_exceptions_are_re_raised(exc: Exception) -> None:
    with pytest.raises(type(exc)) as info:
        classify(exc)
    assert info.value is exc


@pytest.mark.parametrize(
    ("outer", "inner", "message"),
    [
        (httpx.ReadTimeout, httpcore.ReadTimeout, "read timeout"),
        (httpx.ConnectTimeout, httpcore.ConnectTimeout, "connect timeout"),
    ],
)
def test_https_timeout_is_a_timeout(
    outer: type[httpx.TimeoutException], inner: type[Exception], message: str
) -> None:
    # The chain an HTTPS read timeout has under httpx 0.28 / httpcore 1.0 / anyio 4:
    # httpx.ReadTimeout <- httpcore.ReadTimeout <- TimeoutError
    #   <- (context) CancelledError <- (context) SSLWantReadError
    cancelled = in_context_of(asyncio.CancelledError(), want_read_error())
    exc = caused_by(outer(""), caused_by(inner(""), in_context_of(TimeoutError(), cancelled)))
    assert classify(exc) == ErrorInfo(ErrorKind.TIMEOUT, message)
