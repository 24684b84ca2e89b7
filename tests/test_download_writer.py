"""hx.download.writer: the writer thread puts every byte it was given in place, in order,
also when the download is cancelled while a batch is being written."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import hashlib
import mmap
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hx.download import writer as writer_module
from hx.download.writer import ALIGNMENT, FileWriter, writing

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


DIRECT_BATCH = FileWriter._DIRECT_BATCH


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def _direct_or_skip(path: Path) -> None:
    """Skip where this filesystem has no O_DIRECT, or opens with it but refuses an aligned
    write (the cached path is tested anyway)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        twin = writer_module._direct_twin(fd)
    finally:
        os.close(fd)
    if twin is None:
        pytest.skip(f"no O_DIRECT for {path.parent}")
    try:
        with mmap.mmap(-1, ALIGNMENT) as page:
            os.pwrite(twin, page, 0)
    except OSError as exc:
        pytest.skip(f"O_DIRECT writes refused in {path.parent}: {exc}")
    finally:
        os.close(twin)
        os.truncate(path, 0)


def _is_direct(fd: int) -> bool:
    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)


class Pwrites:
    """Every pwrite's offset and length, and whether it went direct (around the real one)."""

    def __init__(self) -> None:
        self.calls: list[tuple[bool, int, int]] = []
        self._pwrite = os.pwrite

    def __call__(self, fd: int, data: Any, offset: int) -> int:
        self.calls.append((_is_direct(fd), offset, len(data)))
        return self._pwrite(fd, data, offset)


def _save(
    path: Path,
    data: bytes,
    start: int,
    expected: int | None,
    piece: int = 300_000,
    copied: bool = False,
) -> tuple[str, bool, int | None]:
    """Put ``data`` at ``start`` in pieces, the transport's way (into space()) or copied
    in (write); the sha256 the writer computed, whether it wrote direct, and its
    direct descriptor once done."""
    hasher = hashlib.sha256()

    async def main() -> FileWriter:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            async with writing(fd, start, [hasher], expected=expected, direct=True) as writer:
                rest = memoryview(data)
                while rest:
                    if copied:
                        await writer.write(rest[:piece])
                        rest = rest[piece:]
                        continue
                    space = await writer.space()
                    count = min(len(space), len(rest), piece)
                    space[:count] = rest[:count]
                    writer.advance(count)
                    rest = rest[count:]
            return writer
        finally:
            os.close(fd)

    writer = asyncio.run(main())
    return hasher.hexdigest(), writer.direct, writer._direct_fd


@pytest.mark.parametrize("start", [0, 1, 4095, 3 * MiB + 17])
@pytest.mark.parametrize("extra", [0, 1, 4096, DIRECT_BATCH + 12345])
def test_direct_writes_put_every_byte_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: int, extra: int
) -> None:
    """Aligned buffers go around the page cache, the first (to a boundary) and the last
    through it: the file and the hash are the bytes given, wherever they start."""
    path = tmp_path / "f"
    _direct_or_skip(path)
    path.write_bytes(b"p" * start)
    data = os.urandom(2 * DIRECT_BATCH + extra)  # a whole aligned buffer, whatever the start
    pwrites = Pwrites()
    monkeypatch.setattr(os, "pwrite", pwrites)
    fds = _open_fds()

    digest, direct, twin = _save(path, data, start, len(data))

    assert path.read_bytes() == b"p" * start + data
    assert digest == hashlib.sha256(data).hexdigest()
    assert direct and twin is None  # the twin was closed at the end
    assert _open_fds() == fds
    direct_writes = [(offset, size) for direct, offset, size in pwrites.calls if direct]
    assert direct_writes, pwrites.calls
    for offset, size in direct_writes:
        assert offset % ALIGNMENT == 0 and size % ALIGNMENT == 0
    written = sorted((offset, size) for _, offset, size in pwrites.calls)
    assert sum(size for _, size in written) == len(data)  # each byte written once


def test_bytes_copied_in_are_written_direct_alike(tmp_path: Path) -> None:
    path = tmp_path / "f"
    _direct_or_skip(path)
    path.write_bytes(b"p" * 100)
    data = os.urandom(3 * DIRECT_BATCH + 999)
    digest, direct, _ = _save(path, data, 100, None, piece=65_537, copied=True)
    assert direct
    assert path.read_bytes() == b"p" * 100 + data
    assert digest == hashlib.sha256(data).hexdigest()


def test_the_direct_descriptor_bypasses_the_page_cache(tmp_path: Path) -> None:
    path = tmp_path / "f"
    _direct_or_skip(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        writer = FileWriter(fd, 0, expected=None, direct=True)
        try:
            assert writer._direct_fd is not None
            assert _is_direct(writer._direct_fd)
        finally:
            writer.finish()
    finally:
        os.close(fd)


@pytest.mark.parametrize("expected", [DIRECT_BATCH - 1, 10])
def test_a_small_file_is_written_through_the_cache(tmp_path: Path, expected: int) -> None:
    path = tmp_path / "f"
    data = os.urandom(expected)
    digest, direct, _ = _save(path, data, 0, expected)
    assert not direct
    assert path.read_bytes() == data and digest == hashlib.sha256(data).hexdigest()


def test_no_direct_descriptor_for_a_file_open_read_only(tmp_path: Path) -> None:
    """Reopening through /proc would grant the write the descriptor does not have."""
    path = tmp_path / "f"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDONLY)
    try:
        assert writer_module._direct_twin(fd) is None
    finally:
        os.close(fd)


