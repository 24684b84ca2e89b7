"""hx.download.space: disk allocated a step ahead of a download's writes, and given back."""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hx.download import space
from hx.download.space import MIN_STEP, STEP, Reservation
from hx.download.writer import writing
from support.download_server import DownloadServer
from support.downloads import MiB, hx, only_record, serve_files

files = pytest.fixture(serve_files)
BLOCK = 2 * MiB  # slack for the filesystem's rounding (tmpfs may use 2 MiB pages)


def allocated(fd: int) -> int:
    return os.fstat(fd).st_blocks * 512


@pytest.fixture
def part(tmp_path: Path) -> Iterator[int]:
    fd = os.open(tmp_path / "file.part", os.O_RDWR | os.O_CREAT, 0o644)
    probe = Reservation(fd, 0, MiB)
    probe.cover(1)
    reserves = allocated(fd) >= MiB
    probe.release(0)
    if not reserves:
        os.close(fd)
        pytest.skip("this filesystem (or OS) does not allocate ahead")
    yield fd
    os.close(fd)


def test_a_download_earns_its_step_and_the_size_is_what_was_written(part: int) -> None:
    ahead = Reservation(part, 0, 3 * STEP)
    ahead.cover(MiB)  # nothing written yet: the least step
    assert os.fstat(part).st_size == 0
    assert MIN_STEP <= allocated(part) <= MIN_STEP + BLOCK
    ahead.cover(8 * MiB)  # 8 MiB in: 8 MiB more
    assert 16 * MiB <= allocated(part) <= 16 * MiB + BLOCK
    ahead.cover(12 * MiB)  # within what is allocated: nothing more
    assert allocated(part) <= 16 * MiB + BLOCK
    ahead.cover(2 * STEP)  # far in: never more than STEP ahead
    assert 3 * STEP <= allocated(part) <= 3 * STEP + BLOCK
    os.pwrite(part, b"x" * MiB, 0)
    assert os.fstat(part).st_size == MiB


def test_nothing_past_the_end_is_allocated(part: int) -> None:
    Reservation(part, 0, 6 * MiB).cover(4 * MiB)
    assert 6 * MiB <= allocated(part) <= 6 * MiB + BLOCK


def test_what_was_not_written_is_given_back(part: int) -> None:
    ahead = Reservation(part, 0, 3 * STEP)
    ahead.cover(16 * MiB)
    os.pwrite(part, b"x" * 2 * MiB, 0)
    ahead.release(2 * MiB)
    assert 2 * MiB <= allocated(part) <= 2 * MiB + BLOCK
    assert os.pread(part, 2 * MiB, 0) == b"x" * 2 * MiB


def test_inside_a_file_sized_beforehand_a_split_piece_gives_back_its_rest(part: int) -> None:
    os.ftruncate(part, 4 * STEP)  # a --split part: the whole size, sparse
    os.pwrite(part, b"y" * 2 * MiB, STEP)  # the piece before
    piece = Reservation(part, STEP + 2 * MiB, 3 * STEP)
    piece.cover(STEP + 32 * MiB)
    assert allocated(part) >= 32 * MiB
    piece.release(STEP + 2 * MiB)
    assert 2 * MiB <= allocated(part) <= 2 * MiB + BLOCK
    assert os.fstat(part).st_size == 4 * STEP
    assert os.pread(part, 2 * MiB, STEP) == b"y" * 2 * MiB


