"""When to try a request again, and how long to wait first.

Retried: connection failures (the request never left, so any method), and
for idempotent methods (or with ``retry_all_methods``) timeouts, broken
exchanges (resets, short bodies, a keep-alive connection the server closed)
and the statuses in ``retry_on``. Waits grow exponentially with full jitter;
a ``Retry-After`` header replaces the computed wait. Never retried: a request
whose answer was partly handed on already (``hx stream``'s events), which
another attempt would hand on twice.

The user's limits bound every wait, whatever a server says: no retry starts
and no wait ends after ``max_time`` from the first attempt. A Retry-After
that asks for longer fails the request at once (:func:`refused_wait` says
why), and a host's pause never outlasts ``max_time`` either.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from hx.errors import ErrorKind
from hx.models import Result
from hx.request.retry_after import MAX_RETRY_AFTER
from hx.settings import IDEMPOTENT_METHODS, RetryPolicy

# A connect failure means the request was never sent: safe for any method.
_ALWAYS_SAFE = frozenset({ErrorKind.CONNECT})
_SAFE_IF_IDEMPOTENT = frozenset({ErrorKind.TIMEOUT, ErrorKind.PROTOCOL})


def next_delay(
    policy: RetryPolicy,
    result: Result,
    method: str,
    attempt: int,
    elapsed: float,
    retry_forced: bool = False,
    random_fraction: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or None to stop here.

    ``elapsed`` is the time since the first attempt started;
    ``retry_forced`` is an input line's ``"retry": true``.
    """
    if attempt > policy.retries or not retryable(policy, result, method, retry_forced):
        return None
    if result.retry_after is not None:
        wait = result.retry_after
    else:
        ceiling = min(policy.max_delay, policy.delay * 2 ** (attempt - 1))
        wait = ceiling * random_fraction()
    if policy.max_time is not None and elapsed + wait > policy.max_time:
        return None
    return wait


def retryable(policy: RetryPolicy, result: Result, method: str, retry_forced: bool) -> bool:
    """Whether ``result``'s failure is one that another attempt may cure."""
    error = result.error
    if error is None or error.kind in (ErrorKind.INTERRUPTED, ErrorKind.INVALID_INPUT):
        return False
    if not result.replayable:
        return False
    if error.kind in _ALWAYS_SAFE:
        return True
    if not (retry_forced or policy.all_methods or method in IDEMPOTENT_METHODS):
        return False
    if error.kind == ErrorKind.HTTP_STATUS:
        return result.status in policy.retry_on
    return error.kind in _SAFE_IF_IDEMPOTENT


def refused_wait(policy: RetryPolicy, result: Result, elapsed: float) -> str | None:
    """Why a Retry-After was not waited for: it asked for more than the budget left."""
    wait = result.retry_after
    if wait is None or policy.max_time is None or elapsed + wait <= policy.max_time:
        return None
    return (
        f"the server asked to retry after {_seconds(wait)}, beyond --retry-max-time"
        f" {policy.max_time:g} s"
    )


def pause_limit(policy: RetryPolicy, wait: float) -> float:
    """How long a host may be paused for a Retry-After of ``wait`` seconds."""
    return wait if policy.max_time is None else min(wait, policy.max_time)


def _seconds(wait: float) -> str:
    if wait >= MAX_RETRY_AFTER:
        return "a year or more"
    return f"{wait:,.0f} s" if wait >= 10 else f"{wait:g} s"
