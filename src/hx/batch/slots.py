"""``Slots``: at most N holders at once, first come first served, in constant time.

asyncio.Semaphore does the same job, but on Python 3.11 its ``acquire`` scans
every waiter (``locked()``), and a woken waiter removes itself from the middle
of the queue: with the engine's backlog of hundreds of requests waiting for a
slot, that was 5% of hx's CPU at -c 1000. Here a released slot is handed
straight to the oldest waiter, and every step is O(1).
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType


class Slots:
    """At most ``limit`` holders; ``async with slots:`` or ``acquire``/``release``."""

    __slots__ = ("_free", "_limit", "_waiters")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._free = self._limit = limit
        # Futures of tasks waiting, oldest first; a cancelled one stays until release
        # passes over it. While any slot is free, none waits (release hands it over).
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def free(self) -> int:
        return self._free

    async def acquire(self) -> None:
        if self._free:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot, then cancelled before taking it: pass it on
            raise

    def release(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot goes to the waiter, never back to _free
                return
        if self._free == self._limit:
            raise RuntimeError("Slots released more often than acquired")
        self._free += 1

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
