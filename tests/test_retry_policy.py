"""Pure logic of retries, rate limits and the batch journal: no network, no real clock."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from hx.batch.journal import FileJournal
from hx.batch.ratelimit import RateLimiter
from hx.batch.retry import next_delay, parse_retry_after
from hx.errors import ErrorKind
from hx.models import ErrorInfo, RequestSpec, Result
from hx.settings import IDEMPOTENT_METHODS, RetryPolicy
from hx.values import StatusSet, parse_rate

# 1994-11-06 08:49:37 UTC, the example date of RFC 9110.
RFC_NOW = 784111777.0


def failure(kind: ErrorKind, status: int | None = None, retry_after: float | None = None) -> Result:
    return Result(
        id=1,
        line=1,
        url="http://example.test/",
        method="GET",
        ok=False,
        status=status,
        error=ErrorInfo(kind, "boom"),
        attempts=1,
        retry_after=retry_after,
    )


def http_status(status: int, retry_after: float | None = None) -> Result:
    return failure(ErrorKind.HTTP_STATUS, status, retry_after)


def half() -> float:
    return 0.5


POLICY = RetryPolicy(retries=3, delay=1.0, max_delay=30.0, max_time=None)


def delay_for(
    result: Result,
    method: str = "GET",
    policy: RetryPolicy = POLICY,
    attempt: int = 1,
    elapsed: float = 0.0,
    retry_forced: bool = False,
) -> float | None:
    return next_delay(policy, result, method, attempt, elapsed, retry_forced, random_fraction=half)


# -- RetryPolicy: what is retried, for which methods ---------------------------------


def test_success_is_never_retried() -> None:
    ok = Result(id=1, line=1, url="http://example.test/", method="GET", ok=True, status=200)
    assert delay_for(ok) is None


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH"])
def test_connect_errors_are_retried_for_every_method(method: str) -> None:
    """A refused connection never carried the request: safe even for POST."""
    assert delay_for(failure(ErrorKind.CONNECT), method) == 0.5


@pytest.mark.parametrize("kind", [ErrorKind.TIMEOUT, ErrorKind.PROTOCOL])
@pytest.mark.parametrize("method", sorted(IDEMPOTENT_METHODS))
def test_timeouts_and_broken_exchanges_are_retried_for_idempotent_methods(
    kind: ErrorKind, method: str
) -> None:
    assert delay_for(failure(kind), method) == 0.5


@pytest.mark.parametrize("kind", [ErrorKind.TIMEOUT, ErrorKind.PROTOCOL])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_timeouts_and_broken_exchanges_are_not_retried_for_post(
    kind: ErrorKind, method: str
) -> None:
    assert delay_for(failure(kind), method) is None


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_default_retry_statuses(status: int) -> None:
    assert RetryPolicy().retry_on.members() == {429, 502, 503, 504}
    assert delay_for(http_status(status)) == 0.5


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500, 501, 505])
def test_other_statuses_are_not_retried(status: int) -> None:
    assert delay_for(http_status(status)) is None


def test_retry_on_is_configurable() -> None:
    policy = RetryPolicy(retries=3, delay=1.0, retry_on=StatusSet([(500, 500)]), max_time=None)
    assert delay_for(http_status(500), policy=policy) == 0.5
    assert delay_for(http_status(503), policy=policy) is None


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_retry_statuses_are_not_retried_for_post(method: str) -> None:
    assert delay_for(http_status(503), method) is None


@pytest.mark.parametrize(
    "result",
    [http_status(503), failure(ErrorKind.TIMEOUT), failure(ErrorKind.PROTOCOL)],
    ids=["503", "timeout", "protocol"],
)
def test_retry_forced_and_all_methods_allow_post(result: Result) -> None:
    assert delay_for(result, "POST", retry_forced=True) == 0.5
    all_methods = RetryPolicy(retries=3, delay=1.0, max_time=None, all_methods=True)
    assert delay_for(result, "POST", policy=all_methods) == 0.5


def test_retry_forced_does_not_widen_the_statuses() -> None:
    assert delay_for(http_status(500), "POST", retry_forced=True) is None


@pytest.mark.parametrize(
    "kind", [ErrorKind.TLS, ErrorKind.TOO_MANY_REDIRECTS, ErrorKind.IO, ErrorKind.PROXY]
)
def test_permanent_errors_are_not_retried(kind: ErrorKind) -> None:
    assert delay_for(failure(kind)) is None


@pytest.mark.parametrize("kind", [ErrorKind.INTERRUPTED, ErrorKind.INVALID_INPUT])
def test_interrupted_and_invalid_input_are_never_retried(kind: ErrorKind) -> None:
    forced = RetryPolicy(retries=3, delay=1.0, max_time=None, all_methods=True)
    assert delay_for(failure(kind), policy=forced, retry_forced=True) is None


# -- attempt limit, backoff, Retry-After, budget ---------------------------------------


def test_attempts_are_limited_to_retries_plus_one() -> None:
    result = failure(ErrorKind.CONNECT)
    assert [delay_for(result, attempt=n) is not None for n in (1, 2, 3, 4)] == [
        True,
        True,
        True,
        False,
    ]


def test_zero_retries_means_one_attempt() -> None:
    policy = RetryPolicy(retries=0, max_time=None)
    assert delay_for(failure(ErrorKind.CONNECT), policy=policy) is None


def test_backoff_doubles_up_to_max_delay() -> None:
    policy = RetryPolicy(retries=10, delay=0.5, max_delay=3.0, max_time=None)

    def ceiling(attempt: int) -> float | None:
        result = failure(ErrorKind.CONNECT)
        return next_delay(policy, result, "GET", attempt, 0.0, random_fraction=lambda: 1.0)

    assert [ceiling(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.999999])
def test_full_jitter_scales_the_ceiling(fraction: float) -> None:
    policy = RetryPolicy(retries=10, delay=0.5, max_delay=30.0, max_time=None)
    wait = next_delay(
        policy, failure(ErrorKind.TIMEOUT), "GET", 3, 0.0, random_fraction=lambda: fraction
    )
    assert wait == pytest.approx(2.0 * fraction)


def test_full_jitter_stays_within_bounds_with_the_real_random() -> None:
    policy = RetryPolicy(retries=10, delay=0.5, max_delay=30.0, max_time=None)
    waits = [next_delay(policy, failure(ErrorKind.TIMEOUT), "GET", 4, 0.0) for _ in range(500)]
    assert all(w is not None and 0.0 <= w < 4.0 for w in waits)
    assert len(set(waits)) > 400  # jittered, not one fixed wait


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_replaces_the_computed_wait(status: int) -> None:
    policy = RetryPolicy(retries=3, delay=0.1, max_delay=1.0, max_time=None)
    assert delay_for(http_status(status, retry_after=7.0), policy=policy) == 7.0
    assert delay_for(http_status(status, retry_after=0.0), policy=policy) == 0.0


def test_retry_after_does_not_make_a_status_retryable() -> None:
    assert delay_for(http_status(500, retry_after=1.0)) is None
    assert delay_for(http_status(503, retry_after=1.0), "POST") is None


def test_max_time_refuses_a_retry_that_would_end_past_the_budget() -> None:
    policy = RetryPolicy(retries=10, delay=1.0, max_delay=30.0, max_time=10.0)
    result = failure(ErrorKind.CONNECT)
    # attempt 3: ceiling 4 s, half of it is 2 s
    assert delay_for(result, policy=policy, attempt=3, elapsed=8.0) == 2.0
    assert delay_for(result, policy=policy, attempt=3, elapsed=8.001) is None


def test_max_time_caps_retry_after() -> None:
    policy = RetryPolicy(retries=10, max_time=10.0)
    assert delay_for(http_status(429, retry_after=5.0), policy=policy, elapsed=5.0) == 5.0
    assert delay_for(http_status(429, retry_after=5.0), policy=policy, elapsed=5.5) is None
    assert delay_for(http_status(429, retry_after=3600.0), policy=policy) is None


def test_no_max_time_means_no_budget() -> None:
    result = http_status(429, retry_after=3600.0)
    assert delay_for(result, elapsed=1e6) == 3600.0


# -- parse_retry_after -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"), [("0", 0.0), ("7", 7.0), (" 120 ", 120.0), ("86400", 86400.0)]
)
def test_retry_after_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=lambda: RFC_NOW) == seconds


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:50:07 GMT",  # IMF-fixdate, the preferred form
        "Sunday, 06-Nov-94 08:50:07 GMT",  # obsolete RFC 850 form
        "Sun Nov  6 08:50:07 1994",  # obsolete asctime() form, GMT by definition
    ],
)
def test_retry_after_http_date(value: str) -> None:
    assert parse_retry_after(value, now=lambda: RFC_NOW) == pytest.approx(30.0)


def test_retry_after_date_in_the_past_is_zero() -> None:
    assert parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now=lambda: RFC_NOW) == 0.0


def test_retry_after_date_uses_the_injected_clock() -> None:
    value = "Sun, 06 Nov 1994 08:50:07 GMT"
    assert parse_retry_after(value, now=lambda: RFC_NOW - 60) == pytest.approx(90.0)


@pytest.mark.parametrize(
    "value", [None, "", "   ", "soon", "1.5", "-1", "5s", "0x10", "Sun, 32 Nov 1994 08:49:37 GMT"]
)
def test_retry_after_junk_is_none(value: str | None) -> None:
    assert parse_retry_after(value, now=lambda: RFC_NOW) is None


# -- parse_rate --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "per_second"),
    [
        ("50/s", 50.0),
        ("20", 20.0),
        ("600/m", 10.0),
        ("3600/h", 1.0),
        ("2.5/s", 2.5),
        ("30/m", 0.5),
        (" 50 / s ", 50.0),
    ],
)
def test_parse_rate(text: str, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["", "fast", "0/s", "0", "-5/s", "50/d", "50/", "/s", "1e3/s"])
def test_parse_rate_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rate(text)


# -- RateLimiter -------------------------------------------------------------------


class FakeClock:
    """A clock that moves only when told; sleeps record when each caller would wake."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.wakes: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.wakes.append(self.now + seconds)
        await asyncio.sleep(0)  # yield, as a real sleep would


