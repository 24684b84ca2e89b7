"""``hx fetch --every``: rounds on one client, on a fixed schedule, stopped cleanly."""

from __future__ import annotations

import datetime
import re
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hx.monitor.rounds import Timetable
from support.cli import assert_usage_error, hx, records, write_lines
from support.fault_server import FaultServer
from support.monitor_servers import PacedServer
from support.process import HX, hx_env, wait_for
from support.server import TestServer

ROUND_LINE = re.compile(
    r"hx: round (\d+): (\d+) requests?, (\d+) ok(, \d+ failed \(.*\))?, p50 \d+ ms, in \d+\.\d\d s"
)


def rounds_of(recs: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    by_round: dict[int, list[dict[str, Any]]] = {}
    for rec in recs:
        by_round.setdefault(rec["round"], []).append(rec)
    return by_round


def moment(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp).timestamp()


def test_rounds_reuse_the_first_rounds_connections(tmp_path: Path) -> None:
    after_round_1: list[int] = []

    def note_connections(hit: int) -> None:
        if hit == 51:  # round 2's first request: round 1 opened all it would
            after_round_1.append(server.connections)

    with PacedServer(on_hit=note_connections) as server:
        urls = [server.url(f"/paced/{n}") for n in range(50)]
        result = hx(
            "fetch", write_lines(tmp_path / "urls.txt", urls), "--every", "1s", "--rounds", "5"
        )
    assert result.exit_code == 0, result.stderr
    by_round = rounds_of(records(result))
    assert sorted(by_round) == [1, 2, 3, 4, 5]
    every_line = Counter(range(1, 51))
    assert all(Counter(rec["line"] for rec in recs) == every_line for recs in by_round.values())
    assert server.connections == after_round_1[0] <= 10  # -c 10
    lines = result.stderr.splitlines()
    told = [ROUND_LINE.fullmatch(line) for line in lines[:5]]
    assert [(m[1], m[2], m[3]) for m in told if m] == [(str(n), "50", "50") for n in range(1, 6)]
    assert lines[5].startswith("hx: 250 requests in ")


def test_a_slow_round_delays_the_next_without_overlap(tmp_path: Path) -> None:
    # Five URLs a round: hits 11-15 are round 3, each 1.6 s late.
    with PacedServer(slow_hits=range(11, 16), slow_for=1.6) as server:
        source = write_lines(tmp_path / "urls.txt", [server.url(f"/paced/{n}") for n in range(5)])
        result = hx("fetch", source, "--every", "1s", "--rounds", "5", "-q")
    assert result.exit_code == 0, result.stderr
    by_round = rounds_of(records(result))
    start = {n: min(moment(rec["started_at"]) for rec in recs) for n, recs in by_round.items()}
    end = {
        n: max(moment(rec["started_at"]) + rec["total_ms"] / 1000 for rec in recs)
        for n, recs in by_round.items()
    }
    offsets = {n: round(start[n] - start[1], 2) for n in start}
    assert end[3] - start[3] >= 1.6
    # Delayed (due at 3 s), not overlapping; started_at is to the millisecond.
    assert start[4] >= end[3] - 0.002, offsets
    # Round 5 keeps to the schedule (4 s): neither at once after round 4 (3.6 s)
    # nor a whole period after it (4.6 s).
    assert 3.95 <= offsets[5] <= 4.35, offsets


def test_the_exit_code_is_the_last_rounds(fault_server: FaultServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [fault_server.url("/flaky/k?fail=1")])
    result = hx("fetch", source, "--every", "100ms", "--rounds", "2", "--retries", "0", "-q")
    first, second = records(result)
    assert (first["round"], first["status"], second["round"], second["status"]) == (1, 503, 2, 200)
    assert result.exit_code == 0


def test_reload_reads_the_input_for_each_round(tmp_path: Path) -> None:
    source = tmp_path / "urls.txt"

    def rewrite(hit: int) -> None:
        if hit == 1:  # the first round's request points the file elsewhere
            write_lines(source, [server.url("/paced/second")])

    with PacedServer(on_hit=rewrite) as server:
        for reload, expected in ((["--reload"], "/paced/second"), ([], "/paced/first")):
            server._hits = 0
            write_lines(source, [server.url("/paced/first")])
            result = hx("fetch", source, "--every", "100ms", "--rounds", "2", "-q", *reload)
            assert result.exit_code == 0, result.stderr
            assert [rec["url"] for rec in records(result)] == [
                server.url("/paced/first"),
                server.url(expected),
            ]


def test_sigint_between_rounds_ends_the_wait_at_once(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/status/200")] * 3)
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [*HX, "fetch", str(source), "--every", "1h"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=hx_env(),
        )
    try:
        wait_for(lambda: "round 1:" in err_path.read_text() or proc.poll() is not None, "round 1")
        assert proc.poll() is None, err_path.read_text()
        proc.send_signal(signal.SIGINT)
        returncode = proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert returncode == 130
    assert [rec["round"] for rec in records(out_path.read_bytes())] == [1, 1, 1]
    stderr = err_path.read_text().splitlines()
    assert ROUND_LINE.fullmatch(stderr[0]), stderr
    assert stderr[1].startswith("hx: 3 requests in "), stderr


def test_timetable() -> None:
    timetable = Timetable(every=10.0, start=100.0)
    assert timetable.wait_after(103.0) == 7.0  # round 2 due at 110
    assert timetable.wait_after(125.0) == 0.0  # round 2 ran to 125: round 3 (due 120) at once
    assert timetable.wait_after(126.0) == 4.0  # round 4 due at 130: 120 is not made up
    assert timetable.wait_after(130.5) == 9.5


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--rounds", "2"], ["--rounds and --reload need --every"]),
        (["--reload"], ["--rounds and --reload need --every"]),
        (["--every", "1s", "--journal", "j"], ["--every and --journal"]),
        (["--every", "1s", "--workers", "2"], ["--every cannot be combined with --workers"]),
        (["--every", "0"], ["--every"]),
        (["--every", "soon"], ["--every"]),
    ],
)
def test_round_options_that_cannot_work(
    server: TestServer, tmp_path: Path, options: list[str], words: list[str]
) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/status/200")])
    result = hx("fetch", source, *options)
    assert result.exit_code == 2, result.stderr
    assert all(word in result.stderr for word in words), result.stderr


def test_stdin_cannot_be_read_again(server: TestServer) -> None:
    result = hx("fetch", "-", "--every", "1s", input=server.url("/status/200") + "\n")
    assert_usage_error(result, "--every needs SOURCE to be a file")
