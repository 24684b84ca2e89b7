"""Slots: a counting semaphore that hands a freed slot straight to the longest waiter.

asyncio.Semaphore wakes a waiter and lets it take the slot when it runs; until
then the woken future stays in the queue, and every release and acquire walks
past the futures woken before it (``_wake_up_next``, ``locked``). A batch at
``-c 1000`` keeps a thousand tasks waiting for a slot, and that walking, with
the lock's other bookkeeping, was 6-7% of hx's CPU per request (py-spy, 20,000
requests at c=1000 with 50 ms latency). Here a release gives its slot to the
first waiter still waiting, and the waiter owns it from then on: no walking,
no second look. The order is first come, first served, as asyncio's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from types import TracebackType


class Slots:
    """``count`` slots; ``async with slots:`` holds one for the block."""

    __slots__ = ("_free", "_waiters", "_on_free")

    def __init__(self, count: int, on_free: Callable[[], None] | None = None) -> None:
        """``on_free`` is called each time a release leaves a slot free (nobody was
        waiting for it): the owner may hand it out at once (``try_acquire``)."""
        if count < 1:
            raise ValueError(f"at least one slot is needed, not {count}")
        self._free = count
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._on_free = on_free

    @property
    def free(self) -> int:
        """Slots nobody holds and nobody has been handed."""
        return self._free

    def try_acquire(self) -> bool:
        """Take a slot if one is free (and nobody waits for it); never waits."""
        if self._free and not self._waiters:
            self._free -= 1
            return True
        return False

    async def acquire(self) -> None:
        """Take a slot, waiting in turn for one if none is free."""
        if self.try_acquire():
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.cancelled():  # it was never handed a slot
                with contextlib.suppress(ValueError):  # a release may have dropped it
                    self._waiters.remove(waiter)
            else:
                self.release()  # handed one just as it was cancelled: pass it on
            raise

    def release(self) -> None:
        """Give a slot back: to the first waiter still waiting, or to the free ones."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot is the waiter's from now on
                return
        self._free += 1
        if self._on_free is not None:
            self._on_free()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
