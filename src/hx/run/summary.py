"""The end-of-run summary: counts, throughput, latency and its shape, in constant memory.

Memory does not grow with the number of requests: latencies go into
log-spaced histograms, the slowest requests into a heap of ``SLOWEST``, and
per-host counts stop at ``MAX_HOSTS`` hosts (later hosts are folded into one
``other`` row).
"""

from __future__ import annotations

import bisect
import dataclasses
import heapq
import itertools
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from hx.errors import ErrorKind, ExitCode
from hx.frozen import frozen
from hx.models import Result, Timings

SLOWEST = 5
"""How many of the slowest requests the summary names."""
MAX_HOSTS = 1000
"""Hosts counted one by one; requests to any later host count as ``other``."""
OTHER_HOSTS = "other"

_HISTOGRAM_ROWS = 12
"""At most this many display buckets: a histogram that fits a terminal."""
# Bucket edges per decade, finest first: the finest series that stays within
# _HISTOGRAM_ROWS shows the most shape; all are round numbers people read at a glance.
_EDGE_SERIES = (
    (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0),
    (1.0, 1.5, 2.0, 3.0, 5.0, 7.0),
    (1.0, 2.0, 5.0),
    (1.0,),
)


_SMALLEST_MS = 0.001
"""The histograms' first bucket: everything up to a microsecond."""
_log = math.log


class LatencyHistogram:
    """Log-bucketed latencies: percentiles within ``growth - 1`` using a few KB for any count."""

    def __init__(self, growth: float = 1.01) -> None:
        self._growth = growth
        self._per_log = 1 / math.log(growth)
        self._buckets: Counter[int] = Counter()
        self.count = 0
        self.min_ms = math.inf
        self.max_ms = 0.0

    def add(self, ms: float) -> None:
        # Called four times per result (latency, its host, two phases): a few operations.
        bucket = int(_log(ms / _SMALLEST_MS) * self._per_log) if ms > _SMALLEST_MS else 0
        buckets = self._buckets
        buckets[bucket] = buckets.get(bucket, 0) + 1
        self.count += 1
        if ms > self.max_ms:
            self.max_ms = ms
        if ms < self.min_ms:
            self.min_ms = ms

    def _upper_edge(self, bucket: int) -> float:
        return min(_SMALLEST_MS * self._growth ** (bucket + 1), self.max_ms)

    def percentile(self, p: float) -> float | None:
        """The latency below which ``p`` percent of samples fall (an upper bucket edge)."""
        if not self.count:
            return None
        rank = max(1, math.ceil(self.count * p / 100))
        seen = 0
        for bucket in sorted(self._buckets):
            seen += self._buckets[bucket]
            if seen >= rank:
                return self._upper_edge(bucket)
        return self.max_ms

    def percentiles(self) -> dict[str, float | None]:
        """p50, p90, p99 and max, rounded to 0.01 ms (None without samples)."""
        return {
            "p50": _round(self.percentile(50)),
            "p90": _round(self.percentile(90)),
            "p99": _round(self.percentile(99)),
            "max": _round(self.max_ms if self.count else None),
        }

    def update(self, other: LatencyHistogram) -> None:
        """Add ``other``'s samples (same growth) to this histogram."""
        self._buckets.update(other._buckets)
        self.count += other.count
        self.min_ms = min(self.min_ms, other.min_ms)
        self.max_ms = max(self.max_ms, other.max_ms)

    def display_buckets(self) -> list[HistogramBucket]:
        """The distribution in at most 12 log-spaced buckets with round edges, gaps included."""
        if not self.count:
            return []
        edges = _round_edges(max(self.min_ms, 0.01), max(self.max_ms, 0.01))
        counts = [0] * (len(edges) - 1)
        for bucket, count in self._buckets.items():
            # A sample is placed by its bucket's middle: within half a bucket (0.5%).
            middle = _SMALLEST_MS * self._growth ** (bucket + 0.5)
            middle = min(max(middle, self.min_ms), self.max_ms)
            index = bisect.bisect_right(edges, middle) - 1
            counts[min(max(index, 0), len(counts) - 1)] += count
        return [
            HistogramBucket(from_ms=edges[i], to_ms=edges[i + 1], count=count)
            for i, count in enumerate(counts)
        ]


def _round_edges(low: float, high: float) -> list[float]:
    """Round bucket edges from below ``low`` to above ``high``: the finest series that fits."""
    for series in _EDGE_SERIES:
        edges = _edges(series, low, high)
        if len(edges) - 1 <= _HISTOGRAM_ROWS:
            return edges
    return edges  # more decades than rows: one bucket per decade


def _edges(series: tuple[float, ...], low: float, high: float) -> list[float]:
    edges: list[float] = []
    for exponent in itertools.count(math.floor(math.log10(low)) - 1):
        for step in series:
            edge = round(step * 10.0**exponent, 9)
            if edge <= low:
                edges = [edge]  # the last edge at or below ``low`` starts the list
                continue
            edges.append(edge)
            if edge > high:
                return edges
    raise AssertionError("unreachable")  # itertools.count() never ends


