"""Runs one command's batch: items -> engine -> records, with progress, signals and summary.

No typer or rich here: the CLI hands in a progress reporter and a way to tell
people things, and gets back the summary and the exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import signal
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from hx.batch.engine import Batch, Fetcher
from hx.batch.feed import ItemSource, ThreadedItemSource
from hx.batch.journal import FileJournal
from hx.batch.sources import (
    InputFormat,
    RequestDefaults,
    count_request_lines,
    detect_format,
    open_source,
    read_items,
    stream_is_blocking,
    take_shard,
)
from hx.client import build_client
from hx.errors import ExitCode, OutputError
from hx.models import InputItem, Result
from hx.net.cookies import save_cookie_jar
from hx.request.fetch import fetch
from hx.run.records import RecordFormat, RecordWriter
from hx.run.signals import exit_code, handle_stop_signals
from hx.run.summary import Summary, SummaryBuilder
from hx.settings import Settings
from hx.storage import write_atomically
from hx.values import Shard


class Reporter(Protocol):
    @property
    def wants_total(self) -> bool:
        """Whether set_total is worth a count of the input (a bar is on screen)."""

    def set_total(self, total: int) -> None: ...
    def watch_in_flight(self, in_flight: Callable[[], int]) -> None:
        """Read ``in_flight()`` (attempts on the wire) whenever the display redraws."""

    def advance(self, result: Result) -> None: ...


@runtime_checkable
class WritesEvents(Protocol):
    """A fetcher that writes lines of its own between the records (``hx stream``'s events)."""

    def attach(self, writer: RecordWriter) -> None:
        """Write through ``writer``, the run's one writer of records, from now on."""


Notify = Callable[[str], None]
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class BatchJob:
    """What every batch command shares: settings and where results go."""

    settings: Settings
    output_file: Path | None = None
    """Records go here instead of stdout."""
    write_records: bool = True
    """False when stdout carries a body (``hx download -o -``) and no --output-file."""
    summary_json: Path | None = None
    journal: Path | None = None
    record_format: RecordFormat = RecordFormat()


@dataclasses.dataclass
class Outcome:
    summary: Summary
    exit_code: ExitCode


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, on uvloop where it is installed (a few percent less CPU per request)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


@dataclasses.dataclass(frozen=True)
class FetchInput:
    """Where ``hx fetch`` reads its requests, and which of them it takes."""

    source: str
    """A path, or ``-`` for stdin."""
    input_format: InputFormat = "auto"
    defaults: RequestDefaults = RequestDefaults()
    shard: Shard | None = None
    """Only the lines of this slice of the input."""


async def run_fetch(
    job: BatchJob,
    fetch_input: FetchInput,
    progress: Reporter,
    notify: Notify,
    fetcher: Fetcher = fetch,
) -> Outcome:
    """``hx fetch`` (``hx stream`` with its fetcher): the requests read from ``fetch_input``."""
    source = fetch_input.source
    stream = open_source(source)
    blocking = stream_is_blocking(stream)
    with contextlib.closing(stream) if source != "-" else contextlib.nullcontext():
        fmt = detect_format(source, fetch_input.input_format)
        items = read_items(stream, fmt, fetch_input.defaults)
        if fetch_input.shard is not None:
            items = take_shard(items, fetch_input.shard)
        count_lines_of = None if blocking or fetch_input.shard else Path(source)
        return await run_job(job, items, blocking, progress, notify, fetcher, count_lines_of)


async def run_job(
    job: BatchJob,
    items: Iterable[InputItem],
    blocking: bool,
    progress: Reporter,
    notify: Notify,
    fetcher: Fetcher,
    count_lines_of: Path | None = None,
) -> Outcome:
    """Run ``items`` with ``fetcher``; raise HxError only for batch-level problems.

    ``blocking`` says reading ``items`` may wait on another process (a pipe);
    ``count_lines_of`` is a file whose request lines give the progress total.
    """
    builder = SummaryBuilder()
    with RecordWriter(job.output_file, job.record_format) as writer:
        if isinstance(fetcher, WritesEvents):
            fetcher.attach(writer)
        # A request is journaled only once its record is out of hx's buffers.
        journal = FileJournal(job.journal, before_write=writer.flush) if job.journal else None
        try:
            async with build_client(job.settings) as client:
                batch = Batch(client, job.settings, fetcher, journal)
                progress.watch_in_flight(lambda: batch.in_flight)
                source = ThreadedItemSource(items) if blocking else ItemSource(items)
                counting = count_lines_in_background(count_lines_of, progress)
                try:
                    stopper = _stopper(batch, job.settings.grace, notify)
                    with handle_stop_signals(stopper) as received:
                        async for result in batch.results(source):
                            if job.write_records:
                                writer.write(result)
                            builder.add(result)
                            progress.advance(result)
                finally:
                    if counting is not None:
                        counting.cancel()
                    if job.settings.cookie_jar is not None:
                        save_cookie_jar(client.cookies.jar, job.settings.cookie_jar)
        finally:
            if journal is not None:
                journal.close()
    summary = builder.build()
    if job.summary_json is not None and summary.total:
        write_summary(job.summary_json, summary)
    return Outcome(summary, exit_code(summary, received))


def count_lines_in_background(path: Path | None, progress: Reporter) -> asyncio.Task[None] | None:
    """Count a file's request lines in a thread so the bar can show a total."""
    if path is None or not progress.wants_total:
        return None

    async def count() -> None:
        with contextlib.suppress(OSError):
            progress.set_total(await asyncio.to_thread(count_request_lines, path))

    return asyncio.create_task(count())


def _stopper(batch: Batch, grace: float, notify: Notify) -> Callable[[signal.Signals, bool], None]:
    """First signal: stop reading, give requests ``grace`` seconds. Again: stop now."""

    def stop(signum: signal.Signals, first: bool) -> None:
        if first:
            notify(
                f"{signum.name}: stopping; waiting up to {grace:g} s for requests in flight"
                " (again to stop now)"
            )
        batch.stop(grace if first else 0, reason=f"interrupted by {signum.name}")

    return stop


def write_summary(path: Path, summary: Summary) -> None:
    data = json.dumps(summary.to_dict(), indent=2) + "\n"
    try:
        write_atomically(path, data.encode())
    except OSError as exc:
        raise OutputError(f"--summary-json {path}: {exc.strerror or exc}") from exc
