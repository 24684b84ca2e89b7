"""A raw HTTP/1.1 server on 127.0.0.1 that sends exactly the replies it is given.

``ScriptedServer`` runs in the test's own event loop: it answers the n-th request it
reads, on whichever connection, with the n-th scripted reply, and records every
connection it accepted and the exact bytes of each request.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import struct
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from support.transport import LoopbackServer

Reply = bytes | Callable[[asyncio.StreamWriter], Awaitable[None]]
"""What the server does for one request: send these bytes, or run this (see ``script``)."""


def message(*lines: str, body: bytes = b"") -> bytes:
    """A response: ``lines`` (status line, headers) with CRLF, the blank line, ``body``."""
    return "".join(line + "\r\n" for line in (*lines, "")).encode("latin-1") + body


OK = message("HTTP/1.1 200 OK", "Content-Length: 2", body=b"ok")


def script(
    *parts: bytes, delay: float = 0.0, then: Literal["wait", "close", "reset"] = "wait"
) -> Reply:
    """Write ``parts``, ``delay`` seconds apart, then wait for the next request, close
    the connection (FIN) or reset it (RST)."""

    async def run(writer: asyncio.StreamWriter) -> None:
        for index, part in enumerate(parts):
            if index and delay:
                await asyncio.sleep(delay)
            writer.write(part)
            await writer.drain()
        if then == "close":
            writer.close()
        elif then == "reset":
            linger = struct.pack("ii", 1, 0)  # on, 0 s: closing sends RST
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            writer.transport.abort()

    return run


def timed(*parts: tuple[float, bytes]) -> Reply:
    """Write each ``(at, part)`` ``at`` seconds after the request came, then wait."""

    async def run(writer: asyncio.StreamWriter) -> None:
        start = asyncio.get_running_loop().time()
        for at, part in parts:
            await asyncio.sleep(max(0.0, start + at - asyncio.get_running_loop().time()))
            writer.write(part)
            await writer.drain()

    return run


@dataclass
class Peer:
    """One connection the server accepted."""

    requests: list[bytes] = field(default_factory=list)
    """Each request as it arrived, head and body."""
    hung_up: asyncio.Event = field(default_factory=asyncio.Event)
    """The client closed the connection cleanly, between requests."""


class ScriptedServer(LoopbackServer):
    """A raw HTTP/1.1 server on 127.0.0.1 that sends exactly the replies it is given.

    Or, given ``answer``, the reply ``answer`` picks for each request (its bytes).
    """

    def __init__(
        self,
        *replies: Reply,
        ssl_context: ssl.SSLContext | None = None,
        answer: Callable[[bytes], Reply] | None = None,
    ) -> None:
        super().__init__(ssl_context)
        self.replies = deque(replies)
        self.answer = answer
        self.peers: list[Peer] = []

    async def __aexit__(self, *exc_info: Any) -> None:
        await super().__aexit__(*exc_info)
        if exc_info[0] is None:
            assert not self.replies, f"replies never asked for: {list(self.replies)!r}"

    @property
    def requests_per_connection(self) -> list[int]:
        return [len(peer.requests) for peer in self.peers]

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = Peer()
        self.peers.append(peer)
        try:
            # Read at least once: a client that closes at once still shows what it sent.
            while True:
                request = await _read_request(reader)
                peer.requests.append(request)
                reply = self.answer(request) if self.answer else self.replies.popleft()
                await (script(reply) if isinstance(reply, bytes) else reply)(writer)
                if writer.is_closing():
                    break
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                peer.hung_up.set()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    if b"\r\ntransfer-encoding: chunked\r\n" in head.lower():
        return head + await reader.readuntil(b"0\r\n\r\n")
    length = re.search(rb"\r\ncontent-length: ([0-9]+)\r\n", head.lower())
    return head + (await reader.readexactly(int(length[1])) if length else b"")
