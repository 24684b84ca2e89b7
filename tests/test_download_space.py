"""hx.download.space: disk allocated a step ahead of a download's writes, and given back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hx.download.space import STEP, Reservation
from support.download_server import DownloadServer
from support.downloads import MiB, hx, serve_files

files = pytest.fixture(serve_files)
BLOCK = 64 * 1024  # slack for the filesystem's block and extent rounding


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


def test_a_step_is_allocated_ahead_and_the_size_is_what_was_written(part: int) -> None:
    space = Reservation(part, 0, 3 * STEP)
    space.cover(MiB)
    assert os.fstat(part).st_size == 0
    assert STEP <= allocated(part) <= STEP + BLOCK
    os.pwrite(part, b"x" * MiB, 0)
    space.cover(2 * MiB)  # within the step: nothing more
    assert STEP <= allocated(part) <= STEP + BLOCK
    space.cover(STEP + 1)  # the next write crosses it: one more step
    assert 2 * STEP <= allocated(part) <= 2 * STEP + BLOCK
    assert os.fstat(part).st_size == MiB


def test_nothing_past_the_end_is_allocated(part: int) -> None:
    Reservation(part, 0, 5 * MiB).cover(1)
    assert 5 * MiB <= allocated(part) <= 5 * MiB + BLOCK


def test_what_was_not_written_is_given_back(part: int) -> None:
    space = Reservation(part, 0, 3 * STEP)
    space.cover(MiB)
    os.pwrite(part, b"x" * MiB, 0)
    space.release(MiB)
    assert MiB <= allocated(part) <= MiB + BLOCK
    assert os.pread(part, MiB, 0) == b"x" * MiB


def test_inside_a_file_sized_beforehand_a_split_piece_gives_back_its_rest(part: int) -> None:
    os.ftruncate(part, 4 * STEP)  # a --split part: the whole size, sparse
    os.pwrite(part, b"y" * MiB, STEP)
    piece = Reservation(part, STEP + MiB, 3 * STEP)
    piece.cover(STEP + 2 * MiB)
    assert allocated(part) >= STEP
    piece.release(STEP + MiB)
    assert MiB <= allocated(part) <= MiB + BLOCK
    assert os.fstat(part).st_size == 4 * STEP
    assert os.pread(part, MiB, STEP) == b"y" * MiB


def test_a_failure_is_raised_and_nothing_stays_allocated(part: int, tmp_path: Path) -> None:
    read_only = os.open(tmp_path / "file.part", os.O_RDONLY)  # fallocate: EBADF
    try:
        with pytest.raises(OSError, match="cannot allocate disk space for the download"):
            Reservation(read_only, 0, STEP).cover(MiB)
    finally:
        os.close(read_only)
    assert allocated(part) == 0


def test_where_space_cannot_be_allocated_ahead_bytes_are_written_as_ever() -> None:
    read_end, write_end = os.pipe()  # fallocate on a pipe: ESPIPE
    try:
        space = Reservation(write_end, 0, STEP)
        space.cover(MiB)
        space.cover(2 * MiB)
        space.release(0)
    finally:
        os.close(read_end)
        os.close(write_end)


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
