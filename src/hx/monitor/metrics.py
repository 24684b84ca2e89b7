"""``--metrics-file FILE``: Prometheus text exposition, for node_exporter's textfile collector.

Written atomically (``FILE.part`` renamed over FILE: name it ``*.prom`` in
the collector's directory) after the run, or after each round of
``--every``, with prometheus-client's exposition writer (imported only
then). Counts add up over the rounds of one process:

``hx_requests_total{code, error}``            records by status (``code``, empty when no
                                              response came) and error kind (empty when ok)
``hx_request_duration_seconds``               histogram of the final attempt's time
                                              (``elapsed_ms``) of records with a status
``hx_host_up{host}``                          1 if a request to the host succeeded in its
                                              latest run or round, else 0
``hx_host_last_success_timestamp_seconds{host}``  when a request to the host last succeeded
``hx_last_run_timestamp_seconds``             when the latest run or round ended

Hosts are ``name:port`` as in the URL; past MAX_HOSTS (hx.run.summary) they
are counted as one host ``other``.
"""

from __future__ import annotations

import bisect
import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from hx.errors import OutputError
from hx.models import Result
from hx.run.summary import MAX_HOSTS, OTHER_HOSTS, host_of
from hx.storage import write_atomically

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Upper bounds in seconds: Prometheus' default buckets, and 30 s and 60 s for slow hosts."""


@dataclasses.dataclass(slots=True)
class _Host:
    round: int | None = None
    """The run or round its ``up`` describes."""
    up: bool = False
    last_success: float | None = None


class Metrics:
    """Counts of every record, written to ``path`` by :meth:`write`."""

    def __init__(self, path: Path, get_time: Callable[[], float] = time.time) -> None:
        self.path = path
        self._get_time = get_time
        self._requests: Counter[tuple[str, str]] = Counter()
        self._buckets = [0] * (len(BUCKETS) + 1)
        self._seconds = 0.0
        self._hosts: dict[str, _Host] = {}
        self._last_run: float | None = None

    def add(self, result: Result) -> None:
        code = "" if result.status is None else str(result.status)
        self._requests[code, "" if result.error is None else str(result.error.kind)] += 1
        if result.status is not None:
            seconds = result.elapsed_ms / 1000
            self._buckets[bisect.bisect_left(BUCKETS, seconds)] += 1
            self._seconds += seconds
        if result.url is not None and "://" in result.url:
            self._note_host(result)

    def _note_host(self, result: Result) -> None:
        assert result.url is not None
        name = host_of(result.url)
        if name not in self._hosts and len(self._hosts) >= MAX_HOSTS:
            name = OTHER_HOSTS
        host = self._hosts.setdefault(name, _Host())
        if host.round != result.round:  # a new round: its own requests decide
            host.round, host.up = result.round, False
        if result.ok:
            host.up = True
            host.last_success = self._get_time()

    def write(self) -> None:
        """Write every metric to the file, replacing it atomically."""
        from prometheus_client.exposition import generate_latest

        self._last_run = self._get_time()
        try:
            write_atomically(self.path, generate_latest(_Collector(self)))
        except OSError as exc:
            raise OutputError(f"--metrics-file {self.path}: {exc.strerror or exc}") from exc

    def families(self) -> Iterator[Metric]:
        """The metrics as prometheus-client's metric families."""
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        requests = CounterMetricFamily(
            "hx_requests", "Records by HTTP status and error kind.", labels=("code", "error")
        )
        for (code, error), count in sorted(self._requests.items()):
            requests.add_metric((code, error), count)
        yield requests
        cumulative, total = [], 0
        for bound, count in zip((*map(str, BUCKETS), "+Inf"), self._buckets, strict=True):
            total += count
            cumulative.append((bound, float(total)))
        yield HistogramMetricFamily(
            "hx_request_duration_seconds",
            "Time of each request's final attempt, from sending it to the end of its body.",
            buckets=cumulative,
            sum_value=self._seconds,
        )
        up = GaugeMetricFamily(
            "hx_host_up", "1 if a request to the host succeeded in its latest run or round.",
            labels=("host",),
        )  # fmt: skip
        last_success = GaugeMetricFamily(
            "hx_host_last_success_timestamp_seconds",
            "When a request to the host last succeeded (Unix time).",
            labels=("host",),
        )
        for name, host in sorted(self._hosts.items()):
            up.add_metric((name,), float(host.up))
            if host.last_success is not None:
                last_success.add_metric((name,), host.last_success)
        yield up
        yield last_success
        if self._last_run is not None:
            yield GaugeMetricFamily(
                "hx_last_run_timestamp_seconds",
                "When the latest run or round ended (Unix time).",
                value=self._last_run,
            )


class _Collector:
    """What prometheus-client's writer asks of a registry: ``collect()``."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        return self._metrics.families()
