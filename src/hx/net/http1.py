"""HTTP/1.1 straight to the origin: hx's transport for direct, non-HTTP/2 routes.

httpx's own transport goes through httpcore, which per request takes several
anyio locks, rescans its pool and runs h11's state machine: on small requests
that was over half of hx's CPU. This transport does the same job with an
asyncio protocol per connection that parses the response as it arrives
(hx.net.http1_parser), a list of idle connections per origin, and one timer per
wait. HTTP/2 has hx.net.http2; proxies still go through httpcore (hx.net.proxy_pool).

Errors are httpx's own exceptions, chained to the OS or TLS error under them,
so hx.request.failures reads them the same whichever transport raised them.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator, Callable
from time import perf_counter
from typing import cast

import httpx

from hx.net.body import BODY_READER
from hx.net.exchange import EXCHANGE, Exchange
from hx.net.http1_parser import ProtocolError, ResponseHead, ResponseReader
from hx.net.http1_state import ENDED, READING, TRANSITIONS, Event, MissingTransition, State
from hx.net.pool import Origin, Pool, PooledConnection, origin_of, wait_for

_HIGH_WATER = 1 << 20
"""Body bytes a connection buffers before it stops reading the socket."""
_LOW_WATER = 1 << 18
_SMALL_BODY = 16 * 1024
"""Request bodies up to this size go out in the same write as the head."""
_SPILL = 64 * 1024
"""The least a _Lending reads into once the lent buffer is full (TLS only)."""
_CLOCK_SLACK = 0.001
"""A deadline closer than this counts as reached: uvloop's clock moves in milliseconds,
and a wait of a few nanoseconds would run again and again until it ticks."""
_PATIENCE = 0.2
"""Seconds a lent buffer holding bytes waits to be filled before it goes back to its
reader with what it has: a download hears of a slow body's bytes (its progress, and
what it writes before a cancellation) at least this often, however large the buffer."""


class Http1Transport(Pool["_Connection"]):
    """A pool of HTTP/1.1 connections, at most ``max_connections`` open at once.

    An idle connection is reused for the same origin (most recently used
    first) unless the server has closed it, sent something unasked, or it has
    been idle longer than ``keepalive_expiry``. At the limit, a request closes
    an idle connection to another origin, or waits for one to be released
    (the ``pool`` timeout).
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext | Callable[[], ssl.SSLContext],
        max_connections: int,
        keepalive_expiry: float = 5.0,
    ) -> None:
        super().__init__(ssl_context, ["http/1.1"], max_connections)
        self._keepalive_expiry = keepalive_expiry
        self._idle: dict[Origin, list[_Connection]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = perf_counter()
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        origin = origin_of(request)
        connection = await self._acquire(origin, request, timeouts)
        exchange = connection.new_exchange(started)
        try:
            head = await connection.exchange(request, timeouts, exchange)
        except BaseException:
            self._discard(connection)
            raise
        stream = _ResponseStream(self, connection, timeouts.get("read"))
        return httpx.Response(
            head.status,
            headers=head.headers,
            stream=stream,
            extensions={
                "http_version": head.version,
                "reason_phrase": head.reason,
                EXCHANGE: exchange,
                BODY_READER: stream,
            },
        )

    def _take(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if idle is None:
            return None
        now = idle[-1].loop.time() if idle else 0.0
        found = None
        while idle and found is None:
            connection = idle.pop()
            if connection.reusable and now - connection.idle_since < self._keepalive_expiry:
                found = connection
            else:
                self._discard(connection)
        if not idle:
            del self._idle[origin]  # a crawl over many hosts keeps no entry per host
        return found

    async def _open_new(
        self, origin: Origin, request: httpx.Request, timeout: float | None
    ) -> _Connection:
        return await self._connect(origin, lambda: _Connection(origin), request, timeout)

    def _evict_idle(self) -> bool:
        """Close the longest-idle connection to any origin."""
        oldest: _Connection | None = None
        for idle in self._idle.values():
            if idle and (oldest is None or idle[0].idle_since < oldest.idle_since):
                oldest = idle[0]
        if oldest is None:
            return False
        idle = self._idle[oldest.origin]
        idle.remove(oldest)
        if not idle:
            del self._idle[oldest.origin]
        self._discard(oldest)
        return True

    def _release(self, connection: _Connection) -> None:
        """A response was read to its end: keep the connection for the next request."""
        if self._closed or not connection.reusable:
            self._discard(connection)
            return
        connection.idle_since = connection.loop.time()
        self._idle.setdefault(connection.origin, []).append(connection)
        self._room.wake_one()

    async def aclose(self) -> None:
        self._idle.clear()
        await super().aclose()


class _Connection(PooledConnection):
    """One HTTP/1.1 connection: sends a request, parses the response as it arrives.

    What arrives goes to a ResponseReader (hx.net.http1_parser); body bytes are
    queued, without copying, until the response stream takes them. Reading
    from the socket pauses while more than _HIGH_WATER bytes wait. A body read
    with ``readinto`` (hx.net.body) instead goes from the socket straight into
    the caller's buffer, as far as its framing allows (Content-Length, or until
    the close; not chunked): while the buffer is lent, the transport's protocol
    is a ``_Lending`` (a BufferedProtocol), and this one again once it is returned.
    """

    def __init__(self, origin: Origin) -> None:
        super().__init__()
        self.origin = origin
        self._lent: memoryview | None = None
        """A ``readinto`` caller's buffer: the body goes straight into it."""
        self._lent_filled = 0
        self._paused_full = False
        """Reading was paused because the lent buffer filled."""
        self._lent_at = 0.0
        """loop.time() when bytes last went into the lent buffer."""
        self._lent_since = 0.0
        """loop.time() when the buffer was lent."""
        self._loan_due = 0.0
        """loop.time() when a buffer holding bytes goes back (_PATIENCE after the loan)."""
        self._loan_holding = False
        """The reader had bytes (queued ones) before lending its buffer."""
        self._tls = False
        self.idle_since = 0.0
        self.state = State.CONNECTING
        """Where this connection is in its life (hx.net.http1_state)."""
        self._waiter: asyncio.Future[None] | None = None
        self._writing_paused = False
        self._reading_paused = False
        # The exchange in progress.
        self._request: httpx.Request | None = None
        self._exchange: Exchange | None = None
        self._reader = ResponseReader(self._queue)
        self._error: httpx.RequestError | None = None
        self._body: deque[bytes] = deque()
        self._buffered = 0

    # -- state -----------------------------------------------------------------

    def _to(self, event: Event) -> None:
        # advance(), inlined: this runs four times a request.
        try:
            self.state = TRANSITIONS[self.state][event]
        except KeyError:
            raise MissingTransition(self.state, event) from None

    @property
    def reusable(self) -> bool:
        """Idle, in step with the server, and not being closed: safe for another request."""
        transport = self.transport
        return self.state is State.IDLE and transport is not None and not transport.is_closing()

    @property
    def complete(self) -> bool:
        """The response has been received whole (some of it may not have been taken yet)."""
        return self.state in ENDED

    # -- one exchange ----------------------------------------------------------

    async def exchange(
        self, request: httpx.Request, timeouts: dict[str, float | None], exchange: Exchange
    ) -> ResponseHead:
        """Send ``request`` and wait for the response head (1xx responses skipped),
        timing both in ``exchange``."""
        self._start(request, exchange)
        await self._send(request, timeouts.get("write"))
        exchange.request_sent()
        while (head := self._reader.head) is None:
            await self.wait_body(timeouts.get("read"))
        return head

    def _start(self, request: httpx.Request, exchange: Exchange) -> None:
        self._to(Event.SEND)
        self._request = request
        self._exchange = exchange
        self._reader.start(request.method.encode("ascii"))
        self._error = None
        self._body.clear()
        self._buffered = 0

    async def _send(self, request: httpx.Request, timeout: float | None) -> None:
        headers = request.headers.raw
        chunked = _is_chunked(headers)
        pending = _request_head(request, headers)
        stream = request.stream
        if isinstance(stream, httpx.ByteStream):
            # The body was given as bytes (or there is none): no async iteration.
            body = b"".join(stream)
            if body:
                pending = await self._push(pending, body, chunked, request, timeout)
        else:
            async for part in cast(AsyncIterator[bytes], stream):
                if part:
                    pending = await self._push(pending, part, chunked, request, timeout)
        if chunked:
            pending += b"0\r\n\r\n"
        await self._write(pending, request, timeout)

    async def _push(
        self,
        pending: bytes,
        part: bytes,
        chunked: bool,
        request: httpx.Request,
        timeout: float | None,
    ) -> bytes:
        """Add a body part to the bytes waiting to go out; write them once they are big.

        Returns what still waits: a small body goes out with the head, in one write.
        """
        if chunked:
            part = b"%x\r\n%b\r\n" % (len(part), part)
        if len(pending) + len(part) <= _SMALL_BODY:
            return pending + part
        await self._write(pending, request, timeout)
        return bytes(part)

    async def _write(self, data: bytes, request: httpx.Request, timeout: float | None) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            if self._reader.head is not None:
                return  # the server answered early and closed; read its answer
            raise self._error or httpx.WriteError("connection closed", request=request)
        transport.write(data)
        while self._writing_paused and not transport.is_closing():
            if not await self._woken(timeout):
                raise httpx.WriteTimeout("timed out writing", request=request)

    async def _woken(self, timeout: float | None) -> bool:
        """Wait for the protocol to see something: False if ``timeout`` passed first (the
        caller makes its timeout exception only then: this runs at least once a request)."""
        self._waiter = self.loop.create_future()
        try:
            await wait_for(self._waiter, timeout)
        except TimeoutError:
            return False
        finally:
            self._waiter = None
        return True

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # -- body, for _ResponseStream ---------------------------------------------

    def take(self) -> bytes | None:
        """The next body piece, or None if none is buffered."""
        if not self._body:
            return None
        piece = self._body.popleft()
        self._taken(len(piece))
        return piece

    def _taken(self, count: int) -> None:
        """``count`` buffered body bytes were taken: read the socket again below _LOW_WATER."""
        self._buffered -= count
        if self._reading_paused and self._buffered < _LOW_WATER and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()

    async def readinto(self, buffer: memoryview, timeout: float | None) -> int:
        """Fill ``buffer`` with the body (hx.net.body.BodyReader): what is queued first,
        then straight from the socket where the framing allows, else piece by piece.

        ``timeout`` is the longest wait without a byte, as for any read. A failure
        after some bytes came returns them, and the next call raises it. Bytes read
        from the socket come back within _PATIENCE of the first of them (or with
        the body's end), whether or not ``buffer`` is full.
        """
        if not buffer:
            raise ValueError("readinto needs a buffer of at least one byte")
        filled = self._copy_queued(buffer)
        try:
            while filled < len(buffer) and not (self.complete and not self._body):
                room = self._reader.direct_room()
                if room and not self._body:
                    try:
                        region = buffer[filled : filled + room]
                        await self._receive_into(region, timeout, holding=filled > 0)
                    finally:
                        filled += self._lent_filled  # also what came before a failure
                    return filled  # full, the body's end, or what came within _PATIENCE
                elif filled:
                    return filled  # a chunked body: what has come, without waiting for more
                else:
                    await self.wait_body(timeout)
                    filled += self._copy_queued(buffer)
        except httpx.TransportError as exc:
            if not filled:
                raise
            self._error = exc
        except asyncio.CancelledError:
            if filled and self.state in READING:
                # Bytes went into a buffer its caller gave up: the body has a hole now.
                # (A body that ended, or broke, meanwhile is no longer read: no hole.)
                self._fail(httpx.ReadError("a read was cancelled partway"))
            raise
        return filled

    def _copy_queued(self, buffer: memoryview) -> int:
        """Move queued body bytes into ``buffer``; how many."""
        body, filled = self._body, 0
        while body and filled < len(buffer):
            piece = body[0]
            count = min(len(piece), len(buffer) - filled)
            buffer[filled : filled + count] = memoryview(piece)[:count]
            if count == len(piece):
                body.popleft()
            else:
                body[0] = piece[count:]
            filled += count
        self._taken(filled)
        return filled

    async def _receive_into(self, region: memoryview, timeout: float | None, holding: bool) -> None:
        """Lend ``region`` to the protocol (get_buffer) until it is full, the body ends,
        or _PATIENCE has passed with bytes in hand (``holding``: the reader has some
        already; see also ``lent_filled``). ``_lent_filled`` says how much came, also
        when this raises."""
        self._lent, self._lent_filled = region, 0
        self._lent_since = self.loop.time()
        self._loan_due = self._lent_since + _PATIENCE
        self._loan_holding = holding
        self._switch_protocol(_Lending(self))
        try:
            while not self._loan_over():
                await self._body_arrived(self._loan_wait(timeout))
        finally:
            # Never again written by the socket: the caller reuses it once this returns.
            self._lent = None
            self._switch_protocol(self)

    def _loan_over(self) -> bool:
        """Is the lent buffer due back: full, the body ended, or it has held bytes and
        _PATIENCE has passed since it was lent?"""
        filled = self._lent_filled
        return (
            self.complete
            or filled == len(self._lent or b"")
            or (
                (filled > 0 or self._loan_holding)
                and self.loop.time() + _CLOCK_SLACK >= self._loan_due
            )
        )

    def _loan_wait(self, timeout: float | None) -> float | None:
        """How long a loan may wait now: until the read timeout, counted from the last
        byte (bytes that come slowly do not wake it) or from the loan, and at most until
        _PATIENCE after the loan. Raises ReadTimeout if the read timeout has passed
        (so it may come up to _PATIENCE late: the loan after one given back with
        bytes counts from its own start)."""
        if self._error is not None:
            raise self._error  # what broke the connection, not a timeout it caused
        now = self.loop.time()
        wait = None
        if timeout is not None:
            last = self._lent_at if self._lent_filled else self._lent_since
            wait = last + timeout - now
            if wait < _CLOCK_SLACK:
                raise httpx.ReadTimeout("timed out reading", request=self._request)
        # Until _PATIENCE has passed, bytes do not wake the loan: look then.
        due = self._loan_due - now
        if due >= _CLOCK_SLACK:
            wait = due if wait is None else min(wait, due)
        return wait

    def _switch_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        """Make ``protocol`` the transport's.

        Reading is paused across the switch (uvloop picks how it reads, plain or into
        a buffer, when reading starts) and resumed after it, but for a loan that
        ended full on plain TCP (see ``lent_filled``).
        """
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if not self._reading_paused:
            transport.pause_reading()
        transport.set_protocol(protocol)
        self._reading_paused = protocol is self and (
            self._paused_full or self._buffered > _HIGH_WATER
        )
        self._paused_full = False
        if not self._reading_paused:
            transport.resume_reading()

    async def wait_body(self, timeout: float | None) -> None:
        """Wait for more of the response; raises what broke it, or ReadTimeout."""
        if not await self._body_arrived(timeout):
            raise httpx.ReadTimeout("timed out reading", request=self._request)

    async def _body_arrived(self, timeout: float | None) -> bool:
        """Wait for more of the response: False if ``timeout`` passed first; raises what
        broke it."""
        if self._error is not None:
            raise self._error
        if self._reading_paused and self._buffered < _LOW_WATER and self.transport is not None:
            # Paused when a loan ended full: whoever waits now needs the socket read.
            self._reading_paused = False
            self.transport.resume_reading()
        return await self._woken(timeout)

    def finish(self) -> None:
        """The response stream is done with this exchange."""
        self._to(Event.RELEASE)
        if self.state is not State.IDLE:
            return
        # What the response's reader left unread goes now, not at the next request.
        self._body.clear()
        self._buffered = 0
        if self._reading_paused and self.transport is not None:
            # The response arrived whole but was closed with more than _HIGH_WATER unread.
            # An idle connection reads: it sees the server close it, and the next
            # response is read (one kept paused hung until the read timeout).
            self._reading_paused = False
            self.transport.resume_reading()

    # -- asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._tls = transport.get_extra_info("ssl_object") is not None
        self._to(Event.MADE)

    def lent_space(self) -> memoryview | None:
        """Where the socket's next bytes go while a buffer is lent (None once it is full)."""
        lent = self._lent
        if lent is None or self._lent_filled == len(lent):
            return None
        return lent[self._lent_filled :]

    def lent_filled(self, nbytes: int) -> None:
        """``nbytes`` body bytes were read into ``lent_space()``: at most the body's rest
        was lent."""
        self._lent_filled += nbytes
        self._lent_at = self.loop.time()
        reader = self._reader
        reader.took(nbytes)
        if reader.ended:
            self._end(Event.END if reader.reusable else Event.END_LAST)
        elif self._lent_filled < len(self._lent or b""):
            if self._lent_at < self._loan_due:
                return  # the reader wakes once the buffer is full: no wake-up per read
        elif not self._tls and not self._reading_paused and self.transport is not None:
            # Full: on plain TCP the rest, and the server's FIN, wait in the socket for
            # the caller's next buffer (no copy of what arrives meanwhile). Not over TLS:
            # asyncio's and uvloop's TLS transports drop the decrypted bytes they hold
            # if the close arrives while reading is paused; there it goes to the queue.
            self._reading_paused = self._paused_full = True
            self.transport.pause_reading()
        self._wake()

    def data_received(self, data: bytes) -> None:
        if self.state not in READING:
            self._to(Event.SPOIL)  # unasked-for bytes: this connection cannot be trusted
            return
        if self.state is State.AWAITING_HEAD and self._exchange is not None:
            self._exchange.response_began()
        reader = self._reader
        try:
            reader.feed(data)
        except ProtocolError as exc:
            self._fail(httpx.RemoteProtocolError(str(exc)))
            self.close()
            return
        if reader.head is None:
            return
        if self.state is State.AWAITING_HEAD:
            self._to(Event.HEAD)
        if reader.ended:
            self._end(Event.END if reader.reusable else Event.END_LAST)
        self._wake()

    def _end(self, event: Event) -> None:
        """The response has ended (``END`` or ``END_LAST``)."""
        self._to(event)
        if self._exchange is not None:
            self._exchange.response_ended()

    def _queue(self, piece: bytes) -> None:
        self._body.append(piece)
        self._buffered += len(piece)
        if self._buffered > _HIGH_WATER and not self._reading_paused and self.transport:
            self._reading_paused = True
            self.transport.pause_reading()

    def _fail(self, error: httpx.RequestError) -> None:
        if self._request is not None:
            error.request = self._request
        self._error = error
        self._to(Event.FAIL)
        self._wake()

    def eof_received(self) -> bool:
        self._end_of_stream(None)
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._end_of_stream(exc)
        self._reader.detach()  # no byte comes after this
        self._writing_paused = False
        self._wake()

    def _end_of_stream(self, exc: Exception | None) -> None:
        """The server closed, or the connection broke: what that means for the exchange."""
        if self.state not in READING:
            self._to(Event.SPOIL)
            return
        if exc is not None:
            error: httpx.RequestError = httpx.ReadError(str(exc) or type(exc).__name__)
            error.__cause__ = exc
            self._fail(error)
            return
        try:
            self._reader.feed_eof()
        except ProtocolError as cut_short:
            self._fail(httpx.RemoteProtocolError(str(cut_short)))
            return
        self._end(Event.END_LAST)  # a body delimited by the close has ended
        self._wake()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake()


class _Lending(asyncio.BufferedProtocol):
    """A connection's protocol while a ``readinto`` caller's buffer is lent: the socket
    reads straight into that buffer; everything else goes to the connection."""

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection
        self._spill: memoryview | None = None

    def get_buffer(self, sizehint: int) -> memoryview:
        space = self._connection.lent_space()
        if space is not None:
            self._spill = None
            return space
        # Full: a TLS transport reads on (see _Connection.lent_filled); take it as bytes,
        # as much as the transport offers (what it holds at a close is then all read).
        self._spill = memoryview(bytearray(max(_SPILL, sizehint)))
        return self._spill

    def buffer_updated(self, nbytes: int) -> None:
        if self._spill is None:
            self._connection.lent_filled(nbytes)
        else:
            self._connection.data_received(self._spill[:nbytes].tobytes())

    def eof_received(self) -> bool:
        return self._connection.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._connection.connection_lost(exc)

    def pause_writing(self) -> None:
        self._connection.pause_writing()

    def resume_writing(self) -> None:
        self._connection.resume_writing()


class _ResponseStream(httpx.AsyncByteStream):
    """The body of one response, as httpx reads it or with ``readinto`` (hx.net.body);
    closing it returns the connection to the pool."""

    def __init__(self, pool: Http1Transport, connection: _Connection, timeout: float | None):
        self._pool = pool
        self._connection: _Connection | None = connection
        self._timeout = timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            raise httpx.StreamClosed()
        while True:
            piece = connection.take()
            if piece is not None:
                yield piece
            elif connection.complete:
                return
            else:
                await connection.wait_body(self._timeout)

    async def readinto(self, buffer: memoryview) -> int:
        connection = self._connection
        if connection is None:
            raise httpx.StreamClosed()
        return await connection.readinto(buffer, self._timeout)

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        connection.finish()
        if connection.reusable:
            self._pool._release(connection)
        else:
            self._pool._discard(connection)
            await connection.wait_closed()


def _request_head(request: httpx.Request, headers: list[tuple[bytes, bytes]]) -> bytes:
    """Request line and headers, as bytes; refuses a CR, LF or NUL that would split them."""
    lines = [b"%b %b HTTP/1.1" % (request.method.encode("ascii"), request.url.raw_path)]
    lines.extend([b"%b: %b" % (name, value) for name, value in headers])
    head = b"\r\n".join(lines)
    breaks = len(lines) - 1
    if head.count(b"\n") != breaks or head.count(b"\r") != breaks or b"\0" in head:
        raise httpx.LocalProtocolError("request head contains CR, LF or NUL", request=request)
    return head + b"\r\n\r\n"


def _is_chunked(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
            return True
    return False
