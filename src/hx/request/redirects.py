"""Following redirects ourselves, to decide what may cross to another origin.

httpx drops only Authorization when a redirect leaves the origin; hx also
drops every ``--secret-header``, refuses a Location it would not accept as an
input URL (another scheme, no host, a port outside 1-65535), refuses
https-to-http unless allowed, and keeps cookies within one redirect chain.
A redirect's own body is read only while it is short: a longer one (endless,
a decompression bomb) is abandoned with its connection.
"""

from __future__ import annotations

import httpx

from hx.redact import redact_url
from hx.request.closing import close
from hx.request.urls import check_target
from hx.settings import RedirectPolicy, Settings

DRAIN_LIMIT = 64 * 1024
"""Raw bytes of an unwanted body read so its connection can carry another request."""

_SHOWN_LOCATION = 300
"""Characters of a refused Location a message shows (a data: URL can fill a head)."""


REDIRECTS = "hx.redirects"
"""The final response's extension that says how many redirects led to it."""


class RedirectRefused(Exception):
    """A redirect hx will not follow (another scheme, a bad Location, a downgrade to http)."""


async def send(
    client: httpx.AsyncClient, request: httpx.Request, settings: Settings
) -> httpx.Response:
    """Send ``request`` (streamed), following redirects as ``settings.redirects`` allows;
    ``settings.secret_headers`` do not leave the origin."""
    policy = settings.redirects
    response = await client.send(request, stream=True, follow_redirects=False)
    chain_cookies: httpx.Cookies | None = None
    hops = 0
    while policy.follow and response.has_redirect_location:
        try:
            hops += 1
            next_request = _following(response)
            _check(response.request, next_request, hops, policy, settings.secret_headers)
            await discard_body(response)
        finally:
            await close(response)
        if chain_cookies is None:
            chain_cookies = httpx.Cookies()
        chain_cookies.extract_cookies(response)
        chain_cookies.set_cookie_header(next_request)
        _keep_cookie_header(request, next_request)
        # auth=None: credentials were for the first request; httpx already
        # carried Authorization over if (and only if) the origin is the same.
        response = await client.send(next_request, stream=True, follow_redirects=False, auth=None)
    if hops:
        response.extensions[REDIRECTS] = hops
    return response


async def discard_body(response: httpx.Response) -> None:
    """Read a body nobody wants while it is short (so its connection can be reused).

    After :data:`DRAIN_LIMIT` raw bytes it is left unread: closing the
    response then drops the connection, which is cheaper than reading on. A
    body that breaks while it is read costs its connection, not the request.
    """
    drained = 0
    try:
        async for chunk in response.aiter_raw():
            drained += len(chunk)
            if drained > DRAIN_LIMIT:
                break
    except httpx.TransportError:
        pass


def _following(response: httpx.Response) -> httpx.Request:
    """The request a redirect asks for, if hx may send it; else RedirectRefused."""
    location = response.headers["location"]
    following = response.next_request
    try:
        given = httpx.URL(location)
        if given.scheme:  # where an absolute Location has no host, httpx puts the request's
            check_target(given)
        if following is None:  # hx's client found no request in it (hx.client)
            raise ValueError("httpx cannot make a request of it")
        check_target(following.url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise RedirectRefused(f"redirect refused, {exc}: {_shown(location)}") from None
    return following


def _shown(location: str) -> str:
    location = redact_url(location)
    if len(location) > _SHOWN_LOCATION:
        return location[:_SHOWN_LOCATION] + "..."
    return location


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
