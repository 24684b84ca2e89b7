"""hx.batch.ratelimit: requests spaced to --rate, on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from hx.batch.ratelimit import RateLimiter


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
