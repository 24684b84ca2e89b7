"""One-line messages on stderr (errors, warnings, notices, trace lines) and the console itself.

On a terminal the console is rich's. Elsewhere (cron, pipes, files) it is a
:class:`PlainStderr`, and rich is never loaded: it would cost more start-up
time than a one-URL fetch spends on the network.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Protocol, TextIO, cast

if TYPE_CHECKING:
    from rich.console import Console

# Variables by which rich may take a pipe for a terminal: where one is set, rich decides.
_TERMINAL_HINTS = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
# What rich leaves out of a line (bell, backspace, vertical tab, form feed, CR):
# a log reads the same as the terminal did.
_UNPRINTED = dict.fromkeys(map(ord, "\a\b\v\f\r"))


class Stderr(Protocol):
    """Where people are told things: rich's Console, or a :class:`PlainStderr`."""

    @property
    def is_terminal(self) -> bool: ...
    @property
    def is_interactive(self) -> bool: ...
    def print(
        self, text: str, *, markup: bool, highlight: bool, soft_wrap: bool, style: str | None
    ) -> None: ...


class PlainStderr:
    """stderr off a terminal: each message a line of text as it is, without styles."""

    is_terminal = False
    is_interactive = False

    def __init__(self, file: TextIO) -> None:
        self._file = file

    def print(
        self, text: str, *, markup: bool, highlight: bool, soft_wrap: bool, style: str | None
    ) -> None:
        # markup, highlight and soft wrapping are rich's; here text is never parsed or wrapped.
        self._file.write(text.translate(_UNPRINTED).expandtabs() + "\n")
        self._file.flush()


def make_console() -> Stderr:
    """The stderr console; made per command so tests that swap sys.stderr see it.

    Messages are printed with ``soft_wrap`` (a long URL is never broken by
    inserted newlines); the console itself crops, so that live displays never
    wrap and leave stale lines behind.
    """
    if not sys.stderr.isatty() and not any(name in os.environ for name in _TERMINAL_HINTS):
        return PlainStderr(sys.stderr)
    from rich.console import Console

    plain = os.environ.get("NO_COLOR", "") != ""
    return Console(
        file=sys.stderr,
        highlight=False,
        # rich's own NO_COLOR keeps bold and dim; no colour system means no styles at all.
        color_system=None if plain else "auto",
        no_color=plain,
    )


def on_terminal(console: Stderr) -> Console:
    """``console``, found to be on a terminal, as the rich Console it is there (make_console)."""
    return cast("Console", console)


def say(console: Stderr, text: str, style: str | None = None, wrap: bool = False) -> None:
    """Print one message line as is: no markup, no highlighting.

    Unless ``wrap``, a long line is not broken: a terminal folds it, and in a
    log or mail a URL stays whole for grep and copy.
    """
    console.print(text, markup=False, highlight=False, soft_wrap=not wrap, style=style)


def error(console: Stderr, message: str) -> None:
    say(console, f"hx: error: {message}", style="red")


def warning(console: Stderr, message: str) -> None:
    say(console, f"hx: warning: {message}", style="yellow")


def notice(console: Stderr, message: str) -> None:
    say(console, f"hx: {message}")


class _ConsoleHandler(logging.Handler):
    """Log lines through the console, so they print cleanly above live displays."""

    def __init__(self, console: Stderr) -> None:
        super().__init__()
        self._console = console

    def emit(self, record: logging.LogRecord) -> None:
        say(self._console, f"hx: {record.getMessage()}", style="dim")


def enable_tracing(console: Stderr, verbosity: int) -> None:
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
