"""``-v``: a line per request sent, per answer and per retry wait; ``-vv`` adds headers.

Every line starts with the request's record id, so the lines of concurrent
requests can be told apart (and matched with the records)::

    hx: [7] > GET https://example.org/a (attempt 1)
    hx: [7] >   user-agent: hx/1.0           (-vv: each hop's request headers)
    hx: [7] < HTTP/1.1 503 Service Unavailable
    hx: [7] <   retry-after: 1               (-vv: each hop's response headers)
    hx: [7] < 503 GET https://example.org/a in 3.1 ms (attempt 1)
    hx: [7] ~ retrying in 1.00 s (attempt 2, after 503)

Lines go through the ``hx`` logger, which the CLI points at stderr. When
verbosity is off, the engine pays one ``isEnabledFor`` check per attempt and
no httpx event hooks are installed.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import httpx

from hx.models import RequestSpec, Result
from hx.redact import redact_headers, redact_url

log = logging.getLogger("hx")


@dataclasses.dataclass
class _Attempt:
    """The attempt running in this task, for httpx's hooks, which know only the request."""

    id: str | int
    announced: bool = True
    """Its first request is the ``>`` line sending() wrote; later hops get their own."""


# Set in the task that sends the request; tasks it starts (split downloads) inherit it.
_attempt: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar(
    "hx_trace_attempt", default=None
)


def sending(spec: RequestSpec, attempt: int) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    method, url = spec.method, redact_url(spec.url)
    log.info("[%s] > %s %s (attempt %d)", spec.record_id, method, url, attempt)
    if log.isEnabledFor(logging.DEBUG):
        _attempt.set(_Attempt(spec.record_id))


def answered(spec: RequestSpec, result: Result, attempt: int) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    log.info(
        "[%s] < %s %s %s in %.1f ms (attempt %d)",
        spec.record_id,
        _outcome(result),
        spec.method,
        redact_url(spec.url),
        result.elapsed_ms,
        attempt,
    )


def retrying(spec: RequestSpec, result: Result, next_attempt: int, delay: float) -> None:
    """The wait before ``next_attempt`` of ``spec``, and what made it necessary."""
    if log.isEnabledFor(logging.INFO):
        log.info(
            "[%s] ~ retrying in %.2f s (attempt %d, after %s)",
            spec.record_id,
            delay,
            next_attempt,
            _outcome(result),
        )


def _outcome(result: Result) -> str:
    """``503``, or ``no response connect: connection refused``."""
    outcome = str(result.status) if result.status is not None else "no response"
    if result.error is not None and result.error.kind != "http_status":
        outcome += f" {result.error.kind}: {result.error.message}"
    return outcome


def header_hooks(secret: frozenset[str]) -> dict[str, list[Callable[..., Any]]]:
    """httpx event hooks that log every hop's request and response headers (``-vv``)."""

    async def on_request(request: httpx.Request) -> None:
        attempt = _attempt.get()
        tag = _tag(attempt)
        if attempt is not None and attempt.announced:
            attempt.announced = False
        else:  # a redirect hop, or one range of a split download
            log.debug("%s > %s %s", tag, request.method, redact_url(str(request.url)))
        for name, value in redact_headers(tuple(request.headers.multi_items()), secret):
            log.debug("%s >   %s: %s", tag, name, value)

    async def on_response(response: httpx.Response) -> None:
        tag = _tag(_attempt.get())
        head = f"{response.http_version} {response.status_code} {response.reason_phrase}"
        log.debug("%s < %s", tag, head.rstrip())
        for name, value in redact_headers(tuple(response.headers.multi_items()), secret):
            log.debug("%s <   %s: %s", tag, name, value)

    return {"request": [on_request], "response": [on_response]}


def _tag(attempt: _Attempt | None) -> str:
    return f"[{attempt.id}]" if attempt is not None else "[?]"
