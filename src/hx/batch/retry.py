"""When to try a request again, and how long to wait first.

Retried: connection failures (the request never left, so any method), and
for idempotent methods (or with ``retry_all_methods``) timeouts, broken
exchanges (resets, short bodies, a keep-alive connection the server closed)
and the statuses in ``retry_on``. Waits grow exponentially with full jitter;
a ``Retry-After`` header replaces the computed wait. Nothing is retried once
the total budget ``max_time`` would be exceeded.
"""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from hx.errors import ErrorKind

if TYPE_CHECKING:
    from hx.models import Result

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
DEFAULT_RETRY_ON = frozenset({429, 502, 503, 504})

# A connect failure means the request was never sent: safe for any method.
_ALWAYS_SAFE = frozenset({ErrorKind.CONNECT})
_SAFE_IF_IDEMPOTENT = frozenset({ErrorKind.TIMEOUT, ErrorKind.PROTOCOL})


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    retries: int = 2
    retry_on: frozenset[int] = DEFAULT_RETRY_ON
    delay: float = 0.5
    """Base of the exponential backoff, seconds."""
    max_delay: float = 30.0
    """Cap of one computed wait (Retry-After may ask for longer, within max_time)."""
    max_time: float | None = 120.0
    """Total seconds from the first attempt after which no retry starts."""
    all_methods: bool = False

    def next_delay(
        self,
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
        if attempt > self.retries or not self._retryable(result, method, retry_forced):
            return None
        if result.retry_after is not None:
            wait = result.retry_after
        else:
            ceiling = min(self.max_delay, self.delay * 2 ** (attempt - 1))
            wait = ceiling * random_fraction()
        if self.max_time is not None and elapsed + wait > self.max_time:
            return None
        return wait

    def _retryable(self, result: Result, method: str, retry_forced: bool) -> bool:
        error = result.error
        if error is None or error.kind in (ErrorKind.INTERRUPTED, ErrorKind.INVALID_INPUT):
            return False
        if error.kind in _ALWAYS_SAFE:
            return True
        if not (retry_forced or self.all_methods or method in IDEMPOTENT_METHODS):
            return False
        if error.kind == ErrorKind.HTTP_STATUS:
            return result.status in self.retry_on
        return error.kind in _SAFE_IF_IDEMPOTENT


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # the asctime() form: RFC 9110 says it is GMT
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - now())
