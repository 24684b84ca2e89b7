"""hx.batch.slots: the batch's counting semaphore (first come, first served, no slot lost)."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hx.batch.slots import Slots


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        Slots(0)


def test_free_slots_are_taken_without_waiting() -> None:
    async def main() -> None:
        slots = Slots(2)
        await slots.acquire()
        await slots.acquire()
        assert slots.free == 0
        slots.release()
        assert slots.free == 1

    run(main())


def test_waiters_are_served_in_arrival_order() -> None:
    async def main() -> list[int]:
        slots = Slots(1)
        order: list[int] = []

        async def holder(n: int) -> None:
            async with slots:
                order.append(n)
                await asyncio.sleep(0)

        await asyncio.gather(*(holder(n) for n in range(6)))
        assert slots.free == 1
        return order

    assert run(main()) == list(range(6))


def test_a_cancelled_waiter_takes_no_slot() -> None:
    async def main() -> None:
        slots = Slots(1)
        await slots.acquire()
        cancelled = asyncio.create_task(slots.acquire())
        after = asyncio.create_task(slots.acquire())
        await asyncio.sleep(0)
        cancelled.cancel()
        slots.release()  # must go to ``after``, not to the cancelled waiter
        await asyncio.wait_for(after, 1)
        assert cancelled.cancelled()
        assert slots.free == 0
        slots.release()
        assert slots.free == 1

    run(main())


def test_a_waiter_cancelled_once_handed_a_slot_passes_it_on() -> None:
    async def main() -> None:
        slots = Slots(1)
        await slots.acquire()
        handed = asyncio.create_task(slots.acquire())
        next_in_line = asyncio.create_task(slots.acquire())
        await asyncio.sleep(0)
        slots.release()  # ``handed`` owns the slot now...
        handed.cancel()  # ...but is cancelled before it runs
        await asyncio.wait_for(next_in_line, 1)
        assert handed.cancelled()
        slots.release()
        assert slots.free == 1

    run(main())


def test_a_waiter_cancelled_and_dropped_by_a_release_is_no_error() -> None:
    """A release may pop a cancelled waiter before the waiter's task runs."""

    async def main() -> None:
        slots = Slots(1)
        await slots.acquire()
        gone = asyncio.create_task(slots.acquire())
        await asyncio.sleep(0)
        gone.cancel()
        slots.release()  # drops the cancelled waiter, frees the slot
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert slots.free == 1

    run(main())


def test_try_acquire_takes_only_a_free_slot_nobody_waits_for() -> None:
    async def main() -> None:
        slots = Slots(1)
        assert slots.try_acquire()
        assert not slots.try_acquire()
        waiter = asyncio.create_task(slots.acquire())
        await asyncio.sleep(0)
        slots.release()  # handed to the waiter: not free
        assert not slots.try_acquire()
        await waiter
        slots.release()
        assert slots.try_acquire()

    run(main())


def test_on_free_hears_only_of_slots_left_free() -> None:
    async def main() -> list[int]:
        heard: list[int] = []
        slots = Slots(1, on_free=lambda: heard.append(slots.free))
        await slots.acquire()
        waiter = asyncio.create_task(slots.acquire())
        await asyncio.sleep(0)
        slots.release()  # goes to the waiter: nothing to hear
        await waiter
        assert heard == []
        slots.release()
        return heard

    assert run(main()) == [1]


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(1, 4),
    tasks=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_never_more_holders_than_slots_and_none_lost(count: int, tasks: int, seed: int) -> None:
    """Random holds and cancellations: at most ``count`` holders at once, every slot back."""
    rng = random.Random(seed)

    async def main() -> None:
        slots = Slots(count)
        holding = 0
        most = 0

        async def worker() -> None:
            nonlocal holding, most
            async with slots:
                holding += 1
                most = max(most, holding)
                try:
                    for _ in range(rng.randrange(3)):
                        await asyncio.sleep(0)
                finally:
                    holding -= 1

        workers = [asyncio.create_task(worker()) for _ in range(tasks)]
        for _ in range(rng.randrange(4)):
            await asyncio.sleep(0)
            rng.choice(workers).cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        assert most <= count
        assert slots.free == count

    run(main())
