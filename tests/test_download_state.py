"""hx.download.segments and hx.download.state: the plan of a split file, and an unfinished
file on disk (``NAME.part`` and ``NAME.part.hx``)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hx.download.segments import (
    MIN_SEGMENT,
    PIECES_PER_CONNECTION,
    Segment,
    downloaded,
    on_disk_from_start,
    plan,
)
from hx.download.state import PartFiles, PartState, url_hash


@given(st.integers(1, 1 << 40), st.integers(1, 64))
def test_plan_covers_the_file_once(size: int, count: int) -> None:
    segments = plan(size, count)
    assert 1 <= len(segments) <= count * PIECES_PER_CONNECTION
    if len(segments) > 1:
        assert segments[-1].end - segments[-1].start + 1 >= MIN_SEGMENT // 2
        assert segments[0].end + 1 >= MIN_SEGMENT
    assert segments[0].start == 0 and segments[-1].end == size - 1
    assert all(a.end + 1 == b.start for a, b in itertools.pairwise(segments))
    assert all(s.start <= s.end and s.done == 0 for s in segments)
    lengths = [s.end - s.start + 1 for s in segments]
    assert len(set(lengths[:-1])) <= 1 and lengths[-1] <= lengths[0]


def test_segment_progress() -> None:
    segment = Segment(100, 199)
    assert (segment.position, segment.complete) == (100, False)
    segment.advance(60)
    segment.advance(40)
    assert (segment.done, segment.position, segment.complete) == (100, 200, True)
    assert downloaded([segment, Segment(200, 299, 7)]) == 107


def test_on_disk_from_start_stops_at_the_first_gap() -> None:
    segments = [Segment(0, 9, 10), Segment(10, 19, 4), Segment(20, 29, 10)]
    assert on_disk_from_start(segments) == 14  # the third is whole, but after a gap
    segments[1].advance(6)
    assert on_disk_from_start(segments) == 30
    assert on_disk_from_start([]) == 0


def test_state_round_trips_in_the_state_file(tmp_path: Path) -> None:
    parts = PartFiles(tmp_path / "f.bin")
    assert (parts.data_path.name, parts.state_path.name) == ("f.bin.part", "f.bin.part.hx")
    pieces = [Segment(0, 149, 20), Segment(150, 299)]
    state = PartState(url_hash("http://u:secret@h/f.bin"), '"v1"', 300, pieces)
    parts.save(state)
    assert parts.load() == state
    saved = json.loads(parts.state_path.read_text())
    assert saved["segments"] == [[0, 149, 20], [150, 299, 0]]
    assert "secret" not in parts.state_path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin.part.hx"]


def _split_state(size: int, *segments: list[object]) -> str:
    return json.dumps({"url_hash": "x", "size": size, "segments": list(segments)})


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        "{}",
        '{"url_hash": "x", "segments": [[1, 2]]}',
        "{",
        # segments that do not cover the file once, in order (hx never writes these)
        _split_state(10, [0, 4, 0], [6, 9, 0]),  # a gap
        _split_state(10, [0, 5, 0], [5, 9, 0]),  # an overlap
        _split_state(10, [0, 4, 6], [5, 9, 0]),  # more done than the segment holds
        _split_state(10, [0, 4, -1], [5, 9, 0]),
        _split_state(12, [0, 4, 0], [5, 9, 0]),  # short of the size
        _split_state(10),
        _split_state(10, [0, 4, "0"], [5, 9, 0]),
    ],
)
def test_unreadable_state_is_none(tmp_path: Path, text: str) -> None:
    parts = PartFiles(tmp_path / "f.bin")
    parts.state_path.write_text(text)
    assert parts.load() is None


def test_resumable_needs_the_same_url_and_the_part(tmp_path: Path) -> None:
    parts = PartFiles(tmp_path / "f.bin")
    parts.save(PartState(url_hash("http://h/f.bin"), None, 10))
    assert parts.resumable("http://h/f.bin") is None  # no part yet
    parts.data_path.write_bytes(b"abc")
    assert parts.resumable("http://h/other.bin") is None
    assert parts.resumable("http://h/f.bin") == PartState(url_hash("http://h/f.bin"), None, 10)
    parts.discard()
    assert list(tmp_path.iterdir()) == []
