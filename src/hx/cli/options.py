"""Options every network command shares, declared once.

:class:`NetworkOptions` is both the declaration (each field carries its typer
option) and the value a command receives: :func:`with_options` adds its
fields to a command's signature and hands the command one object;
:func:`hx.cli.common.settings_from` turns it into Settings.

Nothing here imports the engine, so ``hx --help`` stays fast.
"""

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from hx.frozen import frozen
from hx.schema import Fields, parse_fields
from hx.settings import Settings
from hx.values import (
    Header,
    StatusSet,
    parse_duration,
    parse_header,
    parse_rate,
    parse_seconds,
    parse_size,
)

DEFAULTS = Settings()
"""Every option's default comes from here: the library's defaults are the CLI's."""
# --timeout stands for every phase, so the phases' defaults must agree.
(_TIMEOUT,) = {*dataclasses.astuple(DEFAULTS.timeouts)}

# Help panels, in the order --help and the man page show them.
INPUT = "Input"
REQUESTS = "Requests"
FILES = "Files"
LIMITS = "Concurrency and limits"
RETRIES = "Retries"
TRANSPORT = "HTTP/2, TLS and proxies"
AUTH = "Authentication and cookies"
OUTPUT = "Output"
PROGRESS = "Progress"
PANELS = (INPUT, REQUESTS, FILES, LIMITS, RETRIES, TRANSPORT, AUTH, OUTPUT, PROGRESS)


class RecordFormatChoice(StrEnum):
    ndjson = "ndjson"
    csv = "csv"
    tsv = "tsv"


class TlsVersionChoice(StrEnum):
    v1_2 = "1.2"
    v1_3 = "1.3"


def option(
    *flags: str,
    help: str,
    panel: str | None = None,
    parser: Callable[[Any], Any] | None = None,
    **kwargs: Any,
) -> Any:
    """A typer option that can also be set by the environment variable HX_<LONG_NAME>.

    Precedence (click's): command line, then environment, then the config
    file (which becomes click's default_map), then the default.
    """
    long_name = next(flag for flag in flags if flag.startswith("--")).split("/")[0]
    kwargs.setdefault("envvar", "HX_" + long_name[2:].upper().replace("-", "_"))
    if parser is not None:
        kwargs["parser"] = _telling(parser)
    return typer.Option(*flags, help=help, rich_help_panel=panel, show_envvar=True, **kwargs)


