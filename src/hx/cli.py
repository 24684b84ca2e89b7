"""The ``hx`` command line: options become Settings; errors become exit codes here only."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from hx import __version__, console
from hx.errors import ExitCode, HxError, LineError, UsageError
from hx.models import Settings, StatusSet, Timeouts
from hx.ratelimit import parse_rate
from hx.records import OutputClosed
from hx.retry import RetryPolicy
from hx.runner import FetchJob, run_fetch
from hx.sources import RequestDefaults, check_method, check_url, parse_header_option

app = typer.Typer(
    name="hx",
    help="Fetch many URLs concurrently, or download big files, over one pooled HTTP client.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)

T = TypeVar("T")

EXIT_CODES_HELP = (
    "Exit codes: 0 all requests ok; 3 some failed; 4 all failed; 2 usage error, unreadable"
    " or empty input; 5 output could not be written; 130 SIGINT; 143 SIGTERM; 1 internal error."
)


class InputFormatChoice(StrEnum):
    auto = "auto"
    urls = "urls"
    ndjson = "ndjson"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hx {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """hx: concurrent HTTP for shells, pipelines and cron.

    Records go to stdout as NDJSON, one per request; progress, warnings and
    the summary go to stderr.
    """


# Options shared by commands, as reusable annotated types.
_REQ = "Requests"
_LIMITS = "Retries and limits"
_OUT = "Output"

Concurrency = Annotated[
    int, typer.Option("-c", "--concurrency", min=1, help="Requests in flight at once.")
]
PerHost = Annotated[
    int | None, typer.Option("--per-host", min=1, help="Requests in flight at once to one host.")
]
Headers = Annotated[
    list[str] | None,
    typer.Option(
        "-H",
        "--header",
        help="'Name: value' sent with every request; repeatable.",
        rich_help_panel=_REQ,
    ),
]
Timeout = Annotated[
    float,
    typer.Option(
        "--timeout", min=0.001, help="Seconds allowed for each network phase.", rich_help_panel=_REQ
    ),
]
ConnectTimeout = Annotated[
    float | None,
    typer.Option(
        "--connect-timeout",
        min=0.001,
        help="Seconds to connect [default: --timeout].",
        rich_help_panel=_REQ,
    ),
]
ReadTimeout = Annotated[
    float | None,
    typer.Option(
        "--read-timeout",
        min=0.001,
        help="Seconds to wait for each read [default: --timeout].",
        rich_help_panel=_REQ,
    ),
]
MaxTime = Annotated[
    float | None,
    typer.Option(
        "--max-time",
        min=0.001,
        help="Seconds one attempt may take in all, body included.",
        rich_help_panel=_REQ,
    ),
]
FollowRedirects = Annotated[
    bool,
    typer.Option(
        "--follow-redirects/--no-follow-redirects",
        help="Follow 3xx redirects.",
        rich_help_panel=_REQ,
    ),
]
MaxRedirects = Annotated[
    int,
    typer.Option(
        "--max-redirects", min=0, help="Redirects allowed per request.", rich_help_panel=_REQ
    ),
]
Http2 = Annotated[
    bool, typer.Option("--http2", help="Use HTTP/2 where servers offer it.", rich_help_panel=_REQ)
]
Retries = Annotated[
    int,
    typer.Option(
        "--retries", min=0, help="Retries after a transient failure.", rich_help_panel=_LIMITS
    ),
]
RetryOn = Annotated[
    str,
    typer.Option(
        "--retry-on",
        help="Statuses that are retried (idempotent methods).",
        rich_help_panel=_LIMITS,
    ),
]
RetryAllMethods = Annotated[
    bool,
    typer.Option(
        "--retry-all-methods",
        help="Also retry POST and PATCH after timeouts, broken exchanges and --retry-on.",
        rich_help_panel=_LIMITS,
    ),
]
RetryDelay = Annotated[
    float,
    typer.Option(
        "--retry-delay",
        min=0,
        help="Base of the exponential backoff (full jitter), seconds.",
        rich_help_panel=_LIMITS,
    ),
]
RetryMaxDelay = Annotated[
    float,
    typer.Option(
        "--retry-max-delay", min=0, help="Longest computed wait, seconds.", rich_help_panel=_LIMITS
    ),
]
RetryMaxTime = Annotated[
    float,
    typer.Option(
        "--retry-max-time",
        min=0,
        help="No retry starts this many seconds after the first attempt; 0: no limit.",
        rich_help_panel=_LIMITS,
    ),
]
Rate = Annotated[
    str | None,
    typer.Option(
        "--rate",
        help="Requests per second across the batch: N/s, N/m or N/h.",
        rich_help_panel=_LIMITS,
    ),
]
PerHostRate = Annotated[
    str | None,
    typer.Option(
        "--per-host-rate",
        help="Requests per second to any one host: N/s, N/m or N/h.",
        rich_help_panel=_LIMITS,
    ),
]
Grace = Annotated[
    float,
    typer.Option(
        "--grace",
        min=0,
        help="On Ctrl-C or SIGTERM, seconds requests in flight may take to finish.",
        rich_help_panel=_LIMITS,
    ),
]
Quiet = Annotated[
    bool,
    typer.Option(
        "-q", "--quiet", help="No progress and no summary on stderr.", rich_help_panel=_OUT
    ),
]


@app.command(epilog=EXIT_CODES_HELP)
def fetch(
    source: Annotated[
        str,
        typer.Argument(
            help="URL list or NDJSON file of requests; '-' reads stdin.", show_default=False
        ),
    ],
    concurrency: Concurrency = 10,
    per_host: PerHost = None,
    method: Annotated[
        str | None,
        typer.Option(
            "-X",
            "--method",
            help="Method for lines that give none [default: GET, or POST with a body].",
            rich_help_panel=_REQ,
        ),
    ] = None,
    header: Headers = None,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            help="Request body for lines that give none; '@FILE' reads a file.",
            rich_help_panel=_REQ,
        ),
    ] = None,
    json_body: Annotated[
        str | None,
        typer.Option(
            "--json",
            help="JSON request body (sets Content-Type) for lines without one.",
            rich_help_panel=_REQ,
        ),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Resolve relative URLs against this.")
    ] = None,
    input_format: Annotated[
        InputFormatChoice,
        typer.Option(
            "--input-format",
            help="Input format; auto: NDJSON for .ndjson/.jsonl or a first line starting '{'.",
        ),
    ] = InputFormatChoice.auto,
    timeout: Timeout = 30.0,
    connect_timeout: ConnectTimeout = None,
    read_timeout: ReadTimeout = None,
    max_time: MaxTime = None,
    follow_redirects: FollowRedirects = True,
    max_redirects: MaxRedirects = 20,
    http2: Http2 = False,
    retries: Retries = 2,
    retry_on: RetryOn = "429,502,503,504",
    retry_all_methods: RetryAllMethods = False,
    retry_delay: RetryDelay = 0.5,
    retry_max_delay: RetryMaxDelay = 30.0,
    retry_max_time: RetryMaxTime = 120.0,
    rate: Rate = None,
    per_host_rate: PerHostRate = None,
    grace: Grace = 5.0,
    journal: Annotated[
        Path | None,
        typer.Option(
            "--journal",
            help="Log finished requests to FILE; a re-run skips those that succeeded.",
            rich_help_panel=_LIMITS,
        ),
    ] = None,
    ok_status: Annotated[
        str,
        typer.Option(
            "--ok-status",
            help="Statuses that count as success, e.g. '2xx' or '200-299,304'.",
            rich_help_panel=_OUT,
        ),
    ] = "200-399",
    ordered: Annotated[
        bool,
        typer.Option(
            "--ordered",
            help="Write records in input order, not completion order.",
            rich_help_panel=_OUT,
        ),
    ] = False,
    output_file: Annotated[
        Path | None,
        typer.Option(
            "--output-file", help="Write records to FILE instead of stdout.", rich_help_panel=_OUT
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "-O",
            "--output-dir",
            help="Save each body in DIR as LINE-NAME; records get path and sha256.",
            rich_help_panel=_OUT,
        ),
    ] = None,
    include_headers: Annotated[
        bool,
        typer.Option(
            "--include-headers", help="Add response headers to records.", rich_help_panel=_OUT
        ),
    ] = False,
    body: Annotated[
        bool,
        typer.Option(
            "--body",
            help="Add the body to records: text, or base64 for binary.",
            rich_help_panel=_OUT,
        ),
    ] = False,
    quiet: Quiet = False,
    summary_json: Annotated[
        Path | None,
        typer.Option(
            "--summary-json", help="Also write the summary as JSON to FILE.", rich_help_panel=_OUT
        ),
    ] = None,
) -> None:
    """Fetch every request in SOURCE concurrently; write one NDJSON record per request.

    SOURCE holds one URL per line ('#' comments and blank lines skipped) or one
    JSON object per line: {"url": ..., "method", "headers", "params", "json",
    "data", "files", "id", "timeout", "retry"}.

    Examples:

      hx fetch urls.txt -c 20 > results.ndjson

      hx fetch requests.ndjson -O bodies/ --summary-json summary.json

      grep api urls.txt | hx fetch - --ordered | jq -r 'select(.ok|not).url'

      hx fetch urls.txt --retries 5 --rate 50/s --journal urls.journal
    """
    err = console.make_console()

    def build_job() -> FetchJob:
        settings = Settings(
            concurrency=concurrency,
            per_host=per_host,
            headers=_option(
                lambda: tuple(parse_header_option(h) for h in header or ()), "--header"
            ),
            timeouts=Timeouts(
                connect=connect_timeout if connect_timeout is not None else timeout,
                read=read_timeout if read_timeout is not None else timeout,
                write=timeout,
                pool=timeout,
            ),
            max_time=max_time,
            follow_redirects=follow_redirects,
            max_redirects=max_redirects,
            http2=http2,
            ok_status=_option(lambda: StatusSet.parse(ok_status), "--ok-status"),
            retry=RetryPolicy(
                retries=retries,
                retry_on=_option(lambda: StatusSet.parse(retry_on).members(), "--retry-on"),
                delay=retry_delay,
                max_delay=retry_max_delay,
                max_time=retry_max_time or None,
                all_methods=retry_all_methods,
            ),
            rate=_option(lambda: parse_rate(rate), "--rate") if rate else None,
            per_host_rate=(
                _option(lambda: parse_rate(per_host_rate), "--per-host-rate")
                if per_host_rate
                else None
            ),
            ordered=ordered,
            include_headers=include_headers,
            include_body=body,
            output_dir=_output_dir(output_dir),
        )
        return FetchJob(
            source=source,
            settings=settings,
            defaults=_request_defaults(method, data, json_body, base_url),
            input_format=input_format.value,
            output_file=output_file,
            summary_json=summary_json,
            journal=journal,
            grace=grace,
        )

    def run() -> ExitCode:
        job = build_job()
        with console.BatchProgress(err, enabled=not quiet) as progress:
            outcome = asyncio.run(
                run_fetch(job, progress, notify=lambda text: console.notice(err, text))
            )
        if outcome.summary.total == 0 and outcome.exit_code == ExitCode.USAGE:
            raise UsageError(f"{source}: no requests (empty, or only blank and comment lines)")
        if not quiet:
            console.print_summary(err, outcome.summary)
        return outcome.exit_code

    raise typer.Exit(_exit_code(err, run))


def _exit_code(err: Console, run: Callable[[], ExitCode]) -> int:
    """The one place where exceptions become exit codes."""
    try:
        return int(run())
    except OutputClosed as exc:
        return int(exc.exit_code)  # like any tool whose reader left: silently
    except HxError as exc:
        console.error(err, str(exc))
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        console.error(err, f"internal error: {type(exc).__name__}: {exc} (please report this)")
        return int(ExitCode.INTERNAL)


def _option(parse: Callable[[], T], option: str) -> T:
    """Run an option parser; a ValueError becomes a usage error naming the option."""
    try:
        return parse()
    except (ValueError, LineError) as exc:
        raise UsageError(f"{option}: {exc}") from None


def _request_defaults(
    method: str | None, data: str | None, json_body: str | None, base_url: str | None
) -> RequestDefaults:
    if data is not None and json_body is not None:
        raise UsageError("--data and --json cannot be used together")
    content: bytes | None = None
    content_type = None
    if data is not None:
        content = _read_data_option(data)
    elif json_body is not None:
        _option(lambda: json.loads(json_body), "--json")
        content, content_type = json_body.encode(), "application/json"
    if base_url is not None:
        _option(lambda: check_url(base_url), "--base-url")
    if method is not None:
        method = _option(lambda: check_method(str(method)), "--method")
    return RequestDefaults(
        method=method, content=content, content_type=content_type, base_url=base_url
    )


def _read_data_option(data: str) -> bytes:
    if not data.startswith("@"):
        return data.encode()
    path = data[1:]
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"--data @{path}: {exc.strerror or exc}") from exc


def _output_dir(path: Path | None) -> Path | None:
    if path is None:
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--output-dir {path}: {exc.strerror or exc}") from exc
    return path


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        # Ctrl-C before the event loop took over signals (e.g. during start-up).
        sys.exit(int(ExitCode.INTERRUPTED))
