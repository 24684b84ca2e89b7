"""The writer of a download: bytes gathered in large buffers, written at their place in
the file and hashed, each in a thread of its own; large files around the page cache."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import hashlib
import mmap
import os
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence

from hx.download.space import Reservation

_Futures = list[concurrent.futures.Future[None]]
_Buffer = bytearray | mmap.mmap

_NO_DIRECT = {errno.EINVAL, errno.EOPNOTSUPP}
"""What a direct write that cannot be made fails with: it goes through the cache then."""

ALIGNMENT = 4096
"""Direct writes start and end on multiples of this, from page-aligned memory: the
largest logical block size in common use, so every device and filesystem takes them."""


class FileWriter:
    """Writes a stream at a position in ``fd``, hashing as it goes, beside the event loop.

    The bytes go into buffers of 256 KiB that the writer owns: the transport reads
    the body straight into them where it can (``space`` and ``advance``, see
    hx.download.responses.copy_body), other bodies are copied in (``write``).
    A full buffer is written by the writing thread with one pwrite and hashed
    by the hashing thread: pwrite and hashlib release the GIL, so both run
    beside the event loop and beside each other (one thread doing both was
    the slowest step of a download: sha256 runs at 1.3-1.8 GB/s). Once both
    are done with a buffer it is used again, so a download holds at most
    ``_BUFFERS`` of them however fast the network and however slow the disk.
    ``on_flush`` hears how many bytes reached the file, in order. When the
    length is known, disk space is allocated a step ahead of the writes
    (hx.download.space).

    With ``direct``, a file of at least ``_DIRECT_BATCH`` bytes (or of unknown
    length) is written around the page cache (O_DIRECT) where the filesystem
    allows: the disk reads each buffer where it is, so the copy into the page
    cache goes, and with it the allocation of a page-cache page per 4 KiB,
    which cost more than the copy itself (on this machine's VM, writing 1 GiB
    into fresh page cache took 0.15-1.65 s of kernel time from run to run,
    as touching 1 GiB of fresh memory took 0.7-2.2 s). The buffers are then
    larger and page-aligned (mmap); a first buffer starting off an
    ``ALIGNMENT`` boundary ends on one, and whatever is not aligned (that
    first buffer, the last one) goes through the page cache as before.
    """

    _BATCH = 1 << 18
    """Bytes per write. Each byte is copied in from the socket, out to the page cache and
    read by sha256, on different cores: 256 KiB stays in the caches between them where
    1 MiB did not (1 GiB to disk, medians of 8 interleaved runs, twice: 1.72 -> 1.45 s,
    2.56 -> 2.08 s of CPU); below 64 KiB, Python's per-call cost takes over."""
    _BUFFERS = 12
    """One being filled, the others being written and hashed: 3 MiB in all."""
    _SMALLEST = 64 * 1024
    _DIRECT_BATCH = 4 << 20
    """Bytes per direct write. Nothing is copied, so what counts is the cost per buffer
    (thread hand-offs, one device request): 1 GiB from nginx to disk, medians of 5
    interleaved runs: 256 KiB buffers 1.90 s, 1 MiB 1.17-1.30 s, 4 MiB 1.03-1.30 s
    (curl 1.35-1.53 s in the same runs)."""
    _DIRECT_BUFFERS = 4
    """16 MiB: one filling, one being written and hashed, two to spare. (Same run,
    4 MiB buffers: 3 of them 0.98 s, 4 1.03 s, 6 0.96 s; 2 MiB x 6 1.13 s.)"""
    MOST_DIRECT = 4
    """Writers that may write direct at once in a process (64 MiB of buffers); the
    downloads beyond them go through the cache, with 3 MiB of buffers each."""
    _direct_writers = 0

    def __init__(
        self,
        fd: int,
        position: int,
        hashers: Sequence[hashlib._Hash] = (),
        on_flush: Callable[[int], None] | None = None,
        expected: int | None = None,
        direct: bool = False,
    ) -> None:
        """``expected``: how many bytes are coming, if known (a small file gets a small buffer).

        ``direct``: write around the page cache where possible (see the class).
        """
        self._fd = fd
        worth_it = expected is None or expected >= self._DIRECT_BATCH
        room = FileWriter._direct_writers < self.MOST_DIRECT
        self._direct_fd = _direct_twin(fd) if direct and worth_it and room else None
        if self._direct_fd is not None:
            FileWriter._direct_writers += 1
        self._use_direct = self._direct_fd is not None
        """False once a direct write was refused (EINVAL): the rest go through the cache."""
        self._cached_unsynced = False
        """Bytes went through the cache since the last direct write (see ``_write_direct``)."""
        self._space = Reservation(fd, position, position + expected) if expected else None
        self._next_position = position
        self._written_to = position
        """The end of the bytes pwrite has put in the file (the writing thread's)."""
        self._write_failed: OSError | None = None
        """The first failed write: none is made after it, or the file would have a gap."""
        self._hashers = hashers
        self._on_flush = on_flush
        if self._direct_fd is not None:
            self._batch, self._buffers = self._DIRECT_BATCH, self._DIRECT_BUFFERS
        else:
            self._buffers = self._BUFFERS
            self._batch = (
                self._BATCH if expected is None else max(self._SMALLEST, min(self._BATCH, expected))
            )
        self._current: _Buffer | None = None
        self._capacity = self._batch
        """Where the current buffer counts as full."""
        self._filled = 0
        self._pending = memoryview(b"")
        """What ``write`` has yet to copy in, while it waits for a buffer."""
        self._free: list[_Buffer] = []
        self._allocated = 0
        # Each buffer handed to the threads: its write's future (and its hash's), and size.
        self._in_flight: deque[tuple[_Buffer, _Futures, int]] = deque()
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="hx-writer")
        self._hashing = (
            concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="hx-hasher")
            if hashers
            else None
        )

    @property
    def position(self) -> int:
        """Where the next byte goes (bytes not yet written included)."""
        return self._next_position + self._filled + len(self._pending)

    async def space(self) -> memoryview:
        """Where the next bytes go: the free end of the current buffer, never empty.

        Waits for a buffer to come back from the threads when all are in use.
        Put bytes at its start, then say how many with ``advance``.
        """
        if self._current is None:
            self._current = await self._take_buffer()
            # Direct writes start on a boundary: a buffer starting off one ends on one.
            misaligned = self._next_position % ALIGNMENT if self._direct_fd is not None else 0
            self._capacity = self._batch - misaligned
        return memoryview(self._current)[self._filled : self._capacity]

    def advance(self, count: int) -> None:
        """``count`` bytes were put at the start of ``space()``."""
        self._filled += count
        if self._current is not None and self._filled == self._capacity:
            self._submit()

    async def write(self, chunk: bytes) -> None:
        """Copy ``chunk`` in (the way for bodies the transport cannot read into ``space``).

        Once given, the chunk is written whole, even if the download is cancelled
        while it waits for a buffer: the caller has counted it as received.
        """
        self._pending = memoryview(chunk)
        while self._pending:
            space = await self.space()
            count = min(len(space), len(self._pending))
            space[:count] = self._pending[:count]
            self._pending = self._pending[count:]
            self.advance(count)

    async def close(self) -> None:
        """Write what is left and wait for it (on success)."""
        self._submit()
        while self._in_flight:
            await self._settle()

    def finish(self) -> None:
        """Write everything received, blocking if need be; ends the threads.

        Also after a failure or a cancellation: bytes that arrived before a
        reset are good bytes, and a resumed download should not fetch them again.
        """
        self._thread.shutdown(wait=True)
        if self._hashing is not None:
            self._hashing.shutdown(wait=True)
        try:
            self._write_the_rest()
        finally:
            if self._direct_fd is not None:
                os.close(self._direct_fd)
                self._direct_fd = None
                FileWriter._direct_writers -= 1
            if self._space is not None:
                self._space.release(max(self._next_position, self._written_to))
            self._let_go_of_buffers()

    def _let_go_of_buffers(self) -> None:
        """Unmap the direct buffers now rather than when the writer is collected (up to
        16 MiB, and a failed download's writer may wait for the cycle collector)."""
        buffers = [self._current, *self._free, *(batch[0] for batch in self._in_flight)]
        self._current, self._free = None, []
        self._in_flight.clear()
        for buffer in buffers:
            if isinstance(buffer, mmap.mmap):
                with contextlib.suppress(BufferError):  # still lent out: the GC frees it
                    buffer.close()

    def _write_the_rest(self) -> None:
        while self._in_flight:
            _, (written, *_), count = self._in_flight.popleft()
            if written.exception() is not None:
                return  # what follows a failed write is not contiguous with the rest
            self._report(count)
        buffered = memoryview(self._current or b"")[: self._filled]
        # The caller's bytes (pending) are not in page-aligned memory: never direct.
        for data, aligned in ((buffered, True), (self._pending, False)):
            if data:
                self._write(data, self._next_position, aligned)
                self._hash(data)
                self._next_position += len(data)
                self._report(len(data))
        self._current, self._filled, self._pending = None, 0, memoryview(b"")

    def _report(self, count: int) -> None:
        if self._on_flush is not None:
            self._on_flush(count)

    async def _take_buffer(self) -> _Buffer:
        if self._free:
            return self._free.pop()
        if self._allocated < self._buffers:
            self._allocated += 1
            # mmap's memory starts on a page: what a direct write needs.
            return bytearray(self._batch) if self._direct_fd is None else mmap.mmap(-1, self._batch)
        await self._settle()  # the oldest buffer comes back
        return self._free.pop()

    def _submit(self) -> None:
        """Hand the current buffer's bytes to the threads."""
        buffer, size = self._current, self._filled
        if buffer is None or not size:
            return
        self._current, self._filled = None, 0
        data = memoryview(buffer)[:size]
        futures = [self._thread.submit(self._write, data, self._next_position, True)]
        if self._hashing is not None:
            futures.append(self._hashing.submit(self._hash, data))
        self._next_position += size
        self._in_flight.append((buffer, futures, size))
        # Buffers already done come back now: progress is reported as it happens. (A
        # failed write stays, to be raised by the next wait.)
        while self._in_flight and all(
            future.done() and future.exception() is None for future in self._in_flight[0][1]
        ):
            self._settled(self._in_flight.popleft())

    async def _settle(self) -> None:
        """Wait for the oldest buffer in flight to be written and hashed."""
        for future in self._in_flight[0][1]:
            # Shielded: a cancelled download must not cancel a buffer not yet written,
            # or the buffers after it would leave a hole in the file.
            await asyncio.shield(asyncio.wrap_future(future))
        self._settled(self._in_flight.popleft())

    @property
    def direct(self) -> bool:
        """Do aligned buffers go to the file around the page cache?"""
        return self._use_direct

    @property
    def write_failure(self) -> OSError | None:
        """The write that failed, if one did (nothing is written after it)."""
        return self._write_failed

    def _settled(self, batch: tuple[_Buffer, _Futures, int]) -> None:
        buffer, _, count = batch
        self._free.append(buffer)
        self._report(count)

    def _write(self, data: memoryview, position: int, aligned_memory: bool) -> None:
        """Write ``data`` at ``position``; ``aligned_memory``: it starts on a page (a buffer's
        start), so it may go direct where ``position`` and its length are aligned too."""
        if self._write_failed is not None:
            failed = self._write_failed
            raise OSError(failed.errno, f"not written after a failed write: {failed.strerror}")
        try:
            if self._space is not None:
                self._space.cover(position + len(data))
            while data:  # one pwrite, nearly always: a regular file takes it whole
                # The memory stays aligned while the position does: both advance by count.
                if self._use_direct and aligned_memory and not (position | len(data)) % ALIGNMENT:
                    count = self._write_direct(data, position)
                    if count is None:
                        continue
                else:
                    count = os.pwrite(self._fd, data, position)
                    self._cached_unsynced = self._use_direct
                if not count:
                    raise OSError(errno.EIO, f"no byte written at offset {position}")
                data, position = data[count:], position + count
                self._written_to = position  # writes go in order
        except OSError as exc:
            self._write_failed = exc
            raise

    def _write_direct(self, data: memoryview, position: int) -> int | None:
        """pwrite through the direct descriptor; None if it refused (EINVAL: the device
        wants another alignment; EOPNOTSUPP), after which every write goes through the cache.

        A direct write moves the file's size on disk at once, a cached one only at
        writeback: cached bytes before it (a resumed download's first buffer) are
        synced first, or a crash could leave zeros inside the size, which -C would
        take for data.
        """
        assert self._direct_fd is not None
        if self._cached_unsynced:
            os.fdatasync(self._fd)
            self._cached_unsynced = False
        try:
            return os.pwrite(self._direct_fd, data, position)
        except OSError as exc:
            if exc.errno not in _NO_DIRECT:
                raise
            self._use_direct = False
            return None

    def _hash(self, data: memoryview) -> None:
        for hasher in self._hashers:
            hasher.update(data)


