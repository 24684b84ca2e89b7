"""hx.storage: files never half-written (a .part renamed into place), never through a symlink."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hx.storage import PartFile, write_atomically


def test_commit_renames_the_part_into_place(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with PartFile(target) as part:
        assert part.part_path == tmp_path / "out.bin.part"
        part.write(b"ab")
        part.write(b"c")
        assert part.part_path.exists()
        assert not target.exists()
        part.commit()
        assert part.committed
    assert target.read_bytes() == b"abc"
    assert sorted(os.listdir(tmp_path)) == ["out.bin"]


def test_commit_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with PartFile(target) as part:
        part.write(b"new")
        part.commit()
    assert target.read_bytes() == b"new"


def test_leaving_without_commit_removes_the_part(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with PartFile(target) as part:
        part.write(b"half")
    assert not part.committed
    assert os.listdir(tmp_path) == []


def test_error_removes_the_part_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="^boom$"), PartFile(target) as part:
        part.write(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_keep_on_error_keeps_the_part(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError), PartFile(target, keep_on_error=True) as part:
        part.write(b"half")
        raise RuntimeError("boom")
    assert (tmp_path / "out.bin.part").read_bytes() == b"half"
    assert not target.exists()


def test_keep_on_error_still_commits(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with PartFile(target, keep_on_error=True) as part:
        part.write(b"all")
        part.commit()
    assert target.read_bytes() == b"all"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_stale_part_is_replaced_not_appended(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    (tmp_path / "out.bin.part").write_bytes(b"stale data")
    with PartFile(target, keep_on_error=True) as part:
        part.write(b"new")
    assert (tmp_path / "out.bin.part").read_bytes() == b"new"


def plant_symlink(tmp_path: Path) -> tuple[Path, Path]:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    link = tmp_path / "out.bin.part"
    link.symlink_to(victim)
    return victim, link


def test_symlink_at_part_path_is_replaced_not_written_through(tmp_path: Path) -> None:
    victim, link = plant_symlink(tmp_path)
    target = tmp_path / "out.bin"
    with PartFile(target) as part:
        assert not link.is_symlink()
        part.write(b"ours")
        part.commit()
    assert victim.read_bytes() == b"precious"
    assert not target.is_symlink()
    assert target.read_bytes() == b"ours"
    assert sorted(os.listdir(tmp_path)) == ["out.bin", "victim.txt"]


def test_symlink_at_part_path_without_commit(tmp_path: Path) -> None:
    victim, link = plant_symlink(tmp_path)
    with PartFile(tmp_path / "out.bin") as part:
        part.write(b"half")
    assert victim.read_bytes() == b"precious"
    assert not link.is_symlink()
    assert os.listdir(tmp_path) == ["victim.txt"]


def test_dangling_symlink_at_part_path_creates_nothing_at_its_target(tmp_path: Path) -> None:
    link = tmp_path / "out.bin.part"
    link.symlink_to(tmp_path / "elsewhere")
    with PartFile(tmp_path / "out.bin") as part:
        part.write(b"x")
        part.commit()
    assert not (tmp_path / "elsewhere").exists()
    assert (tmp_path / "out.bin").read_bytes() == b"x"


def test_symlink_at_target_is_replaced_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    target = tmp_path / "out.bin"
    target.symlink_to(victim)
    write_atomically(target, b"ours")
    assert victim.read_bytes() == b"precious"
    assert not target.is_symlink()
    assert target.read_bytes() == b"ours"


def test_write_atomically(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    write_atomically(target, b"{}")
    write_atomically(target, b'{"total": 1}')
    assert target.read_bytes() == b'{"total": 1}'
    assert os.listdir(tmp_path) == ["summary.json"]


def test_write_atomically_through_planted_symlink(tmp_path: Path) -> None:
    victim, _ = plant_symlink(tmp_path)
    write_atomically(tmp_path / "out.bin", b"ours")
    assert victim.read_bytes() == b"precious"
    assert (tmp_path / "out.bin").read_bytes() == b"ours"
