"""One stream across its connections: the events written, their timing, and its result.

Event records go to the sink as they arrive; ``seq`` counts every event record
(error events too) and carries on across reconnections, as do the last event
id and the server's reconnection time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

import httpx

from hx.models import ErrorInfo, RequestSpec, Result, StreamEnd, StreamStats
from hx.request.fetch import body_path, result_for
from hx.request.retry_after import parse_retry_after
from hx.run.summary import LatencyHistogram
from hx.stream.framing import BadEvent, Framer, Item
from hx.stream.lines import LineTooLong, Piece
from hx.stream.tally import StreamTally

OK_ENDS: frozenset[StreamEnd] = frozenset({"eof", "max_events", "max_time"})
"""Endings that leave a stream ok (given an ok status): the server's, or the user's limits."""


class EventSink(Protocol):
    """Where event records go as they arrive (the run's RecordWriter)."""

    def write_event(self, record: dict[str, Any]) -> None: ...


class StreamState:
    """What one stream has delivered so far; :meth:`result` makes its record."""

    def __init__(
        self,
        spec: RequestSpec,
        max_events: int | None,
        output_dir: Path | None,
        sink: EventSink | None,
        tally: StreamTally,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.spec = spec
        self._max_events = max_events
        self._path = body_path(output_dir, spec) if output_dir is not None else None
        self._file: IO[bytes] | None = None
        self._sink = sink
        self._tally = tally
        self._clock = clock
        self._started = clock()
        self._last_event_ms: float | None = None
        self._gaps = LatencyHistogram()
        self.seq = 0
        self.events = 0
        self.bad_events = 0
        self.bytes = 0
        self.first_event_ms: float | None = None
        self.response: httpx.Response | None = None
        """The last response; None until the first one."""
        self.was_sse = False
        """A connection was read as SSE: a drop may be reconnected."""
        self.last_event_id = ""
        self.retry_ms: int | None = None
        self.reconnects = 0

    def elapsed_ms(self) -> float:
        return (self._clock() - self._started) * 1000

    def received(self, chunk: bytes) -> None:
        """Decoded body bytes arrived: count them, and append them to the -O file."""
        self.bytes += len(chunk)
        if self._path is not None:
            if self._file is None:
                self._file = open(self._path, "ab")  # noqa: SIM115 - closed by close()
            self._file.write(chunk)
            self._file.flush()  # "as it arrives": a tail -f sees each chunk

    def take(self, framer: Framer, piece: Piece) -> bool:
        """Read one line with ``framer``; True once --max-events events have been written."""
        if isinstance(piece, LineTooLong):
            item = framer.line_too_long(piece.limit)
        else:
            item = framer.line(piece)
        if item is not None:
            self._emit(item)
        return self._max_events is not None and self.events >= self._max_events

    def _emit(self, item: Item) -> None:
        t_ms = self.elapsed_ms()
        self.seq += 1
        record: dict[str, Any] = {
            "id": self.spec.record_id,
            "seq": self.seq,
            "t_ms": round(t_ms, 3),
        }
        if isinstance(item, BadEvent):
            self.bad_events += 1
            self._tally.bad_event()
            record["error"] = {"kind": item.kind, "message": item.message}
        else:
            self.events += 1
            gap_ms = None if self._last_event_ms is None else t_ms - self._last_event_ms
            if gap_ms is None:
                self.first_event_ms = t_ms
            else:
                self._gaps.add(gap_ms)
            self._last_event_ms = t_ms
            self._tally.event(first_ms=t_ms if gap_ms is None else None, gap_ms=gap_ms)
            record.update(item)
        if self._sink is not None:
            self._sink.write_event(record)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def result(self, end: StreamEnd, error: ErrorInfo | None = None) -> Result:
        """The stream's record, as it ended."""
        response = self.response
        return result_for(
            self.spec,
            response,
            ok=error is None and response is not None and end in OK_ENDS,
            elapsed_ms=self.elapsed_ms(),
            bytes=self.bytes,
            error=error,
            attempts=1,
            path=None if self._path is None else str(self._path),
            stream=StreamStats(
                end=end,
                events=self.events,
                bad_events=self.bad_events,
                first_event_ms=self.first_event_ms,
                gap_p50_ms=self._gaps.percentile(50),
                gap_p99_ms=self._gaps.percentile(99),
                reconnects=self.reconnects,
            ),
            retry_after=None
            if response is None
            else parse_retry_after(response.headers.get("retry-after")),
            # Once bytes came, events (or -O bytes) were handed on: no attempt may repeat them.
            replayable=self.bytes == 0,
        )
