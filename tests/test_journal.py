"""hx.batch.journal: what a --journal file holds and which requests a re-run skips."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hx.batch.journal import FileJournal
from hx.models import RequestSpec, Result
from support.cli import records


def spec(line: int, url: str = "http://example.test/a", id: str | int | None = None) -> RequestSpec:
    return RequestSpec(line=line, url=url, id=id)


def outcome(request: RequestSpec, ok: bool = True, status: int | None = 200) -> Result:
    return Result(
        id=request.record_id,
        line=request.line,
        url=request.url,
        method=request.method,
        ok=ok,
        status=status,
        attempts=1,
    )


@contextlib.contextmanager
def opened(path: Path) -> Iterator[FileJournal]:
    journal = FileJournal(path)
    try:
        yield journal
    finally:
        journal.close()


def journal_with(path: Path, *entries: tuple[RequestSpec, Result]) -> None:
    with opened(path) as journal:
        for request, result in entries:
            journal.record(request, result)


def entries(path: Path) -> list[dict[str, Any]]:
    return records(path.read_text())


def test_journal_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    done, created = spec(1), spec(2, "http://example.test/b")
    journal_with(path, (done, outcome(done)), (created, outcome(created, status=201)))

    with opened(path) as journal:
        assert journal.done_count == 2
        assert journal.torn_lines == 0
        previous = journal.previous(created)
    assert previous == Result(
        id=2,
        line=2,
        url="http://example.test/b",
        method="GET",
        ok=True,
        status=201,
        skipped=True,
    )
    assert previous.to_record()["skipped"] is True


def test_journal_missing_file_is_created_empty(tmp_path: Path) -> None:
    path = tmp_path / "new.journal"
    with opened(path) as journal:
        assert journal.done_count == 0
        assert journal.previous(spec(1)) is None
    assert path.read_bytes() == b""


def test_journal_lines_are_complete_json_objects(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    request = spec(3, id="a")
    journal_with(path, (request, outcome(request)))
    data = path.read_bytes()
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    [entry] = entries(path)
    assert set(entry) == {"key", "ok", "status", "url"}
    assert (entry["ok"], entry["status"], entry["url"]) == (True, 200, "http://example.test/a")


def test_journal_ignores_a_torn_last_line_and_appends_on_a_fresh_line(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    first, second, third = spec(1), spec(2), spec(3)
    journal_with(path, (first, outcome(first)))
    whole = path.read_bytes()
    journal_with(path, (second, outcome(second)))
    torn = path.read_bytes()[len(whole) :][:-9]  # killed mid-write: no closing brace, no newline
    path.write_bytes(whole + torn)

    with opened(path) as journal:
        assert journal.torn_lines == 1
        assert journal.done_count == 1
        assert journal.previous(first) is not None
        assert journal.previous(second) is None  # its line was torn: run it again
        journal.record(third, outcome(third))

    lines = path.read_bytes().split(b"\n")
    assert lines[0] + b"\n" == whole
    assert lines[1] == torn
    assert json.loads(lines[2])["ok"] is True  # the new entry is not glued to the torn one
    assert lines[3:] == [b""]
    with opened(path) as reread:
        assert reread.done_count == 2
        assert reread.torn_lines == 1
        assert reread.previous(third) is not None


def test_journal_line_torn_after_its_json_still_counts(tmp_path: Path) -> None:
    """Killed between the closing brace and the newline: the entry is whole."""
    path = tmp_path / "batch.journal"
    first, second = spec(1), spec(2)
    journal_with(path, (first, outcome(first)))
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    journal_with(path, (second, outcome(second)))
    assert len(entries(path)) == 2
    with opened(path) as journal:
        assert (journal.done_count, journal.torn_lines) == (2, 0)


def test_journal_skips_garbage_lines(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    request = spec(1)
    path.write_text('not json\n[1, 2]\n{"ok": true}\n\n')
    journal_with(path, (request, outcome(request)))
    with opened(path) as journal:
        assert journal.done_count == 1
        assert journal.previous(request) is not None


@pytest.mark.parametrize(
    "result",
    [
        outcome(spec(1), ok=False, status=503),
        outcome(spec(1), ok=False, status=None),
    ],
    ids=["http-error", "network-error"],
)
def test_journal_failed_entries_are_not_skipped(tmp_path: Path, result: Result) -> None:
    path = tmp_path / "batch.journal"
    journal_with(path, (spec(1), result))
    with opened(path) as journal:
        assert journal.done_count == 0
        assert journal.previous(spec(1)) is None


def test_journal_a_later_success_wins_over_an_earlier_failure(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    request = spec(1)
    journal_with(path, (request, outcome(request, ok=False, status=503)))
    journal_with(path, (request, outcome(request)))
    with opened(path) as journal:
        assert journal.previous(request) is not None


def test_journal_identity_is_the_id_when_given(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    original = spec(1, "http://example.test/a", id="order-7")
    journal_with(path, (original, outcome(original)))
    with opened(path) as journal:
        # the same id on another line, even with another URL, is the same request
        moved = journal.previous(spec(9, "http://example.test/other", id="order-7"))
        assert moved is not None and moved.id == "order-7" and moved.line == 9
        assert journal.previous(spec(1, "http://example.test/a", id="order-8")) is None
        assert journal.previous(spec(1, "http://example.test/a")) is None  # no id: line + URL


def test_journal_string_and_integer_ids_differ(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    request = spec(1, id=7)
    journal_with(path, (request, outcome(request)))
    with opened(path) as journal:
        assert journal.previous(spec(1, id=7)) is not None
        assert journal.previous(spec(1, id="7")) is None


def test_journal_identity_without_id_is_line_and_url(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    request = spec(4, "http://example.test/a")
    journal_with(path, (request, outcome(request)))
    with opened(path) as journal:
        assert journal.previous(spec(4, "http://example.test/a")) is not None
        assert journal.previous(spec(5, "http://example.test/a")) is None
        assert journal.previous(spec(4, "http://example.test/b")) is None


def test_journal_holds_no_credentials_from_urls(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    request = spec(1, "https://alice:s3cr3t-pw@example.test/private?x=1")
    journal_with(path, (request, outcome(request)))
    text = path.read_text()
    assert "s3cr3t-pw" not in text
    [entry] = entries(path)
    assert entry["url"] == "https://alice:***@example.test/private?x=1"
    with opened(path) as journal:
        previous = journal.previous(request)
    assert previous is not None
    assert previous.url == "https://alice:***@example.test/private?x=1"


def test_the_records_are_flushed_before_each_entry_is_written(tmp_path: Path) -> None:
    """No entry may reach the journal while its record still sits in hx's buffers."""
    path = tmp_path / "journal"
    seen: list[int] = []  # journal lines on disk each time the records are flushed
    journal = FileJournal(
        path, before_write=lambda: seen.append(len(path.read_bytes().splitlines()))
    )
    try:
        for line in (1, 2, 3):
            journal.record(spec(line), outcome(spec(line)))
    finally:
        journal.close()
    assert seen == [0, 1, 2]
    assert len(path.read_bytes().splitlines()) == 3
