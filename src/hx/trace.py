"""``-v``: one line per request sent and per answer; ``-vv`` adds the headers.

Lines go through the ``hx`` logger, which the CLI points at stderr. When
verbosity is off, the engine pays one ``isEnabledFor`` check per attempt and
no httpx event hooks are installed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx

from hx.models import RequestSpec, Result
from hx.redact import redact_headers, redact_url

log = logging.getLogger("hx")


def sending(spec: RequestSpec, attempt: int) -> None:
    if log.isEnabledFor(logging.INFO):
        log.info("> %s %s (attempt %d)", spec.method, redact_url(spec.url), attempt)


def answered(spec: RequestSpec, result: Result, attempt: int) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    outcome = str(result.status) if result.status is not None else "no response"
    if result.error is not None and result.error.kind != "http_status":
        outcome += f" {result.error.kind}: {result.error.message}"
    log.info(
        "< %s %s %s in %.1f ms (attempt %d)",
        outcome,
        spec.method,
        redact_url(spec.url),
        result.elapsed_ms,
        attempt,
    )


def header_hooks(secret: frozenset[str]) -> dict[str, list[Callable[..., Any]]]:
    """httpx event hooks that log every header sent and received (``-vv``)."""

    async def on_request(request: httpx.Request) -> None:
        for name, value in redact_headers(tuple(request.headers.multi_items()), secret):
            log.debug(">   %s: %s", name, value)

    async def on_response(response: httpx.Response) -> None:
        log.debug("<   %s %s", response.http_version, response.status_code)
        for name, value in redact_headers(tuple(response.headers.multi_items()), secret):
            log.debug("<   %s: %s", name, value)

    return {"request": [on_request], "response": [on_response]}