class FullDisk:
    """The real fallocate on a disk that holds ``room`` bytes of the file: a request
    beyond that allocates half of it, then fails with ENOSPC (as ext4 does)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, room: int) -> None:
        real = space._fallocate()
        assert real is not None
        self.real, self.room, self.error = real, room, 0
        monkeypatch.setattr(space, "_fallocate", lambda: self)
        monkeypatch.setattr(space, "_errno", lambda: self.error)

    def __call__(self, fd: int, mode: int, offset: int, length: int) -> int:
        if mode & 0x02 or allocated(fd) + length <= self.room:  # a hole, or room enough
            return self.real(fd, mode, offset, length)
        self.real(fd, mode, offset, length // 2)
        self.error = errno.ENOSPC
        return -1


def test_a_step_that_does_not_fit_gives_back_and_the_write_goes_on(
    part: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    ahead = Reservation(part, 0, 3 * STEP)
    ahead.cover(8 * MiB)  # 16 MiB allocated
    FullDisk(monkeypatch, room=18 * MiB)
    ahead.cover(17 * MiB)  # the step to 34 MiB fails halfway; up to 17 MiB fits
    assert 17 * MiB <= allocated(part) <= 17 * MiB + BLOCK


def test_when_not_even_the_write_fits_nothing_stays_allocated(
    part: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    ahead = Reservation(part, 0, 3 * STEP)
    ahead.cover(8 * MiB)
    FullDisk(monkeypatch, room=16 * MiB)
    with pytest.raises(OSError, match="cannot allocate disk space for the download: No space"):
        ahead.cover(17 * MiB)
    assert allocated(part) <= BLOCK  # all given back: a failed download holds no space


def test_where_space_cannot_be_allocated_ahead_it_stops_asking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    real = space._fallocate()
    assert real is not None

    def counted(fd: int, mode: int, offset: int, length: int) -> int:
        calls.append(mode)
        return real(fd, mode, offset, length)

    monkeypatch.setattr(space, "_fallocate", lambda: counted)
    read_end, write_end = os.pipe()  # fallocate on a pipe: ESPIPE
    try:
        ahead = Reservation(write_end, 0, STEP)
        ahead.cover(MiB)
        asked = len(calls)
        ahead.cover(8 * MiB)
        ahead.release(0)
        assert asked >= 1 and len(calls) == asked  # asked once, then never again
    finally:
        os.close(read_end)
        os.close(write_end)


def test_no_write_follows_a_failed_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails (a full disk) ends the writing: a later one would leave a gap of
    zeros that -C, resuming from the part's size, would take for downloaded bytes."""
    failures = iter([OSError(errno.ENOSPC, "No space left on device")])

    def fails_once(self: Reservation, until: int) -> None:
        if (failure := next(failures, None)) is not None:
            raise failure

    monkeypatch.setattr(Reservation, "cover", fails_once)
    path = tmp_path / "file.part"

    async def download() -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            async with writing(fd, 0, expected=8 * MiB) as writer:
                for _ in range(8):
                    await writer.write(b"z" * MiB)
        finally:
            os.close(fd)

    with pytest.raises(OSError, match="No space left on device"):
        asyncio.run(download())
    assert path.stat().st_size == 0


def test_a_download_cut_short_keeps_no_space_past_its_part(
    files: DownloadServer, tmp_path: Path, part: int
) -> None:
    size, name = 8 * MiB, "cut.bin"
    url = files.file_url(name, size=size, reset=3 * MiB)
    result = hx("--retries", "0", "-d", tmp_path, url)
    assert result.exit_code != 0
    kept = tmp_path / (name + ".part")
    held = kept.stat().st_size
    assert 0 < held < size
    # The step allocated ahead (all 8 MiB) went back with the rest of the run.
    assert kept.stat().st_blocks * 512 <= held + BLOCK


def test_a_full_disk_is_the_download_s_record_and_it_keeps_no_space(
    files: DownloadServer, tmp_path: Path, part: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    FullDisk(monkeypatch, room=2 * MiB)
    name = "full.bin"
    result = hx("--retries", "0", "-d", tmp_path, files.file_url(name, size=8 * MiB))
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr
    rec = only_record(result)
    assert (rec["ok"], rec["error"]["kind"]) == (False, "io")
    assert rec["error"]["message"] == (
        "cannot allocate disk space for the download: No space left on device"
    )
    kept = tmp_path / (name + ".part")
    assert kept.stat().st_size <= 2 * MiB
    assert kept.stat().st_blocks * 512 <= kept.stat().st_size + BLOCK
