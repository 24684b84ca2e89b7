"""``hx stream``: many streaming responses at once, one record per event as it arrives."""

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated

import typer

from hx.cli.app import EXIT_CODES_HELP, command_app
from hx.cli.help import HelpCommand
from hx.cli.options import INPUT, LIMITS, OUTPUT, NetworkOptions, option, with_options
from hx.cli.request_input import (
    BaseUrl,
    Data,
    InputFormat,
    InputFormatChoice,
    Journal,
    JsonBody,
    Method,
    Source,
    output_dir,
    request_defaults,
)
from hx.errors import ExitCode, UsageError
from hx.stream.options import StreamOptions
from hx.values import parse_duration, parse_size

if TYPE_CHECKING:
    from hx.cli.common import Progress
    from hx.console.messages import Stderr
    from hx.models import Result
    from hx.run.summary import Summary
    from hx.stream.tally import StreamTally

STREAM_DEFAULTS = StreamOptions()


class FramingChoice(StrEnum):
    auto = "auto"
    sse = "sse"
    ndjson = "ndjson"
    lines = "lines"


app = command_app()


@app.command(cls=HelpCommand, epilog=EXIT_CODES_HELP)
@with_options
def stream(
    source: Source,
    options: NetworkOptions,
    framing: Annotated[
        FramingChoice,
        option(
            "--framing",
            metavar="auto|sse|ndjson|lines",
            help="How a body becomes events; auto: SSE for text/event-stream, NDJSON for"
            " application/x-ndjson or application/jsonl, else one event per line.",
            panel=INPUT,
        ),
    ] = FramingChoice.auto,
    max_events: Annotated[
        int | None,
        option(
            "--max-events", min=1, metavar="N", help="End each stream after N events.", panel=LIMITS
        ),
    ] = None,
    idle_timeout: Annotated[
        float | None,
        option(
            "--idle-timeout",
            parser=parse_duration,
            metavar="DURATION",
            help="End a stream (failed) when no bytes come for this long; it replaces"
            " --read-timeout for streams [default: no limit].",
            panel=LIMITS,
        ),
    ] = None,
    max_line: Annotated[
        int,
        option(
            "--max-line",
            parser=parse_size,
            metavar="SIZE",
            help="Longest line or SSE event (e.g. 64K); a longer one is an error event and"
            " is skipped.",
            panel=LIMITS,
        ),
    ] = STREAM_DEFAULTS.max_line,
    reconnect: Annotated[
        int,
        option(
            "--reconnect",
            min=0,
            metavar="N",
            help="Reconnect an SSE stream that ends or drops up to N times, with"
            " Last-Event-ID, after the server's retry: (at most --retry-max-delay).",
            panel=LIMITS,
        ),
    ] = 0,
    events_only: Annotated[
        bool,
        option(
            "--events-only", help="Write event records only, no record per stream.", panel=OUTPUT
        ),
    ] = False,
    no_events: Annotated[
        bool,
        option(
            "--no-events", help="Write a record per stream only, no event records.", panel=OUTPUT
        ),
    ] = False,
    output_to: Annotated[
        Path | None,
        option(
            "-O",
            "--output-dir",
            metavar="DIR",
            help="Append each stream's body to DIR/LINE-NAME as it arrives.",
            panel=OUTPUT,
        ),
    ] = None,
    method: Method = None,
    data: Data = None,
    json_body: JsonBody = None,
    base_url: BaseUrl = None,
    input_format: InputFormat = InputFormatChoice.auto,
    journal: Journal = None,
) -> None:
    """Follow every stream in SOURCE at once: a record per event as it arrives, one per stream.

    Examples:

    \b
      hx stream feeds.txt --max-time 60 > events.ndjson
      hx stream prompts.ndjson -c 50 --events-only | jq -rj '.data.choices[0].delta.content'
      hx stream https-feeds.txt --framing sse --reconnect 5 --idle-timeout 30 -O raw/
      hx stream logs.txt --max-events 100 --no-events --summary-json ttfe.json

    SOURCE is read as by hx fetch: URLs, or NDJSON requests with method,
    headers and JSON bodies (a file of LLM prompts). Each event is a record
    {"id", "seq", "t_ms", "data"} (SSE adds "event" and "event_id"; an
    unreadable line has "error" instead of "data"), written and flushed as it
    arrives; each stream ends with its result record, whose "stream" object
    holds events, first_event_ms, gap percentiles and how it ended (eof,
    max_events, max_time, idle_timeout, interrupted, error). Retries happen
    only before a stream's first byte. Records are NDJSON only.
    """
    # Imported here: `hx --help` and `hx --version` need none of the engine.
    from hx import console
    from hx.cli import common
    from hx.console.live import BatchProgress
    from hx.run.runner import BatchJob, FetchInput, run_fetch
    from hx.stream.fetcher import StreamFetcher
    from hx.stream.tally import StreamTally

    err = console.make_console()

    def run() -> ExitCode:
        if options.record_format != "ndjson" or options.fields is not None:
            raise UsageError(
                "hx stream writes NDJSON only (--format and --fields do not apply):"
                " event and stream records differ in shape"
            )
        if events_only and no_events:
            raise UsageError("--events-only and --no-events cannot be used together")
        settings = common.settings_from(options)
        tally = StreamTally()
        fetcher = StreamFetcher(
            common.parse_option(
                lambda: StreamOptions(
                    framing=framing.value,
                    max_events=max_events,
                    idle_timeout=idle_timeout,
                    max_line=max_line,
                    reconnect=reconnect,
                    write_events=not no_events,
                    output_dir=output_dir(output_to),
                ),
                "--max-line",
            ),
            tally,
        )
        job = BatchJob(
            settings=settings,
            output_file=options.output_file,
            write_records=not events_only,
            summary_json=options.summary_json,
            journal=journal,
        )
        fetch_input = FetchInput(
            source=source,
            input_format=input_format.value,
            defaults=request_defaults(source, method, data, json_body, base_url),
        )
        progress = _StreamProgress(BatchProgress(err, enabled=not options.quiet), err, tally)
        return common.run_batch_command(
            err,
            options,
            progress,
            lambda progress_, notify: run_fetch(job, fetch_input, progress_, notify, fetcher),
            empty_input=source,
        )

    raise typer.Exit(common.exit_code_of(err, run))