def test_rate_limiter_spaces_concurrent_acquirers_exactly() -> None:
    clock = FakeClock()
    limiter = RateLimiter(50.0, clock=clock, sleep=clock.sleep)

    async def main() -> None:
        await asyncio.gather(*(limiter.acquire() for _ in range(500)))

    asyncio.run(main())
    # the first goes at once; every other one books its own slot, 20 ms apart
    assert clock.wakes == pytest.approx([100.0 + k * 0.02 for k in range(1, 500)])


def test_rate_limiter_does_not_save_up_a_burst_while_idle() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)

    async def main() -> None:
        await limiter.acquire()
        clock.now += 60.0  # a minute with no requests
        await asyncio.gather(*(limiter.acquire() for _ in range(3)))

    asyncio.run(main())
    assert clock.wakes == pytest.approx([160.1, 160.2])


def test_rate_limiter_on_time_callers_do_not_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4.0, clock=clock, sleep=clock.sleep)

    async def main() -> None:
        for _ in range(5):
            await limiter.acquire()
            clock.now += 0.25

    asyncio.run(main())
    assert clock.wakes == []


def test_rate_limiter_uses_the_loop_clock_by_default() -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async def main() -> None:
        limiter = RateLimiter(1000.0, sleep=record)
        for _ in range(3):
            await limiter.acquire()

    asyncio.run(main())
    assert len(waits) == 2
    assert all(0.0 < w <= 0.002 for w in waits)


