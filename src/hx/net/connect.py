"""Opening a connection to an origin, each phase timed: resolving, TCP, TLS.

What ``loop.create_connection(host, port, ssl=...)`` does, in steps hx can
time: getaddrinfo, then each address in turn until one connects (failures
raised as create_connection raises them), then the TLS handshake on that
socket. Errors are httpx's ConnectError or ConnectTimeout, chained to the OS
or TLS error, so that hx.request.failures can read them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from hx.net.exchange import Connected, tls_info

if TYPE_CHECKING:
    from hx.net.pool import Origin, TlsContext

P = TypeVar("P", bound=asyncio.BaseProtocol)

AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]


async def open_connection(
    origin: Origin,
    protocol: Callable[[], P],
    tls: TlsContext,
    request: httpx.Request,
    timeout: float | None,
    ready: Callable[[P], Awaitable[None]] | None = None,
) -> tuple[P, Connected]:
    """Connect to ``origin`` (TLS for https) and, within the same ``timeout``, await
    ``ready`` (an HTTP/2 server's SETTINGS). ConnectTimeout or ConnectError on failure;
    the connection is closed then."""
    scheme, raw_host, port = origin
    host = raw_host.decode("ascii")
    secure = scheme == b"https"
    # First: the context may be loaded now (the run's first https URL), and a bad CA
    # file must fail before any socket is opened.
    context = tls.get() if secure else None
    loop = asyncio.get_running_loop()
    transport: asyncio.BaseTransport | None = None
    try:
        async with asyncio.timeout(timeout):
            started = perf_counter()
            addresses = await _resolve(loop, host, port)
            resolved = perf_counter()
            sock = await connect_in_turn(loop, addresses)
            connected = perf_counter()
            # The loop owns the socket from here, also if this fails.
            transport, connection = await loop.create_connection(
                protocol,
                sock=sock,
                ssl=context,
                server_hostname=host if secure else None,
            )
            handshaken = perf_counter()
            if ready is not None:
                await ready(connection)
            # Inside the try: a certificate that cannot be read closes the connection too.
            peer = transport.get_extra_info("peername")
            ssl_object = transport.get_extra_info("ssl_object")
            facts = Connected(
                dns=(resolved - started) * 1000,
                connect=(connected - resolved) * 1000,
                tls=(handshaken - connected) * 1000 if secure else None,
                remote_ip=peer[0] if peer else None,
                remote_port=peer[1] if peer else None,
                tls_info=tls_info(ssl_object) if ssl_object is not None else None,
            )
    except BaseException as exc:
        if transport is not None:
            transport.close()
        if isinstance(exc, TimeoutError):
            raise httpx.ConnectTimeout(
                f"timed out connecting to {host}:{port}", request=request
            ) from None
        if isinstance(exc, OSError):  # ssl.SSLError included
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        raise
    return connection, facts


async def _resolve(loop: asyncio.AbstractEventLoop, host: str, port: int) -> Sequence[AddressInfo]:
    """getaddrinfo: an IP address at once, as create_connection does; a name in a thread."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        addresses = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    else:
        flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=flags)
    if not addresses:
        raise OSError("getaddrinfo() returned empty list")
    return addresses


async def connect_in_turn(
    loop: asyncio.AbstractEventLoop, addresses: Sequence[AddressInfo]
) -> socket.socket:
    """A socket connected to the first of ``addresses`` that accepts; if none does, the
    error create_connection would raise."""
    errors: list[OSError] = []
    for family, kind, proto, _, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            errors.append(exc)
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    first = errors[0]
    if all(str(error) == str(first) for error in errors):
        raise first
    raise OSError(f"Multiple exceptions: {', '.join(str(error) for error in errors)}")
