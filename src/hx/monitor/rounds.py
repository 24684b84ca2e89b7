"""``--every``: the input run again and again on one client, on a fixed schedule.

Round n is due at ``start + (n - 1) * every``. A round that runs past the next
one's time delays it, never overlaps it: the next round starts as soon as the
late one ends, and the times that passed meanwhile are skipped (no burst of
rounds to catch up). Each round is one batch on the run's one client, so the
connections the pool keeps alive serve the next round. Records carry
``round``; a line on stderr sums up each round; the exit code is the last
round's. SIGINT or SIGTERM stops the round running (as for any run) or ends
the wait for the next at once.

The input file is read once, before the first round, into a list (memory grows
with its length, unlike a single run); ``--reload`` reads it again for each round.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from hx.batch.engine import Fetcher
from hx.batch.feed import ItemSource
from hx.batch.sources import open_source
from hx.models import InputItem
from hx.monitor.options import Schedule
from hx.request.fetch import fetch
from hx.run.runner import (
    BatchJob,
    FetchInput,
    Notify,
    Outcome,
    Reporter,
    open_run,
    read_fetch_input,
)
from hx.run.summary import Summary


class Timetable:
    """When each round starts: on the ``every`` grid from ``start``, never two at once."""

    def __init__(self, every: float, start: float) -> None:
        self._every = every
        self._start = start
        self._slot = 0

    def wait_after(self, now: float) -> float:
        """Seconds from ``now`` (a round just ended) until the next round is due."""
        self._slot += 1
        due = self._start + self._slot * self._every
        if now < due:
            return due - now
        self._slot = int((now - self._start) // self._every)  # late: start now, skip missed times
        return 0.0


async def run_rounds(
    job: BatchJob,
    fetch_input: FetchInput,
    progress: Reporter,
    notify: Notify,
    fetcher: Fetcher = fetch,
    tell_round: Notify | None = None,
) -> Outcome:
    """``hx fetch --every``: rounds of ``fetch_input`` until ``--rounds`` or a signal.

    ``tell_round`` gets each round's summary line (default: ``notify``).
    """
    schedule = job.monitor.schedule
    assert schedule is not None
    read = _reader(fetch_input, schedule)
    last: Summary | None = None
    async with open_run(job, progress, notify, fetcher) as run:
        timetable = Timetable(schedule.every, time.monotonic())
        for number in itertools.count(1):
            started = time.monotonic()
            last = await run.batch(ItemSource(read()), round=number)
            assert last is not None
            (tell_round or notify)(round_line(number, last, time.monotonic() - started))
            if run.received or not last.total or number == schedule.rounds:
                break
            if not await run.pause(timetable.wait_after(time.monotonic())):
                break
    return run.outcome(last)


def _reader(fetch_input: FetchInput, schedule: Schedule) -> Callable[[], list[InputItem]]:
    """What each round runs: the input read now, or again for each round (``--reload``)."""

    def read() -> list[InputItem]:
        with open_source(fetch_input.source) as stream:
            return list(read_fetch_input(stream, fetch_input))

    if schedule.reload:
        return read
    items = read()
    return lambda: items


def round_line(number: int, summary: Summary, seconds: float) -> str:
    """``round 3: 50 requests, 48 ok, 2 failed (http_status 2), p50 12 ms, in 0.41 s``."""
    failed = f", {summary.failed:,} failed" if summary.failed else ""
    if summary.by_error:
        failed += " (" + ", ".join(f"{kind} {n:,}" for kind, n in summary.by_error.items()) + ")"
    p50 = summary.latency_ms.get("p50")
    latency = f", p50 {p50:,.0f} ms" if p50 is not None else ""
    noun = "request" if summary.total == 1 else "requests"
    return (
        f"round {number}: {summary.total:,} {noun}, {summary.ok:,} ok{failed}{latency},"
        f" in {seconds:.2f} s"
    )
