"""``--fail-fast N``: after N failed records nothing more is sent; every other line
still gets a record, of kind ``not_started``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from support.cli import hx, records, write_lines
from support.server import TestServer

NOT_SENT = "not sent: 2 records failed first (--fail-fast 2)"


def test_the_rest_get_not_started_records(server: TestServer, tmp_path: Path) -> None:
    failing = [server.url("/status/500"), "not a url", server.url("/status/404")]
    source = write_lines(tmp_path / "urls.txt", failing + [server.url("/json")] * 600)
    result = hx("fetch", source, "--fail-fast", "2", "-c", "1", "--retries", "0", "-q")
    recs = records(result)
    assert Counter(rec["line"] for rec in recs) == Counter(range(1, 604))
    first_two = sorted(rec["error"]["kind"] for rec in recs if rec["line"] <= 2)
    assert first_two == ["http_status", "invalid_input"]
    unsent = [rec for rec in recs if rec["error"] and rec["error"]["kind"] == "not_started"]
    # With one slot, at most the request that took it as the limit was reached got out.
    assert len(unsent) >= 600
    assert all(rec["error"]["message"] == NOT_SENT for rec in unsent)
    assert all((rec["attempts"], rec["status"]) == (0, None) for rec in unsent)
    assert result.exit_code in (3, 4)  # some or all failed


def test_requests_on_the_wire_finish(server: TestServer, tmp_path: Path) -> None:
    slow = [server.url("/slow?delay=0.3")] * 3
    source = write_lines(tmp_path / "urls.txt", [server.url("/status/500"), *slow])
    result = hx("fetch", source, "--fail-fast", "1", "-c", "4", "--retries", "0", "-q")
    recs = records(result)
    assert sorted(rec["ok"] for rec in recs) == [False, True, True, True]
    assert result.exit_code == 3


def test_without_failures_nothing_changes(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/json")] * 5)
    result = hx("fetch", source, "--fail-fast", "1", "-q")
    assert [rec["ok"] for rec in records(result)] == [True] * 5
    assert result.exit_code == 0