@frozen
class HistogramBucket:
    from_ms: float
    to_ms: float
    count: int


@frozen
class SlowRequest:
    id: str | int
    url: str | None
    status: int | None
    error: str | None
    """The error kind, if the request failed."""
    ms: float
    """The final attempt, from sending to the end of the body (the record's elapsed_ms)."""


@frozen
class HostStats:
    host: str
    """A host (``name:port`` as in the URL), or ``other`` for hosts past MAX_HOSTS."""
    requests: int
    ok: int
    failed: int
    p50_ms: float | None
    p99_ms: float | None


@frozen
class Summary:
    total: int
    ok: int
    failed: int
    skipped: int
    by_status: dict[str, int]
    """Status classes: ``{"2xx": 18210, "4xx": 1378}``."""
    by_error: dict[str, int]
    bytes: int
    elapsed_s: float
    latency_ms: dict[str, float | None]
    interrupted: bool
    by_code: dict[str, int] = dataclasses.field(default_factory=dict)
    """Exact statuses: ``{"200": 18000, "204": 210, "404": 1378}``."""
    histogram: list[HistogramBucket] = dataclasses.field(default_factory=list)
    slowest: list[SlowRequest] = dataclasses.field(default_factory=list)
    hosts: list[HostStats] = dataclasses.field(default_factory=list)
    """Busiest hosts first; ``other`` (if any) last."""
    received: int = 0
    """Bytes that crossed the wire this run: a resumed download counts only its rest."""
    ok_bytes: int = 0
    """Bytes of the successful results: for downloads, the files saved (no ``.part`` left)."""
    resumed: int = 0
    """Downloads that continued an earlier ``.part`` instead of starting again."""
    phases_ms: dict[str, dict[str, float | None]] = dataclasses.field(default_factory=dict)
    """Percentiles per phase of the final exchanges (``{"wait": {"p50": ..., ...}}``), for
    the phases that happened at least once (a run over reused connections has no dns)."""

    @property
    def requests_per_second(self) -> float:
        return self.total / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def bytes_per_second(self) -> float:
        return self.received / self.elapsed_s if self.elapsed_s > 0 else 0.0

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


class _HostCounts:
    __slots__ = ("requests", "ok", "latency")

    def __init__(self) -> None:
        self.requests = 0
        self.ok = 0
        # Coarser than the batch's histogram: up to MAX_HOSTS of these are kept.
        self.latency = LatencyHistogram(growth=1.05)

    def update(self, other: _HostCounts) -> None:
        self.requests += other.requests
        self.ok += other.ok
        self.latency.update(other.latency)

    def stats(self, host: str) -> HostStats:
        return HostStats(
            host=host,
            requests=self.requests,
            ok=self.ok,
            failed=self.requests - self.ok,
            p50_ms=_round(self.latency.percentile(50)),
            p99_ms=_round(self.latency.percentile(99)),
        )


PHASES = ("dns", "connect", "tls", "wait", "transfer")
"""The timed phases of an exchange (hx.models.Timings), in the order they happen
(their total is close to the latency percentiles already given)."""


