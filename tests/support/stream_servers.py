"""Servers that stream, for the ``hx stream`` tests: a real SSE and NDJSON app, and raw streams.

``StreamServer`` runs a Starlette app with sse-starlette under hypercorn
(the ``AsgiServer`` of ``tls_servers``, cleartext). Routes (``S`` in seconds):

``/sse?n=N&first=S&gap=S&retry=MS``
        N events with ids 1..N, each ``event: tick`` with two data lines
        (``n``, ``line two``), a comment before the first; the first after
        ``first`` seconds, the rest ``gap`` apart (by the clock, not sleep
        after sleep, so gaps do not drift); ``retry: MS`` with the first
        if given
``/resume?n=N&drop=K&retry=MS``
        events 1..N, starting after the request's ``Last-Event-ID``; after K
        events on one connection the connection is dropped (no final chunk),
        until event N has been sent; the first event of each connection
        carries ``retry: MS``; the Last-Event-ID of every request is logged
        in ``last_event_ids``
``/ndjson?n=N&first=S&gap=S``
        N lines ``{"n": i}`` as ``application/x-ndjson``, timed as ``/sse``
``/status/{n}``
        status n, empty body

``RawStreamServer`` is the ``HostileServer`` (raw bytes, byte for byte) with
hostile streams: ``/raw?case=C&type=T`` sends case C with Content-Type T
(default ``text/plain``), chunked:

``long-line&size=N``  ``data: `` and N bytes of ``x`` with no line end, then
                      ``\\n\\ndata: after\\n\\n``: one N-byte line between two events
``endless-line``      ``x`` for ever, no line end
``bad-utf8``          ``{"a": "\\xff"}``, ``caf\\xc3\\xa9``, ``\\xc3``, ``{"ok": 1}``, LF-ended
``cr-only``           ``data: a\\rdata: b\\r\\rdata: c\\r\\r`` (CR line ends only)
``stall``             ``data: one\\n\\n``, then nothing, connection open
``drip&n=N&first=S&gap=S``
                      N events timed as ``/sse`` (``id: i``, ``data: i`` with
                      ``type=text/event-stream``, else ``{"n": i}`` lines)
``gzip``              ``Content-Encoding: gzip``: ``data: a\\n\\n`` and ``data: b\\n\\n``,
                      each compressed and flushed in a chunk of its own
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections.abc import AsyncIterator, Iterator

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from support.hostile_server import HostileServer, _head, _send_chunked
from support.tls_servers import AsgiServer, Receive, Scope, Send

__all__ = ["RawStreamServer", "StreamServer"]

MIB = 1 << 20


class _Dropped(Exception):
    """Raised by ``/resume`` to drop its connection; not a server error."""


def _timing(request: Request) -> tuple[int, float, float]:
    query = request.query_params
    return int(query.get("n", "3")), float(query.get("first", "0")), float(query.get("gap", "0"))


async def _ticks(n: int, first: float, gap: float) -> AsyncIterator[int]:
    """1..n, the first ``first`` seconds from now, the rest ``gap`` apart by the clock."""
    start = time.monotonic() + first
    for i in range(1, n + 1):
        await asyncio.sleep(max(0.0, start + (i - 1) * gap - time.monotonic()))
        yield i


class StreamServer(AsgiServer):
    """hypercorn serving the streaming app in cleartext on 127.0.0.1."""

    def __init__(self) -> None:
        super().__init__()
        self.last_event_ids: list[str | None] = []
        self._streams = Starlette(
            routes=[
                Route("/sse", self._sse),
                Route("/resume", self._resume),
                Route("/ndjson", self._ndjson),
                Route("/status/{n:int}", self._status),
            ]
        )

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._streams(scope, receive, send)
        except _Dropped:
            pass  # returning without the end of the body: hypercorn drops the connection

    async def _sse(self, request: Request) -> Response:
        n, first, gap = _timing(request)
        retry = request.query_params.get("retry")

        async def events() -> AsyncIterator[ServerSentEvent]:
            yield ServerSentEvent(comment="a comment, to be ignored")
            async for i in _ticks(n, first, gap):
                yield ServerSentEvent(
                    data=f"{i}\nline two",
                    event="tick",
                    id=str(i),
                    retry=int(retry) if retry and i == 1 else None,
                )

        return EventSourceResponse(events())

    async def _resume(self, request: Request) -> Response:
        query = request.query_params
        n, drop, retry = int(query["n"]), int(query["drop"]), query.get("retry")
        last = request.headers.get("last-event-id")
        self.last_event_ids.append(last)
        start = int(last) + 1 if last else 1

        async def events() -> AsyncIterator[ServerSentEvent]:
            for i in range(start, n + 1):
                first = retry is not None and i == start
                yield ServerSentEvent(
                    data=f"event {i}", id=str(i), retry=int(retry) if first else None
                )
                if i - start + 1 == drop and i < n:
                    await asyncio.sleep(0.05)  # let the events go out before the drop
                    raise _Dropped

        return EventSourceResponse(events())

    async def _ndjson(self, request: Request) -> Response:
        n, first, gap = _timing(request)

        async def lines() -> AsyncIterator[bytes]:
            async for i in _ticks(n, first, gap):
                yield json.dumps({"n": i}).encode() + b"\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    async def _status(self, request: Request) -> Response:
        return Response(status_code=request.path_params["n"])


class RawStreamServer(HostileServer):
    """The hostile raw server with ``/raw``: streams no well-behaved server sends."""

    def __init__(self) -> None:
        super().__init__()
        self._routes["/raw"] = self._raw

    async def _raw(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        content_type = query.get("type", "text/plain")
        case = query["case"]
        headers = [f"Content-Type: {content_type}", "Transfer-Encoding: chunked"]
        if case == "gzip":
            headers.append("Content-Encoding: gzip")
        writer.write(_head("200 OK", *headers))
        if case == "long-line":
            await _send_chunked(writer, _long_line(int(query["size"])))
        elif case == "endless-line":
            await _send_chunked(writer, iter(lambda: b"x" * (64 * 1024), None))
        elif case == "bad-utf8":
            await _send_chunked(writer, [b'{"a": "\xff"}\ncaf\xc3\xa9\n\xc3\n{"ok": 1}\n'])
        elif case == "cr-only":
            await _send_chunked(writer, [b"data: a\rdata: b\r", b"\rdata: c\r\r"])
        elif case == "gzip":
            packer = zlib.compressobj(wbits=zlib.MAX_WBITS | 16)
            pieces = [packer.compress(b"data: a\n\n") + packer.flush(zlib.Z_SYNC_FLUSH)]
            pieces.append(packer.compress(b"data: b\n\n") + packer.flush())
            await _send_chunked(writer, pieces)
        elif case == "drip":
            await self._drip(writer, query)
        elif case == "stall":
            writer.write(b"%x\r\n%b\r\n" % (len(b"data: one\n\n"), b"data: one\n\n"))
            await writer.drain()
            await asyncio.Event().wait()
        return True

    async def _drip(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> None:
        n, first, gap = int(query["n"]), float(query["first"]), float(query["gap"])
        sse = query.get("type") == "text/event-stream"
        async for i in _ticks(n, first, gap):
            line = b"id: %d\ndata: %d\n\n" % (i, i) if sse else b'{"n": %d}\n' % i
            writer.write(b"%x\r\n%b\r\n" % (len(line), line))
            await writer.drain()
        writer.write(b"0\r\n\r\n")


def _long_line(size: int) -> Iterator[bytes]:
    yield b"data: before\n\ndata: "
    block = b"x" * MIB
    for _ in range(size // MIB):
        yield block
    if size % MIB:
        yield b"x" * (size % MIB)  # an empty chunk would end the body
    yield b"\n\ndata: after\n\n"