# -- FileJournal -------------------------------------------------------------------


def spec(line: int, url: str = "http://example.test/a", id: str | int | None = None) -> RequestSpec:
    return RequestSpec(line=line, url=url, id=id)


def outcome(request: RequestSpec, ok: bool = True, status: int | None = 200) -> Result:
    return Result(
        id=request.record_id,
        line=request.line,
        url=request.url,
        method=request.method,
        ok=ok,
        status=status,
        attempts=1,
    )


def journal_with(path: Path, *entries: tuple[RequestSpec, Result]) -> None:
    journal = FileJournal(path)
    try:
        for request, result in entries:
            journal.record(request, result)
    finally:
        journal.close()


def entries(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_journal_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    done, created = spec(1), spec(2, "http://example.test/b")
    journal_with(path, (done, outcome(done)), (created, outcome(created, status=201)))

    journal = FileJournal(path)
    try:
        assert journal.done_count == 2
        assert journal.torn_lines == 0
        previous = journal.previous(created)
    finally:
        journal.close()
    assert previous == Result(
        id=2,
        line=2,
        url="http://example.test/b",
        method="GET",
        ok=True,
        status=201,
        skipped=True,
    )
    assert previous.to_record()["skipped"] is True


def test_journal_missing_file_is_created_empty(tmp_path: Path) -> None:
    path = tmp_path / "new.journal"
    journal = FileJournal(path)
    try:
        assert journal.done_count == 0
        assert journal.previous(spec(1)) is None
    finally:
        journal.close()
    assert path.read_bytes() == b""


def test_journal_lines_are_complete_json_objects(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    request = spec(3, id="a")
    journal_with(path, (request, outcome(request)))
    data = path.read_bytes()
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    [entry] = entries(path)
    assert set(entry) == {"key", "ok", "status", "url"}
    assert (entry["ok"], entry["status"], entry["url"]) == (True, 200, "http://example.test/a")


def test_journal_ignores_a_torn_last_line_and_appends_on_a_fresh_line(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    first, second, third = spec(1), spec(2), spec(3)
    journal_with(path, (first, outcome(first)))
    whole = path.read_bytes()
    journal_with(path, (second, outcome(second)))
    torn = path.read_bytes()[len(whole) :][:-9]  # killed mid-write: no closing brace, no newline
    path.write_bytes(whole + torn)

    journal = FileJournal(path)
    try:
        assert journal.torn_lines == 1
        assert journal.done_count == 1
        assert journal.previous(first) is not None
        assert journal.previous(second) is None  # its line was torn: run it again
        journal.record(third, outcome(third))
    finally:
        journal.close()

    lines = path.read_bytes().split(b"\n")
    assert lines[0] + b"\n" == whole
    assert lines[1] == torn
    assert json.loads(lines[2])["ok"] is True  # the new entry is not glued to the torn one
    assert lines[3:] == [b""]
    reread = FileJournal(path)
    try:
        assert reread.done_count == 2
        assert reread.torn_lines == 1
        assert reread.previous(third) is not None
    finally:
        reread.close()


def test_journal_line_torn_after_its_json_still_counts(tmp_path: Path) -> None:
    """Killed between the closing brace and the newline: the entry is whole."""
    path = tmp_path / "batch.journal"
    first, second = spec(1), spec(2)
    journal_with(path, (first, outcome(first)))
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    journal_with(path, (second, outcome(second)))
    assert len(entries(path)) == 2
    journal = FileJournal(path)
    try:
        assert (journal.done_count, journal.torn_lines) == (2, 0)
    finally:
        journal.close()


def test_journal_skips_garbage_lines(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    request = spec(1)
    path.write_text('not json\n[1, 2]\n{"ok": true}\n\n')
    journal_with(path, (request, outcome(request)))
    journal = FileJournal(path)
    try:
        assert journal.done_count == 1
        assert journal.previous(request) is not None
    finally:
        journal.close()


@pytest.mark.parametrize(
    "result",
    [
        outcome(spec(1), ok=False, status=503),
        outcome(spec(1), ok=False, status=None),
    ],
    ids=["http-error", "network-error"],
)
def test_journal_failed_entries_are_not_skipped(tmp_path: Path, result: Result) -> None:
    path = tmp_path / "batch.journal"
    journal_with(path, (spec(1), result))
    journal = FileJournal(path)
    try:
        assert journal.done_count == 0
        assert journal.previous(spec(1)) is None
    finally:
        journal.close()


def test_journal_a_later_success_wins_over_an_earlier_failure(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    request = spec(1)
    journal_with(path, (request, outcome(request, ok=False, status=503)))
    journal_with(path, (request, outcome(request)))
    journal = FileJournal(path)
    try:
        assert journal.previous(request) is not None
    finally:
        journal.close()


def test_journal_identity_is_the_id_when_given(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    original = spec(1, "http://example.test/a", id="order-7")
    journal_with(path, (original, outcome(original)))
    journal = FileJournal(path)
    try:
        # the same id on another line, even with another URL, is the same request
        moved = journal.previous(spec(9, "http://example.test/other", id="order-7"))
        assert moved is not None and moved.id == "order-7" and moved.line == 9
        assert journal.previous(spec(1, "http://example.test/a", id="order-8")) is None
        assert journal.previous(spec(1, "http://example.test/a")) is None  # no id: line + URL
    finally:
        journal.close()


def test_journal_string_and_integer_ids_differ(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    request = spec(1, id=7)
    journal_with(path, (request, outcome(request)))
    journal = FileJournal(path)
    try:
        assert journal.previous(spec(1, id=7)) is not None
        assert journal.previous(spec(1, id="7")) is None
    finally:
        journal.close()


def test_journal_identity_without_id_is_line_and_url(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    request = spec(4, "http://example.test/a")
    journal_with(path, (request, outcome(request)))
    journal = FileJournal(path)
    try:
        assert journal.previous(spec(4, "http://example.test/a")) is not None
        assert journal.previous(spec(5, "http://example.test/a")) is None
        assert journal.previous(spec(4, "http://example.test/b")) is None
    finally:
        journal.close()


def test_journal_holds_no_credentials_from_urls(tmp_path: Path) -> None:
    path = tmp_path / "batch.journal"
    request = spec(1, "https://alice:s3cr3t-pw@example.test/private?x=1")
    journal_with(path, (request, outcome(request)))
    text = path.read_text()
    assert "s3cr3t-pw" not in text
    [entry] = entries(path)
    assert entry["url"] == "https://alice:***@example.test/private?x=1"
    journal = FileJournal(path)
    try:
        previous = journal.previous(request)
    finally:
        journal.close()
    assert previous is not None
    assert previous.url == "https://alice:***@example.test/private?x=1"
