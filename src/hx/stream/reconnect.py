"""When an SSE stream that ended or dropped is connected again, and after how long.

As EventSource does: after the end of a 200 event stream or a network failure,
never after another status or a body that is not an event stream. The wait is
the server's ``retry:`` if it sent one, else the retry base (``--retry-delay``);
hx waits as asked or not at all: a ``retry:`` longer than ``--retry-max-delay``
ends the stream rather than reconnecting sooner than the server wants.
"""

from __future__ import annotations

from hx.settings import RetryPolicy
from hx.stream.connection import Ending
from hx.stream.state import StreamState


def reconnect_delay(
    ending: Ending, state: StreamState, allowed: int, policy: RetryPolicy
) -> float | None:
    """Seconds to wait before the next connection of ``state``'s stream; None: it has ended."""
    if not (ending.dropped and state.was_sse) or state.reconnects >= allowed:
        return None
    wait = policy.delay if state.retry_ms is None else state.retry_ms / 1000
    return wait if wait <= policy.max_delay else None
