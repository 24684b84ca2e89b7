"""Following redirects ourselves, to decide what may cross to another origin.

httpx drops only Authorization when a redirect leaves the origin; hx also
drops every ``--secret-header``, refuses schemes other than http(s), refuses
https-to-http unless allowed, and keeps cookies within one redirect chain.
"""

from __future__ import annotations

import httpx

from hx.redact import redact_url
from hx.settings import RedirectPolicy, Settings

SCHEMES = ("http", "https")


class RedirectRefused(Exception):
    """A redirect hx will not follow (another scheme, or a downgrade to http)."""


async def send(
    client: httpx.AsyncClient, request: httpx.Request, settings: Settings
) -> httpx.Response:
    """Send ``request`` (streamed), following redirects as ``settings.redirects`` allows;
    ``settings.secret_headers`` do not leave the origin."""
    policy = settings.redirects
    response = await client.send(request, stream=True, follow_redirects=False)
    chain_cookies: httpx.Cookies | None = None
    hops = 0
    while policy.follow and response.next_request is not None:
        next_request = response.next_request
        try:
            await response.aread()  # so the connection can be reused
            hops += 1
            _check(response.request, next_request, hops, policy, settings.secret_headers)
        finally:
            await response.aclose()
        if chain_cookies is None:
            chain_cookies = httpx.Cookies()
        chain_cookies.extract_cookies(response)
        chain_cookies.set_cookie_header(next_request)
        _keep_cookie_header(request, next_request)
        # auth=None: credentials were for the first request; httpx already
        # carried Authorization over if (and only if) the origin is the same.
        response = await client.send(next_request, stream=True, follow_redirects=False, auth=None)
    return response


def _check(
    previous: httpx.Request,
    following: httpx.Request,
    hops: int,
    policy: RedirectPolicy,
    secret_headers: frozenset[str],
) -> None:
    target = following.url
    if hops > policy.max_redirects:
        raise httpx.TooManyRedirects(
            f"more than {policy.max_redirects} redirects (last to {redact_url(str(target))})",
            request=following,
        )
    if target.scheme not in SCHEMES:
        raise RedirectRefused(f"redirect to unsupported scheme {target.scheme!r}")
    if previous.url.scheme == "https" and target.scheme == "http" and not policy.allow_downgrade:
        raise RedirectRefused(
            "redirect from https to http refused (--allow-downgrade allows it): "
            + redact_url(str(target))
        )
    if _origin(previous.url) != _origin(target):
        for name in secret_headers:
            following.headers.pop(name, None)


def _keep_cookie_header(first: httpx.Request, following: httpx.Request) -> None:
    """Same origin: the Cookie header the request was sent with goes along (httpx drops it).

    Cookies the redirect chain set win over those of the same name.
    """
    given = first.headers.get("cookie")
    if not given or _origin(first.url) != _origin(following.url):
        return
    cookies = dict(_cookie_pairs(given))
    cookies.update(_cookie_pairs(following.headers.get("cookie", "")))
    following.headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())


def _cookie_pairs(header: str) -> list[tuple[str, str]]:
    pairs = (part.strip().partition("=") for part in header.split(";"))
    return [(name, value) for name, _, value in pairs if name]


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port
