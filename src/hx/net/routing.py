"""The client's transport: each request goes direct or through its proxy.

hx builds its transports itself (httpx then ignores the client's own limits,
TLS and proxy settings), so every route shares one SSL context and the same
limits, and a failure to reach a proxy is reported as a proxy failure.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

import httpx

from hx.net.http1 import Http1Transport
from hx.net.proxies import ProxyPlan
from hx.redact import redact_url

TransportFactory = Callable[[str | None], httpx.AsyncBaseTransport]


def transport_factory(
    ssl_context: Callable[[], ssl.SSLContext],
    new_ssl_context: Callable[[], ssl.SSLContext],
    pool_size: int,
    http2: bool,
    http2_prior_knowledge: bool,
) -> TransportFactory:
    """Makes the transport for one route: ``None`` for direct, else the proxy URL.

    ``ssl_context`` gives the run's shared context (made on first use);
    ``new_ssl_context`` makes another.

    Direct routes go through hx.net.http1, or hx.net.http2 under --http2 (which hands
    HTTP/1.1-only origins to an hx.net.http1 with a context of its own, as each
    transport sets its context's ALPN). Proxies go through httpcore.
    """

    def make(proxy: str | None) -> httpx.AsyncBaseTransport:
        if proxy is None and (http2 or http2_prior_knowledge):
            from hx.net.http2 import Http2Transport  # h2 and hpack: only for --http2

            return Http2Transport(
                ssl_context,
                pool_size,
                prior_knowledge=http2_prior_knowledge,
                http1=lambda: Http1Transport(new_ssl_context(), pool_size),
            )
        if proxy is None:
            return Http1Transport(ssl_context, pool_size)
        from hx.net.proxy_pool import httpcore_transport

        return httpcore_transport(ssl_context(), pool_size, http2, http2_prior_knowledge, proxy)

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
        from socksio import ProtocolError as SocksError

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
        except SocksError as exc:
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
