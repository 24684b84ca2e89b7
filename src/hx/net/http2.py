"""HTTP/2 straight to the origin: hx's transport for direct routes under --http2.

The h2 library does the protocol; this module does what httpcore did around
it, more cheaply: one asyncio protocol per connection that feeds h2 what
arrives and wakes the streams its events concern, one connection per origin
shared by as many requests as the server allows (more connections once it is
full), and no locks. Requests are encoded without HPACK's dynamic table
(_LiteralEncoder): hx sends distinct URLs, so indexing them would only cost
CPU. Responses are decoded by h2 as usual.

A TLS server that does not choose h2 in ALPN gets HTTP/1.1 through
hx.net.http1 from then on; ``prior_knowledge`` speaks h2 at once, also in clear.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from time import perf_counter
from typing import cast

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import httpx
from hpack import Encoder

from hx.net.exchange import EXCHANGE, Exchange
from hx.net.http1 import Http1Transport
from hx.net.http2_blocks import RememberingDecoder
from hx.net.http2_fields import malformed
from hx.net.pool import Origin, Pool, PooledConnection, origin_of, wait_for

_CONNECTION_WINDOW = 16 << 20
"""Bytes the server may send on a connection before hx has read them."""
_STREAM_WINDOW = 1 << 20
"""Bytes the server may send on one stream before hx has read them."""
_HOP_BY_HOP = frozenset(
    [b"connection", b"host", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"]
)
_NEVER_INDEXED = frozenset([b"authorization", b"proxy-authorization", b"cookie"])


class Http2Transport(Pool["_Connection"]):
    """HTTP/2 connections per origin, at most ``max_connections`` open at once.

    Requests share a connection while the server allows more streams on it;
    a request that finds every connection full opens another. At the limit, a
    connection with no streams (to any origin) is closed to make room, or the
    request waits (the ``pool`` timeout).
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext | Callable[[], ssl.SSLContext],
        max_connections: int,
        prior_knowledge: bool,
        http1: Callable[[], Http1Transport],
    ) -> None:
        alpn = ["h2"] if prior_knowledge else ["h2", "http/1.1"]
        super().__init__(ssl_context, alpn, max_connections)
        self._prior_knowledge = prior_knowledge
        self._make_http1 = http1
        self._http1: Http1Transport | None = None
        self._http1_origins: set[Origin] = set()
        self._by_origin: dict[Origin, list[_Connection]] = {}
        """Connections in the pool by origin (some may have had a GOAWAY)."""
        self._pending: dict[Origin, asyncio.Future[None]] = {}
        """The connect under way to an origin, for other requests to that origin to await."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = perf_counter()
        origin = origin_of(request)
        if (origin[0] == b"https" or self._prior_knowledge) and origin not in self._http1_origins:
            timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
            try:
                connection = await self._acquire(origin, request, timeouts)
            except _SpeaksHttp1:
                pass
            else:
                exchange = connection.new_exchange(started)
                return await connection.request(request, timeouts, exchange)
        if self._http1 is None:
            self._http1 = self._make_http1()
        return await self._http1.handle_async_request(request)

    def _take(self, origin: Origin) -> _Connection | None:
        """A connection to ``origin`` with a stream reserved for the request."""
        if origin in self._http1_origins:
            raise _SpeaksHttp1()
        connections = [c for c in self._by_origin.get(origin, ()) if c.usable]
        if connections:
            self._by_origin[origin] = connections
        else:
            self._by_origin.pop(origin, None)  # no entry per host over a long crawl
        for connection in connections:
            if connection.has_room:
                connection.reserve()
                return connection
        return None

    def _may_open(self, origin: Origin) -> bool:
        return origin in self._pending or super()._may_open(origin)

    async def _open_new(
        self, origin: Origin, request: httpx.Request, timeout: float | None
    ) -> None:
        """Open a connection to ``origin`` into the pool, or learn that it wants HTTP/1.1.

        Requests for the same origin wait for this connect meanwhile: it ends
        with this connect's error, or with None (look again), also when this
        request is cancelled, so that they connect themselves.
        """
        pending = self._pending.get(origin)
        if pending is not None:
            await _await_connect(pending, request, timeout)
            return
        pending = self._pending[origin] = asyncio.get_running_loop().create_future()
        alpn_required = origin[0] == b"https" and not self._prior_knowledge
        try:
            # A connection's SETTINGS say how many streams the server allows:
            # until they arrive, any number might be refused.
            connection = await self._connect(
                origin,
                lambda: _Connection(alpn_required, on_idle=self._room.wake_all),
                request,
                timeout,
                ready=_Connection.settings_received,
            )
        except httpx.TransportError as exc:
            pending.set_exception(exc)
            pending.exception()  # retrieved: there may be no other request waiting on it
            raise
        finally:
            del self._pending[origin]
            if not pending.done():
                pending.set_result(None)
            self._room.wake_all()  # its room, or its failure, concerns every waiter
        if connection.declined:
            # The server chose HTTP/1.1 in ALPN: hx.net.http1 takes this origin from now on.
            self._http1_origins.add(origin)
            self._discard(connection)
            return
        self._by_origin.setdefault(origin, []).append(connection)

    def _evict_idle(self) -> bool:
        """Close a connection that carries no stream."""
        for connection in self._open:
            if connection.idle:
                self._discard(connection)
                return True
        return False

    async def aclose(self) -> None:
        self._by_origin.clear()
        await super().aclose()
        if self._http1 is not None:
            await self._http1.aclose()


class _SpeaksHttp1(Exception):
    """The origin chose HTTP/1.1 in ALPN: hx.net.http1 serves it."""


async def _await_connect(
    pending: asyncio.Future[None], request: httpx.Request, timeout: float | None
) -> None:
    """Wait for another request's connect; its failure is this request's failure too."""
    try:
        async with asyncio.timeout(timeout):
            await asyncio.shield(pending)
    except TimeoutError:
        raise httpx.ConnectTimeout("timed out connecting", request=request) from None
    except httpx.TransportError as exc:  # ConnectError or ConnectTimeout: a fresh one
        raise type(exc)(str(exc), request=request) from exc.__cause__


class _OpenAfterGoaway(h2.connection.H2ConnectionStateMachine):
    """h2's connection states, except that a GOAWAY received does not close the connection.

    In a graceful shutdown the server still answers the streams up to the
    GOAWAY's last stream id (RFC 9113 6.8), but h2 would refuse their frames as
    arriving on a closed connection (python-hyper/h2#1181). hx itself opens no
    stream after a GOAWAY.
    """

    def process_input(self, input_: h2.connection.ConnectionInputs) -> list[h2.events.Event]:
        if input_ is h2.connection.ConnectionInputs.RECV_GOAWAY:
            return []
        return super().process_input(input_)


class _LiteralEncoder(Encoder):
    """HPACK without the dynamic table: every header a literal, nothing to search or evict.

    The first block sets the dynamic table size to 0, which also keeps any
    smaller table size the server asks for satisfied. Credentials are marked
    never-indexed, so no intermediary may store them.
    """

    def __init__(self) -> None:
        super().__init__()
        self._announced = False

    def encode(self, headers: object, huffman: bool = True) -> bytes:
        block = bytearray()
        if not self._announced:
            block += b"\x20"  # dynamic table size update: 0
            self._announced = True
        for name, value in cast(list[tuple[bytes, bytes]], headers):
            block += b"\x10" if name in _NEVER_INDEXED else b"\x00"
            block += _length(len(name))
            block += name
            block += _length(len(value))
            block += value
        return bytes(block)


def _length(n: int) -> bytes:
    """An HPACK string length: a 7-bit prefix integer, no Huffman coding (RFC 7541 5.1)."""
    if n < 0x7F:
        return bytes((n,))
    out = bytearray([0x7F])
    n -= 0x7F
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


class _Stream:
    """One request's side of a connection: its response head, body pieces and end."""

    __slots__ = (
        "id",
        "exchange",
        "headers",
        "body",
        "ended",
        "sent",
        "error",
        "waiter",
        "window_waiter",
    )

    def __init__(self, stream_id: int, exchange: Exchange, sent: bool) -> None:
        self.id = stream_id
        self.exchange = exchange
        self.headers: list[tuple[bytes, bytes]] | None = None
        self.body: deque[tuple[bytes, int]] = deque()  # (data, flow-controlled length)
        self.ended = False
        """The server has ended its side of the stream."""
        self.sent = sent
        """hx has ended its side of the stream (the whole request is sent)."""
        self.error: httpx.RequestError | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.window_waiter: asyncio.Future[None] | None = None

    def wake(self) -> None:
        for waiter in (self.waiter, self.window_waiter):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)


