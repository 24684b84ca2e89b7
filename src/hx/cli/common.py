"""What every command does once it runs: options -> Settings, the run, the exit code.

Commands import this module inside their bodies, so the engine (httpx) is
loaded only when a command actually runs.
"""

from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Protocol, TypeVar

from hx import console
from hx.cli.options import NetworkOptions
from hx.errors import ExitCode, HxError, LineError, UsageError, internal_error_message
from hx.models import Result
from hx.redact import SECRET_HEADERS
from hx.run.records import OutputClosed, RecordFormat
from hx.run.runner import Outcome, run_async
from hx.run.summary import Summary
from hx.settings import (
    AuthOptions,
    ProxyOptions,
    RedirectPolicy,
    RetryPolicy,
    Settings,
    Timeouts,
    TlsOptions,
)

T = TypeVar("T")


class Progress(Protocol):
    @property
    def wants_total(self) -> bool: ...
    def set_total(self, total: int) -> None: ...
    def watch_in_flight(self, in_flight: Callable[[], int]) -> None: ...
    def advance(self, result: Result) -> None: ...
    def print_summary(self, summary: Summary) -> None: ...
    def __enter__(self) -> "Progress": ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def parse_option(parse: Callable[[], T], option: str) -> T:
    """Run an option parser; a ValueError becomes a usage error naming the option."""
    try:
        return parse()
    except (ValueError, LineError) as exc:
        raise UsageError(f"{option}: {exc}") from None


def settings_from(options: NetworkOptions, **command_settings: Any) -> Settings:
    """Settings from the shared options plus the command's own (``ordered``, ...)."""
    o = options
    return Settings(
        concurrency=o.concurrency,
        per_host=o.per_host,
        headers=tuple((header.name, header.value) for header in o.header or ()),
        timeouts=Timeouts(
            connect=o.connect_timeout if o.connect_timeout is not None else o.timeout,
            read=o.read_timeout if o.read_timeout is not None else o.timeout,
            write=o.timeout,
            pool=o.timeout,
        ),
        max_time=o.max_time,
        redirects=RedirectPolicy(
            follow=o.follow_redirects,
            max_redirects=o.max_redirects,
            allow_downgrade=o.allow_downgrade,
        ),
        secret_headers=SECRET_HEADERS | {name.lower() for name in o.secret_header or ()},
        http2=o.http2,
        http2_prior_knowledge=o.http2_prior_knowledge,
        tls=TlsOptions(
            verify=not o.insecure,
            cacert=o.cacert,
            capath=o.capath,
            cert=o.cert,
            key=o.key,
            min_version=o.tls_min.value if o.tls_min else None,
        ),
        proxies=ProxyOptions(proxy=o.proxy, noproxy=o.noproxy, use_env=not o.no_env_proxy),
        auth=AuthOptions(
            user=o.user, digest=o.digest, bearer=o.bearer, netrc=o.netrc, netrc_file=o.netrc_file
        ),
        cookie_jar=o.cookie_jar,
        verbose=o.verbose,
        retry=RetryPolicy(
            retries=o.retries,
            retry_on=o.retry_on,
            delay=o.retry_delay,
            max_delay=o.retry_max_delay,
            max_time=o.retry_max_time or None,
            all_methods=o.retry_all_methods,
        ),
        max_size=o.max_size,
        rate=o.rate,
        per_host_rate=o.per_host_rate,
        grace=o.grace,
        **command_settings,
    )


def record_format(options: NetworkOptions) -> RecordFormat:
    """``--format`` and ``--fields``."""
    return RecordFormat(options.record_format.value, options.fields)


def run_batch_command(
    err: console.Stderr,
    options: NetworkOptions,
    progress: Progress,
    batch: Callable[[Progress, Callable[[str], None]], Coroutine[Any, Any, Outcome]],
    empty_input: str,
) -> ExitCode:
    """Announce, run the batch under ``progress``, print the summary, give the exit code."""
    if options.insecure:
        console.warning(
            err, "--insecure: TLS certificates are not verified; anyone on the path can listen"
        )
    console.enable_tracing(err, options.verbose)
    with progress:
        outcome = run_async(batch(progress, lambda text: console.notice(err, text)))
    if outcome.summary.total == 0 and outcome.exit_code == ExitCode.USAGE:
        raise UsageError(f"{empty_input}: no requests (empty, or only blank and comment lines)")
    if not options.quiet:
        progress.print_summary(outcome.summary)
    return outcome.exit_code


def exit_code_of(err: console.Stderr, run: Callable[[], ExitCode]) -> int:
    """Run a command body; the one place where exceptions become exit codes."""
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
        console.error(err, internal_error_message(exc))
        return int(ExitCode.INTERNAL)
