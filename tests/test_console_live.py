"""hx fetch's live status lines: what they show at 60, 80 and 120 columns, and when they run."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from hx.console.live import (
    ECHO_ROOM,
    BatchProgress,
    Snapshot,
    StatusLines,
    Tally,
    outcome_line,
    progress_line,
)
from hx.errors import ErrorKind
from hx.models import ErrorInfo, Result
from support.screen import Screen


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def result(status: int | None, ok: bool, elapsed_ms: float = 12.0) -> Result:
    error = None if ok else ErrorInfo(ErrorKind.HTTP_STATUS if status else ErrorKind.CONNECT, "x")
    return Result(
        id=1,
        line=1,
        url="http://h/",
        method="GET",
        ok=ok,
        status=status,
        elapsed_ms=elapsed_ms,
        error=error,
    )


def busy_tally(clock: FakeClock, total: int | None = 20_000) -> Tally:
    """3,812 of 20,000 done in about 4.8 s: 3,700 200s, 100 slow 503s, 11 404s, 1 refused."""
    results = (
        [result(200, True, 12.0)] * 3700
        + [result(503, False, 900.0)] * 100
        + [result(404, False, 40.0)] * 11
        + [result(None, False)]
    )
    tally = Tally(get_time=clock)
    tally.total = total
    tally.in_flight = lambda: 20
    for n, one in enumerate(results):
        if n % 100 == 0:
            clock.now += 0.125
            tally.snapshot()  # redraws happen as the run goes
        tally.add(one)
    return tally


def render(tally: Tally, width: int) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(StatusLines(tally, unicode=True))
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [60, 80, 120])
def test_two_lines_that_fit_with_room_for_the_interrupt_echo(width: int) -> None:
    lines = render(busy_tally(FakeClock()), width)
    assert len(lines) == 2
    assert all(len(line) <= width - ECHO_ROOM for line in lines), lines
    progress, outcome = lines
    # What matters most is there at every width, with thousands separators.
    assert "3,812/20,000" in progress
    assert re.search(r"\b[\d,]+ req/s\b", progress)
    assert re.search(r"ETA \d+:\d\d\b", progress)
    assert "20 in flight" in progress
    assert re.match(r"3,700 ok {2}112 failed {2}200×3,700\b", outcome), outcome
    assert "p50 12.0 ms" in outcome


def test_at_60_columns_less_useful_fields_give_way() -> None:
    progress, outcome = render(busy_tally(FakeClock()), 60)
    assert "━" not in progress  # the bar goes first...
    assert "elapsed" not in progress
    assert "19%" in progress
    assert "503×" not in outcome  # ...then the rarer statuses
    assert "p99 900 ms" in outcome


def test_at_120_columns_everything_shows() -> None:
    progress, outcome = render(busy_tally(FakeClock()), 120)
    assert re.match(r"━+─+ {3}3,812/20,000 {3}19% {2}20 in flight {2}[\d,]+ req/s", progress)
    assert re.search(r"ETA \d:\d\d {2}0:05 elapsed$", progress)
    assert re.search(r"200×3,700 {2}503×100 {2}404×11 {2}p50 12\.0 ms {2}p99 900 ms$", outcome)


def test_bar_grows_with_the_width() -> None:
    bars = [len(render(busy_tally(FakeClock()), w)[0].split()[0]) for w in (80, 100, 120)]
    assert bars[0] < bars[1] <= bars[2] <= 40


def test_unknown_total_shows_done_and_rate_never_a_bare_eta() -> None:
    for width in (60, 80, 120):
        progress, _ = render(busy_tally(FakeClock(), total=None), width)
        assert re.match(r"3,812 done {2}20 in flight {2}[\d,]+ req/s", progress), progress
        assert "ETA" not in progress
        assert "━" not in progress


def test_before_any_result() -> None:
    tally = Tally(get_time=FakeClock())
    tally.total = 1_000
    progress, outcome = render(tally, 80)
    # Counts padded to their final width: the fields keep their places as the run goes.
    assert re.match(r"─+ {2}    0/1,000 {4}0% {2}- req/s {2}ETA -:--", progress), progress
    assert outcome == "0 ok  0 failed"


def test_in_flight_is_left_out_when_nobody_counts_it() -> None:
    tally = busy_tally(FakeClock())
    tally.in_flight = None
    assert "in flight" not in render(tally, 120)[0]


def test_rate_follows_the_last_seconds() -> None:
    clock = FakeClock()
    tally = Tally(get_time=clock)
    for _ in range(10):  # 100 req/s for 10 s
        for _ in range(100):
            tally.add(result(200, True))
        clock.now += 1
        tally.snapshot()
    assert tally.snapshot().rate == pytest.approx(100)
    for _ in range(10):  # then 10 req/s
        for _ in range(10):
            tally.add(result(200, True))
        clock.now += 1
        tally.snapshot()
    snap = tally.snapshot()
    assert snap.rate == pytest.approx(10)
    assert snap.eta_s is None  # no total


def test_percentiles_follow_recent_latencies() -> None:
    clock = FakeClock()
    tally = Tally(get_time=clock)
    for _ in range(100):
        tally.add(result(200, True, elapsed_ms=10.0))
    clock.now += 6
    tally.snapshot()
    for _ in range(100):
        tally.add(result(200, True, elapsed_ms=500.0))
    clock.now += 6
    tally.snapshot()  # the 10 ms window is now two windows old
    for _ in range(10):
        tally.add(result(200, True, elapsed_ms=500.0))
    assert tally.snapshot().p50_ms == pytest.approx(500, rel=0.01)


def test_eta_from_the_rate() -> None:
    snap = Snapshot(
        elapsed_s=10,
        done=1000,
        total=5000,
        ok=1000,
        in_flight=5,
        codes=[(200, 1000)],
        rate=100.0,
        p50_ms=None,
        p99_ms=None,
    )
    assert snap.eta_s == 40.0
    assert "ETA 0:40" in progress_line(snap, 100).plain
    assert outcome_line(snap, 100).plain == "1,000 ok  0 failed  200×1,000"


def test_plain_ascii_when_the_terminal_is_not_utf8() -> None:
    snap = Snapshot(
        elapsed_s=1, done=5, total=10, ok=5, in_flight=1, codes=[(200, 5)], rate=5.0,
        p50_ms=1.0, p99_ms=2.0,
    )  # fmt: skip
    assert re.match(r"#+-+ ", progress_line(snap, 100, unicode=False).plain)
    assert "200x5" in outcome_line(snap, 100, unicode=False).plain


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_nothing_is_drawn_and_results_cost_nothing() -> None:
    out = io.StringIO()
    progress = BatchProgress(Console(file=out), enabled=True)
    assert progress.wants_total is False
    with progress:
        progress.advance(result(200, True))
    assert out.getvalue() == ""
    assert progress._tally.snapshot().done == 0  # advance() returned at once


@pytest.mark.parametrize(("term", "enabled"), [("dumb", True), ("xterm", False)])
def test_dumb_terminals_and_quiet_runs_get_no_live_display(
    term: str, enabled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", term)
    tty = FakeTty()
    console = Console(file=tty, width=80)
    progress = BatchProgress(console, enabled=enabled)  # enabled=False: -q
    assert console.is_terminal
    assert progress.wants_total is False
    with progress:
        progress.advance(result(200, True))
    assert tty.getvalue() == ""


def test_on_a_terminal_the_lines_are_drawn_then_erased() -> None:
    tty = FakeTty()
    console = Console(file=tty, width=80, color_system=None, force_terminal=True)
    progress = BatchProgress(console, enabled=True)
    assert progress.wants_total is True
    progress.set_total(2)
    progress.watch_in_flight(lambda: 1)
    with progress:
        progress.advance(result(200, True))
    output = tty.getvalue()
    assert "1/2" in output and "1 in flight" in output and "1 ok" in output
    screen = Screen(80)
    screen.feed(output)
    assert screen.text() == []  # transient: erased
    assert output.count("\x1b[?25l") == output.count("\x1b[?25h") == 1  # the cursor is back
