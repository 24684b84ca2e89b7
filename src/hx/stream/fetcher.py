"""The engine's fetcher for ``hx stream``: one call follows one stream to its end.

Events are written through the run's writer as they arrive (the runner
attaches it); the call returns the stream's final result. A stream the engine
cuts (``--max-time``, or a stop) still gets its stats: :meth:`left_behind`.
"""

from __future__ import annotations

import asyncio

import httpx

from hx.errors import ErrorKind
from hx.models import RequestSpec, Result
from hx.settings import Settings
from hx.stream.connection import Ending, read_connection
from hx.stream.options import StreamOptions
from hx.stream.reconnect import reconnect_delay
from hx.stream.state import EventSink, StreamState
from hx.stream.tally import StreamTally


class StreamFetcher:
    """``await fetcher(client, spec, settings)``: ``spec``'s stream, followed to its end."""

    def __init__(self, options: StreamOptions, tally: StreamTally | None = None) -> None:
        self.options = options
        self.tally = tally or StreamTally()
        self._sink: EventSink | None = None
        # Streams under way, for left_behind() when the engine cuts one.
        self._live: dict[RequestSpec, StreamState] = {}

    def attach(self, writer: EventSink) -> None:
        """Write event records through ``writer`` (without one, they are only counted)."""
        self._sink = writer if self.options.write_events else None

    async def __call__(
        self, client: httpx.AsyncClient, spec: RequestSpec, settings: Settings
    ) -> Result:
        options = self.options
        state = StreamState(spec, options.max_events, options.output_dir, self._sink, self.tally)
        self._live[spec] = state
        try:
            ending = await self._follow(client, state, settings)
        finally:
            state.close()
        del self._live[spec]  # not on cancellation: left_behind() takes it then
        return state.result(ending.end, ending.error)

    async def _follow(
        self, client: httpx.AsyncClient, state: StreamState, settings: Settings
    ) -> Ending:
        while True:
            ending = await read_connection(client, state, settings, self.options)
            wait = reconnect_delay(ending, state, self.options.reconnect, settings.retry)
            if wait is None:
                return ending
            await asyncio.sleep(wait)
            state.reconnects += 1

    def left_behind(self, spec: RequestSpec, result: Result) -> Result:
        """The engine cut ``spec``'s stream: its result with what it delivered, if it began."""
        state = self._live.pop(spec, None)
        if state is None or state.response is None:
            return result
        if result.error is not None and result.error.kind == ErrorKind.INTERRUPTED:
            return state.result("interrupted", result.error)
        return state.result("max_time")
