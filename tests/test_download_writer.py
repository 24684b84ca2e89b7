"""hx.download.writer: the writer thread puts every byte it was given in place, in order,
also when the download is cancelled while a batch is being written."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import threading
import time
from pathlib import Path

import pytest

from hx.download.writer import FileWriter, writing

MiB = 1 << 20


class GatedHasher:
    """A hasher whose update waits for ``gate``: the writer thread stalls mid-batch."""

    name = "gated"

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()

    def update(self, data: bytes) -> None:
        self.entered.set()
        assert self.gate.wait(10)


def test_bytes_land_at_their_position(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    flushed: list[int] = []

    async def main() -> None:
        fd = os.open(path, os.O_WRONLY)
        try:
            async with writing(fd, 10, on_flush=flushed.append) as writer:
                for n in range(3):
                    await writer.write(bytes([65 + n]) * (MiB // 2 + 1))
                assert writer.position == 10 + 3 * (MiB // 2 + 1)
        finally:
            os.close(fd)

    asyncio.run(main())
    data = path.read_bytes()
    assert data == b"x" * 10 + b"".join(bytes([65 + n]) * (MiB // 2 + 1) for n in range(3))
    assert sum(flushed) == 3 * (MiB // 2 + 1)


def test_cancelled_while_a_batch_is_written_flushes_everything(tmp_path: Path) -> None:
    path = tmp_path / "f"
    hasher = GatedHasher()
    flushed: list[int] = []
    # A batch a buffer: the one after the last buffer waits for the first to be written
    # and hashed.
    batch, buffers = FileWriter._BATCH, FileWriter._BUFFERS
    batches = [bytes([n]) * batch for n in range(buffers + 1)]

    async def feed(fd: int) -> None:
        async with writing(fd, 0, [hasher], on_flush=flushed.append) as writer:  # type: ignore[list-item]
            for batch in batches:
                await writer.write(batch)
            raise AssertionError("the last batch should wait for the first")

    async def main() -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            task = asyncio.create_task(feed(fd))
            while not hasher.entered.is_set():
                await asyncio.sleep(0.001)
            for _ in range(20):  # let feed() reach the wait for the first batch
                await asyncio.sleep(0)
            task.cancel()
            hasher.gate.set()
            await asyncio.gather(task, return_exceptions=True)
            assert task.cancelled()
        finally:
            os.close(fd)

    asyncio.run(main())
    assert path.read_bytes() == b"".join(batches)
    assert flushed == [batch] * (buffers + 1)


class SlowHasher:
    """A sha256 that takes its time: hashing lags behind writing."""

    name = "slow"

    def __init__(self) -> None:
        self.inner = hashlib.sha256()

    def update(self, data: bytes) -> None:
        time.sleep(0.005)
        self.inner.update(data)


def test_hashing_beside_writing_sees_every_byte_in_order(tmp_path: Path) -> None:
    """The hashing thread lags the writer's; the block ends once both are done."""
    path = tmp_path / "f"
    hasher = SlowHasher()
    pieces = [bytes([n % 251]) * (64 * 1024 + n) for n in range(60)]  # ~4 MiB, odd sizes

    async def main() -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            async with writing(fd, 0, [hasher]) as writer:  # type: ignore[list-item]
                for piece in pieces:
                    await writer.write(piece)
        finally:
            os.close(fd)

    asyncio.run(main())
    data = b"".join(pieces)
    assert path.read_bytes() == data
    assert hasher.inner.hexdigest() == hashlib.sha256(data).hexdigest()


def test_bytes_put_into_its_space_are_written_and_hashed(tmp_path: Path) -> None:
    """The transport's way: bytes read straight into ``space()``, then ``advance``; a small
    expected size gets a small buffer, and the buffers are used again."""
    path = tmp_path / "f"
    hasher = hashlib.sha256()
    data = os.urandom(3 * MiB + 12345)
    sizes: set[int] = set()

    async def main(expected: int | None) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            async with writing(fd, 0, [hasher], expected=expected) as writer:
                rest = memoryview(data)
                while rest:
                    space = await writer.space()
                    sizes.add(len(space))
                    count = min(len(space), len(rest), 100_000)
                    space[:count] = rest[:count]
                    writer.advance(count)
                    rest = rest[count:]
                assert writer.position == len(data)
        finally:
            os.close(fd)

    asyncio.run(main(None))
    assert path.read_bytes() == data
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()
    assert max(sizes) == FileWriter._BATCH

    small = b"tiny file"
    hasher = hashlib.sha256()
    sizes.clear()
    data = small
    asyncio.run(main(len(small)))
    assert path.read_bytes() == small
    assert max(sizes) == 64 * 1024  # not a whole MiB for nine bytes


def test_a_failed_last_write_does_not_replace_the_exception_on_its_way(tmp_path: Path) -> None:
    """Cancelled (or failed) with bytes still to write, to a file that refuses them: the
    cancellation propagates, not the OSError of the writes finish() tries on the way."""
    path = tmp_path / "f"
    path.write_bytes(b"")

    async def feed(fd: int, entered: asyncio.Event) -> None:
        async with writing(fd, 0) as writer:
            await writer.write(b"x" * 1000)  # stays in the buffer: written by finish()
            entered.set()
            await asyncio.sleep(10)

    async def main() -> None:
        fd = os.open(path, os.O_RDONLY)  # every pwrite fails with EBADF
        try:
            entered = asyncio.Event()
            task = asyncio.create_task(feed(fd, entered))
            await entered.wait()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            assert task.cancelled()
        finally:
            os.close(fd)

    asyncio.run(main())


def test_a_failed_last_write_is_the_error_when_nothing_else_went_wrong(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"")

    async def main() -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            async with writing(fd, 0) as writer:
                await writer.write(b"x" * 1000)
        finally:
            os.close(fd)

    with pytest.raises(OSError) as caught:
        asyncio.run(main())
    assert caught.value.errno == errno.EBADF


def test_a_failed_write_wins_over_a_read_that_broke_after_it(tmp_path: Path) -> None:
    """A full buffer's write fails in the thread; before anything waits for it, the read
    breaks. The record should say the disk failed (a retry would fail the same way)."""
    path = tmp_path / "f"
    path.write_bytes(b"")

    async def main() -> None:
        fd = os.open(path, os.O_RDONLY)  # every pwrite fails with EBADF
        try:
            async with writing(fd, 0) as writer:
                await writer.write(b"x" * (FileWriter._BATCH + 1))  # a batch goes out
                while writer.write_failure is None:
                    await asyncio.sleep(0.001)
                raise ConnectionResetError("the peer reset the connection")
        finally:
            os.close(fd)

    with pytest.raises(OSError) as caught:
        asyncio.run(main())
    assert caught.value.errno == errno.EBADF
    assert isinstance(caught.value.__cause__, ConnectionResetError)
