"""The typer app, ``--version``, the entry point and the exit-code mapping."""

from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console

from hx import __version__, console
from hx.errors import ExitCode, HxError
from hx.records import OutputClosed

app = typer.Typer(
    name="hx",
    help="Fetch many URLs concurrently, or download big files, over one pooled HTTP client.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)

EXIT_CODES_HELP = (
    "Exit codes: 0 all requests ok; 3 some failed; 4 all failed; 2 usage error, unreadable or"
    " empty input; 5 output not writable; 130 SIGINT; 143 SIGTERM; 141 stdout closed;"
    " 1 internal error."
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"hx {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """hx: concurrent HTTP for shells, pipelines and cron.

    Records go to stdout as NDJSON, one per request; progress, warnings and
    the summary go to stderr.
    """


def exit_code_of(err: Console, run: Callable[[], ExitCode]) -> int:
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
        console.error(err, f"internal error: {type(exc).__name__}: {exc} (please report this)")
        return int(ExitCode.INTERNAL)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        # Ctrl-C before the event loop took over signals (e.g. during start-up).
        raise SystemExit(int(ExitCode.INTERRUPTED)) from None
