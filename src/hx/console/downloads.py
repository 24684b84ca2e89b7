"""``hx download`` on stderr: a bar per file and one for all, then a line per file.

Sizes and speeds are binary (KiB, MiB, GiB) on the bars, the file lines and
the summary alike.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from hx.console.display import LiveDisplay
from hx.console.messages import say
from hx.console.numbers import bytes_rate, seconds, size
from hx.console.summary import print_download_summary
from hx.models import Result
from hx.run.summary import Summary, received_bytes

_NAME_WIDTH = 30


class _SpeedColumn(ProgressColumn):
    """Transfer speed in binary units (rich's own column is decimal)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-" if speed is None else bytes_rate(speed), style="cyan")


class DownloadProgress(LiveDisplay):
    """A bar per active file plus an overall bar on a terminal; a plain line per file always."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self._console = console
        self._enabled = enabled
        self._progress: Progress | None = None
        self._overall = TaskID(0)
        self._files: dict[int, TaskID] = {}
        self._overall_total = 0
        if enabled and console.is_interactive:
            self._progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(bar_width=None),
                DownloadColumn(binary_units=True),
                _SpeedColumn(),
                TimeRemainingColumn(),
                console=console,
                redirect_stdout=False,
                redirect_stderr=False,
                transient=True,
                expand=True,
            )
            self._overall = self._progress.add_task("all files", total=None)
        super().__init__(self._progress)

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

    def watch_in_flight(self, in_flight: Callable[[], int]) -> None:
        pass  # the bars are the files in flight

    def advance(self, result: Result) -> None:
        if self._enabled:
            say(self._console, *file_line(result))

    def print_summary(self, summary: Summary) -> None:
        print_download_summary(self._console, summary)


def file_line(result: Result) -> tuple[str, str | None]:
    """The line for one file and its style: kept, saved (size, time, rate, resume) or failed."""
    if not result.ok:
        error = result.error
        reason = f"{error.kind}: {error.message}" if error is not None else "failed"
        return f"hx: failed {result.url}: {reason}", "red"
    if result.skipped:  # --no-clobber, -N: nothing was downloaded
        return f"hx: kept {result.path} (already there)", None
    elapsed_s = result.elapsed_ms / 1000  # the transfer itself, not the wait for a slot
    received = received_bytes(result)
    rate = bytes_rate(received / elapsed_s if elapsed_s > 0 else 0.0)
    resumed = f", resumed at {size(result.resumed_from)}" if result.resumed_from else ""
    where = result.path or "stdout"
    return (
        f"hx: saved {where} ({size(result.bytes)} in {seconds(elapsed_s)}{resumed}, {rate})",
        None,
    )


def _shorten(name: str, width: int = _NAME_WIDTH) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"
