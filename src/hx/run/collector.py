"""The garbage collector during a run: sized for the requests in flight.

CPython collects its youngest generation every 700 net allocations of
container objects, and each collection walks every young object still
alive. A run keeps some objects alive for every request in flight (its task,
request, response, timers), so at high concurrency most collections walked
the same live requests again and again, and the survivors were walked once
more in each older generation: 29% of hx's CPU for 20,000 requests at c=1000
with 50 ms latency (1.9 of 6.6 s, measured with gc.callbacks).

Per request hx leaves almost no garbage in reference cycles (closed
responses drop httpx's stream wrapper, hx.request.closing; a failure's
exceptions drop their tracebacks once its record is made,
hx.request.failures.forget_tracebacks), so a young generation
large enough to hold what the requests in flight allocate costs little
memory and makes collections rare. The objects alive when the run starts
(hx's modules and their dependencies) are frozen: they live as long as the
run, and full collections leave them out.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

PER_REQUEST = 100
"""Young-generation room per request in flight: more than one request allocates."""

MAX_YOUNG = 100_000
"""At most this many young objects between collections (some tens of MB, were all garbage)."""


def young_generation(concurrency: int, default: int) -> int:
    """The youngest generation's threshold for ``concurrency`` requests in flight."""
    return max(default, min(PER_REQUEST * concurrency, MAX_YOUNG))


@contextlib.contextmanager
def sized_for(concurrency: int) -> Iterator[None]:
    """Within this block, the collector is sized for ``concurrency`` requests in flight
    and leaves what is alive now to itself; the settings before are restored after."""
    before = gc.get_threshold()
    freezing = gc.get_freeze_count() == 0  # else whoever froze objects owns the freeze
    if freezing:
        gc.freeze()
    if before[0]:  # (0: automatic collection is off, and stays off)
        gc.set_threshold(young_generation(concurrency, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if freezing:
            gc.unfreeze()
