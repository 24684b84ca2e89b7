"""hx.batch.slots: never more than the limit, first come first served, and a cancelled
waiter never takes a slot with it."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hx.batch.slots import Slots


def test_waiters_are_served_in_order() -> None:
    async def main() -> list[int]:
        slots, order = Slots(1), []

        async def holder(n: int) -> None:
            async with slots:
                order.append(n)
                await asyncio.sleep(0)

        await asyncio.gather(*(holder(n) for n in range(10)))
        assert slots.free == 1
        return order

    assert asyncio.run(main()) == list(range(10))


def test_a_waiter_cancelled_after_it_was_handed_the_slot_passes_it_on() -> None:
    async def main() -> None:
        slots = Slots(1)
        await slots.acquire()
        first = asyncio.create_task(slots.acquire())
        second = asyncio.create_task(slots.acquire())
        await asyncio.sleep(0)
        slots.release()  # handed to first, which has not run yet...
        first.cancel()  # ...and is cancelled before it does
        await asyncio.sleep(0)
        await asyncio.wait_for(second, 1)  # the slot went on to second
        assert first.cancelled()
        slots.release()
        assert slots.free == 1

    asyncio.run(main())


def test_releasing_more_than_was_acquired_is_a_bug() -> None:
    slots = Slots(2)
    with pytest.raises(RuntimeError, match="more often than acquired"):
        slots.release()


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Slots(0)


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(1, 4),
    plan=st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=30),
)
def test_never_more_holders_than_the_limit(limit: int, plan: list[tuple[int, bool]]) -> None:
    """Tasks hold a slot for a few loop turns; some are cancelled while they wait or
    hold. At no point are more than ``limit`` inside, every survivor gets in, and
    at the end every slot is free again."""

    async def main() -> None:
        slots, inside, peak, entered = Slots(limit), 0, 0, set()

        async def user(n: int, turns: int) -> None:
            nonlocal inside, peak
            async with slots:
                inside += 1
                peak = max(peak, inside)
                entered.add(n)
                try:
                    for _ in range(turns):
                        await asyncio.sleep(0)
                finally:
                    inside -= 1

        tasks = [asyncio.create_task(user(n, turns)) for n, (turns, _) in enumerate(plan)]
        await asyncio.sleep(0)
        for task, (_, cancel) in zip(tasks, plan, strict=True):
            if cancel:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert peak <= limit
        survivors = {n for n, task in enumerate(tasks) if not task.cancelled()}
        assert survivors <= entered
        assert slots.free == limit

    asyncio.run(main())
