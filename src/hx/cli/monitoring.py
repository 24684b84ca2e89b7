"""``hx fetch``'s options for monitoring and cron (hx.monitor), declared once.

Each option is an ``Annotated`` type a command uses as a parameter's type;
:func:`monitor_options` checks them together and makes the job's
MonitorOptions. Nothing here imports the engine.
"""

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from hx.cli.options import INPUT, LIMITS, OUTPUT, REQUESTS, option
from hx.errors import UsageError
from hx.values import parse_duration

if TYPE_CHECKING:
    from hx.monitor.options import MonitorOptions

Every = Annotated[
    float | None,
    option(
        "--every",
        parser=parse_duration,
        metavar="DURATION",
        help="Run SOURCE (a file) again every DURATION (30s, 5m, 1h) on one client, its"
        " connections kept open; records get 'round'. A slow round delays the next, never"
        " overlaps it. The exit code is the last round's.",
        panel=INPUT,
    ),
]
Rounds = Annotated[
    int | None,
    option(
        "--rounds",
        min=1,
        metavar="N",
        help="With --every: stop after N rounds [default: until Ctrl-C or SIGTERM].",
        panel=INPUT,
    ),
]
Reload = Annotated[
    bool,
    option(
        "--reload",
        help="With --every: read SOURCE again for each round (else once, before the first).",
        panel=INPUT,
    ),
]
ExpectBody = Annotated[
    str | None,
    option(
        "--expect-body",
        metavar="REGEX",
        help="Fail a response (error kind 'assertion') whose body does not match REGEX;"
        " the body is held in memory (16 MiB at most, unless --max-size says).",
        panel=OUTPUT,
    ),
]
ExpectHeader = Annotated[
    list[str] | None,
    option(
        "--expect-header",
        metavar="'NAME: REGEX'",
        help="Fail a response without a NAME header matching REGEX; repeatable.",
        panel=OUTPUT,
    ),
]
ExpectJson = Annotated[
    list[str] | None,
    option(
        "--expect-json",
        metavar="PATH=VALUE",
        help="Fail a response whose JSON body lacks VALUE (JSON, else text) at PATH, e.g."
        " 'status=ok', 'data.items[0].id=7'; repeatable.",
        panel=OUTPUT,
    ),
]
MaxLatency = Annotated[
    float | None,
    option(
        "--max-latency",
        parser=parse_duration,
        metavar="DURATION",
        help="Fail a response that took longer than DURATION (its final attempt, e.g. 500ms).",
        panel=OUTPUT,
    ),
]
MinCertDays = Annotated[
    int | None,
    option(
        "--min-cert-days",
        min=0,
        metavar="N",
        help="Fail an https response whose certificate expires in fewer than N days.",
        panel=OUTPUT,
    ),
]
Cache = Annotated[
    Path | None,
    option(
        "--cache",
        metavar="FILE",
        help="Keep each request's ETag and Last-Modified in FILE and send them next time"
        " (If-None-Match, If-Modified-Since); a 304 is ok, with not_modified: true.",
        panel=REQUESTS,
    ),
]
MetricsFile = Annotated[
    Path | None,
    option(
        "--metrics-file",
        metavar="FILE",
        help="After the run (each round), write Prometheus metrics to FILE atomically"
        " (node_exporter's textfile collector).",
        panel=OUTPUT,
    ),
]
FailFast = Annotated[
    int | None,
    option(
        "--fail-fast",
        min=1,
        metavar="N",
        help="After N failed records, send nothing more: the rest get records of kind"
        " 'not_started'.",
        panel=LIMITS,
    ),
]
DryRun = Annotated[
    bool,
    option(
        "--dry-run",
        help="Print each request as NDJSON (method, url, headers with secrets redacted,"
        " body size) and exit without connecting.",
        panel=INPUT,
    ),
]


def monitor_options(
    source: str,
    journal: Path | None,
    workers: int,
    *,
    every: float | None,
    rounds: int | None,
    reload: bool,
    expect_body: str | None,
    expect_header: list[str] | None,
    expect_json: list[str] | None,
    max_latency: float | None,
    min_cert_days: int | None,
    cache: Path | None,
    metrics_file: Path | None,
    fail_fast: int | None,
) -> "MonitorOptions":
    """The job's MonitorOptions; UsageError for a value or combination that cannot work."""
    from hx.cli.common import parse_option
    from hx.models import Expectations
    from hx.monitor.expectations import parse_header_check, parse_json_check, parse_regex
    from hx.monitor.options import MonitorOptions, Schedule

    if every is None and (rounds is not None or reload):
        raise UsageError("--rounds and --reload need --every")
    if every is not None and source == "-":
        raise UsageError("--every needs SOURCE to be a file (stdin cannot be read again)")
    if every is not None and journal is not None:
        raise UsageError("--every and --journal cannot be combined (the journal skips done work)")
    if workers > 1:
        # Each worker runs an engine of its own: none of these would see the whole run.
        whole_run = (
            ("--every", every),
            ("--cache", cache),
            ("--metrics-file", metrics_file),
            ("--fail-fast", fail_fast),
        )
        for name, value in whole_run:
            if value is not None:
                raise UsageError(f"{name} cannot be combined with --workers")
    body = None if expect_body is None else partial(parse_regex, expect_body)
    expect = Expectations(
        body=None if body is None else parse_option(body, "--expect-body"),
        headers=tuple(
            parse_option(partial(parse_header_check, text), "--expect-header")
            for text in expect_header or ()
        ),
        json=tuple(
            parse_option(partial(parse_json_check, text), "--expect-json")
            for text in expect_json or ()
        ),
        max_latency_ms=None if max_latency is None else max_latency * 1000,
        min_cert_days=min_cert_days,
    )
    return MonitorOptions(
        schedule=None if every is None else Schedule(every, rounds, reload),
        expect=expect,
        cache=cache,
        metrics_file=metrics_file,
        fail_fast=fail_fast,
    )
