"""A scripted HTTP/2 server on 127.0.0.1, speaking h2's server side in the test's own loop.

Each request stream runs the server's ``handler`` (default ``ok``: 200 "ok" once
the request has ended); a test may also drive a stream itself through its
``Peer``: answer it, reset it, send GOAWAY, close the socket. The server records
every connection, each stream's request headers (as its HPACK decoder saw them)
and body, the streams the client reset, and the most streams open at once.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
from h2.errors import ErrorCodes
from h2.settings import SettingCodes
from hyperframe.frame import GoAwayFrame

from support.transport import LoopbackServer

Header = tuple[bytes, bytes]
Handler = Callable[["Peer", "Stream"], Awaitable[None]]
"""What the server does with a request stream (it may also return and leave it to the test)."""


@dataclass
class Stream:
    """One request stream as the server received it."""

    id: int
    headers: list[Header]
    body: bytearray = field(default_factory=bytearray)
    complete: asyncio.Event = field(default_factory=asyncio.Event)
    """The client ended its side of the stream."""
    reset_code: int | None = None
    """The error code of the client's RST_STREAM, if it sent one."""

    @property
    def path(self) -> bytes:
        return dict(self.headers)[b":path"]


class Peer:
    """One connection the server accepted, and the means to answer on it."""

    def __init__(self, writer: asyncio.StreamWriter, settings: dict[SettingCodes, int]) -> None:
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.h2 = h2.connection.H2Connection(config)
        self.writer = writer
        self.streams: dict[int, Stream] = {}
        self.most_open = 0
        self.hung_up = asyncio.Event()
        """The connection reached its end of file: the client closed it (or the test did)."""
        self.tasks: list[asyncio.Task[None]] = []
        self.window = asyncio.Event()
        """Set whenever the client may have given more flow-control credit."""
        self.h2.initiate_connection()
        if settings:
            self.h2.update_settings(settings)  # in force once the client acknowledges them
        self.flush()

    def flush(self) -> None:
        self.writer.write(self.h2.data_to_send())

    async def respond(
        self,
        stream: Stream,
        *pieces: bytes,
        status: int = 200,
        headers: Sequence[Header] = (),
        end: bool = True,
        delay: float = 0.0,
    ) -> None:
        """The response head, then ``pieces`` ``delay`` seconds apart, then (if ``end``) its end."""
        self.h2.send_headers(stream.id, [(b":status", b"%d" % status), *headers])
        self.flush()
        for index, piece in enumerate(pieces):
            if index and delay:
                await asyncio.sleep(delay)
            await self.send(stream, piece)
        if end:
            self.h2.end_stream(stream.id)
            self.flush()

    async def send(self, stream: Stream, data: bytes) -> None:
        """DATA frames for ``data``, each as soon as the client's windows allow."""
        view = memoryview(data)
        while view:
            room = min(
                len(view),
                self.h2.local_flow_control_window(stream.id),
                self.h2.max_outbound_frame_size,
            )
            if room <= 0:
                self.window.clear()
                await self.window.wait()
                continue
            self.h2.send_data(stream.id, bytes(view[:room]))
            view = view[room:]
            self.flush()
            await self.writer.drain()

    def reset(self, stream: Stream, code: ErrorCodes = ErrorCodes.INTERNAL_ERROR) -> None:
        self.h2.reset_stream(stream.id, code)
        self.flush()

    def goaway(self, last_stream_id: int) -> None:
        """A graceful GOAWAY, written past h2, which would send nothing more after it
        (python-hyper/h2#1181): streams up to ``last_stream_id`` may still be answered."""
        frame = GoAwayFrame(0)
        frame.last_stream_id = last_stream_id
        self.flush()
        self.writer.write(frame.serialize())

    def receive(self, data: bytes, handler: Handler) -> None:
        for event in self.h2.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                stream = self.streams[event.stream_id] = Stream(event.stream_id, event.headers)
                self.tasks.append(asyncio.create_task(handler(self, stream)))
            elif isinstance(event, h2.events.DataReceived):
                self.streams[event.stream_id].body += event.data
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                self.streams[event.stream_id].complete.set()
            elif isinstance(event, h2.events.StreamReset):
                self.streams[event.stream_id].reset_code = event.error_code
            elif isinstance(event, h2.events.WindowUpdated | h2.events.RemoteSettingsChanged):
                self.window.set()
        self.most_open = max(self.most_open, self.h2.open_inbound_streams)
        self.flush()


async def ok(peer: Peer, stream: Stream) -> None:
    await stream.complete.wait()
    await peer.respond(stream, b"ok")


async def slow(peer: Peer, stream: Stream) -> None:
    """``ok`` 50 ms late: requests started together are open together."""
    await asyncio.sleep(0.05)
    await ok(peer, stream)


async def hold(peer: Peer, stream: Stream) -> None:
    """Answer nothing: the test drives this stream itself, or leaves it unanswered."""


class H2Server(LoopbackServer):
    """An HTTP/2 server on 127.0.0.1: h2c (prior knowledge), or TLS with ``ssl_context``."""

    def __init__(
        self,
        handler: Handler = ok,
        settings: dict[SettingCodes, int] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        settings_delay: float = 0.0,
    ) -> None:
        super().__init__(ssl_context)
        self.handler = handler
        self.peers: list[Peer] = []
        self._settings = settings or {}
        self._settings_delay = settings_delay
        """Seconds before the server's preface (SETTINGS), as a round trip would take."""

    @property
    def streams(self) -> list[Stream]:
        return [stream for peer in self.peers for stream in peer.streams.values()]

    @property
    def requests_per_connection(self) -> list[int]:
        return [len(peer.streams) for peer in self.peers]

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(self._settings_delay)
        peer = Peer(writer, self._settings)
        self.peers.append(peer)
        try:
            while data := await reader.read(1 << 16):
                peer.receive(data, self.handler)
            peer.hung_up.set()
        finally:
            for task in peer.tasks:
                task.cancel()
            outcomes = await asyncio.gather(*peer.tasks, return_exceptions=True)
            errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
            assert not errors, f"stream handler raised: {errors!r}"