def _telling(parser: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``parser``, its ValueError's message kept: click would report only the value."""

    @functools.wraps(parser)
    def parse(value: Any) -> Any:
        try:
            return parser(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None

    return parse


@frozen
class NetworkOptions:
    concurrency: Annotated[
        int,
        option(
            "-c",
            "--concurrency",
            min=1,
            metavar="N",
            help="Requests in flight at once.",
            panel=LIMITS,
        ),
    ] = DEFAULTS.concurrency
    per_host: Annotated[
        int | None,
        option(
            "--per-host",
            min=1,
            metavar="N",
            help="Requests in flight at once to one host.",
            panel=LIMITS,
        ),
    ] = None
    header: Annotated[
        list[Header] | None,
        option(
            "-H",
            "--header",
            parser=parse_header,
            metavar="'NAME: VALUE'",
            help="A header for every request; repeatable.",
            panel=REQUESTS,
        ),
    ] = None
    timeout: Annotated[
        float,
        option(
            "--timeout",
            parser=parse_duration,
            metavar="DURATION",
            help="Time allowed for each network phase: seconds, or 500ms, 2m, 1h.",
            panel=REQUESTS,
        ),
    ] = _TIMEOUT
    connect_timeout: Annotated[
        float | None,
        option(
            "--connect-timeout",
            parser=parse_duration,
            metavar="DURATION",
            help="Time allowed to connect [default: --timeout].",
            panel=REQUESTS,
        ),
    ] = None
    read_timeout: Annotated[
        float | None,
        option(
            "--read-timeout",
            parser=parse_duration,
            metavar="DURATION",
            help="Longest wait for each read [default: --timeout].",
            panel=REQUESTS,
        ),
    ] = None
    max_time: Annotated[
        float | None,
        option(
            "--max-time",
            parser=parse_duration,
            metavar="DURATION",
            help="Time one attempt may take in all, body included.",
            panel=REQUESTS,
        ),
    ] = None
    follow_redirects: Annotated[
        bool,
        option(
            "--follow-redirects/--no-follow-redirects", help="Follow redirects.", panel=REQUESTS
        ),
    ] = DEFAULTS.redirects.follow
    max_redirects: Annotated[
        int,
        option(
            "--max-redirects",
            min=0,
            metavar="N",
            help="Redirects allowed per request.",
            panel=REQUESTS,
        ),
    ] = DEFAULTS.redirects.max_redirects
    max_size: Annotated[
        int | None,
        option(
            "--max-size",
            parser=parse_size,
            metavar="SIZE",
            help="Fail bodies larger than this after decoding (e.g. 500M).",
            panel=REQUESTS,
        ),
    ] = None
    allow_downgrade: Annotated[
        bool,
        option("--allow-downgrade", help="Follow redirects from https to http.", panel=REQUESTS),
    ] = False
    retries: Annotated[
        int,
        option(
            "--retries",
            min=0,
            metavar="N",
            help="Retries after a transient failure.",
            panel=RETRIES,
        ),
    ] = DEFAULTS.retry.retries
    retry_on: Annotated[
        StatusSet,
        option(
            "--retry-on",
            parser=StatusSet.parse,
            metavar="STATUSES",
            help="Statuses retried (idempotent methods).",
            panel=RETRIES,
        ),
    ] = DEFAULTS.retry.retry_on
    retry_all_methods: Annotated[
        bool,
        option(
            "--retry-all-methods",
            help="Also retry non-idempotent methods after timeouts, resets and --retry-on.",
            panel=RETRIES,
        ),
    ] = False
    retry_delay: Annotated[
        float,
        option(
            "--retry-delay",
            parser=parse_seconds,
            metavar="DURATION",
            help="Base of the backoff (full jitter).",
            panel=RETRIES,
        ),
    ] = DEFAULTS.retry.delay
    retry_max_delay: Annotated[
        float,
        option(
            "--retry-max-delay",
            parser=parse_seconds,
            metavar="DURATION",
            help="Longest computed wait.",
            panel=RETRIES,
        ),
    ] = DEFAULTS.retry.max_delay
    retry_max_time: Annotated[
        float,
        option(
            "--retry-max-time",
            parser=parse_seconds,
            metavar="DURATION",
            help="No retry starts this long after the first attempt; 0: no limit.",
            panel=RETRIES,
        ),
    ] = DEFAULTS.retry.max_time or 0.0
    rate: Annotated[
        float | None,
        option(
            "--rate",
            parser=parse_rate,
            metavar="RATE",
            help="Requests per second for the batch: N/s, N/m or N/h.",
            panel=LIMITS,
        ),
    ] = None
    per_host_rate: Annotated[
        float | None,
        option(
            "--per-host-rate",
            parser=parse_rate,
            metavar="RATE",
            help="Requests per second to one host: N/s, N/m, N/h.",
            panel=LIMITS,
        ),
    ] = None
    grace: Annotated[
        float,
        option(
            "--grace",
            parser=parse_seconds,
            metavar="DURATION",
            help="On Ctrl-C or SIGTERM, how long requests in flight may take to finish.",
            panel=LIMITS,
        ),
    ] = DEFAULTS.grace
    http2: Annotated[
        bool,
        option("--http2", help="Use HTTP/2 where the server offers it (ALPN).", panel=TRANSPORT),
    ] = False
    http2_prior_knowledge: Annotated[
        bool,
        option(
            "--http2-prior-knowledge",
            help="Speak HTTP/2 at once, also over cleartext (h2c).",
            panel=TRANSPORT,
        ),
    ] = False
    proxy: Annotated[
        str | None,
        option(
            "--proxy",
            metavar="URL",
            help="Proxy URL: http://, https://, socks5:// or socks5h://, with user:pass@.",
            panel=TRANSPORT,
        ),
    ] = None
    noproxy: Annotated[
        str | None,
        option(
            "--noproxy",
            metavar="HOSTS",
            help="Comma-separated hosts, domains or CIDRs to reach directly; '*' for all.",
            panel=TRANSPORT,
        ),
    ] = None
    no_env_proxy: Annotated[
        bool,
        option(
            "--no-env-proxy",
            help="Ignore http_proxy, HTTPS_PROXY, ALL_PROXY and NO_PROXY.",
            panel=TRANSPORT,
        ),
    ] = False
    cacert: Annotated[
        Path | None,
        option(
            "--cacert",
            metavar="FILE",
            help="Trust the CA certificates in this PEM file.",
            panel=TRANSPORT,
        ),
    ] = None
    capath: Annotated[
        Path | None,
        option(
            "--capath",
            metavar="DIR",
            help="Trust the CA certificates in this directory.",
            panel=TRANSPORT,
        ),
    ] = None
    insecure: Annotated[
        bool,
        option("-k", "--insecure", help="Do not verify TLS certificates (warns).", panel=TRANSPORT),
    ] = False
    cert: Annotated[
        Path | None,
        option(
            "--cert",
            metavar="FILE",
            help="Client certificate (PEM), with its key unless --key.",
            panel=TRANSPORT,
        ),
    ] = None
    key: Annotated[
        Path | None,
        option("--key", metavar="FILE", help="Private key for --cert (PEM).", panel=TRANSPORT),
    ] = None
    tls_min: Annotated[
        TlsVersionChoice | None,
        option(
            "--tls-min",
            metavar="1.2|1.3",
            help="Lowest TLS version to accept.",
            panel=TRANSPORT,
        ),
    ] = None
    user: Annotated[
        str | None,
        option(
            "-u",
            "--auth",
            metavar="USER:PASS",
            help="Credentials for basic (or --digest) auth.",
            panel=AUTH,
        ),
    ] = None
    digest: Annotated[bool, option("--digest", help="Use digest auth with --auth.", panel=AUTH)] = (
        False
    )
    bearer: Annotated[
        str | None,
        option(
            "--bearer",
            metavar="TOKEN",
            help="Bearer token; set HX_BEARER to keep it out of ps and shell history.",
            panel=AUTH,
        ),
    ] = None
    netrc: Annotated[
        bool, option("--netrc", help="Take credentials from ~/.netrc.", panel=AUTH)
    ] = False
    netrc_file: Annotated[
        Path | None,
        option(
            "--netrc-file",
            metavar="FILE",
            help="Take credentials from this netrc file.",
            panel=AUTH,
        ),
    ] = None
    secret_header: Annotated[
        list[str] | None,
        option(
            "--secret-header",
            metavar="NAME",
            help="A header to redact and drop on cross-origin redirects; repeatable.",
            panel=AUTH,
        ),
    ] = None
    cookie_jar: Annotated[
        Path | None,
        option(
            "--cookie-jar",
            metavar="FILE",
            help="Load and save cookies in this Netscape cookies.txt, shared by all requests.",
            panel=AUTH,
        ),
    ] = None
    output_file: Annotated[
        Path | None,
        option(
            "--output-file",
            metavar="FILE",
            help="Write records to FILE instead of stdout.",
            panel=OUTPUT,
        ),
    ] = None
    record_format: Annotated[
        RecordFormatChoice,
        option(
            "--format",
            metavar="ndjson|csv|tsv",
            help="Records as NDJSON, or as CSV (RFC 4180) or TSV with a header row.",
            panel=OUTPUT,
        ),
    ] = RecordFormatChoice.ndjson
    fields: Annotated[
        Fields | None,
        option(
            "--fields",
            parser=parse_fields,
            metavar="NAME,...",
            help="Write these record fields, in this order; nested ones dotted"
            " (timings.wait, error.kind).",
            panel=OUTPUT,
        ),
    ] = None
    summary_json: Annotated[
        Path | None,
        option(
            "--summary-json",
            metavar="FILE",
            help="Also write the summary as JSON to FILE: counts, statuses, latency histogram,"
            " slowest requests, hosts.",
            panel=OUTPUT,
        ),
    ] = None
    quiet: Annotated[
        bool,
        option("-q", "--quiet", help="No progress and no summary on stderr.", panel=PROGRESS),
    ] = False
    verbose: Annotated[
        int,
        option(
            "-v",
            "--verbose",
            count=True,
            help="A line per request, answer and retry wait on stderr, tagged with the record's"
            " id; -vv adds headers.",
            panel=PROGRESS,
        ),
    ] = 0


def with_options(func: Callable[..., None]) -> Callable[..., None]:
    """Add NetworkOptions' fields to a command's parameters; pass them as ``options``."""
    hints = typing.get_type_hints(NetworkOptions, include_extras=True)
    fields = dataclasses.fields(NetworkOptions)
    shared = [
        inspect.Parameter(
            field.name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=hints[field.name],
            default=field.default,
        )
        for field in fields
    ]
    signature = inspect.signature(func)
    own = [p for p in signature.parameters.values() if p.name != "options"]

    @functools.wraps(func)
    def command(**kwargs: Any) -> None:
        options = NetworkOptions(**{field.name: kwargs.pop(field.name) for field in fields})
        func(options=options, **kwargs)

    command.__signature__ = signature.replace(parameters=[*own, *shared])  # type: ignore[attr-defined]
    command.__annotations__ = {
        **{p.name: p.annotation for p in own},
        **{p.name: p.annotation for p in shared},
    }
    return command
