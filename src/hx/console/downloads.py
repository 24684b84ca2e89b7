"""``hx download`` on stderr: a bar per file and one for all, then a line per file.

Sizes and speeds are binary (KiB, MiB, GiB) on the bars, the file lines and
the summary alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hx.console.display import LiveDisplay
from hx.console.messages import Stderr, on_terminal, say
from hx.console.numbers import bytes_rate, seconds, size
from hx.console.summary import print_download_summary
from hx.models import Result
from hx.run.summary import Summary, received_bytes

if TYPE_CHECKING:
    from hx.console.download_bars import DownloadBars


class DownloadProgress(LiveDisplay):
    """A bar per active file plus an overall bar on a terminal; a plain line per file always."""

    def __init__(self, console: Stderr, enabled: bool) -> None:
        self._console = console
        self._enabled = enabled
        self._bars: DownloadBars | None = None
        if enabled and console.is_interactive:
            from hx.console.download_bars import DownloadBars

            self._bars = DownloadBars(on_terminal(console))
        super().__init__(self._bars)

    # TransferReporter: bytes as they arrive.
    def started(self, key: int, name: str, total: int | None, done: int) -> None:
        if self._bars is not None:
            self._bars.started(key, name, total, done)

    def transferred(self, key: int, count: int) -> None:
        if self._bars is not None:
            self._bars.transferred(key, count)

    def ended(self, key: int) -> None:
        if self._bars is not None:
            self._bars.ended(key)

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
