"""Runs one ``hx fetch``: input -> engine -> records, with progress, signals and summary.

No typer or rich here: the CLI hands in a progress reporter and a way to tell
people things, and gets back the summary and the exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from hx.client import build_client
from hx.engine import Batch, ItemSource, ThreadedItemSource
from hx.errors import ExitCode, OutputError
from hx.journal import FileJournal
from hx.models import Result, Settings
from hx.records import RecordWriter
from hx.sources import (
    InputFormat,
    RequestDefaults,
    count_request_lines,
    detect_format,
    open_source,
    read_items,
    stream_is_blocking,
)
from hx.storage import write_atomically
from hx.summary import Summary, SummaryBuilder


class Reporter(Protocol):
    def set_total(self, total: int) -> None: ...
    def advance(self, result: Result) -> None: ...


@dataclasses.dataclass(frozen=True)
class FetchJob:
    source: str
    settings: Settings
    defaults: RequestDefaults = RequestDefaults()
    input_format: InputFormat = "auto"
    output_file: Path | None = None
    summary_json: Path | None = None
    journal: Path | None = None
    grace: float = 5.0


@dataclasses.dataclass
class FetchOutcome:
    summary: Summary
    exit_code: ExitCode


_SIGNAL_EXIT = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED}


async def run_fetch(
    job: FetchJob, progress: Reporter, notify: Callable[[str], None]
) -> FetchOutcome:
    """Run the whole batch; raise HxError only for batch-level problems."""
    stream = open_source(job.source)
    fmt = detect_format(job.source, job.input_format)
    builder = SummaryBuilder()
    received: list[signal.Signals] = []
    with contextlib.closing(stream) if job.source != "-" else contextlib.nullcontext():
        items = read_items(stream, fmt, job.defaults)
        journal = FileJournal(job.journal) if job.journal else None
        async with build_client(job.settings) as client:
            batch = Batch(client, job.settings, journal=journal)
            source = ThreadedItemSource(items) if stream_is_blocking(stream) else ItemSource(items)
            counting = _count_in_background(job.source, stream_is_blocking(stream), progress)
            with (
                _stop_on_signals(batch, job.grace, received, notify),
                RecordWriter(job.output_file) as writer,
            ):
                try:
                    async for result in batch.results(source):
                        writer.write(result)
                        builder.add(result)
                        progress.advance(result)
                finally:
                    if counting is not None:
                        counting.cancel()
                    if journal is not None:
                        journal.close()
    summary = builder.build()
    if job.summary_json is not None:
        _write_summary(job.summary_json, summary)
    exit_code = _SIGNAL_EXIT[received[0]] if received else summary.exit_code()
    return FetchOutcome(summary, exit_code)


def _count_in_background(
    source: str, blocking: bool, progress: Reporter
) -> asyncio.Task[None] | None:
    """Count a regular file's request lines in a thread so the bar can show a total."""
    if blocking:
        return None

    async def count() -> None:
        with contextlib.suppress(OSError):
            progress.set_total(await asyncio.to_thread(count_request_lines, Path(source)))

    return asyncio.create_task(count())


@contextlib.contextmanager
def _stop_on_signals(
    batch: Batch, grace: float, received: list[signal.Signals], notify: Callable[[str], None]
) -> Iterator[None]:
    """First SIGINT/SIGTERM: stop reading, give requests ``grace`` seconds. Second: stop now."""
    loop = asyncio.get_running_loop()

    def on_signal(signum: signal.Signals) -> None:
        received.append(signum)
        if len(received) == 1:
            notify(
                f"{signum.name}: stopping; waiting up to {grace:g} s for requests in flight"
                " (again to stop now)"
            )
            batch.stop(grace, reason=f"interrupted by {signum.name}")
        else:
            batch.stop(0, reason=f"interrupted by {signum.name}")

    for signum in _SIGNAL_EXIT:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        yield
    finally:
        for signum in _SIGNAL_EXIT:
            loop.remove_signal_handler(signum)


def _write_summary(path: Path, summary: Summary) -> None:
    data = json.dumps(summary.to_dict(), indent=2) + "\n"
    try:
        write_atomically(path, data.encode())
    except OSError as exc:
        raise OutputError(f"--summary-json {path}: {exc.strerror or exc}") from exc
