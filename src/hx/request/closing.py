"""Closing a response so that reference counting frees it.

httpx wraps each response's stream in a ``BoundAsyncStream`` that points back
at the response: a reference cycle that leaves the whole exchange (the
response, its request, headers, URL and hx's Exchange: some 20 objects) to the
garbage collector. Closed responses drop the wrapper.
"""

from __future__ import annotations

import httpx

_CLOSED = httpx.ByteStream(b"")
"""The stream of a response once it is closed: nothing more to read."""


async def close(response: httpx.Response) -> None:
    """``response.aclose()``, and the response no longer refers to itself."""
    await response.aclose()
    response.stream = _CLOSED
