"""The one pooled ``httpx.AsyncClient`` of a run, configured from Settings."""

from __future__ import annotations

import http.cookiejar
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any, cast

import httpx

from hx import trace
from hx.net.auth import build_auth
from hx.net.cookies import load_cookie_jar
from hx.net.proxies import plan_proxies
from hx.net.routing import RoutingTransport, transport_factory
from hx.net.tls import build_ssl_context, shared_ssl_context
from hx.request.decoding import ACCEPT_ENCODING
from hx.settings import Settings


def user_agent() -> str:
    from hx import __version__

    return f"hx/{__version__}"


def build_client(settings: Settings, environ: Mapping[str, str] = os.environ) -> httpx.AsyncClient:
    """One client for the whole run: one TLS context, one pool per route, one set of limits.

    Raises UsageError for bad TLS, proxy or auth settings. Redirects are
    followed by hx.request.redirects, so the client itself never follows them.
    """
    # httpx logs every request at INFO; the CLI turns it on only for -v.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    t = settings.timeouts
    make_transport = transport_factory(
        shared_ssl_context(settings.tls, environ),
        lambda: build_ssl_context(settings.tls, environ),
        settings.pool_size or settings.concurrency,
        http2=settings.http2,
        http2_prior_knowledge=settings.http2_prior_knowledge,
    )
    client = _Client(
        transport=RoutingTransport(plan_proxies(settings.proxies, environ), make_transport),
        timeout=httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool),
        follow_redirects=False,
        auth=build_auth(settings.auth),
        cookies=load_cookie_jar(settings.cookie_jar),
        headers=_default_headers(settings),
        trust_env=False,  # proxies and CA paths from the environment are ours to read
        event_hooks=trace.header_hooks(settings.secret_headers) if settings.verbose > 1 else None,
    )
    return client


class _Cookies(httpx.Cookies):
    """httpx.Cookies that skips the urllib round trip for responses setting no cookie.

    httpx offers every response to the jar through urllib request and
    response adapters; for the many responses without Set-Cookie that was a
    twentieth of hx's CPU per small request.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


_TemplateKey = tuple[str, bytes, tuple[tuple[str, str], ...], object]
"""``(method, netloc, headers, timeout)`` of a bodyless request."""
_MAX_TEMPLATES = 1024
"""Keys remembered (a template is one small request)."""
_UNSEEN = object()


class _Client(httpx.AsyncClient):
    """An AsyncClient whose cookie store is a :class:`_Cookies`, which never fails a
    response for its Location, and which builds bodyless requests from templates."""

    def __init__(self, *, cookies: http.cookiejar.CookieJar, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cookies = cookies
        self._templates: dict[_TemplateKey, httpx.Request | None] = {}
        """A template per key, or None for a key seen once."""

    def build_request(  # type: ignore[override]
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: Any = None,
        data: Any = None,
        files: Any = None,
        json: Any = None,
        params: Any = None,
        headers: Sequence[tuple[str, str]] | None = None,
        cookies: Any = None,
        timeout: Any = httpx.USE_CLIENT_DEFAULT,
        extensions: Any = None,
    ) -> httpx.Request:
        """httpx's build_request, from a template for a bodyless request like earlier ones.

        httpx merges the client's headers, cookies and timeout into every request
        and builds four Headers objects to do it: a tenth of hx's CPU per small
        GET. For an absolute URL without a body, cookies or params, what it
        builds depends on the URL only through its Host header. So the second
        request with a method, netloc, headers and timeout makes a template,
        and every later one gets a copy of its headers and extensions (about 2
        against 12 microseconds). The first of a kind, and anything else, is
        httpx's own.
        """
        if (
            content is not None
            or data is not None
            or files is not None
            or json is not None
            or params is not None
            or cookies is not None
            or extensions is not None
            or not isinstance(headers, tuple | list | None)  # (a mapping's values)
            or isinstance(timeout, httpx.Timeout)  # unhashable
            or not isinstance(url, httpx.URL)
            or not url.is_absolute_url  # (so the client's base_url does not apply)
            or self.cookies
            or self.params
        ):
            return super().build_request(
                method,
                url,
                content=content,
                data=data,
                files=files,
                json=json,
                params=params,
                headers=headers,
                cookies=cookies,
                timeout=timeout,
                extensions=extensions,
            )
        key = (method, url.netloc, tuple(headers or ()), timeout)
        template = self._templates.get(key, _UNSEEN)
        if template is _UNSEEN or template is None:
            if len(self._templates) >= _MAX_TEMPLATES:
                self._templates.clear()  # requests unlike each other: cheap to start over
            built = super().build_request(method, url, headers=headers, timeout=timeout)
            if template is _UNSEEN:
                # Seen once: a request whose headers are its own (an id per line)
                # pays nothing for a template it would never use again.
                self._templates[key] = None
                return built
            template = self._templates[key] = built
        template = cast(httpx.Request, template)
        request = httpx.Request(
            template.method,
            url,
            headers=template.headers,  # copied: an auth flow may add to a request's headers
            stream=template.stream,  # an empty ByteStream, read afresh by each send
            extensions={"timeout": dict(template.extensions["timeout"])},  # each its own
        )
        request.read()  # b"", as httpx's own would have it
        return request

    def _build_redirect_request(  # type: ignore[override]
        self, request: httpx.Request, response: httpx.Response
    ) -> httpx.Request | None:
        # httpx builds the next request of every redirect, followed or not, and
        # raises on a Location it cannot make one of (data:, javascript:, a
        # control character): the response itself would be lost. None becomes
        # ``response.next_request``; hx.request.redirects then refuses the
        # Location by name, and under --no-follow the response is the result.
        # (hx's client never follows redirects itself, so httpx reads it nowhere else.)
        try:
            return super()._build_redirect_request(request, response)
        except (httpx.InvalidURL, httpx.RemoteProtocolError):
            return None

    @property
    def cookies(self) -> httpx.Cookies:
        return self._hx_cookies

    @cookies.setter
    def cookies(
        self,
        cookies: httpx.Cookies | http.cookiejar.CookieJar | dict[str, str] | list[tuple[str, str]],
    ) -> None:
        self._hx_cookies = _Cookies(cookies)


def check_settings(settings: Settings, environ: Mapping[str, str] = os.environ) -> None:
    """Raise UsageError now for bad TLS, proxy, auth or cookie settings (as build_client would)."""
    build_ssl_context(settings.tls, environ)
    plan_proxies(settings.proxies, environ)
    build_auth(settings.auth)
    load_cookie_jar(settings.cookie_jar)


def _default_headers(settings: Settings) -> list[tuple[str, str]]:
    """hx's User-Agent and Accept-Encoding unless ``-H`` gives them, then the ``-H`` headers.

    Accept-Encoding is set, not left to httpx, which also asks for br and zstd
    when their libraries happen to be installed: hx decodes only what it can
    decode with a bound (hx.request.decoding).
    """
    names = {name.lower() for name, _ in settings.headers}
    defaults = [("User-Agent", user_agent()), ("Accept-Encoding", ACCEPT_ENCODING)]
    ours = [(name, value) for name, value in defaults if name.lower() not in names]
    return [*ours, *settings.headers]
