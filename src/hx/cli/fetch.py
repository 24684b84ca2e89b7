"""``hx fetch``: many requests from a file or stdin, one NDJSON record each."""

import functools
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hx.cli.app import EXIT_CODES_HELP, app
from hx.cli.help import HelpCommand
from hx.cli.options import (
    DEFAULTS,
    INPUT,
    LIMITS,
    OUTPUT,
    REQUESTS,
    NetworkOptions,
    option,
    with_options,
)
from hx.errors import ExitCode, UsageError
from hx.values import Shard, StatusSet, parse_shard

if TYPE_CHECKING:
    from hx.batch.sources import RequestDefaults


class InputFormatChoice(StrEnum):
    auto = "auto"
    urls = "urls"
    ndjson = "ndjson"


@app.command(cls=HelpCommand, epilog=EXIT_CODES_HELP)
@with_options
def fetch(
    source: Annotated[
        str,
        typer.Argument(
            metavar="SOURCE",
            help="URL list or NDJSON file of requests; '-' reads stdin.",
            show_default=False,
        ),
    ],
    options: NetworkOptions,
    method: Annotated[
        str | None,
        option(
            "-X",
            "--method",
            metavar="METHOD",
            help="Method for lines that give none [default: GET, or POST with a body].",
            panel=REQUESTS,
        ),
    ] = None,
    data: Annotated[
        str | None,
        option(
            "--data",
            metavar="TEXT|@FILE",
            help="Request body for lines that give none; '@FILE' reads a file, '@-' stdin.",
            panel=REQUESTS,
        ),
    ] = None,
    json_body: Annotated[
        str | None,
        option(
            "--json",
            metavar="JSON",
            help="JSON request body (sets Content-Type) for lines without one.",
            panel=REQUESTS,
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        option(
            "--base-url",
            metavar="URL",
            help="Resolve relative URLs against this.",
            panel=INPUT,
        ),
    ] = None,
    input_format: Annotated[
        InputFormatChoice,
        option(
            "--input-format",
            metavar="auto|urls|ndjson",
            help="Input format; auto: NDJSON for .ndjson/.jsonl or a first line starting '{'.",
            panel=INPUT,
        ),
    ] = InputFormatChoice.auto,
    workers: Annotated[
        int,
        option(
            "--workers",
            min=1,
            metavar="N",
            help="Processes, each with its own client and shard of SOURCE (a file).",
            panel=LIMITS,
        ),
    ] = 1,
    shard: Annotated[
        Shard | None,
        option(
            "--shard",
            parser=parse_shard,
            metavar="K/N",
            help="Take only lines K, K+N, K+2N, and so on of SOURCE: one slice per machine.",
            panel=INPUT,
        ),
    ] = None,
    journal: Annotated[
        Path | None,
        option(
            "--journal",
            metavar="FILE",
            help="Log finished requests to FILE; a re-run skips those that succeeded.",
            panel=INPUT,
        ),
    ] = None,
    ok_status: Annotated[
        StatusSet,
        option(
            "--ok-status",
            parser=StatusSet.parse,
            metavar="STATUSES",
            help="Statuses that count as success, e.g. '2xx' or '200-299,304'.",
            panel=OUTPUT,
        ),
    ] = DEFAULTS.ok_status,
    ordered: Annotated[
        bool,
        option(
            "--ordered",
            help="Write records in input order, not completion order.",
            panel=OUTPUT,
        ),
    ] = False,
    output_dir: Annotated[
        Path | None,
        option(
            "-O",
            "--output-dir",
            metavar="DIR",
            help="Save each body in DIR as LINE-NAME; records get path and sha256.",
            panel=OUTPUT,
        ),
    ] = None,
    include_headers: Annotated[
        bool,
        option("--include-headers", help="Add response headers to records.", panel=OUTPUT),
    ] = False,
    body: Annotated[
        bool,
        option(
            "--body",
            help="Add the body to records: text, or base64 for binary.",
            panel=OUTPUT,
        ),
    ] = False,
) -> None:
    """Fetch every request in SOURCE concurrently; write one NDJSON record per request.

    Examples:

    \b
      hx fetch urls.txt -c 20 > results.ndjson
      hx fetch requests.ndjson -O bodies/ --summary-json summary.json
      grep api urls.txt | hx fetch - --ordered | jq -r 'select(.ok|not).url'
      hx fetch urls.txt --retries 5 --rate 50/s --journal urls.journal

    SOURCE holds one URL per line ('#' comments and blank lines skipped) or one
    JSON object per line: {"url": ..., "method", "headers", "params", "json",
    "data", "files", "id", "timeout", "retry"}. On a terminal, stderr shows
    live progress and a summary with a latency histogram, the slowest
    requests and the busiest hosts; elsewhere, a plain summary.
    """
    # Imported here: `hx --help` and `hx --version` need none of the engine.
    from hx import console
    from hx.cli import common
    from hx.run.runner import BatchJob, FetchInput, run_fetch
    from hx.run.workers import fork_workers, merge_workers

    err = console.make_console()

    def run() -> ExitCode:
        settings = common.settings_from(
            options,
            ok_status=ok_status,
            ordered=ordered,
            include_headers=include_headers,
            include_body=body,
            output_dir=_output_dir(output_dir),
        )
        job = BatchJob(
            settings=settings,
            output_file=options.output_file,
            record_format=common.record_format(options),
            summary_json=options.summary_json,
            journal=journal,
        )
        fetch_input = FetchInput(
            source=source,
            input_format=input_format.value,
            defaults=_request_defaults(source, method, data, json_body, base_url),
            shard=shard,
        )
        if workers > 1:
            forked = fork_workers(job, fetch_input, workers)  # before any event loop
            batch = functools.partial(merge_workers, job, fetch_input, forked)
        else:
            batch = functools.partial(run_fetch, job, fetch_input)
        return common.run_batch_command(
            err,
            options,
            console.BatchProgress(err, enabled=not options.quiet),
            batch,
            empty_input=source,
        )

    raise typer.Exit(common.exit_code_of(err, run))


def _request_defaults(
    source: str, method: str | None, data: str | None, json_body: str | None, base_url: str | None
) -> "RequestDefaults":
    from hx.batch.sources import RequestDefaults, check_method, check_url
    from hx.cli.common import parse_option

    if data is not None and json_body is not None:
        raise UsageError("--data and --json cannot be used together")
    content: bytes | None = None
    content_type = None
    if data is not None:
        content = _read_data_option(data, source)
    elif json_body is not None:
        parse_option(lambda: json.loads(json_body), "--json")
        content, content_type = json_body.encode(), "application/json"
    if base_url is not None:
        parse_option(lambda: check_url(base_url), "--base-url")
    if method is not None:
        method = parse_option(lambda: check_method(str(method)), "--method")
    return RequestDefaults(
        method=method, content=content, content_type=content_type, base_url=base_url
    )


def _read_data_option(data: str, source: str) -> bytes:
    if not data.startswith("@"):
        return data.encode()
    path = data[1:]
    if path == "-" and source == "-":
        raise UsageError("--data @- and SOURCE - cannot both read stdin")
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
