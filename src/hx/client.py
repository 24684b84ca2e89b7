"""The one pooled ``httpx.AsyncClient`` of a run, configured from Settings."""

from __future__ import annotations

import logging

import httpx

from hx.models import Settings


def user_agent() -> str:
    from hx import __version__

    return f"hx/{__version__}"


def build_client(settings: Settings) -> httpx.AsyncClient:
    """One client for the whole run: one pool, one TLS context, one set of limits."""
    # httpx logs every request at INFO; the CLI turns it on only for -v.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    t = settings.timeouts
    return httpx.AsyncClient(
        http2=settings.http2,
        timeout=httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool),
        # Keep-alive limit = connection limit: httpcore closes idle connections
        # once the total exceeds the keep-alive limit (httpcore #1000).
        limits=httpx.Limits(
            max_connections=settings.concurrency,
            max_keepalive_connections=settings.concurrency,
        ),
        follow_redirects=settings.follow_redirects,
        max_redirects=settings.max_redirects,
        headers=_default_headers(settings),
    )


def _default_headers(settings: Settings) -> list[tuple[str, str]]:
    """hx's User-Agent unless ``-H`` gives one, then the ``-H`` headers."""
    names = {name.lower() for name, _ in settings.headers}
    ours = [] if "user-agent" in names else [("User-Agent", user_agent())]
    return [*ours, *settings.headers]
