"""What a response's Retry-After header asks for: seconds to wait, however it is written.

RFC 9110 10.2.3: delta-seconds or an HTTP date. A server's answer is bounded
here (MAX_RETRY_AFTER); hx.batch.retry then holds it to the user's
--retry-max-time.
"""

from __future__ import annotations

import datetime
import email.utils
import time
from collections.abc import Callable

MAX_RETRY_AFTER = 365 * 86400.0
"""Longest Retry-After taken literally (a year); longer ones, "9999" dates and
400-digit numbers included, are read as this."""


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), else None.

    At most MAX_RETRY_AFTER, however far away the server's answer is.
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return MAX_RETRY_AFTER if len(value) > 12 else min(float(value), MAX_RETRY_AFTER)
    when = parse_http_date(value)
    if when is None:
        return None
    return min(MAX_RETRY_AFTER, max(0.0, when - now()))


def parse_http_date(value: str) -> float | None:
    """An HTTP date (RFC 9110 5.6.7, any of its three forms) as Unix time, else None:
    also for a date no clock can hold (year 99999999999999999999)."""
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
        if when.tzinfo is None:  # the asctime() form: RFC 9110 says it is GMT
            when = when.replace(tzinfo=datetime.UTC)
        return when.timestamp()
    except (TypeError, ValueError, OverflowError):
        return None