class _Connection(PooledConnection):
    """One HTTP/2 connection: h2's state machine fed from an asyncio transport."""

    def __init__(self, alpn_required: bool, on_idle: Callable[[], None]) -> None:
        super().__init__()
        self._alpn_required = alpn_required
        self.declined = False
        """The server did not choose h2 in ALPN; nothing was sent."""
        self._on_idle = on_idle
        """Called when a stream is released: there may be room on this connection."""
        config = h2.config.H2Configuration(
            client_side=True,
            header_encoding=None,
            # hx builds the request headers itself (lower-case names, no
            # hop-by-hop headers, checked for CR/LF/NUL): no need to check twice.
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
            # Response header blocks are checked by hx.net.http2_fields, faster,
            # and a malformed one fails its stream, not the connection. Nor are
            # "cookie" fields gathered and moved last: that is for requests
            # (RFC 9113 8.2.3), and in a response it hid a misplaced pseudo-header.
            validate_inbound_headers=False,
            normalize_inbound_headers=False,
        )
        self._h2 = h2.connection.H2Connection(config)
        self._h2.encoder = _LiteralEncoder()
        decoder = self._h2.decoder
        self._h2.decoder = RememberingDecoder(
            decoder.max_header_list_size, decoder.max_allowed_table_size
        )
        self._h2.state_machine = _OpenAfterGoaway()
        self._streams: dict[int, _Stream] = {}
        self._reserved = 0
        self._broken: httpx.RequestError | None = None
        self._goaway = False
        self._settings: asyncio.Future[None] = self.loop.create_future()
        self._writing_paused = False
        self._flush_scheduled = False

    # -- capacity --------------------------------------------------------------

    @property
    def usable(self) -> bool:
        """Open to new streams."""
        return self.alive and not self._goaway

    @property
    def alive(self) -> bool:
        """Still carrying its streams (after a GOAWAY too)."""
        return (
            self._broken is None and self.transport is not None and not self.transport.is_closing()
        )

    @property
    def has_room(self) -> bool:
        limit = self._h2.remote_settings.max_concurrent_streams
        return self.usable and self._reserved < limit

    async def settings_received(self) -> None:
        """Wait for the server's SETTINGS (at once if ALPN declined h2: there are none)."""
        if not self.declined:
            await self._settings

    @property
    def idle(self) -> bool:
        return not self._reserved

    def reserve(self) -> None:
        self._reserved += 1

    # -- one request -----------------------------------------------------------

    async def request(
        self, request: httpx.Request, timeouts: dict[str, float | None], exchange: Exchange
    ) -> httpx.Response:
        """Send ``request`` on a new stream (reserved) and wait for its response head,
        timing both in ``exchange``."""
        stream: _Stream | None = None
        try:
            has_body = not isinstance(request.stream, httpx.ByteStream) or _has_bytes(request)
            stream = self._open(request, has_body, exchange)
            if has_body:
                await self._send_body(stream, request, timeouts.get("write"))
            while stream.headers is None:
                await self.wait(stream, timeouts.get("read"), request)
        except BaseException:
            self.release(stream)
            raise
        return httpx.Response(
            int(stream.headers[0][1]),  # :status, checked by _head_problem
            headers=stream.headers[1:],
            stream=_ResponseStream(self, stream, timeouts.get("read"), request),
            extensions={"http_version": b"HTTP/2", EXCHANGE: exchange},
        )

    def _open(self, request: httpx.Request, has_body: bool, exchange: Exchange) -> _Stream:
        url = request.url
        authority = url.netloc
        regular = []
        for name, value in request.headers.raw:
            name = name.lower()
            if name == b"host":
                authority = value
            elif name not in _HOP_BY_HOP and (name != b"te" or value.lower() == b"trailers"):
                regular.append((name, value))
        headers = [
            (b":method", request.method.encode("ascii")),
            (b":authority", authority),
            (b":scheme", url.raw_scheme),
            (b":path", url.raw_path),
            *regular,
        ]
        fields = b"".join(name + value for name, value in headers)
        if b"\r" in fields or b"\n" in fields or b"\0" in fields:
            raise httpx.LocalProtocolError("request header contains CR, LF or NUL", request=request)
        if any(name.startswith(b":") for name, _ in regular):
            raise httpx.LocalProtocolError("request header name starts with ':'", request=request)
        if self._broken is not None:
            raise self._broken
        try:
            stream_id = self._h2.get_next_available_stream_id()
        except h2.exceptions.NoAvailableStreamIDError:
            self._goaway = True  # stream ids used up: new requests go to a new connection
            raise httpx.RemoteProtocolError("no stream ids left", request=request) from None
        try:
            self._h2.send_headers(stream_id, headers, end_stream=not has_body)
        except h2.exceptions.ProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc), request=request) from exc
        stream = self._streams[stream_id] = _Stream(stream_id, exchange, sent=not has_body)
        if not has_body:
            exchange.request_sent()  # written at the end of this turn of the loop
        self._flush_soon()
        return stream

    async def _send_body(
        self, stream: _Stream, request: httpx.Request, timeout: float | None
    ) -> None:
        """Send the body as the flow-control windows allow; stop early if the server
        has answered or reset the stream (a 413 need not wait for the upload)."""
        try:
            async for part in cast(AsyncIterator[bytes], request.stream):
                view = memoryview(part)
                while view:
                    if stream.ended or stream.error is not None:
                        return
                    window = min(
                        self._h2.local_flow_control_window(stream.id),
                        self._h2.max_outbound_frame_size,
                    )
                    if window <= 0:
                        await self.wait(stream, timeout, request, writing=True)
                        continue
                    self._h2.send_data(stream.id, view[:window].tobytes())
                    view = view[window:]
                    self._flush_soon()
                while self._writing_paused and self.usable:
                    await self.wait(stream, timeout, request, writing=True)
            if not (stream.ended or stream.error):
                self._h2.end_stream(stream.id)
                stream.sent = True
                stream.exchange.request_sent()
                self._flush_soon()
        except h2.exceptions.ProtocolError as exc:
            if stream.error is not None:
                raise stream.error from None
            if not stream.ended:  # closed under hx by something other than an answer
                raise httpx.RemoteProtocolError(
                    f"HTTP/2 stream closed while sending the request: {exc!r}", request=request
                ) from exc

    async def wait(
        self, stream: _Stream, timeout: float | None, request: httpx.Request, writing: bool = False
    ) -> None:
        if stream.error is not None:
            raise stream.error
        waiter = self.loop.create_future()
        if writing:
            stream.window_waiter = waiter
        else:
            stream.waiter = waiter
        try:
            await wait_for(waiter, timeout)
        except TimeoutError:
            if writing:
                raise httpx.WriteTimeout("timed out writing", request=request) from None
            raise httpx.ReadTimeout("timed out reading", request=request) from None
        finally:
            stream.waiter = stream.window_waiter = None
        if stream.error is not None:
            raise stream.error

    def take(self, stream: _Stream) -> bytes | None:
        """The next body piece of ``stream``, handing its flow-control credit back."""
        if not stream.body:
            return None
        data, flow_length = stream.body.popleft()
        if self.alive and stream.id in self._streams:
            self._h2.acknowledge_received_data(flow_length, stream.id)
            self._flush_soon()
        return data

    def release(self, stream: _Stream | None) -> None:
        """The request is done with its stream: reset it if unfinished, free its place.

        Data that arrived but was never read is credited back to the server:
        otherwise each response closed early would shrink the connection's
        window for good, until nothing more could arrive on it.
        """
        self._reserved -= 1
        if stream is not None and self._streams.pop(stream.id, None) is not None:
            unread = sum(length for _, length in stream.body)
            stream.body.clear()
            if self.alive:
                try:
                    if unread:
                        self._h2.acknowledge_received_data(unread, stream.id)
                    if not (stream.ended and stream.sent):
                        self._h2.reset_stream(stream.id, h2.errors.ErrorCodes.CANCEL)
                except h2.exceptions.ProtocolError:
                    pass  # the stream closed meanwhile
                self._flush_soon()
        if self._goaway and not self._reserved:
            self.close()  # its last stream is done; new requests use another connection
        self._on_idle()

    def _flush_soon(self) -> None:
        """Write what h2 has queued at the end of this turn of the event loop.

        The frames of the requests started in one turn then go out in one
        write: one TLS record and one system call instead of one per request.
        """
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        data = self._h2.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    # -- asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self._alpn_required:
            ssl_object = transport.get_extra_info("ssl_object")
            if ssl_object is None or ssl_object.selected_alpn_protocol() != "h2":
                self.declined = True
                return
        self._h2.local_settings = h2.settings.Settings(
            client=True,
            initial_values={
                h2.settings.SettingCodes.ENABLE_PUSH: 0,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: _STREAM_WINDOW,
            },
        )
        self._h2.initiate_connection()
        self._h2.increment_flow_control_window(_CONNECTION_WINDOW - 65535)
        self._flush()

    def data_received(self, data: bytes) -> None:
        try:
            events = self._h2.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            self._break(httpx.RemoteProtocolError(f"HTTP/2 protocol error: {exc}"))
            self.close()
            return
        for event in events:
            self._handle(event)
        self._flush()

    def _handle(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RemoteSettingsChanged):
            if not self._settings.done():
                self._settings.set_result(None)
            self._on_idle()  # the server may allow more streams now ...
            _wake_writers(self._streams.values())  # ... or give uploads a larger window
        elif isinstance(event, h2.events.ResponseReceived):
            stream = self._streams.get(event.stream_id)
            if stream is not None:
                stream.exchange.response_began()
                if (problem := _head_problem(event.headers)) is not None:
                    self._fail_stream(stream, problem)
                else:
                    stream.headers = event.headers
                    stream.wake()
        elif isinstance(event, h2.events.InformationalResponseReceived):
            self._interim(event.stream_id, event.headers)
        elif isinstance(event, h2.events.TrailersReceived):
            stream = self._streams.get(event.stream_id)
            if stream is not None and (reason := malformed(event.headers, trailers=True)):
                self._fail_stream(stream, f"malformed trailers: {reason}")
        elif isinstance(event, h2.events.DataReceived):
            stream = self._streams.get(event.stream_id)
            if stream is not None:
                stream.body.append((event.data, event.flow_controlled_length))
                stream.wake()
            else:  # a stream hx gave up on: hand the credit straight back
                self._h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            stream = self._streams.get(event.stream_id)
            if stream is not None:
                stream.ended = True
                stream.exchange.response_ended()
                stream.wake()
        elif isinstance(event, h2.events.StreamReset):
            stream = self._streams.get(event.stream_id)
            if stream is not None and not stream.ended:
                code = _error_name(event.error_code)
                stream.error = httpx.RemoteProtocolError(f"server reset the stream ({code})")
                stream.wake()
        elif isinstance(event, h2.events.WindowUpdated):
            if event.stream_id == 0:
                _wake_writers(self._streams.values())
            elif (stream := self._streams.get(event.stream_id)) is not None:
                _wake_writers([stream])
        elif isinstance(event, h2.events.ConnectionTerminated):
            self._goaway = True
            code = _error_name(event.error_code)
            last = event.last_stream_id if event.last_stream_id is not None else 0
            for stream_id, stream in self._streams.items():
                if stream_id > last and not stream.ended:
                    # Never processed by the server: safe to send again (hx retries).
                    stream.error = httpx.RemoteProtocolError(
                        f"server closed the connection (GOAWAY {code}) before this request"
                    )
                    stream.wake()

    def _interim(self, stream_id: int, headers: list[tuple[bytes, bytes]]) -> None:
        """A 1xx response is skipped, unless its head is unusable: then it fails the stream."""
        stream = self._streams.get(stream_id)
        if stream is None:
            return
        stream.exchange.response_began()
        if (problem := _head_problem(headers, interim=True)) is not None:
            self._fail_stream(stream, problem)

    def _fail_stream(self, stream: _Stream, message: str) -> None:
        """A malformed response is a stream error (RFC 9113 8.1.1): reset the stream and
        fail its request with ``message``; the connection serves the others on."""
        stream.error = httpx.RemoteProtocolError(message)
        del self._streams[stream.id]  # what else arrives on it is not this request's
        unread = sum(length for _, length in stream.body)  # (before trailers)
        stream.body.clear()
        try:
            if unread:
                self._h2.acknowledge_received_data(unread, stream.id)
            self._h2.reset_stream(stream.id, h2.errors.ErrorCodes.PROTOCOL_ERROR)
        except h2.exceptions.ProtocolError:
            pass  # the rest of the response came in the same read: the stream is closed
        stream.wake()

    def _break(self, error: httpx.RequestError) -> None:
        """The connection is unusable: every stream still waiting fails with ``error``."""
        if self._broken is None:
            self._broken = error
        if not self._settings.done():
            self._settings.set_exception(ConnectionError(f"{error} (before its SETTINGS)"))
            self._settings.exception()  # retrieved: no connect may be waiting for it
        for stream in self._streams.values():
            if not stream.ended and stream.error is None:
                stream.error = error if stream.headers is None else _cut_short(error)
            stream.wake()

    def eof_received(self) -> bool:
        self._break(httpx.RemoteProtocolError("Server disconnected without sending a response."))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if exc is not None:
            error: httpx.RequestError = httpx.ReadError(str(exc) or type(exc).__name__)
            error.__cause__ = exc
        else:
            error = httpx.RemoteProtocolError("Server disconnected without sending a response.")
        self._writing_paused = False
        self._break(error)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        for stream in self._streams.values():
            stream.wake()

    def close(self) -> None:
        # No HTTP/2 frame for an HTTP/1.1 server, nor on a connection being closed.
        if self.transport is not None and not self.transport.is_closing() and not self.declined:
            try:
                self._h2.close_connection()
                self._flush()
            except h2.exceptions.ProtocolError:
                pass  # the connection is broken already: just close it
        super().close()