def test_a_filesystem_without_o_direct_is_written_through_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """open(O_DIRECT) fails with EINVAL there (tmpfs before Linux 6.6, some FUSE)."""
    real_open = os.open

    def refusing(path: Any, flags: int, *args: Any) -> int:
        if flags & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refusing)
    path = tmp_path / "f"
    data = os.urandom(2 * DIRECT_BATCH + 5)
    digest, direct, _ = _save(path, data, 0, None)
    assert not direct
    assert path.read_bytes() == data and digest == hashlib.sha256(data).hexdigest()


def test_a_refused_direct_write_goes_through_the_cache_and_so_do_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A device wanting a larger alignment refuses the write (EINVAL): it is written
    through the cache, as is everything after it."""
    path = tmp_path / "f"
    _direct_or_skip(path)
    real_pwrite = os.pwrite
    refused: list[int] = []
    cached: list[int] = []

    def pwrite(fd: int, data: Any, offset: int) -> int:
        if _is_direct(fd):
            refused.append(offset)
            raise OSError(errno.EINVAL, "Invalid argument")
        cached.append(offset)
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", pwrite)
    data = os.urandom(3 * DIRECT_BATCH)
    digest, direct, _ = _save(path, data, 0, len(data))
    assert not direct
    assert refused == [0]
    assert cached == [0, DIRECT_BATCH, 2 * DIRECT_BATCH]
    assert path.read_bytes() == data and digest == hashlib.sha256(data).hexdigest()


def test_a_direct_writer_cut_short_keeps_every_byte_given(tmp_path: Path) -> None:
    """Failed mid-download (a reset): what was given is in the file, in order, and the
    direct descriptor and buffers are let go."""
    path = tmp_path / "f"
    _direct_or_skip(path)
    path.write_bytes(b"p" * 5000)
    data = os.urandom(2 * DIRECT_BATCH + 777)
    fds = _open_fds()

    async def main() -> None:
        fd = os.open(path, os.O_WRONLY)
        try:
            async with writing(fd, 5000, expected=10 * DIRECT_BATCH, direct=True) as writer:
                assert writer.direct
                for start in range(0, len(data), 100_000):
                    await writer.write(data[start : start + 100_000])
                raise ConnectionResetError("the peer reset the connection")
        finally:
            os.close(fd)

    with pytest.raises(ConnectionResetError):
        asyncio.run(main())
    assert path.read_bytes() == b"p" * 5000 + data
    assert _open_fds() == fds


def test_cached_bytes_reach_the_disk_before_a_direct_write_passes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A direct write moves the file's size on disk at once, a cached one at writeback: the
    cached head of a resumed download is synced first, or a crash could leave zeros
    inside the size that -C would take for data."""
    path = tmp_path / "f"
    _direct_or_skip(path)
    path.write_bytes(b"p" * 100)
    events: list[str] = []
    real_pwrite, real_sync = os.pwrite, os.fdatasync

    def pwrite(fd: int, data: Any, offset: int) -> int:
        events.append("direct" if _is_direct(fd) else "cached")
        return real_pwrite(fd, data, offset)

    def fdatasync(fd: int) -> None:
        events.append("sync")
        real_sync(fd)

    monkeypatch.setattr(os, "pwrite", pwrite)
    monkeypatch.setattr(os, "fdatasync", fdatasync)
    data = os.urandom(3 * DIRECT_BATCH)
    _save(path, data, 100, len(data))
    assert path.read_bytes() == b"p" * 100 + data
    assert events[:3] == ["cached", "sync", "direct"], events
    assert "sync" not in events[3:], events  # once: nothing cached comes before later ones


def test_only_so_many_writers_write_direct_at_once(tmp_path: Path) -> None:
    """Their buffers are 16 MiB each: beyond MOST_DIRECT, downloads go through the cache."""
    path = tmp_path / "f"
    _direct_or_skip(path)
    fd = os.open(path, os.O_WRONLY)
    try:
        writers = [FileWriter(fd, 0, direct=True) for _ in range(FileWriter.MOST_DIRECT + 1)]
        assert [writer.direct for writer in writers] == [True] * FileWriter.MOST_DIRECT + [False]
        writers[0].finish()
        another = FileWriter(fd, 0, direct=True)
        assert another.direct
        for writer in [*writers[1:], another]:
            writer.finish()
        assert FileWriter._direct_writers == 0
    finally:
        os.close(fd)


def test_a_failed_direct_write_fails_the_download_and_nothing_follows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a refusal of O_DIRECT (a full disk): the write fails as a cached one would, and
    no buffer is written after it, so the part has no gap."""
    path = tmp_path / "f"
    _direct_or_skip(path)
    real_pwrite = os.pwrite
    offsets: list[int] = []

    def pwrite(fd: int, data: Any, offset: int) -> int:
        if _is_direct(fd) and offset >= DIRECT_BATCH:
            raise OSError(errno.ENOSPC, "No space left on device")
        offsets.append(offset)
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", pwrite)
    data = os.urandom(4 * DIRECT_BATCH + 10)
    with pytest.raises(OSError) as caught:
        _save(path, data, 0, len(data))
    assert caught.value.errno == errno.ENOSPC
    assert offsets == [0]
    assert path.read_bytes() == data[:DIRECT_BATCH]
