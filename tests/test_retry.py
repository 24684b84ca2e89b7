"""hx.batch.retry: which failures are retried and how long to wait; no clock."""

from __future__ import annotations

import pytest

from hx.batch.retry import next_delay, pause_limit, refused_wait
from hx.errors import ErrorKind
from hx.models import ErrorInfo, Result
from hx.settings import IDEMPOTENT_METHODS, RetryPolicy
from hx.values import StatusSet


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


def test_a_retry_after_beyond_the_budget_is_refused_and_says_why() -> None:
    policy = RetryPolicy(retries=5, max_time=120.0)
    result = http_status(503, retry_after=86400.0)
    assert delay_for(result, policy=policy) is None
    assert refused_wait(policy, result, elapsed=1.0) == (
        "the server asked to retry after 86,400 s, beyond --retry-max-time 120 s"
    )
    assert refused_wait(policy, http_status(503, retry_after=5.0), elapsed=1.0) is None
    assert refused_wait(RetryPolicy(max_time=None), result, elapsed=1.0) is None


def test_a_host_pause_never_outlasts_the_budget() -> None:
    assert pause_limit(RetryPolicy(max_time=120.0), 86400.0) == 120.0
    assert pause_limit(RetryPolicy(max_time=120.0), 3.0) == 3.0
    assert pause_limit(RetryPolicy(max_time=None), 86400.0) == 86400.0
