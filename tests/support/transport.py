"""What the transport tests share (test_http1.py, test_http2.py, ...): the life of a
scripted server on 127.0.0.1, a silent one, a streamed request body, and the header
injections to refuse."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Self

HEADER_INJECTIONS = [
    (b"X-Evil", b"a\r\nInjected: 1"),
    (b"X-Evil", b"a\nInjected: 1"),
    (b"X-Evil", b"a\rb"),
    (b"X-Evil", b"a\x00b"),
    (b"X-Evil\r\nInjected", b"1"),
]
"""Header (name, value) pairs that would split a request: refused, nothing sent."""


async def body_parts() -> AsyncIterator[bytes]:
    """A streamed request body, b"abcdefgh", with an empty piece on the way."""
    yield b"abc"
    yield b""
    yield b"defgh"


class LoopbackServer:
    """A server on 127.0.0.1 port 0 in the test's own event loop: a subclass's ``serve``
    handles each connection. On exit every connection is closed and its handler
    awaited; a handler that raised fails the test."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.ssl_context = ssl_context
        self._handlers: list[tuple[asyncio.Task[Any], asyncio.StreamWriter]] = []

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", 0, ssl=self.ssl_context
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.close()
        # Closing ends each handler; cancelling would make asyncio 3.11 log an error.
        for _, writer in self._handlers:
            writer.close()
        outcomes = await asyncio.gather(
            *(task for task, _ in self._handlers), return_exceptions=True
        )
        await self._server.wait_closed()
        if exc_type is None:
            errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
            assert not errors, f"server handler raised: {errors!r}"

    def url(self, target: str = "/") -> str:
        scheme = "http" if self.ssl_context is None else "https"
        return f"{scheme}://127.0.0.1:{self.port}{target}"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.append((task, writer))
        try:
            await self.serve(reader, writer)
        except ConnectionError:
            pass  # the client reset the connection
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


class SilentServer(LoopbackServer):
    """Accepts connections and says nothing: a TLS handshake with it never completes."""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
