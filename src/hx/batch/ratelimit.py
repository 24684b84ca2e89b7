"""Request rate limits shared by every worker, and per-host pauses.

One limiter is one schedule: each caller books the next free slot, so the
rate holds exactly under any concurrency (no per-worker buckets to add up).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class RateLimiter:
    """At most ``rate`` units per second, spaced evenly (burst of one acquisition).

    A unit is a request for ``--rate`` and a byte for ``--limit-rate``.
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next_free: float | None = None

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    async def acquire(self, units: float = 1.0) -> None:
        now = self._now()
        start = now if self._next_free is None else max(now, self._next_free)
        self._next_free = start + self.interval * units
        if start > now:
            await self._sleep(start - now)


class HostPause:
    """Until when a host asked us to wait (429/503 with Retry-After)."""

    def __init__(self) -> None:
        self.until = 0.0

    def extend(self, seconds: float) -> None:
        loop_time = asyncio.get_running_loop().time()
        self.until = max(self.until, loop_time + seconds)

    def remaining(self) -> float:
        if not self.until:
            return 0.0  # never asked: no clock to read (twice per request)
        return max(0.0, self.until - asyncio.get_running_loop().time())
