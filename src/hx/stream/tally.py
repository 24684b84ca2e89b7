"""The stream run's summary: events, time to first event and gaps, in constant memory."""

from __future__ import annotations

from collections import Counter

from hx.frozen import frozen
from hx.models import Result
from hx.run.summary import LatencyHistogram, Summary


@frozen
class StreamSummary:
    streams: int
    ok: int
    failed: int
    events: int
    bad_events: int
    first_event_p50_ms: float | None
    first_event_p99_ms: float | None
    gap_p50_ms: float | None
    gap_p99_ms: float | None
    bytes: int
    elapsed_s: float
    ends: dict[str, int]
    """How the streams ended: ``{"eof": 180, "max_time": 20}``."""
    by_error: dict[str, int]
    reconnects: int


class StreamTally:
    """Fed every event as it is written and every final result; ``summary()`` at the end."""

    def __init__(self) -> None:
        self.events = 0
        self.bad_events = 0
        self.reconnects = 0
        self._first_event = LatencyHistogram()
        self._gaps = LatencyHistogram()
        self._ends: Counter[str] = Counter()

    def event(self, first_ms: float | None, gap_ms: float | None) -> None:
        """An event was written: its stream's first (``first_ms`` in), or ``gap_ms`` after one."""
        self.events += 1
        if first_ms is not None:
            self._first_event.add(first_ms)
        if gap_ms is not None:
            self._gaps.add(gap_ms)

    def bad_event(self) -> None:
        self.bad_events += 1

    def add(self, result: Result) -> None:
        """A stream's final result (streams that never started have no ``stream``)."""
        if result.stream is not None:
            self._ends[result.stream.end] += 1
            self.reconnects += result.stream.reconnects

    def summary(self, run: Summary) -> StreamSummary:
        """This tally with ``run``'s counts (the engine's summary of the final records)."""
        return StreamSummary(
            streams=run.total,
            ok=run.ok,
            failed=run.failed,
            events=self.events,
            bad_events=self.bad_events,
            first_event_p50_ms=self._first_event.percentile(50),
            first_event_p99_ms=self._first_event.percentile(99),
            gap_p50_ms=self._gaps.percentile(50),
            gap_p99_ms=self._gaps.percentile(99),
            bytes=run.bytes,
            elapsed_s=run.elapsed_s,
            ends=dict(sorted(self._ends.items())),
            by_error=run.by_error,
            reconnects=self.reconnects,
        )