class _ResponseStream(httpx.AsyncByteStream):
    """The body of one response; closing it frees the stream's place on the connection."""

    def __init__(
        self,
        connection: _Connection,
        stream: _Stream,
        timeout: float | None,
        request: httpx.Request,
    ) -> None:
        self._connection = connection
        self._stream: _Stream | None = stream
        self._timeout = timeout
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        stream = self._stream
        if stream is None:
            raise httpx.StreamClosed()
        while True:
            piece = self._connection.take(stream)
            if piece is not None:
                yield piece
            elif stream.ended:
                return
            else:
                await self._connection.wait(stream, self._timeout, self._request)

    async def aclose(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            self._connection.release(stream)


def _wake_writers(streams: Iterable[_Stream]) -> None:
    """Uploads waiting for flow-control window: look again."""
    for stream in streams:
        if stream.window_waiter is not None and not stream.window_waiter.done():
            stream.window_waiter.set_result(None)


def _cut_short(error: httpx.RequestError) -> httpx.RequestError:
    """``error`` for a stream whose response had begun: say the body is incomplete."""
    if isinstance(error, httpx.RemoteProtocolError):
        return httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body"
        )
    return error


def _head_problem(headers: list[tuple[bytes, bytes]], interim: bool = False) -> str | None:
    """Why a response head is unusable (RFC 9113 8.1.1 and 8.3.2), or None. An interim
    (1xx) head may not be 101, which HTTP/2 has no use for (RFC 9113 8.6)."""
    head, response = "response head", "the response"
    if interim:
        head, response = "interim response head", "an interim response"
    if (reason := malformed(headers)) is not None:
        return f"malformed {head}: {reason}"
    status = headers[0][1]  # well-formed: :status first, and the only pseudo-header
    if not _valid_status(status) or (interim and status == b"101"):
        return f"invalid :status {status[:20]!r} in {response}"
    return None


def _valid_status(status: bytes) -> bool:
    """Three digits, 100-599 (RFC 9110 15)."""
    return len(status) == 3 and status.isdigit() and b"100" <= status <= b"599"


def _has_bytes(request: httpx.Request) -> bool:
    """Whether a body given as bytes (httpx.ByteStream) has any."""
    return any(cast(httpx.ByteStream, request.stream))


def _error_name(code: object) -> str:
    return getattr(code, "name", str(code))
