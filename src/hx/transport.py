"""The client's transport: each request goes direct or through its proxy.

hx builds its transports itself (httpx then ignores the client's own limits,
TLS and proxy settings), so every route shares one SSL context and the same
limits, and a failure to reach a proxy is reported as a proxy failure.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

import httpx

from hx.proxies import ProxyPlan
from hx.redact import redact_url

TransportFactory = Callable[[str | None], httpx.AsyncBaseTransport]


def transport_factory(
    ssl_context: ssl.SSLContext, limits: httpx.Limits, http2: bool, http2_prior_knowledge: bool
) -> TransportFactory:
    """Makes the transport for one route: ``None`` for direct, else the proxy URL."""

    def make(proxy: str | None) -> httpx.AsyncBaseTransport:
        return httpx.AsyncHTTPTransport(
            verify=ssl_context,
            # Prior knowledge: speak h2 at once on cleartext connections (h2c).
            http1=not http2_prior_knowledge,
            http2=http2 or http2_prior_knowledge,
            limits=limits,
            proxy=proxy,
        )

    return make


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
        try:
            return await transport.handle_async_request(request)
        except httpx.ConnectError as exc:
            if _has_tls_error(exc):
                raise  # the tunnel worked; the target's certificate did not
            reason = str(exc) or type(exc).__name__
            raise httpx.ProxyError(
                f"cannot reach proxy {redact_url(proxy)}: {reason}", request=request
            ) from exc

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
