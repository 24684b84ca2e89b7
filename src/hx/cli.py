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
from hx.records import OutputClosed
from hx.runner import FetchJob, run_fetch
from hx.sources import RequestDefaults, check_method, check_url, parse_header_option

app = typer.Typer(
    name="hx",
    help="Fetch many URLs concurrently, or download big files, over one pooled HTTP client.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
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


@app.command(epilog=EXIT_CODES_HELP)
def fetch(
    source: Annotated[
        str,
        typer.Argument(
            help="URL list or NDJSON file of requests; '-' reads stdin.", show_default=False
        ),
    ],
    concurrency: Annotated[
        int, typer.Option("-c", "--concurrency", min=1, help="Requests in flight at once.")
    ] = 10,
    per_host: Annotated[
        int | None,
        typer.Option("--per-host", min=1, help="Requests in flight at once to one host."),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            "-X",
            "--method",
            help="Method for lines that give none [default: GET, or POST with a body].",
        ),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("-H", "--header", help="'Name: value' sent with every request; repeatable."),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option("--data", help="Request body for lines that give none; '@FILE' reads a file."),
    ] = None,
    json_body: Annotated[
        str | None,
        typer.Option("--json", help="JSON request body (sets Content-Type) for lines without one."),
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
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=0.001, help="Seconds allowed for each network phase."),
    ] = 30.0,
    connect_timeout: Annotated[
        float | None,
        typer.Option(
            "--connect-timeout", min=0.001, help="Seconds to connect [default: --timeout]."
        ),
    ] = None,
    read_timeout: Annotated[
        float | None,
        typer.Option(
            "--read-timeout", min=0.001, help="Seconds to wait for each read [default: --timeout]."
        ),
    ] = None,
    follow_redirects: Annotated[
        bool,
        typer.Option("--follow-redirects/--no-follow-redirects", help="Follow 3xx redirects."),
    ] = True,
    max_redirects: Annotated[
        int, typer.Option("--max-redirects", min=0, help="Redirects allowed per request.")
    ] = 20,
    http2: Annotated[
        bool, typer.Option("--http2", help="Use HTTP/2 where servers offer it.")
    ] = False,
    ok_status: Annotated[
        str,
        typer.Option(
            "--ok-status", help="Statuses that count as success, e.g. '2xx' or '200-299,304'."
        ),
    ] = "200-399",
    ordered: Annotated[
        bool, typer.Option("--ordered", help="Write records in input order, not completion order.")
    ] = False,
    output_file: Annotated[
        Path | None,
        typer.Option("--output-file", help="Write records to FILE instead of stdout."),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "-O",
            "--output-dir",
            help="Save each body in DIR as LINE-NAME; records get path, sha256.",
        ),
    ] = None,
    include_headers: Annotated[
        bool, typer.Option("--include-headers", help="Add response headers to records.")
    ] = False,
    body: Annotated[
        bool,
        typer.Option("--body", help="Add the body to records: text, or base64 for binary."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="No progress and no summary on stderr.")
    ] = False,
    summary_json: Annotated[
        Path | None, typer.Option("--summary-json", help="Also write the summary as JSON to FILE.")
    ] = None,
    grace: Annotated[
        float,
        typer.Option(
            "--grace", min=0, help="On Ctrl-C/SIGTERM, seconds requests in flight may finish in."
        ),
    ] = 5.0,
) -> None:
    """Fetch every request in SOURCE concurrently; write one NDJSON record per request.

    SOURCE holds one URL per line ('#' comments and blank lines skipped) or one
    JSON object per line: {"url": ..., "method", "headers", "params", "json",
    "data", "files", "id", "timeout"}.

    Examples:

      hx fetch urls.txt -c 20 > results.ndjson

      hx fetch requests.ndjson -O bodies/ --summary-json summary.json

      grep api urls.txt | hx fetch - --ordered | jq -r 'select(.ok|not).url'
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
            follow_redirects=follow_redirects,
            max_redirects=max_redirects,
            http2=http2,
            ok_status=_option(lambda: StatusSet.parse(ok_status), "--ok-status"),
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
