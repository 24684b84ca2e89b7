"""Transports over httpcore, for the routes hx.net.http1 and hx.net.http2 do not take: proxies.

httpx's transport speaks to HTTP and SOCKS proxies (CONNECT tunnels,
absolute-form requests, the SOCKS handshake); hx uses it as it is for them.
Imported only when a proxy is first used: httpcore brings anyio (and trio,
where it is installed), a tenth of a second of start-up.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

SHARD_CONNECTIONS = 4
"""Connections per pool shard: small pools keep httpcore's per-request scan short."""


def httpcore_transport(
    ssl_context: ssl.SSLContext,
    pool_size: int,
    http2: bool,
    http2_prior_knowledge: bool,
    proxy: str,
) -> httpx.AsyncBaseTransport:
    """httpx's transport through ``proxy``: ``pool_size`` connections, SHARD_CONNECTIONS a pool."""
    shards = max(1, -(-pool_size // SHARD_CONNECTIONS))
    per_shard = -(-pool_size // shards)
    # Keep-alive limit = connection limit: httpcore closes idle connections
    # once the total exceeds the keep-alive limit (httpcore #1000).
    limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)

    def make_one() -> httpx.AsyncBaseTransport:
        return httpx.AsyncHTTPTransport(
            verify=ssl_context,
            # prior knowledge: h2 at once, also cleartext (h2c)
            http1=not http2_prior_knowledge,
            http2=http2 or http2_prior_knowledge,
            limits=limits,
            proxy=proxy,
        )

    if shards == 1:
        return make_one()
    return ShardedTransport([make_one() for _ in range(shards)])


class ShardedTransport(httpx.AsyncBaseTransport):
    """Several small connection pools used as one.

    httpcore rescans every connection of a pool whenever a request enters or
    leaves it, so CPU per request grows with the pool; shards of a few
    connections keep that scan short. Each request goes to the shard with the
    fewest requests in flight, which also keeps connections warm and reused.
    """

    def __init__(self, shards: list[httpx.AsyncBaseTransport]) -> None:
        self._shards = shards
        self._busy = [0] * len(shards)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = self._busy.index(min(self._busy))
        self._busy[index] += 1
        try:
            response = await self._shards[index].handle_async_request(request)
        except BaseException:
            self._busy[index] -= 1
            raise
        # The shard stays busy until the body is read and closed.
        response.stream = _ReleasingStream(response.stream, lambda: self._release(index))
        return response

    def _release(self, index: int) -> None:
        self._busy[index] -= 1

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()


class _ReleasingStream(httpx.AsyncByteStream):
    def __init__(self, stream: Any, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._release is not None:
                self._release()
                self._release = None
