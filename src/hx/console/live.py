"""``hx fetch``'s live status: two lines on stderr, redrawn four times a second.

A result only bumps counters; the lines are laid out when rich redraws (from
its own thread, hence the lock), to the terminal's width at that moment. A
line that would not fit drops its least useful fields instead of wrapping: a
wrapped line is what leaves stale copies behind when the display is cleared.
Off a terminal nothing is drawn, and rich is not loaded: its Text and Live are
imported where lines are drawn.

    ━━━━━━━━━━━━━━────── 3,812/20,000  19%  20 in flight  812 req/s  ETA 0:19  0:04 elapsed
    3,700 ok  112 failed  200×3,650  404×50  503×12  p50 12.3 ms  p99 340 ms
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from hx.console.display import LiveDisplay
from hx.console.messages import Stderr, on_terminal, unicode_ok
from hx.console.numbers import clock, count, ms
from hx.console.summary import print_summary
from hx.frozen import frozen
from hx.models import Result
from hx.run.summary import LatencyHistogram, Summary, merged

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions
    from rich.live import Live
    from rich.text import Text

REFRESH_PER_SECOND = 4
WINDOW_S = 5.0
"""req/s and the percentiles describe about the last WINDOW_S seconds, not the whole run."""
ECHO_ROOM = 3
"""Columns left free: the terminal echoes ^C at the cursor, which must not wrap the line."""
TOP_CODES = 3
_GAP = "  "
_BAR_MIN, _BAR_MAX = 10, 40
_CODE_STYLES = {2: "green", 3: "cyan", 4: "yellow", 5: "red"}


@frozen
class Snapshot:
    """The batch at one moment, as the status lines show it."""

    elapsed_s: float
    done: int
    total: int | None
    """None while unknown (stdin, or the count of a file's lines is not in yet)."""
    ok: int
    in_flight: int | None
    """None when the engine does not say (``--workers``)."""
    codes: list[tuple[int, int]]
    """The most frequent statuses so far, ``(status, count)``."""
    rate: float | None
    """Requests per second over the last few seconds."""
    p50_ms: float | None
    p99_ms: float | None

    @property
    def failed(self) -> int:
        return self.done - self.ok

    @property
    def eta_s(self) -> float | None:
        if self.total is None or not self.rate:
            return None
        return max(self.total - self.done, 0) / self.rate


class Tally:
    """What the results so far add up to; ``snapshot()`` is called by the redraw only."""

    def __init__(self, get_time: Callable[[], float] = time.monotonic) -> None:
        self._get_time = get_time
        self._lock = threading.Lock()
        self._started = get_time()
        self.total: int | None = None
        self.in_flight: Callable[[], int] | None = None
        self._done = 0
        self._ok = 0
        self._codes: collections.Counter[int] = collections.Counter()
        # Two windows of latencies: the percentiles move with the run, never on too few samples.
        self._latency = LatencyHistogram()
        self._previous = LatencyHistogram()
        self._window_started = self._started
        self._done_at: collections.deque[tuple[float, int]] = collections.deque()

    def add(self, result: Result) -> None:
        with self._lock:
            self._done += 1
            self._ok += result.ok
            if result.status is not None:
                self._codes[result.status] += 1
                self._latency.add(result.elapsed_ms)

    def snapshot(self) -> Snapshot:
        now = self._get_time()
        with self._lock:
            done, ok = self._done, self._ok
            codes = self._codes.most_common(TOP_CODES)
            if now - self._window_started >= WINDOW_S and self._latency.count:
                self._previous, self._latency = self._latency, LatencyHistogram()
                self._window_started = now
            recent = merged((self._previous, self._latency))
        return Snapshot(
            elapsed_s=now - self._started,
            done=done,
            total=self.total,
            ok=ok,
            in_flight=self.in_flight() if self.in_flight is not None else None,
            codes=codes,
            rate=self._rate(now, done),
            p50_ms=recent.percentile(50),
            p99_ms=recent.percentile(99),
        )

    def _rate(self, now: float, done: int) -> float | None:
        self._done_at.append((now, done))
        while now - self._done_at[0][0] > WINDOW_S:
            self._done_at.popleft()
        then, done_then = self._done_at[0]
        if now - then >= 1.0:
            return (done - done_then) / (now - then)
        # The first second: the average so far, rather than a jumpy instant rate.
        elapsed = now - self._started
        return done / elapsed if done and elapsed > 0 else None


@frozen
class _Field:
    text: Text
    priority: int
    """0 is kept longest; the highest number goes first when space runs out."""


def _fit(fields: list[_Field], width: int) -> list[_Field]:
    kept = list(fields)
    while kept and _width(kept) > width:
        # The least useful field goes; of equals, the rightmost.
        kept.remove(max(reversed(kept), key=lambda field: field.priority))
    return kept


def _width(fields: list[_Field]) -> int:
    return sum(field.text.cell_len for field in fields) + len(_GAP) * (len(fields) - 1)


def _join(fields: list[_Field]) -> Text:
    from rich.text import Text

    line = Text(_GAP).join(field.text for field in fields)
    line.no_wrap = True
    line.overflow = "crop"
    return line


def progress_line(snap: Snapshot, width: int, unicode: bool = True) -> Text:
    """done/total and percent, in flight, req/s, ETA, elapsed; a bar in the room left."""
    from rich.text import Text

    if snap.total is not None:
        # Padded to their final widths, so that the fields do not shift as the counts grow.
        total = count(snap.total)
        done = Text(f"{count(snap.done):>{len(total)}}/{total}", style="bold")
        percent = 100 * snap.done / snap.total if snap.total else 100.0
        fields = [_Field(done, 0), _Field(Text(f"{percent:3.0f}%"), 4)]
    else:
        fields = [_Field(Text(f"{count(snap.done)} done", style="bold"), 0)]
    if snap.in_flight is not None:
        fields.append(_Field(Text(f"{count(snap.in_flight)} in flight"), 2))
    rate = "-" if snap.rate is None else f"{snap.rate:,.0f}"
    fields.append(_Field(Text(f"{rate} req/s", style="cyan"), 1))
    if snap.total is not None:
        eta = "-:--" if snap.eta_s is None else clock(snap.eta_s)
        fields.append(_Field(Text(f"ETA {eta}"), 1))
    fields.append(_Field(Text(f"{clock(snap.elapsed_s)} elapsed", style="dim"), 6))
    if snap.total is None:
        return _join(_fit(fields, width))
    # The bar ranks between the numbers and the elapsed time, and takes the room left.
    kept = _fit([*fields[:-1], _Field(Text(" " * _BAR_MIN), 5), fields[-1]], width)
    with_bar = [field for field in kept if field.priority != 5]
    if len(with_bar) == len(kept):
        return _join(kept)
    bar_width = min(_BAR_MAX, width - _width(with_bar) - len(_GAP))
    fraction = snap.done / snap.total if snap.total else 1.0
    return _join([_Field(_bar(fraction, bar_width, unicode), 5), *with_bar])


def _bar(fraction: float, width: int, unicode: bool) -> Text:
    from rich.text import Text

    filled = round(min(max(fraction, 0.0), 1.0) * width)
    done, left = ("━", "─") if unicode else ("#", "-")
    bar = Text(done * filled, style="magenta")
    bar.append(left * (width - filled), style="dim")
    return bar


def outcome_line(snap: Snapshot, width: int, unicode: bool = True) -> Text:
    """ok and failed, the commonest statuses, p50 and p99 of the last few seconds."""
    from rich.text import Text

    times = "×" if unicode else "x"
    failed_style = "red" if snap.failed else "dim"
    fields = [
        _Field(Text(f"{count(snap.ok)} ok", style="green"), 0),
        _Field(Text(f"{count(snap.failed)} failed", style=failed_style), 0),
    ]
    for rank, (status, n) in enumerate(snap.codes):
        style = _CODE_STYLES.get(status // 100, "")
        fields.append(_Field(Text(f"{status}{times}{count(n)}", style=style), 3 + 2 * rank))
    if snap.p50_ms is not None:
        fields.append(_Field(Text(f"p50 {ms(snap.p50_ms)}"), 2))
    if snap.p99_ms is not None:
        fields.append(_Field(Text(f"p99 {ms(snap.p99_ms)}"), 4))
    return _join(_fit(fields, width))


class StatusLines:
    """The rich renderable: laid out afresh, to the current width, at every redraw."""

    def __init__(self, tally: Tally, unicode: bool) -> None:
        self._tally = tally
        self._unicode = unicode

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        snap = self._tally.snapshot()
        width = max(options.max_width - ECHO_ROOM, 1)
        yield progress_line(snap, width, self._unicode)
        yield outcome_line(snap, width, self._unicode)


class BatchProgress(LiveDisplay):
    """``hx fetch``'s live status on an interactive terminal; inert anywhere else.

    Off a terminal ``advance()`` returns at once: cron and pipelines pay nothing.
    """

    def __init__(
        self, console: Stderr, enabled: bool, get_time: Callable[[], float] = time.monotonic
    ) -> None:
        self._console = console
        self._tally = Tally(get_time)
        live: Live | None = None
        if enabled and console.is_interactive:
            from rich.live import Live

            terminal = on_terminal(console)
            live = Live(
                StatusLines(self._tally, unicode_ok(terminal)),
                console=terminal,
                refresh_per_second=REFRESH_PER_SECOND,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
        super().__init__(live)

    @property
    def wants_total(self) -> bool:
        return self._live is not None

    def set_total(self, total: int) -> None:
        self._tally.total = total

    def watch_in_flight(self, in_flight: Callable[[], int]) -> None:
        """Show ``in_flight()`` (requests on the wire now), read at each redraw."""
        self._tally.in_flight = in_flight

    def advance(self, result: Result) -> None:
        if self._live is None:
            return
        self._tally.add(result)

    def print_summary(self, summary: Summary) -> None:
        print_summary(self._console, summary)
