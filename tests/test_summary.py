"""hx.run.summary: constant-memory latency percentiles, batch counts and exit codes."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Callable

import pytest

from hx.errors import ErrorKind, ExitCode
from hx.models import ErrorInfo, Result
from hx.run.summary import LatencyHistogram, SummaryBuilder

PERCENTILES = (1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100)


def exact_percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile, the definition the histogram approximates."""
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(len(ordered) * p / 100)) - 1]


def histogram(samples: list[float]) -> LatencyHistogram:
    hist = LatencyHistogram()
    for ms in samples:
        hist.add(ms)
    return hist


DISTRIBUTIONS: dict[str, Callable[[random.Random], float]] = {
    "uniform": lambda rng: rng.uniform(0.5, 2000.0),
    "lognormal": lambda rng: rng.lognormvariate(3.0, 1.5),
    "exponential": lambda rng: rng.expovariate(1 / 40),
    "wide": lambda rng: 10 ** rng.uniform(-2, 5),
}


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
@pytest.mark.parametrize("seed", [1, 2])
def test_percentiles_within_one_percent(name: str, seed: int) -> None:
    rng = random.Random(seed)
    samples = [DISTRIBUTIONS[name](rng) for _ in range(5000)]
    hist = histogram(samples)
    assert hist.count == 5000
    assert hist.max_ms == max(samples)
    for p in PERCENTILES:
        exact = exact_percentile(samples, p)
        approx = hist.percentile(p)
        assert approx is not None
        assert abs(approx - exact) <= 0.01 * exact, (p, exact, approx)


def test_percentile_100_is_the_maximum() -> None:
    samples = [3.0, 1.0, 250.5, 7.25]
    assert histogram(samples).percentile(100) == 250.5


def test_empty_histogram() -> None:
    hist = LatencyHistogram()
    assert hist.count == 0
    assert hist.max_ms == 0.0
    assert [hist.percentile(p) for p in (0, 50, 100)] == [None, None, None]


def test_one_sample_is_every_percentile() -> None:
    hist = histogram([123.456])
    assert [hist.percentile(p) for p in (0, 1, 50, 99, 100)] == [123.456] * 5


def test_zero_latencies() -> None:
    hist = histogram([0.0, 0.0, 0.0])
    assert hist.max_ms == 0.0
    assert [hist.percentile(p) for p in (0, 50, 100)] == [0.0, 0.0, 0.0]


def test_identical_samples() -> None:
    hist = histogram([42.0] * 1000)
    assert [hist.percentile(p) for p in PERCENTILES] == [42.0] * len(PERCENTILES)


# --- SummaryBuilder ------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def result(
    ok: bool,
    status: int | None = None,
    kind: ErrorKind | None = None,
    size: int = 0,
    elapsed_ms: float = 10.0,
) -> Result:
    error = None if kind is None else ErrorInfo(kind, f"{kind} happened")
    return Result(
        id=1,
        line=1,
        url="https://a.example/",
        method="GET",
        ok=ok,
        status=status,
        bytes=size,
        elapsed_ms=elapsed_ms,
        error=error,
    )


def build(results: list[Result], elapsed: float = 2.5) -> SummaryBuilder:
    clock = FakeClock()
    builder = SummaryBuilder(get_time=clock)
    for item in results:
        builder.add(item)
    clock.now += elapsed
    return builder


MIXED = [
    result(True, 200, size=100),
    result(True, 204),
    result(True, 301, size=5),
    result(False, 404, ErrorKind.HTTP_STATUS, size=20),
    result(False, 500, ErrorKind.HTTP_STATUS, size=30),
    result(False, 503, ErrorKind.HTTP_STATUS),
    result(False, None, ErrorKind.CONNECT, elapsed_ms=5000.0),
    result(False, None, ErrorKind.TIMEOUT, elapsed_ms=9000.0),
    result(False, None, ErrorKind.CONNECT),
    result(False, None, ErrorKind.INVALID_INPUT, elapsed_ms=0.0),
]


def test_counts_by_status_class_and_error_kind() -> None:
    summary = build(MIXED).build()
    assert (summary.total, summary.ok, summary.failed) == (10, 3, 7)
    assert summary.by_status == {"2xx": 2, "3xx": 1, "4xx": 1, "5xx": 2}
    assert summary.by_error == {"connect": 2, "http_status": 3, "invalid_input": 1, "timeout": 1}
    assert list(summary.by_error) == sorted(summary.by_error)
    assert summary.bytes == 155
    assert summary.interrupted is False