class _StreamProgress:
    """hx fetch's live lines while streams run; then the stream summary, not fetch's."""

    def __init__(self, live: "Progress", err: "Stderr", tally: "StreamTally") -> None:
        self._live = live
        self._err = err
        self._tally = tally

    @property
    def wants_total(self) -> bool:
        return self._live.wants_total

    def set_total(self, total: int) -> None:
        self._live.set_total(total)

    def watch_in_flight(self, in_flight: Callable[[], int]) -> None:
        self._live.watch_in_flight(in_flight)

    def advance(self, result: "Result") -> None:
        self._tally.add(result)
        self._live.advance(result)

    def print_summary(self, summary: "Summary") -> None:
        from hx.console.messages import say
        from hx.console.numbers import count, ms, plural, seconds, size

        s = self._tally.summary(summary)
        say(
            self._err,
            f"hx: {plural(s.streams, 'stream')} in {seconds(s.elapsed_s)}:"
            f" {count(s.ok)} ok, {count(s.failed)} failed",
            style="bold",
        )
        lines = [("events", f"{count(s.events)}, {count(s.bad_events)} unreadable")]
        if s.first_event_p50_ms is not None:
            p99 = s.first_event_p99_ms or 0.0
            lines.append(("first event", f"p50 {ms(s.first_event_p50_ms)}  p99 {ms(p99)}"))
        if s.gap_p50_ms is not None:
            lines.append(("gaps", f"p50 {ms(s.gap_p50_ms)}  p99 {ms(s.gap_p99_ms or 0.0)}"))
        lines.append(("received", size(s.bytes)))
        if s.ends:
            lines.append(("ended", "  ".join(f"{end} {count(n)}" for end, n in s.ends.items())))
        if s.reconnects:
            lines.append(("reconnects", count(s.reconnects)))
        if s.by_error:
            lines.append(("errors", "  ".join(f"{k} {count(n)}" for k, n in s.by_error.items())))
        for label, text in lines:
            say(self._err, f"  {label + ':':<12} {text}")

    def __enter__(self) -> "_StreamProgress":
        self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._live.__exit__(exc_type, exc, tb)