@contextlib.asynccontextmanager
async def writing(
    fd: int,
    position: int,
    hashers: Sequence[hashlib._Hash] = (),
    on_flush: Callable[[int], None] | None = None,
    expected: int | None = None,
    direct: bool = False,
) -> AsyncIterator[FileWriter]:
    """A FileWriter that has written everything it was given when the block ends.

    When the block ends by an exception, the writes still tried on its way out
    keep what arrived, and if they fail, the part simply ends where writing did.
    A cancellation propagates as it is; any other exception gives way to a write
    that had failed (a full disk says more than the read that broke after it).
    """
    writer = FileWriter(fd, position, hashers, on_flush, expected, direct)
    try:
        yield writer
        await writer.close()
    except BaseException as exc:
        with contextlib.suppress(OSError):
            writer.finish()
        failed = writer.write_failure
        if failed is not None and failed is not exc and isinstance(exc, Exception):
            raise failed from exc
        raise
    writer.finish()


def _direct_twin(fd: int) -> int | None:
    """A second descriptor for ``fd``'s file that writes around the page cache, or None
    where there is no O_DIRECT (not Linux), ``fd`` is not open for writing, or the
    filesystem refuses it (EINVAL). Opened through /proc, so it is the same file
    whatever has happened to its name since."""
    direct = getattr(os, "O_DIRECT", 0)
    if not direct:
        return None
    try:
        import fcntl

        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
            return None
        return os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | direct | os.O_CLOEXEC)
    except OSError:
        return None
