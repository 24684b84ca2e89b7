"""One connection of a stream: send the request, read the body line by line, say how it ended.

The body is read raw and decoded in bounded steps (hx.request.decoding), split
into bounded lines (hx.stream.lines), and each line goes to the framer the
response's Content-Type calls for; events are written as they complete.
"""

from __future__ import annotations

import contextlib

import httpx

from hx.errors import ErrorKind
from hx.frozen import frozen
from hx.models import ErrorInfo, StreamEnd
from hx.request import redirects
from hx.request.closing import close
from hx.request.decoding import BodyTooLarge, decoded_chunks
from hx.request.failures import classify
from hx.request.fetch import build_request
from hx.settings import Settings
from hx.stream.framing import SseFramer, framer_for, resolve
from hx.stream.lines import LineSplitter
from hx.stream.options import StreamOptions
from hx.stream.state import StreamState

_DROPS = frozenset({ErrorKind.CONNECT, ErrorKind.PROTOCOL, ErrorKind.TIMEOUT})
"""Failures after which an SSE stream reconnects, as EventSource does after a network error."""


@frozen
class Ending:
    """How one connection ended."""

    end: StreamEnd
    error: ErrorInfo | None = None
    dropped: bool = False
    """It ended as EventSource reconnects after: an SSE body's end, or a network failure."""


async def read_connection(
    client: httpx.AsyncClient, state: StreamState, settings: Settings, options: StreamOptions
) -> Ending:
    """Make one connection for ``state``'s request; read it until it ends or a limit ends it."""
    with contextlib.ExitStack() as files:
        try:
            request = build_request(client, state.spec, files)
        except (OSError, ValueError, httpx.InvalidURL) as exc:
            return Ending(
                "error", ErrorInfo(ErrorKind.INVALID_INPUT, f"cannot build the request: {exc}")
            )
        # Between events a stream may be quiet for long: --idle-timeout is its read timeout.
        request.extensions["timeout"] = {
            **request.extensions.get("timeout", {}),
            "read": options.idle_timeout,
        }
        if state.last_event_id:
            request.headers["Last-Event-ID"] = state.last_event_id
        try:
            response = await redirects.send(client, request, settings)
        except Exception as exc:  # noqa: BLE001 - classify() re-raises what it does not know
            return _failed(exc, options, dropped=True)
        state.response = response
        try:
            return await _read(response, state, settings, options)
        finally:
            await close(response)


async def _read(
    response: httpx.Response, state: StreamState, settings: Settings, options: StreamOptions
) -> Ending:
    status = response.status_code
    if status not in settings.ok_status:
        message = f"HTTP {status} {response.reason_phrase}".strip()
        return Ending("error", ErrorInfo(ErrorKind.HTTP_STATUS, message))
    framing = resolve(options.framing, response.headers.get("content-type"))
    framer = framer_for(framing, options.max_line, state.last_event_id)
    # EventSource reconnects only a 200 read as an event stream.
    sse = framing == "sse" and status == 200
    state.was_sse = state.was_sse or sse
    splitter = LineSplitter(options.max_line)
    try:
        async with contextlib.aclosing(decoded_chunks(response, settings.max_size)) as chunks:
            async for chunk in chunks:
                state.received(chunk)
                for piece in splitter.feed(chunk):
                    if state.take(framer, piece):
                        return Ending("max_events")
        for piece in splitter.finish():
            if framer.keeps_unended_line and state.take(framer, piece):
                return Ending("max_events")
        return Ending("eof", dropped=sse)
    except BodyTooLarge as exc:
        return Ending("error", ErrorInfo(ErrorKind.TOO_LARGE, str(exc)))
    except Exception as exc:  # noqa: BLE001 - classify() re-raises what it does not know
        return _failed(exc, options, dropped=sse)
    finally:
        if isinstance(framer, SseFramer):
            state.last_event_id = framer.parser.last_event_id
            if framer.parser.retry_ms is not None:
                state.retry_ms = framer.parser.retry_ms


def _failed(exc: Exception, options: StreamOptions, dropped: bool) -> Ending:
    if isinstance(exc, httpx.ReadTimeout) and options.idle_timeout is not None:
        message = f"no bytes for {options.idle_timeout:g} s (--idle-timeout)"
        return Ending("idle_timeout", ErrorInfo(ErrorKind.TIMEOUT, message))
    error = classify(exc)
    return Ending("error", error, dropped=dropped and error.kind in _DROPS)
