"""What hx's own connection pools (hx.net.http1, hx.net.http2) share.

``Pool`` is their common contract: at most ``max_connections`` open at once
(connections being opened count), a request at the limit makes room by
closing an idle connection or waits for room until its ``pool`` timeout, and
``aclose()`` fails the requests still waiting and returns once every
connection has closed. Also here: origins, timed waits, closing gracefully.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar, cast

import httpx

from hx.net.connect import open_connection
from hx.net.exchange import Connected, Exchange

Origin = tuple[bytes, bytes, int]
"""(scheme, host, port): the connections a request may use."""


def pool_deadline(timeouts: dict[str, float | None]) -> float | None:
    """When a request that starts waiting for room now gives up (the ``pool`` timeout)."""
    timeout = timeouts.get("pool")
    return None if timeout is None else asyncio.get_running_loop().time() + timeout


def origin_of(request: httpx.Request) -> Origin:
    url = request.url
    if url.scheme not in ("http", "https"):
        raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}", request=request)
    port = url.port
    if port is None:
        port = 443 if url.scheme == "https" else 80
    elif not 1 <= port <= 65535:
        # httpx.URL takes port 83616; the socket layer would wrap it to 18080.
        raise httpx.InvalidURL(f"port {port} is outside 1-65535")
    return (url.raw_scheme, url.raw_host, port)


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
    timer = future.get_loop().call_later(timeout, _expire, future)
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


class PooledConnection(asyncio.Protocol):
    """What a pool needs of its connections, and what both transports' connections share."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        """Its event loop, kept: on Python 3.11 every get_running_loop() is a getpid()
        system call, and a connection needs its loop several times a request."""
        self.lost: asyncio.Future[None] = self.loop.create_future()
        """Done once connection_lost has run."""
        self.connected: Connected | None = None
        """What setting it up took: set once it is open."""
        self._exchanges = 0

    def new_exchange(self, started: float) -> Exchange:
        """The Exchange of the next request on this connection (``started``: perf_counter()
        when the transport took it)."""
        connected = self.connected
        if connected is None:
            raise RuntimeError("the connection is not open")
        self._exchanges += 1
        return connected.exchange(started, reused=self._exchanges > 1)

    @property
    def gone(self) -> bool:
        """The connection is closed for good."""
        return self.lost.done()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    async def wait_closed(self) -> None:
        await wait_closed(self.lost, self.transport)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but behave as one.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None  # (it holds this protocol: no cycle left for the collector)
        if not self.lost.done():
            self.lost.set_result(None)


C = TypeVar("C", bound=PooledConnection)


class Pool(httpx.AsyncBaseTransport, Generic[C]):
    """Connections to any number of origins, at most ``max_connections`` open at once.

    A subclass says how to find a ready connection (``_take``), open one
    (``_open_new``) and pick an idle one to close (``_evict_idle``); ``_acquire``
    does the rest.
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext | Callable[[], ssl.SSLContext],
        alpn: list[str],
        max_connections: int,
    ) -> None:
        self._tls = TlsContext(ssl_context, alpn)
        self._max_connections = max(1, max_connections)
        self._open: set[C] = set()
        """Connections counted against the limit."""
        self._closing: set[C] = set()
        """Closed but not yet gone: aclose() waits for them."""
        self._connecting = 0
        self._room = RoomQueue()
        self._closed = False

    # -- what a subclass provides ----------------------------------------------

    def _take(self, origin: Origin) -> C | None:
        """A connection to ``origin`` ready for the next request, or None."""
        raise NotImplementedError

    async def _open_new(
        self, origin: Origin, request: httpx.Request, timeout: float | None
    ) -> C | None:
        """Open a connection to ``origin`` (with ``_connect``): the request's own, or None
        if it went into the pool for ``_take`` to find."""
        raise NotImplementedError

    def _evict_idle(self) -> bool:
        """Close an idle connection to make room; False if there is none."""
        raise NotImplementedError

    def _may_open(self, origin: Origin) -> bool:
        """Whether ``_open_new`` may run now: there is room under the limit."""
        return len(self._open) + self._connecting < self._max_connections

    # -- the contract ----------------------------------------------------------

    async def _acquire(
        self, origin: Origin, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> C:
        """A connection to ``origin`` for ``request``: a ready one, a new one while
        the limit allows, else one made room for; PoolTimeout at the ``pool`` timeout."""
        deadline: float | None = None
        while True:
            if self._closed:  # also for a request that waited while aclose() ran
                raise RuntimeError("the transport is closed")
            connection = self._take(origin)
            if connection is not None:
                return connection
            if self._may_open(origin):
                connection = await self._open_new(origin, request, timeouts.get("connect"))
                if connection is not None:
                    return connection
            elif not self._evict_idle():
                if deadline is None:
                    deadline = pool_deadline(timeouts)
                await self._room.wait(request, deadline)

    async def _connect(
        self,
        origin: Origin,
        protocol: Callable[[], C],
        request: httpx.Request,
        timeout: float | None,
        ready: Callable[[C], Awaitable[None]] | None = None,
    ) -> C:
        """``open_connection``, counted against the limit meanwhile; the new
        connection is in the pool. A failed connect gives its place to a waiter."""
        made: list[C] = []

        def make() -> C:
            connection = protocol()
            made.append(connection)
            connection.lost.add_done_callback(lambda _: self._lost(connection))
            return connection

        self._connecting += 1
        try:
            connection, connected = await open_connection(
                origin, make, self._tls, request, timeout, ready
            )
        except BaseException:
            # Its transport is closed, maybe not yet gone: aclose() waits for it too.
            self._closing.update(c for c in made if c.transport is not None and not c.gone)
            self._room.wake_one()
            raise
        finally:
            self._connecting -= 1
        connection.connected = connected
        self._open.add(connection)
        return connection

    def _discard(self, connection: C) -> None:
        """Close ``connection``; its place under the limit goes to a waiter."""
        connection.close()
        if not connection.gone:
            self._closing.add(connection)
        if connection in self._open:
            self._open.remove(connection)
            self._room.wake_one()

    def _lost(self, connection: C) -> None:
        """``connection`` is gone (its connection_lost ran), whoever closed it."""
        self._closing.discard(connection)
        if connection in self._open:
            self._open.remove(connection)
            self._room.wake_one()

    async def aclose(self) -> None:
        self._closed = True
        for connection in list(self._open):
            self._discard(connection)
        self._room.wake_all()  # requests waiting for room learn that there is none
        # Let each close finish (TLS sends close_notify), so no transport is
        # still open when the event loop closes.
        await asyncio.gather(*(connection.wait_closed() for connection in list(self._closing)))