def test_latency_counts_only_results_with_a_response() -> None:
    results = [result(True, 200, elapsed_ms=ms) for ms in (10.0, 20.0, 30.0)]
    results.append(result(False, None, ErrorKind.TIMEOUT, elapsed_ms=30000.0))
    summary = build(results).build()
    assert summary.latency_ms["max"] == 30.0
    assert summary.latency_ms["p99"] == 30.0


def test_skipped_results_count_but_add_no_bytes_status_or_latency() -> None:
    skipped = dataclasses.replace(result(True, 200, size=999, elapsed_ms=500.0), skipped=True)
    summary = build([result(True, 200, size=10, elapsed_ms=20.0), skipped]).build()
    assert (summary.total, summary.ok, summary.failed, summary.skipped) == (2, 2, 0, 1)
    assert summary.bytes == 10
    assert summary.by_status == {"2xx": 1}
    assert summary.latency_ms["max"] == 20.0
    assert summary.exit_code() is ExitCode.OK


def test_elapsed_and_requests_per_second_use_the_injected_clock() -> None:
    summary = build(MIXED, elapsed=2.5).build()
    assert summary.elapsed_s == 2.5
    assert summary.requests_per_second == 4.0


def test_build_reads_the_clock_each_time() -> None:
    clock = FakeClock(50.0)
    builder = SummaryBuilder(get_time=clock)
    builder.add(result(True, 200))
    clock.now = 51.0
    first = builder.build()
    builder.add(result(True, 200))
    clock.now = 54.0
    second = builder.build()
    assert (first.total, first.elapsed_s) == (1, 1.0)
    assert (second.total, second.elapsed_s, second.requests_per_second) == (2, 4.0, 0.5)


def test_zero_elapsed_gives_zero_rate() -> None:
    assert build([result(True, 200)], elapsed=0.0).build().requests_per_second == 0.0


def test_interrupted_results_mark_the_summary() -> None:
    results = [result(True, 200), result(False, None, ErrorKind.INTERRUPTED)]
    summary = build(results).build()
    assert summary.interrupted is True
    assert summary.by_error == {"interrupted": 1}


@pytest.mark.parametrize(
    ("results", "code"),
    [
        ([result(True, 200), result(True, 302)], ExitCode.OK),
        ([result(True, 200), result(False, 500, ErrorKind.HTTP_STATUS)], ExitCode.SOME_FAILED),
        (
            [result(False, 404, ErrorKind.HTTP_STATUS), result(False, None, ErrorKind.CONNECT)],
            ExitCode.ALL_FAILED,
        ),
        ([], ExitCode.USAGE),
    ],
    ids=["all-ok", "some-failed", "all-failed", "empty"],
)
def test_exit_code(results: list[Result], code: ExitCode) -> None:
    assert build(results).build().exit_code() is code


def test_to_dict_is_json_serialisable_and_exact() -> None:
    results = [
        result(True, 200, size=10, elapsed_ms=12.5),
        result(False, 500, ErrorKind.HTTP_STATUS, size=3, elapsed_ms=12.5),
        result(False, None, ErrorKind.CONNECT),
    ]
    data = build(results, elapsed=1.23456).build().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "total": 3,
        "ok": 1,
        "failed": 2,
        "skipped": 0,
        "by_status": {"2xx": 1, "5xx": 1},
        "by_error": {"connect": 1, "http_status": 1},
        "bytes": 13,
        "elapsed_s": 1.235,
        "latency_ms": {"p50": 12.5, "p90": 12.5, "p99": 12.5, "max": 12.5},
        "interrupted": False,
        "requests_per_second": 2.4,
    }


def test_empty_summary_to_dict() -> None:
    data = build([], elapsed=0.0).build().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["latency_ms"] == {"p50": None, "p90": None, "p99": None, "max": None}
    assert (data["total"], data["requests_per_second"]) == (0, 0.0)


def test_a_file_that_could_not_be_written_exits_with_the_output_code() -> None:
    from hx.errors import ErrorKind, ExitCode
    from hx.models import ErrorInfo, Result

    builder = SummaryBuilder(get_time=lambda: 0.0)
    builder.add(Result(id=1, line=1, url="http://h/", method="GET", ok=True, status=200))
    error = ErrorInfo(ErrorKind.IO, "no space left on device")
    builder.add(Result(id=2, line=2, url="http://h/", method="GET", ok=False, error=error))
    assert builder.build().exit_code() == ExitCode.OUTPUT
