"""What hx's own connection pools (hx.net.http1, hx.net.http2) share.

Origins, opening a connection (with its errors mapped to httpx's), waiting
for room at the connection limit, timed waits, closing gracefully.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

Origin = tuple[bytes, bytes, int]
"""(scheme, host, port): the connections a request may use."""

P = TypeVar("P", bound=asyncio.BaseProtocol)


def pool_deadline(timeouts: dict[str, float | None]) -> float | None:
    """When a request that starts waiting for room now gives up (the ``pool`` timeout)."""
    timeout = timeouts.get("pool")
    return None if timeout is None else asyncio.get_running_loop().time() + timeout


def origin_of(request: httpx.Request) -> Origin:
    url = request.url
    if url.scheme not in ("http", "https"):
        raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}", request=request)
    port = url.port or (443 if url.scheme == "https" else 80)
    return (url.raw_scheme, url.raw_host, port)


async def open_connection(
    origin: Origin,
    protocol: Callable[[], P],
    tls: TlsContext,
    request: httpx.Request,
    timeout: float | None,
    ready: Callable[[P], Awaitable[None]] | None = None,
) -> P:
    """Connect to ``origin`` (TLS for https) and, within the same ``timeout``, await
    ``ready`` (an HTTP/2 server's SETTINGS). ConnectTimeout or ConnectError on failure;
    the connection is closed then."""
    scheme, raw_host, port = origin
    host = raw_host.decode("ascii")
    secure = scheme == b"https"
    loop = asyncio.get_running_loop()
    transport: asyncio.BaseTransport | None = None
    try:
        async with asyncio.timeout(timeout):
            transport, connection = await loop.create_connection(
                protocol,
                host,
                port,
                ssl=tls.get() if secure else None,
                server_hostname=host if secure else None,
            )
            if ready is not None:
                await ready(connection)
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
    return connection


CLOSE_WAIT = 0.25
"""Seconds a connection gets to close cleanly (TLS close_notify) before it is aborted."""


class RoomQueue:
    """Requests waiting for room in a pool at its connection limit, served in order.

    ``wake_one`` is called whenever room may have appeared (a connection
    released, closed or failed to open); the woken request looks again.
    """

    def __init__(self) -> None:
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def wait(self, request: httpx.Request, deadline: float | None) -> None:
        """Wait to be woken; PoolTimeout at ``deadline`` (event loop time).

        A deadline, not a timeout: a request woken for room that another one
        took waits again, but not for a whole new ``pool`` timeout.
        """
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                await waiter
        except BaseException as exc:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif not waiter.cancelled():
                # Woken, but leaving (cancelled, or the pool timeout came at the
                # same moment): the room goes to the next in line, not to nobody.
                self.wake_one()
            if isinstance(exc, TimeoutError):
                raise httpx.PoolTimeout(
                    "timed out waiting for a free connection", request=request
                ) from None
            raise

    def wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def wake_all(self) -> None:
        """For room that only some waiters can use: each looks, in order of arrival."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)


async def wait_for(future: asyncio.Future[None], timeout: float | None) -> None:
    """Await ``future``, raising TimeoutError after ``timeout`` seconds.

    One timer handle, where asyncio.timeout would also reschedule a cancel
    scope: this runs several times per request.
    """
    if timeout is None:
        await future
        return
    timer = asyncio.get_running_loop().call_later(timeout, _expire, future)
    try:
        await future
    finally:
        timer.cancel()


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


async def wait_closed(lost: asyncio.Future[None], transport: asyncio.Transport | None) -> None:
    """Give a closing connection CLOSE_WAIT seconds to finish (``lost`` set), then abort it.

    So that no transport is still open when hx closes its event loop.
    """
    try:
        async with asyncio.timeout(CLOSE_WAIT):
            await asyncio.shield(lost)
    except TimeoutError:
        if transport is not None:
            transport.abort()


class TlsContext:
    """A pool's SSL context with its ALPN protocols set, made on first use.

    ``source`` is a context, or a function that makes one: a run that never
    opens an https connection never loads a CA bundle.
    """

    def __init__(
        self, source: ssl.SSLContext | Callable[[], ssl.SSLContext], alpn: list[str]
    ) -> None:
        self._source = source
        self._alpn = alpn
        self._context: ssl.SSLContext | None = None

    def get(self) -> ssl.SSLContext:
        if self._context is None:
            source = self._source
            context = source if isinstance(source, ssl.SSLContext) else source()
            context.set_alpn_protocols(self._alpn)
            self._context = context
        return self._context
