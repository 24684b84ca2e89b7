"""The writer thread of a download: bytes written at their place in the file, and hashed."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import os
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence

_MAX_IOVECS = 512
"""Below IOV_MAX (1024 on Linux) for one pwritev."""


class FileWriter:
    """Writes a stream at a position in ``fd`` from a thread of its own, hashing as it goes.

    Chunks are gathered into 1 MiB batches (Python's per-call cost makes
    64 KiB writes several times slower); each batch is written in the
    writer's thread and hashed in a hashing thread, in order. Both run beside
    the event loop, and beside each other, because pwritev and hashlib release
    the GIL: one thread doing both was the slowest step of a download (sha256
    at 1.3 GB/s, then the write). At most a few batches wait, so memory stays
    flat. ``on_flush`` hears how many bytes reached the file, in order.
    """

    _BATCH = 1 << 20
    _IN_FLIGHT = 4

    def __init__(
        self,
        fd: int,
        position: int,
        hashers: Sequence[hashlib._Hash] = (),
        on_flush: Callable[[int], None] | None = None,
    ) -> None:
        self._fd = fd
        self._next_position = position
        self._hashers = hashers
        self._on_flush = on_flush
        self._pending: list[bytes] = []
        self._pending_size = 0
        # Each batch: its write's future (and its hash's, if hashed), and its size.
        self._in_flight: deque[tuple[list[concurrent.futures.Future[None]], int]] = deque()
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="hx-writer")
        self._hashing = (
            concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="hx-hasher")
            if hashers
            else None
        )

    @property
    def position(self) -> int:
        """Where the next byte goes (bytes not yet written included)."""
        return self._next_position + self._pending_size

    async def write(self, chunk: bytes) -> None:
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        if self._pending_size >= self._BATCH:
            await self._submit()

    async def close(self) -> None:
        """Write what is left and wait for it (on success)."""
        await self._submit()
        while self._in_flight:
            await self._settle()

    def finish(self) -> None:
        """Write everything received, blocking if need be; ends the thread.

        Also after a failure or a cancellation: bytes that arrived before a
        reset are good bytes, and a resumed download should not fetch them again.
        """
        self._thread.shutdown(wait=True)
        if self._hashing is not None:
            self._hashing.shutdown(wait=True)
        while self._in_flight:
            (written, *_), count = self._in_flight.popleft()
            if written.exception() is not None:
                return  # what follows a failed write is not contiguous with the rest
            self._report(count)
        if self._pending:
            chunks, size = self._pending, self._pending_size
            self._pending, self._pending_size = [], 0
            self._write(chunks, self._next_position)
            self._hash(chunks)
            self._next_position += size
            self._report(size)

    def _report(self, count: int) -> None:
        if self._on_flush is not None:
            self._on_flush(count)

    async def _submit(self) -> None:
        if not self._pending:
            return
        # The chunks go as they are: the thread writes them with one pwritev,
        # so the event loop never copies them into one buffer.
        chunks, size = self._pending, self._pending_size
        self._pending, self._pending_size = [], 0
        futures = [self._thread.submit(self._write, chunks, self._next_position)]
        if self._hashing is not None:
            futures.append(self._hashing.submit(self._hash, chunks))
        self._next_position += size
        self._in_flight.append((futures, size))
        while len(self._in_flight) > self._IN_FLIGHT:
            await self._settle()

    async def _settle(self) -> None:
        futures, count = self._in_flight[0]
        for future in futures:
            # Shielded: a cancelled download must not cancel a batch not yet written,
            # or the batches after it would leave a hole in the file.
            await asyncio.shield(asyncio.wrap_future(future))
        self._in_flight.popleft()
        self._report(count)

    def _write(self, chunks: list[bytes], position: int) -> None:
        if len(chunks) > _MAX_IOVECS:  # many tiny chunks (a chunked, dripping body)
            chunks = [b"".join(chunks)]
        size = sum(len(chunk) for chunk in chunks)
        written = os.pwritev(self._fd, chunks, position)
        if written < size:  # rare for a regular file; finish with plain writes
            rest = memoryview(b"".join(chunks))[written:]
            while rest:
                count = os.pwrite(self._fd, rest, position + written)
                rest, written = rest[count:], written + count

    def _hash(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            for hasher in self._hashers:
                hasher.update(chunk)


@contextlib.asynccontextmanager
async def writing(
    fd: int,
    position: int,
    hashers: Sequence[hashlib._Hash] = (),
    on_flush: Callable[[int], None] | None = None,
) -> AsyncIterator[FileWriter]:
    """A FileWriter that has written everything it was given when the block ends."""
    writer = FileWriter(fd, position, hashers, on_flush)
    try:
        yield writer
        await writer.close()
    finally:
        writer.finish()