class SummaryBuilder:
    """Fed every result as it is written; ``build()`` at any moment gives the summary."""

    def __init__(self, get_time: Callable[[], float] = time.monotonic) -> None:
        self._get_time = get_time
        self._started = get_time()
        self.total = 0
        self.ok = 0
        self.skipped = 0
        self.bytes = 0
        self._ok_bytes = 0
        self._received = 0
        self._resumed = 0
        self._by_code: Counter[int] = Counter()
        self._by_error: Counter[str] = Counter()
        self._latency = LatencyHistogram()
        self._slowest: list[tuple[float, int, SlowRequest]] = []
        self._offered = 0  # entries offered to _slowest: the tie-breaker
        self._hosts: dict[str, _HostCounts] = {}
        self._other_hosts: _HostCounts | None = None
        self._phases = {phase: LatencyHistogram() for phase in PHASES}

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
        if result.ok:
            self._ok_bytes += result.bytes
        self._received += received_bytes(result)
        if result.resumed_from:
            self._resumed += 1
        # The final attempt, as in the percentiles: the server's time, not hx's queue.
        ms = result.elapsed_ms
        if result.status is not None:
            self._by_code[result.status] += 1
            self._latency.add(ms)
        if result.error is not None:
            self._by_error[str(result.error.kind)] += 1
        slowest = self._slowest
        # Most results are not among the slowest: nothing to build for them. A result
        # with no attempt (invalid input, cut short by a stop) has no duration.
        if result.attempts and (len(slowest) < SLOWEST or ms > slowest[0][0]):
            self._offer_slow(
                ms,
                SlowRequest(
                    id=result.id,
                    url=result.url,
                    status=result.status,
                    error=None if result.error is None else str(result.error.kind),
                    ms=round(ms, 2),
                ),
            )
        if result.timings is not None:
            self._note_phases(result.timings)
        if result.url is not None and "://" in result.url:
            self._count_host(result)

    def _offer_slow(self, ms: float, slow: SlowRequest) -> None:
        """Keep ``slow`` if it is among the SLOWEST slowest so far."""
        slowest = self._slowest
        if len(slowest) >= SLOWEST and ms <= slowest[0][0]:
            return
        self._offered += 1
        # Ties: the earlier request stays, and no SlowRequest is ever compared.
        entry = (ms, self._offered, slow)
        if len(slowest) < SLOWEST:
            heapq.heappush(slowest, entry)
        else:
            heapq.heapreplace(slowest, entry)

    def merge(self, other: SummaryBuilder) -> None:
        """Add the results ``other`` was fed (a worker's, hx.run.workers) to these."""
        self.total += other.total
        self.ok += other.ok
        self.skipped += other.skipped
        self.bytes += other.bytes
        self._ok_bytes += other._ok_bytes
        self._received += other._received
        self._resumed += other._resumed
        self._by_code.update(other._by_code)
        self._by_error.update(other._by_error)
        self._latency.update(other._latency)
        for ms, _seq, slow in sorted(other._slowest, key=_slowest_first):
            self._offer_slow(ms, slow)
        for name, histogram in other._phases.items():
            self._phases[name].update(histogram)
        for host, counts in other._hosts.items():
            self._host_counts(host).update(counts)
        if other._other_hosts is not None:
            self._other().update(other._other_hosts)

    def _note_phases(self, timings: Timings) -> None:
        # Spelled out: this runs for every result.
        phases = self._phases
        if timings.dns is not None:
            phases["dns"].add(timings.dns)
        if timings.connect is not None:
            phases["connect"].add(timings.connect)
        if timings.tls is not None:
            phases["tls"].add(timings.tls)
        if timings.wait is not None:
            phases["wait"].add(timings.wait)
        if timings.transfer is not None:
            phases["transfer"].add(timings.transfer)

    def _count_host(self, result: Result) -> None:
        assert result.url is not None
        counts = self._host_counts(host_of(result.url))
        counts.requests += 1
        counts.ok += result.ok
        if result.status is not None:
            counts.latency.add(result.elapsed_ms)

    def _host_counts(self, host: str) -> _HostCounts:
        """``host``'s counts; those of ``other`` once MAX_HOSTS hosts have counts."""
        counts = self._hosts.get(host)
        if counts is None:
            if len(self._hosts) >= MAX_HOSTS:
                return self._other()
            counts = self._hosts[host] = _HostCounts()
        return counts

    def _other(self) -> _HostCounts:
        if self._other_hosts is None:
            self._other_hosts = _HostCounts()
        return self._other_hosts

    def build(self) -> Summary:
        by_class: Counter[str] = Counter()
        for status, count in self._by_code.items():
            by_class[f"{status // 100}xx"] += count
        return Summary(
            total=self.total,
            ok=self.ok,
            failed=self.failed,
            skipped=self.skipped,
            by_status=dict(sorted(by_class.items())),
            by_error=dict(sorted(self._by_error.items())),
            bytes=self.bytes,
            elapsed_s=self._get_time() - self._started,
            latency_ms=self._latency.percentiles(),
            interrupted=self._by_error.get(ErrorKind.INTERRUPTED, 0) > 0,
            by_code={str(code): count for code, count in sorted(self._by_code.items())},
            histogram=self._latency.display_buckets(),
            slowest=[slow for _ms, _seq, slow in sorted(self._slowest, key=_slowest_first)],
            hosts=self._host_stats(),
            received=self._received,
            ok_bytes=self._ok_bytes,
            resumed=self._resumed,
            phases_ms={
                phase: histogram.percentiles()
                for phase, histogram in self._phases.items()
                if histogram.count
            },
        )

    def _host_stats(self) -> list[HostStats]:
        ranked = sorted(self._hosts.items(), key=lambda item: (-item[1].requests, item[0]))
        rows = [counts.stats(host) for host, counts in ranked]
        if self._other_hosts is not None:
            rows.append(self._other_hosts.stats(OTHER_HOSTS))
        return rows


def _slowest_first(entry: tuple[float, int, SlowRequest]) -> tuple[float, int]:
    ms, seq, _slow = entry
    return -ms, seq


def host_of(url: str) -> str:
    """The host of a result's URL as the summary counts it: ``name:port`` as written."""
    # Result URLs are absolute ("scheme://netloc/..."), credentials already redacted.
    return url.split("/", 3)[2].rpartition("@")[2]


def received_bytes(result: Result) -> int:
    """Bytes over the wire for ``result`` this run (a resumed file: only what was fetched)."""
    if result.received is not None:
        return result.received
    return result.bytes - (result.resumed_from or 0)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def merged(histograms: Iterable[LatencyHistogram]) -> LatencyHistogram:
    """One histogram of all samples of ``histograms`` (each with the default growth)."""
    total = LatencyHistogram()
    for histogram in histograms:
        total.update(histogram)
    return total
