"""The client's transport: each request goes direct or through its proxy.

hx builds its transports itself (httpx then ignores the client's own limits,
TLS and proxy settings), so every route shares one SSL context and the same
limits, and a failure to reach a proxy is reported as a proxy failure.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpcore
import httpx
import socksio

from hx.netio import AsyncioBackend
from hx.proxies import ProxyPlan
from hx.redact import redact_url

TransportFactory = Callable[[str | None], httpx.AsyncBaseTransport]


SHARD_CONNECTIONS = 4
"""Connections per pool shard: small pools keep httpcore's per-request scan short."""


def transport_factory(
    ssl_context: ssl.SSLContext, pool_size: int, http2: bool, http2_prior_knowledge: bool
) -> TransportFactory:
    """Makes the transport for one route: ``None`` for direct, else the proxy URL.

    ``pool_size`` connections are spread over pools of SHARD_CONNECTIONS each.
    """
    shards = max(1, -(-pool_size // SHARD_CONNECTIONS))
    per_shard = -(-pool_size // shards)
    # Keep-alive limit = connection limit: httpcore closes idle connections
    # once the total exceeds the keep-alive limit (httpcore #1000).
    limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)

    http1 = not http2_prior_knowledge  # prior knowledge: h2 at once, also cleartext (h2c)
    http2 = http2 or http2_prior_knowledge

    def make_one(proxy: str | None) -> httpx.AsyncBaseTransport:
        transport = httpx.AsyncHTTPTransport(
            verify=ssl_context, http1=http1, http2=http2, limits=limits, proxy=proxy
        )
        if proxy is None:
            # httpx has no parameter for httpcore's network backend, so its
            # transport gets the same pool httpx would build, over ours.
            transport._pool = httpcore.AsyncConnectionPool(
                ssl_context=ssl_context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                http1=http1,
                http2=http2,
                network_backend=AsyncioBackend(),
            )
        return transport

    def make(proxy: str | None) -> httpx.AsyncBaseTransport:
        if shards == 1:
            return make_one(proxy)
        return ShardedTransport([make_one(proxy) for _ in range(shards)])

    return make


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


class RoutingTransport(httpx.AsyncBaseTransport):
    """Picks a route per request from the proxy plan; one transport (pool) per route."""

    def __init__(self, plan: ProxyPlan, make: TransportFactory) -> None:
        self._plan = plan
        self._make = make
        self._routes: dict[str | None, httpx.AsyncBaseTransport] = {}

    def _transport(self, proxy: str | None) -> httpx.AsyncBaseTransport:
        transport = self._routes.get(proxy)
        if transport is None:
            transport = self._routes[proxy] = self._make(proxy)
        return transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        proxy = self._plan.proxy_for(request.url)
        transport = self._transport(proxy)
        if proxy is None:
            return await transport.handle_async_request(request)
        name = redact_url(proxy)
        try:
            response = await transport.handle_async_request(request)
        except httpx.ConnectError as exc:
            if _has_tls_error(exc):
                raise  # the tunnel worked; the target's certificate did not
            reason = str(exc) or type(exc).__name__
            raise httpx.ProxyError(f"cannot reach proxy {name}: {reason}", request=request) from exc
        except httpx.ProxyError as exc:
            raise httpx.ProxyError(f"proxy {name}: {exc}", request=request) from exc
        except socksio.ProtocolError as exc:
            # httpcore lets a SOCKS proxy that hangs up mid-handshake escape unwrapped.
            raise httpx.ProxyError(f"proxy {name}: {exc}", request=request) from exc
        if response.status_code == 407:  # from the proxy itself, for a plain http:// target
            await response.aclose()
            raise httpx.ProxyError(
                f"proxy {name}: 407 Proxy Authentication Required", request=request
            )
        return response

    async def aclose(self) -> None:
        routes, self._routes = list(self._routes.values()), {}
        for transport in routes:
            await transport.aclose()


def _has_tls_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
