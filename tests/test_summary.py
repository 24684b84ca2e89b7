"""hx.run.summary: constant-memory latency percentiles and histogram, counts, slowest
requests, hosts and exit codes."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Callable

import pytest

from hx.errors import ErrorKind, ExitCode
from hx.models import ErrorInfo, Result, Timings
from hx.run.summary import (
    MAX_HOSTS,
    SLOWEST,
    HistogramBucket,
    HostStats,
    LatencyHistogram,
    SlowRequest,
    SummaryBuilder,
)

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
    url: str = "https://a.example/",
    id: int = 1,
    total_ms: float | None = None,
    resumed_from: int | None = None,
) -> Result:
    error = None if kind is None else ErrorInfo(kind, f"{kind} happened")
    never_sent = kind in (ErrorKind.INVALID_INPUT, ErrorKind.INTERRUPTED)
    return Result(
        id=id,
        line=id,
        url=url,
        method="GET",
        ok=ok,
        status=status,
        bytes=size,
        elapsed_ms=elapsed_ms,
        total_ms=total_ms,
        error=error,
        resumed_from=resumed_from,
        attempts=0 if never_sent else 1,
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
        "by_code": {"200": 1, "500": 1},
        "histogram": [{"from_ms": 12.0, "to_ms": 15.0, "count": 2}],
        "slowest": [
            {"id": 1, "url": "https://a.example/", "status": 200, "error": None, "ms": 12.5},
            {
                "id": 1,
                "url": "https://a.example/",
                "status": 500,
                "error": "http_status",
                "ms": 12.5,
            },
            {"id": 1, "url": "https://a.example/", "status": None, "error": "connect", "ms": 10.0},
        ],
        "hosts": [
            {
                "host": "a.example",
                "requests": 3,
                "ok": 1,
                "failed": 2,
                "p50_ms": 12.5,
                "p99_ms": 12.5,
            }
        ],
        "received": 13,
        "ok_bytes": 10,
        "resumed": 0,
        "phases_ms": {},
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


# --- what the summary shows beyond counts ---------------------------------------------


def test_exact_status_codes_next_to_their_classes() -> None:
    summary = build(MIXED).build()
    assert summary.by_code == {"200": 1, "204": 1, "301": 1, "404": 1, "500": 1, "503": 1}
    assert list(summary.by_code) == sorted(summary.by_code)


def test_histogram_buckets_are_round_log_spaced_and_count_every_response() -> None:
    samples = [0.8, 1.1, 1.4, 3.0, 3.0, 7.5, 12.0, 48.0, 250.0]
    buckets = histogram(samples).display_buckets()
    assert sum(bucket.count for bucket in buckets) == len(samples)
    edges = [bucket.from_ms for bucket in buckets] + [buckets[-1].to_ms]
    assert edges == sorted(set(edges))  # contiguous, increasing
    assert all(a.to_ms == b.from_ms for a, b in zip(buckets, buckets[1:], strict=False))
    assert buckets[0].from_ms <= 0.8 < buckets[0].to_ms
    assert buckets[-1].from_ms <= 250.0 < buckets[-1].to_ms
    assert 3 <= len(buckets) <= 12
    ratios = {round(b.to_ms / b.from_ms, 2) for b in buckets}
    assert ratios == {2.0, 2.5}, ratios  # the 1-2-5 series: finer ones need more rows


def test_histogram_of_one_latency_is_one_bucket_holding_it() -> None:
    assert histogram([12.0] * 10).display_buckets() == [HistogramBucket(12.0, 15.0, 10)]


def test_narrow_distributions_get_finer_buckets() -> None:
    buckets = histogram([10.0, 11.0, 13.0, 14.0, 19.0]).display_buckets()
    assert [(b.from_ms, b.to_ms) for b in buckets] == [(10.0, 12.0), (12.0, 15.0), (15.0, 20.0)]
    assert [b.count for b in buckets] == [2, 2, 1]


def test_wide_distributions_stay_within_twelve_rows() -> None:
    buckets = histogram([0.05, 1.0, 30.0, 900.0, 60_000.0]).display_buckets()
    assert len(buckets) <= 12
    assert sum(b.count for b in buckets) == 5


def test_slowest_requests_keep_the_top_five_by_their_final_attempt() -> None:
    results = [result(True, 200, id=n, elapsed_ms=float(n)) for n in range(1, 101)]
    results.append(result(True, 200, id=500, elapsed_ms=500.0, total_ms=5000.0))  # retried
    results.append(result(False, None, ErrorKind.INVALID_INPUT, id=501, elapsed_ms=0.0))
    results.append(result(False, None, ErrorKind.INTERRUPTED, id=502, total_ms=9000.0))
    slowest = build(results).build().slowest
    assert len(slowest) == SLOWEST
    assert [(slow.id, slow.ms) for slow in slowest] == [
        (500, 500.0),
        (100, 100.0),
        (99, 99.0),
        (98, 98.0),
        (97, 97.0),
    ]
    assert slowest[0] == SlowRequest(500, "https://a.example/", 200, None, 500.0)


def test_hosts_ranked_by_requests_with_their_percentiles() -> None:
    results = [result(True, 200, url="http://b.example:8080/x", elapsed_ms=20.0)] * 3
    results += [result(False, 503, ErrorKind.HTTP_STATUS, url="https://u:***@a.example/")]
    results += [result(False, None, ErrorKind.CONNECT, url="https://c.example/")] * 2
    results += [result(False, None, ErrorKind.INVALID_INPUT, url="not a url")]
    hosts = build(results).build().hosts
    assert hosts == [
        HostStats("b.example:8080", 3, 3, 0, 20.0, 20.0),
        HostStats("c.example", 2, 0, 2, None, None),
        HostStats("a.example", 1, 0, 1, 10.0, 10.0),
    ]


def test_hosts_past_the_limit_fold_into_other() -> None:
    builder = SummaryBuilder(get_time=FakeClock())
    for n in range(MAX_HOSTS + 50):
        builder.add(result(True, 200, url=f"http://h{n}.example/"))
    builder.add(result(False, 500, ErrorKind.HTTP_STATUS, url="http://h0.example/"))
    hosts = builder.build().hosts
    assert len(hosts) == MAX_HOSTS + 1
    assert hosts[0] == HostStats("h0.example", 2, 1, 1, 10.0, 10.0)
    assert hosts[-1] == HostStats("other", 50, 50, 0, 10.0, 10.0)


def test_received_counts_only_what_crossed_the_wire() -> None:
    results = [
        result(True, 200, size=1000),
        result(True, 206, size=1000, resumed_from=600),
        result(True, 200, size=500, resumed_from=0),
        result(False, None, ErrorKind.CONNECT, size=300),  # a .part left for -C
    ]
    summary = build(results, elapsed=2.0).build()
    assert (summary.bytes, summary.ok_bytes) == (2800, 2500)
    assert (summary.received, summary.resumed) == (2200, 1)
    assert summary.bytes_per_second == 1100.0


def test_phase_percentiles_cover_the_phases_that_happened() -> None:
    fresh = Timings(dns=1.0, connect=2.0, tls=None, wait=10.0, transfer=1.0, total=14.0)
    reused = Timings(wait=30.0, transfer=3.0, total=33.0)
    results = [
        dataclasses.replace(result(True, 200), timings=fresh),
        dataclasses.replace(result(True, 200), timings=reused),
        dataclasses.replace(result(True, 200), timings=reused),
        result(False, None, ErrorKind.CONNECT),
    ]
    phases = build(results).build().phases_ms
    assert list(phases) == ["dns", "connect", "wait", "transfer"]  # no TLS happened
    assert phases["dns"]["max"] == 1.0
    assert phases["wait"]["p50"] == pytest.approx(30.0, rel=0.01)
    assert phases["wait"]["max"] == 30.0
    assert build([result(True, 200)]).build().phases_ms == {}


@pytest.mark.parametrize("seed", range(5))
def test_merged_tallies_summarise_as_one_builder_fed_everything(seed: int) -> None:
    """A parent merges its workers' tallies (hx.run.workers): the same summary."""
    rng = random.Random(seed)
    kinds = [None, ErrorKind.CONNECT, ErrorKind.HTTP_STATUS, ErrorKind.INVALID_INPUT]
    timings = [None, Timings(dns=1.0, connect=2.0, wait=5.0, transfer=1.0, total=9.0)]
    results = []
    for n in range(400):
        kind = rng.choice(kinds)
        item = result(
            kind is None,
            None
            if kind in (ErrorKind.CONNECT, ErrorKind.INVALID_INPUT)
            else rng.choice([200, 404]),
            kind,
            size=rng.randrange(1000),
            elapsed_ms=rng.uniform(0.5, 900.0),
            url=f"http://h{rng.randrange(40)}.example/",
            id=n,
            resumed_from=rng.choice([None, 0, 10]),
        )
        results.append(dataclasses.replace(item, timings=rng.choice(timings)))
    whole = build(results).build()
    clock = FakeClock()
    parent = SummaryBuilder(get_time=clock)
    for share in (results[0::3], results[1::3], results[2::3]):
        parent.merge(build(share))
    clock.now += 2.5
    merged = parent.build()
    assert merged.to_dict() == whole.to_dict()


def test_merged_hosts_past_the_limit_fold_into_other() -> None:
    first = build([result(True, 200, url=f"http://a{n}.example/") for n in range(MAX_HOSTS)])
    second = build([result(True, 200, url=f"http://b{n}.example/") for n in range(30)])
    second.add(result(True, 200, url="http://a0.example/"))
    first.merge(second)
    hosts = first.build().hosts
    assert len(hosts) == MAX_HOSTS + 1
    assert hosts[0] == HostStats("a0.example", 2, 2, 0, 10.0, 10.0)
    assert hosts[-1] == HostStats("other", 30, 30, 0, 10.0, 10.0)
