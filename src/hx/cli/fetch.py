"""``hx fetch``: many requests from a file or stdin, one NDJSON record each."""

import functools
from pathlib import Path
from typing import Annotated

import typer

from hx.cli import monitoring, request_input
from hx.cli.app import EXIT_CODES_HELP, command_app
from hx.cli.help import HelpCommand
from hx.cli.options import (
    DEFAULTS,
    INPUT,
    LIMITS,
    OUTPUT,
    NetworkOptions,
    option,
    with_options,
)
from hx.cli.request_input import (
    BaseUrl,
    Data,
    InputFormat,
    InputFormatChoice,
    Journal,
    JsonBody,
    Method,
    Source,
)
from hx.errors import ExitCode
from hx.values import AUTO_WORKERS, Shard, StatusSet, parse_shard, parse_workers

app = command_app()


@app.command(cls=HelpCommand, epilog=EXIT_CODES_HELP)
@with_options
def fetch(
    source: Source,
    options: NetworkOptions,
    method: Method = None,
    data: Data = None,
    json_body: JsonBody = None,
    base_url: BaseUrl = None,
    input_format: InputFormat = InputFormatChoice.auto,
    workers: Annotated[
        int,
        option(
            "--workers",
            parser=parse_workers,
            metavar="N|auto",
            help="Processes, each with its own client and shard of SOURCE (a file); auto: one"
            " per core for a file of 64 KiB or more, else one.",
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
    journal: Journal = None,
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
            help="Add the body to records: text, or base64 for binary (16 MiB at most,"
            " unless --max-size says).",
            panel=OUTPUT,
        ),
    ] = False,
    # Monitoring and cron (hx.monitor): rounds, checks, conditional requests, metrics.
    every: monitoring.Every = None,
    rounds: monitoring.Rounds = None,
    reload: monitoring.Reload = False,
    expect_body: monitoring.ExpectBody = None,
    expect_header: monitoring.ExpectHeader = None,
    expect_json: monitoring.ExpectJson = None,
    max_latency: monitoring.MaxLatency = None,
    min_cert_days: monitoring.MinCertDays = None,
    cache: monitoring.Cache = None,
    metrics_file: monitoring.MetricsFile = None,
    fail_fast: monitoring.FailFast = None,
    dry_run: monitoring.DryRun = False,
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
    # Imported here: `hx --help` and `hx --version` need none of the engine; a plain
    # run loads neither the workers, the rounds nor the dry run (start-up is a budget).
    from hx import console
    from hx.batch.sources import FETCH_KEYS
    from hx.cli import common
    from hx.console.live import BatchProgress
    from hx.run.runner import BatchJob, FetchInput, run_fetch

    err = console.make_console()

    def run() -> ExitCode:
        processes = workers
        if processes == AUTO_WORKERS:
            # Options that need the whole run in one engine keep it in one process.
            whole_run = (shard, every, cache, metrics_file, fail_fast)
            one_engine = dry_run or any(value is not None for value in whole_run)
            if one_engine:
                processes = 1
            else:
                from hx.run.workers import auto_worker_count

                processes = auto_worker_count(source)
        settings = common.settings_from(
            options,
            ok_status=ok_status,
            ordered=ordered,
            include_headers=include_headers,
            include_body=body,
            output_dir=request_input.output_dir(output_dir),
        )
        monitor = monitoring.monitor_options(
            source,
            journal,
            processes,
            every=every,
            rounds=rounds,
            reload=reload,
            expect_body=expect_body,
            expect_header=expect_header,
            expect_json=expect_json,
            max_latency=max_latency,
            min_cert_days=min_cert_days,
            cache=cache,
            metrics_file=metrics_file,
            fail_fast=fail_fast,
        )
        job = BatchJob(
            settings=settings,
            output_file=options.output_file,
            record_format=common.record_format(options),
            summary_json=options.summary_json,
            journal=journal,
            monitor=monitor,
        )
        fetch_input = FetchInput(
            source=source,
            input_format=input_format.value,
            defaults=request_input.request_defaults(source, method, data, json_body, base_url),
            shard=shard,
            ndjson_keys=FETCH_KEYS,
        )
        if dry_run:
            from hx.monitor import dry_run as dry_runs

            return dry_runs.print_requests(job, fetch_input)
        if processes > 1:
            from hx.run.workers import fork_workers, merge_workers

            forked = fork_workers(job, fetch_input, processes)  # before any event loop
            batch = functools.partial(merge_workers, job, fetch_input, forked)
        elif monitor.schedule is not None:
            from hx.monitor.rounds import run_rounds

            tell_round = None if not options.quiet else lambda _line: None
            batch = functools.partial(run_rounds, job, fetch_input, tell_round=tell_round)
        else:
            batch = functools.partial(run_fetch, job, fetch_input)
        return common.run_batch_command(
            err,
            options,
            BatchProgress(err, enabled=not options.quiet),
            batch,
            empty_input=source,
        )

    raise typer.Exit(common.exit_code_of(err, run))
