"""``hx stream`` at scale, as a child process (its own core, its own peak RSS):
200 streams of 100 events with known timing, 1,000 open streams, a 1 GB line."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import statistics
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.cli import records, write_lines
from support.process import HX, hx_env
from support.stream_servers import RawStreamServer

MIB = 1 << 20


@pytest.fixture(scope="module")
def raw() -> Iterator[RawStreamServer]:
    with RawStreamServer() as srv:
        yield srv
    assert not srv.errors, srv.errors


@dataclasses.dataclass
class Run:
    returncode: int
    records: list[dict[str, Any]]
    stderr: str
    peak_rss_mib: float


def run_hx(tmp_path: Path, urls: list[str], *args: str) -> Run:
    """``hx stream`` over ``urls``; its exit status, records, stderr and peak RSS."""
    source = write_lines(tmp_path / "urls.txt", urls)
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [*HX, "stream", str(source), *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=hx_env(),
        )
    try:
        _, status, usage = os.wait4(proc.pid, 0)  # the rusage of this child alone
    finally:
        if proc.poll() is None:
            proc.kill()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        proc.returncode,
        records(out_path.read_bytes()),
        err_path.read_text(),
        usage.ru_maxrss / 1024,
    )


def drip(raw: RawStreamServer, n: int, first: float, gap: float) -> str:
    return raw.url(f"/raw?case=drip&n={n}&first={first}&gap={gap}&type=text/event-stream")


def percentile(values: list[float], p: float) -> float:
    """Nearest rank, as hx's histogram ranks (which then reports its bucket's upper edge)."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * p / 100)) - 1]


def test_200_streams_of_100_events(raw: RawStreamServer, tmp_path: Path) -> None:
    # The timing check gets a second run: on a shared 2-core machine a neighbour's burst
    # can delay 200 first events at once (twice in eight full suites here). Every
    # run must be exact in everything else.
    for attempt in (1, 2):
        first_ms = _200_streams_of_100_events(raw, tmp_path / f"run{attempt}")
        if statistics.median(first_ms) <= FIRST_S * 1000 * 1.1:
            break
    else:
        pytest.fail(f"median first event {statistics.median(first_ms)} ms, twice over 10% late")


FIRST_S, GAP_S = 2.0, 0.05


def _200_streams_of_100_events(raw: RawStreamServer, tmp_path: Path) -> list[float]:
    """One run; its first-event times (ms), once everything else has been checked."""
    first_s, gap_s = FIRST_S, GAP_S
    tmp_path.mkdir()
    run = run_hx(tmp_path, [drip(raw, 100, first_s, gap_s)] * 200, "-c", "200")
    assert run.returncode == 0, run.stderr
    events = [rec for rec in run.records if "seq" in rec]
    finals = {rec["id"]: rec for rec in run.records if "seq" not in rec}
    assert len(events) == 20_000 and len(finals) == 200
    times: dict[int, list[float]] = defaultdict(list)
    for event in events:
        assert event["seq"] == len(times[event["id"]]) + 1  # in order, gap-free
        assert event["data"] == str(event["seq"])
        times[event["id"]].append(event["t_ms"])
    for stream_id, final in finals.items():
        stats, t_ms = final["stream"], times[stream_id]
        assert final["ok"] and stats["end"] == "eof" and stats["events"] == 100
        # hx's statistics are those of the events it wrote (histogram buckets: 1%).
        gaps = [b - a for a, b in zip(t_ms, t_ms[1:], strict=False)]
        assert stats["first_event_ms"] == t_ms[0]
        assert stats["gap_p50_ms"] == pytest.approx(percentile(gaps, 50), rel=0.011, abs=0.01)
        assert stats["gap_p99_ms"] == pytest.approx(percentile(gaps, 99), rel=0.011, abs=0.01)
    # ... and within 10% of the timing the server put in. A stream cannot be early; the
    # median absorbs the connection set-up of 200 streams at once, and p50s the load of
    # a shared machine (whose p99s are not the streams' but the scheduler's).
    first_ms = [final["stream"]["first_event_ms"] for final in finals.values()]
    assert min(first_ms) >= first_s * 1000
    for final in finals.values():
        assert final["stream"]["gap_p50_ms"] == pytest.approx(gap_s * 1000, rel=0.1)
        assert final["stream"]["gap_p99_ms"] >= gap_s * 1000 * 0.9
    assert "20,000, 0 unreadable" in run.stderr
    return first_ms


def test_memory_stays_flat_with_1000_open_streams(raw: RawStreamServer, tmp_path: Path) -> None:
    one = run_hx(tmp_path, [drip(raw, 2, 0.0, 0.1)])
    many = run_hx(tmp_path, [drip(raw, 4, 1.0, 0.5)] * 1000, "-c", "1000")
    assert one.returncode == many.returncode == 0, many.stderr
    assert sum("seq" in rec for rec in many.records) == 4000
    # Measured here: 48 MiB for one stream, 67 MiB for 1,000 at once (~20 KiB each).
    assert many.peak_rss_mib - one.peak_rss_mib < 64, (one.peak_rss_mib, many.peak_rss_mib)


def test_memory_stays_flat_with_a_1gb_line(raw: RawStreamServer, tmp_path: Path) -> None:
    def long_line(size: int) -> Run:
        url = raw.url(f"/raw?case=long-line&size={size}&type=text/event-stream")
        run = run_hx(tmp_path, [url], "--max-line", "1M")
        assert run.returncode == 0, run.stderr
        *events, final = run.records
        assert [event.get("data", event.get("error", {}).get("kind")) for event in events] == [
            "before",
            "too_long",
            "after",
        ]
        assert final["bytes"] > size
        return run

    small, huge = long_line(MIB), long_line(1024 * MIB)
    # Measured here: 48 MiB peak either way; the GiB passes through in 64 KiB pieces.
    assert huge.peak_rss_mib - small.peak_rss_mib < 16, (small.peak_rss_mib, huge.peak_rss_mib)
    assert len(json.dumps(huge.records)) < 2048  # the line is in no record
