"""The end-of-run summary: counts, throughput and latency, in constant memory."""

from __future__ import annotations

import dataclasses
import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from hx.errors import ErrorKind, ExitCode
from hx.models import Result


class LatencyHistogram:
    """Log-bucketed latencies: percentiles within 1% using a few KB for any count."""

    _GROWTH = 1.01
    _LOG_GROWTH = math.log(_GROWTH)
    _SMALLEST_MS = 0.001

    def __init__(self) -> None:
        self._buckets: Counter[int] = Counter()
        self.count = 0
        self.max_ms = 0.0

    def add(self, ms: float) -> None:
        self._buckets[self._bucket(ms)] += 1
        self.count += 1
        self.max_ms = max(self.max_ms, ms)

    def _bucket(self, ms: float) -> int:
        return max(
            0, int(math.log(max(ms, self._SMALLEST_MS) / self._SMALLEST_MS) / self._LOG_GROWTH)
        )

    def percentile(self, p: float) -> float | None:
        """The latency below which ``p`` percent of samples fall (an upper bucket edge)."""
        if not self.count:
            return None
        rank = max(1, math.ceil(self.count * p / 100))
        seen = 0
        for bucket in sorted(self._buckets):
            seen += self._buckets[bucket]
            if seen >= rank:
                edge = self._SMALLEST_MS * self._GROWTH ** (bucket + 1)
                return min(edge, self.max_ms)
        return self.max_ms


@dataclasses.dataclass(frozen=True)
class Summary:
    total: int
    ok: int
    failed: int
    skipped: int
    by_status: dict[str, int]
    by_error: dict[str, int]
    bytes: int
    elapsed_s: float
    latency_ms: dict[str, float | None]
    interrupted: bool

    @property
    def requests_per_second(self) -> float:
        return self.total / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def exit_code(self) -> ExitCode:
        """The batch outcome as an exit code (interruption is the caller's to report)."""
        if self.total == 0:
            return ExitCode.USAGE
        if self.failed == 0:
            return ExitCode.OK
        if self.by_error.get(ErrorKind.IO):
            return ExitCode.OUTPUT  # a full disk is not the servers' fault
        return ExitCode.ALL_FAILED if self.ok == 0 else ExitCode.SOME_FAILED

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["elapsed_s"] = round(self.elapsed_s, 3)
        data["requests_per_second"] = round(self.requests_per_second, 1)
        return data


class SummaryBuilder:
    """Fed every result as it is written; ``build()`` at any moment gives the summary."""

    def __init__(self, get_time: Callable[[], float] = time.monotonic) -> None:
        self._get_time = get_time
        self._started = get_time()
        self.total = 0
        self.ok = 0
        self.skipped = 0
        self.bytes = 0
        self._by_status: Counter[str] = Counter()
        self._by_error: Counter[str] = Counter()
        self._latency = LatencyHistogram()

    @property
    def failed(self) -> int:
        return self.total - self.ok

    def add(self, result: Result) -> None:
        self.total += 1
        self.ok += result.ok
        if result.skipped:
            self.skipped += 1
            return
        self.bytes += result.bytes
        if result.status is not None:
            self._by_status[f"{result.status // 100}xx"] += 1
            self._latency.add(result.elapsed_ms)
        if result.error is not None:
            self._by_error[str(result.error.kind)] += 1

    def build(self) -> Summary:
        latency = self._latency
        return Summary(
            total=self.total,
            ok=self.ok,
            failed=self.failed,
            skipped=self.skipped,
            by_status=dict(sorted(self._by_status.items())),
            by_error=dict(sorted(self._by_error.items())),
            bytes=self.bytes,
            elapsed_s=self._get_time() - self._started,
            latency_ms={
                "p50": _round(latency.percentile(50)),
                "p90": _round(latency.percentile(90)),
                "p99": _round(latency.percentile(99)),
                "max": _round(latency.max_ms if latency.count else None),
            },
            interrupted=self._by_error.get(ErrorKind.INTERRUPTED, 0) > 0,
        )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
