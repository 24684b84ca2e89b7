"""``hx download``'s bars on a terminal: one per file in flight and one for all files.

The only user of rich's Progress, imported only when bars are drawn: off a
terminal, or with -q, a download loads none of it.
"""

from __future__ import annotations

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

from hx.console.numbers import bytes_rate

_NAME_WIDTH = 30


class _SpeedColumn(ProgressColumn):
    """Transfer speed in binary units (rich's own column is decimal)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-" if speed is None else bytes_rate(speed), style="cyan")


class DownloadBars:
    """A TransferReporter that draws; ``start()`` and ``stop()`` run the display."""

    def __init__(self, console: Console) -> None:
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
        self._overall_total = 0
        self._files: dict[int, TaskID] = {}

    def start(self) -> None:
        self._progress.start()

    def stop(self) -> None:
        self._progress.stop()

    def started(self, key: int, name: str, total: int | None, done: int) -> None:
        if key in self._files:  # a retry: the file's bar starts again from disk
            self._progress.remove_task(self._files.pop(key))
        self._files[key] = self._progress.add_task(_shorten(name), total=total, completed=done)
        if total is not None:
            self._overall_total += total
            self._progress.update(self._overall, total=self._overall_total)
        self._progress.update(self._overall, advance=done)

    def transferred(self, key: int, count: int) -> None:
        if key in self._files:
            self._progress.update(self._files[key], advance=count)
            self._progress.update(self._overall, advance=count)

    def ended(self, key: int) -> None:
        if key in self._files:
            self._progress.remove_task(self._files.pop(key))


def _shorten(name: str, width: int = _NAME_WIDTH) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"
