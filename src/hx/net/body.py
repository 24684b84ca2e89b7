"""A response body read straight into the caller's buffer, without a bytes object per piece.

httpx hands a body over as bytes objects, one per read from the socket: for a
large download that is a copy, an allocation and a wake-up of the reading task
every 64-256 KiB. A response from hx.net.http1 also offers a ``BodyReader`` in
``response.extensions["hx.body_reader"]``: ``readinto`` fills a buffer the
caller owns, the socket reading into it directly, and wakes the caller once
the buffer is full or the body has ended. Proxied and HTTP/2 responses carry
none; their bodies are read the usual way.
"""

from __future__ import annotations

from typing import Protocol

import httpx

BODY_READER = "hx.body_reader"
"""The response extension that holds a BodyReader."""


class BodyReader(Protocol):
    async def readinto(self, buffer: memoryview) -> int:
        """Put the body's next bytes (raw: as sent, Content-Encoding and all) into
        ``buffer``; return how many, 0 once the body has ended. A body read straight
        from the socket fills the buffer before it returns (or ends); others may
        return less. Raises what httpx's stream would raise."""
        ...


def body_reader(response: httpx.Response) -> BodyReader | None:
    """The response's BodyReader, if its transport offers one."""
    reader: BodyReader | None = response.extensions.get(BODY_READER)
    return reader
