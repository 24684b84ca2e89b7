"""One-line messages on stderr (errors, warnings, notices, trace lines) and the console itself."""

from __future__ import annotations

import logging
import os
import sys

from rich.console import Console


def make_console() -> Console:
    """The stderr console; made per command so tests that swap sys.stderr see it.

    Messages are printed with ``soft_wrap`` (a long URL is never broken by
    inserted newlines); the console itself crops, so that live displays never
    wrap and leave stale lines behind.
    """
    plain = os.environ.get("NO_COLOR", "") != ""
    return Console(
        file=sys.stderr,
        highlight=False,
        # rich's own NO_COLOR keeps bold and dim; no colour system means no styles at all.
        color_system=None if plain else "auto",
        no_color=plain,
    )


def say(console: Console, text: str, style: str | None = None, wrap: bool = False) -> None:
    """Print one message line as is: no markup, no highlighting.

    Unless ``wrap``, a long line is not broken: a terminal folds it, and in a
    log or mail a URL stays whole for grep and copy.
    """
    console.print(text, markup=False, highlight=False, soft_wrap=not wrap, style=style)


def error(console: Console, message: str) -> None:
    say(console, f"hx: error: {message}", style="red")


def warning(console: Console, message: str) -> None:
    say(console, f"hx: warning: {message}", style="yellow")


def notice(console: Console, message: str) -> None:
    say(console, f"hx: {message}")


class _ConsoleHandler(logging.Handler):
    """Log lines through the console, so they print cleanly above live displays."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self._console = console

    def emit(self, record: logging.LogRecord) -> None:
        say(self._console, f"hx: {record.getMessage()}", style="dim")


def enable_tracing(console: Console, verbosity: int) -> None:
    """-v: request, answer and retry lines on stderr; -vv: headers too."""
    logger = logging.getLogger("hx")
    logger.handlers[:] = [_ConsoleHandler(console)] if verbosity else []
    logger.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
    logger.propagate = False
    if not verbosity:
        logger.setLevel(logging.WARNING)


def unicode_ok(console: Console) -> bool:
    """Whether bars and dashes may use box-drawing characters (else plain ASCII)."""
    return console.encoding.lower().startswith("utf")
