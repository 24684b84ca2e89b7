"""Everything hx shows to people, on stderr: messages, progress and the summary.

stdout is for records only. Progress is drawn only when stderr is a terminal,
so cron mail and pipelines never see animation; rich honours NO_COLOR.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from hx.models import Result
from hx.run.summary import Summary


def make_console() -> Console:
    """The stderr console; made per command so tests that swap sys.stderr see it."""
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def error(console: Console, message: str) -> None:
    console.print(f"hx: error: {message}", markup=False, style="red")


def warning(console: Console, message: str) -> None:
    console.print(f"hx: warning: {message}", markup=False, style="yellow")


def notice(console: Console, message: str) -> None:
    console.print(f"hx: {message}", markup=False)


class _ConsoleHandler(logging.Handler):
    """Log lines through the console, so they print cleanly above live progress bars."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self._console = console

    def emit(self, record: logging.LogRecord) -> None:
        self._console.print(f"hx: {record.getMessage()}", markup=False, style="dim")


def enable_tracing(console: Console, verbosity: int) -> None:
    """-v: request and answer lines on stderr; -vv: headers too."""
    logger = logging.getLogger("hx")
    logger.handlers[:] = [_ConsoleHandler(console)] if verbosity else []
    logger.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
    logger.propagate = False
    if not verbosity:
        logger.setLevel(logging.WARNING)


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} req/s" if speed else "- req/s", style="cyan")


class _OutcomeColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        ok, failed = task.fields.get("ok", 0), task.fields.get("failed", 0)
        text = Text(f"{ok:,} ok", style="green")
        text.append(f"  {failed:,} failed", style="red" if failed else "dim")
        return text


class _LiveDisplay:
    """A rich Progress that runs for the length of a ``with`` block, if there is one."""

    _progress: Progress | None

    def __enter__(self) -> Self:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()


class BatchProgress(_LiveDisplay):
    """A live ``done/total`` bar with ok/failed counts, req/s and ETA; inert off a terminal."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self._progress: Progress | None = None
        self._task = TaskID(0)
        self._ok = 0
        self._failed = 0
        if enabled and console.is_terminal:
            self._progress = Progress(
                TextColumn("[bold]fetch"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                _OutcomeColumn(),
                _RateColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
                redirect_stdout=False,
                redirect_stderr=False,
                transient=True,
                speed_estimate_period=5,
            )
            self._task = self._progress.add_task("fetch", total=None, ok=0, failed=0)

    @property
    def wants_total(self) -> bool:
        return self._progress is not None

    def set_total(self, total: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=total)

    def advance(self, result: Result) -> None:
        if self._progress is None:
            return
        if result.ok:
            self._ok += 1
        else:
            self._failed += 1
        self._progress.update(self._task, advance=1, ok=self._ok, failed=self._failed)


class DownloadProgress(_LiveDisplay):
    """A bar per active file plus an overall bar on a terminal; a plain line per file off it."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self._console = console
        self._enabled = enabled
        self._progress: Progress | None = None
        self._overall = TaskID(0)
        self._files: dict[int, TaskID] = {}
        self._overall_total = 0
        if enabled and console.is_terminal:
            self._progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=console,
                redirect_stdout=False,
                redirect_stderr=False,
                transient=True,
            )
            self._overall = self._progress.add_task("all files", total=None)

    # TransferReporter: bytes as they arrive.
    def started(self, key: int, name: str, total: int | None, done: int) -> None:
        if self._progress is None:
            return
        if key in self._files:  # a retry: the file's bar starts again from disk
            self._progress.remove_task(self._files.pop(key))
        self._files[key] = self._progress.add_task(_shorten(name), total=total, completed=done)
        if total is not None:
            self._overall_total += total
            self._progress.update(self._overall, total=self._overall_total)
        self._progress.update(self._overall, advance=done)

    def transferred(self, key: int, count: int) -> None:
        if self._progress is not None and key in self._files:
            self._progress.update(self._files[key], advance=count)
            self._progress.update(self._overall, advance=count)

    def ended(self, key: int) -> None:
        if self._progress is not None and key in self._files:
            self._progress.remove_task(self._files.pop(key))

    # Reporter: one result per file.
    wants_total = False

    def set_total(self, total: int) -> None:
        pass

    def advance(self, result: Result) -> None:
        if not self._enabled:
            return
        if result.ok:
            speed = result.bytes / (result.elapsed_ms / 1000) if result.elapsed_ms else 0.0
            text = (
                f"hx: saved {result.path} ({_size(result.bytes)} in"
                f" {result.elapsed_ms / 1000:.1f} s, {_size(int(speed))}/s)"
            )
            self._console.print(text, markup=False, highlight=False)
        elif result.error is not None:
            text = f"hx: failed {result.url}: {result.error.kind}: {result.error.message}"
            self._console.print(text, markup=False, style="red")


def _shorten(name: str, width: int = 30) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def print_summary(console: Console, summary: Summary) -> None:
    """A few plain lines; the same words on a terminal and in cron mail."""
    head = (
        f"hx: {summary.total:,} requests in {summary.elapsed_s:.2f} s "
        f"({summary.requests_per_second:,.1f} req/s): {summary.ok:,} ok, {summary.failed:,} failed"
    )
    console.print(head, markup=False, style="bold")
    if summary.skipped:
        console.print(f"  skipped: {summary.skipped:,} already done per the journal", markup=False)
    if summary.by_status:
        console.print("  status:  " + _counts(summary.by_status), markup=False)
    if summary.by_error:
        console.print("  errors:  " + _counts(summary.by_error), markup=False)
    latency = summary.latency_ms
    if latency["p50"] is not None:
        parts = "  ".join(f"{name} {value:,.1f}" for name, value in latency.items() if value)
        console.print(f"  latency: {parts} ms", markup=False)
    console.print(f"  received: {_size(summary.bytes)}", markup=False)


def _counts(counts: dict[str, int]) -> str:
    return "  ".join(f"{name} {count:,}" for name, count in counts.items())


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
