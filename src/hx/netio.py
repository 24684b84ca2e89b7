"""A lean asyncio network backend for httpcore.

httpcore's default backend goes through anyio: every read and write opens a
cancel scope (which looks up the current task), and every time the pool
checks an idle connection it asks the socket for its peer and polls it. On
small requests that is a fifth of hx's CPU. This backend talks to asyncio
transports directly: reads wait on a future only when no data is buffered,
timeouts are one timer per wait, and "is this idle connection readable?" is
answered from what the protocol has already seen, without a system call.

Flow control keeps memory flat for big bodies: reading from the socket
pauses while more than ``_HIGH_WATER`` bytes wait to be consumed.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque
from collections.abc import Iterable
from typing import Any, cast

import httpcore

_HIGH_WATER = 1 << 20
_LOW_WATER = 1 << 18
_WHOLE_CHUNK = 256 * 1024
_CLOSE_WAIT = 0.25
"""Seconds a TLS connection gets to close cleanly before it is aborted."""


class _Protocol(asyncio.Protocol):
    """Buffers what arrives until the stream reads it; tells waiters when there is more."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        # Chunks as they arrived, and how much of the first one was read: each
        # byte is copied at most once, however big the chunks or the backlog.
        self._chunks: deque[bytes] = deque()
        self._offset = 0
        self.buffered = 0
        self.eof = False
        self.error: BaseException | None = None
        self.reading_paused = False
        self._read_waiter: asyncio.Future[None] | None = None
        self._write_waiter: asyncio.Future[None] | None = None
        self.writing_paused = False
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but behave as one.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
            self.reading_paused = True
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        if not self.closed.done():
            self.closed.set_result(None)
        self._wake_reader()
        self._wake_writer()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake_writer()

    def _wake_reader(self) -> None:
        if self._read_waiter is not None and not self._read_waiter.done():
            self._read_waiter.set_result(None)

    def _wake_writer(self) -> None:
        if self._write_waiter is not None and not self._write_waiter.done():
            self._write_waiter.set_result(None)

    async def wait_readable(self, timeout: float | None) -> None:
        self._read_waiter = asyncio.get_running_loop().create_future()
        try:
            await _wait(self._read_waiter, timeout)
        finally:
            self._read_waiter = None

    async def wait_writable(self, timeout: float | None) -> None:
        self._write_waiter = asyncio.get_running_loop().create_future()
        try:
            await _wait(self._write_waiter, timeout)
        finally:
            self._write_waiter = None

    def take(self, max_bytes: int) -> bytes:
        """The next chunk as it arrived, or ``max_bytes`` of it if that is more.

        httpcore asks for 64 KiB at a time while the event loop reads up to
        256 KiB per chunk; handing over whole chunks (up to _WHOLE_CHUNK)
        saves slicing them and a trip through h11 per slice. h11 takes data of
        any size, so this only changes how the bytes are grouped.
        """
        max_bytes = max(max_bytes, _WHOLE_CHUNK)
        first, start = self._chunks[0], self._offset
        if len(first) - start <= max_bytes:
            data = first[start:] if start else first
            self._chunks.popleft()
            self._offset = 0
        else:
            data = first[start : start + max_bytes]
            self._offset += max_bytes
        self.buffered -= len(data)
        if self.reading_paused and self.buffered < _LOW_WATER and self.transport is not None:
            self.transport.resume_reading()
            self.reading_paused = False
        return data


async def _wait(future: asyncio.Future[None], timeout: float | None) -> None:
    """Wait for ``future``; TimeoutError after ``timeout`` seconds."""
    if timeout is None:
        await future
        return
    handle = asyncio.get_running_loop().call_later(timeout, _expire, future)
    try:
        await future
    finally:
        handle.cancel()


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.buffered and not protocol.eof:
            try:
                await protocol.wait_readable(timeout)
            except TimeoutError:
                raise httpcore.ReadTimeout("timed out reading") from None
        if protocol.buffered:
            return protocol.take(max_bytes)
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error) or "read failed") from protocol.error
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if self._transport.is_closing():
            error = protocol.error
            raise httpcore.WriteError(str(error) if error else "connection closed") from error
        self._transport.write(buffer)
        if protocol.writing_paused:
            try:
                await protocol.wait_writable(timeout)
            except TimeoutError:
                raise httpcore.WriteTimeout("timed out writing") from None

    async def aclose(self) -> None:
        # Closing TLS takes a round of close_notify: wait for it briefly, so no
        # transport is still closing when hx closes its event loop.
        self._transport.close()
        try:
            async with asyncio.timeout(_CLOSE_WAIT):
                await asyncio.shield(self._protocol.closed)
        except TimeoutError:
            self._transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.close()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from None
        except (OSError, ssl.SSLError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        tls_transport = cast(asyncio.Transport, transport)
        self._protocol.transport = tls_transport
        return AsyncioStream(tls_transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # An idle keep-alive connection is "readable" once the server has
            # sent something or hung up: either way it must not be reused.
            return self._protocol.buffered > 0 or self._protocol.eof
        names = {
            "ssl_object": "ssl_object",
            "client_addr": "sockname",
            "server_addr": "peername",
            "socket": "socket",
        }
        return self._transport.get_extra_info(names[info]) if info in names else None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Protocol, host, port, local_addr=(local_address, 0) if local_address else None
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        _apply(transport, socket_options)
        return AsyncioStream(transport, protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _apply(transport: asyncio.BaseTransport, options: Iterable[Any] | None) -> None:
    sock: socket.socket | None = transport.get_extra_info("socket")
    if sock is not None:
        for option in options or ():
            sock.setsockopt(*option)
