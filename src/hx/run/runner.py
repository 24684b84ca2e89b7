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
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar, runtime_checkable

import httpx

from hx.batch.engine import Batch, Fetcher
from hx.batch.feed import ItemSource, ThreadedItemSource
from hx.batch.journal import FileJournal
from hx.batch.sources import (
    NDJSON_KEYS,
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
from hx.frozen import frozen
from hx.models import InputItem, Result
from hx.monitor.monitoring import Monitoring
from hx.monitor.options import MonitorOptions
from hx.net.cookies import save_cookie_jar
from hx.request.fetch import fetch
from hx.run import collector
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


@frozen
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
    monitor: MonitorOptions = MonitorOptions()
    """Rounds, response checks, --cache, --metrics-file, --fail-fast (hx.monitor)."""


@dataclasses.dataclass
class Outcome:
    summary: Summary
    exit_code: ExitCode
    tally: SummaryBuilder | None = None
    """What the summary was built from: a worker hands it to its parent to merge."""


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, on uvloop where it is installed (a few percent less CPU per request)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


@frozen
class FetchInput:
    """Where ``hx fetch`` reads its requests, and which of them it takes."""

    source: str
    """A path, or ``-`` for stdin."""
    input_format: InputFormat = "auto"
    defaults: RequestDefaults = RequestDefaults()
    shard: Shard | None = None
    """Only the lines of this slice of the input."""
    ndjson_keys: tuple[str, ...] = NDJSON_KEYS
    """The keys an NDJSON line may have."""


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
        items = read_fetch_input(stream, fetch_input)
        count_lines_of = None if blocking or fetch_input.shard else Path(source)
        return await run_job(job, items, blocking, progress, notify, fetcher, count_lines_of)


def read_fetch_input(stream: IO[bytes], fetch_input: FetchInput) -> Iterator[InputItem]:
    """The items of ``fetch_input`` (its format, defaults and shard), read from ``stream``."""
    fmt = detect_format(fetch_input.source, fetch_input.input_format)
    items = read_items(stream, fmt, fetch_input.defaults, fetch_input.ndjson_keys)
    if fetch_input.shard is not None:
        items = take_shard(items, fetch_input.shard)
    return items


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
    async with open_run(job, progress, notify, fetcher) as run:
        source = ThreadedItemSource(items) if blocking else ItemSource(items)
        counting = count_lines_in_background(count_lines_of, progress)
        try:
            await run.batch(source)
        finally:
            if counting is not None:
                counting.cancel()
    return run.outcome()


class Run:
    """One run: its client, records writer, journal and tallies. Its batches run one at a
    time (``--every`` runs one per round, hx.monitor.rounds); a signal stops the batch
    running now (hx.run.signals) and ends a :meth:`pause` between batches at once."""

    def __init__(
        self,
        job: BatchJob,
        client: httpx.AsyncClient,
        fetcher: Fetcher,
        journal: FileJournal | None,
        writer: RecordWriter,
        progress: Reporter,
        notify: Notify,
    ) -> None:
        self.job = job
        self._client = client
        self._monitoring = Monitoring(job.monitor)
        self._fetcher = self._monitoring.fetcher(fetcher)
        self._journal = journal
        self._writer = writer
        self._progress = progress
        self._notify = notify
        self._builder = SummaryBuilder()
        self._batch: Batch | None = None
        self._woken = asyncio.Event()
        self.received: list[signal.Signals] = []
        """The signals received so far, in order."""

    async def batch(self, source: ItemSource, round: int | None = None) -> Summary | None:
        """Run ``source`` as one batch and write its records. With ``round``, records
        carry it, and the round's own summary is returned."""
        batch = self._batch = Batch(self._client, self.job.settings, self._fetcher, self._journal)
        self._progress.watch_in_flight(lambda: batch.in_flight)
        tally = SummaryBuilder() if round is not None else None
        self._monitoring.batch_started()
        try:
            async for result in batch.results(source):
                if round is not None:
                    result = dataclasses.replace(result, round=round)
                if self.job.write_records:
                    self._writer.write(result)
                self._builder.add(result)
                if tally is not None:
                    tally.add(result)
                self._progress.advance(result)
                if (enough := self._monitoring.saw(result)) is not None:
                    batch.start_no_more(enough)
        finally:
            self._batch = None
            self._monitoring.batch_ended()
        return tally.build() if tally is not None else None

    async def pause(self, seconds: float) -> bool:
        """Wait ``seconds`` unless a signal comes first; True if the run goes on."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), seconds)
        return not self.received

    def on_signal(self, signum: signal.Signals, first: bool) -> None:
        """First signal: read no more input, give requests ``--grace`` seconds. Again: stop now."""
        grace = self.job.settings.grace
        if first:
            self._woken.set()
            if self._batch is not None:
                self._notify(
                    f"{signum.name}: stopping; waiting up to {grace:g} s for requests in flight"
                    " (again to stop now)"
                )
        if self._batch is not None:
            self._batch.stop(grace if first else 0, reason=f"interrupted by {signum.name}")

    def outcome(self, last_round: Summary | None = None) -> Outcome:
        """The run's summary (written to --summary-json) and exit code: that of
        ``last_round`` if given (``--every``), else of every record."""
        summary = self._builder.build()
        if self.job.summary_json is not None and summary.total:
            write_summary(self.job.summary_json, summary)
        return Outcome(summary, exit_code(last_round or summary, self.received), self._builder)


@contextlib.asynccontextmanager
async def open_run(
    job: BatchJob, progress: Reporter, notify: Notify, fetcher: Fetcher
) -> AsyncIterator[Run]:
    """A :class:`Run` with its writer, journal and client open and signals routed to it."""
    with RecordWriter(job.output_file, job.record_format) as writer:
        if isinstance(fetcher, WritesEvents):
            fetcher.attach(writer)
        # A request is journaled only once its record is out of hx's buffers.
        journal = FileJournal(job.journal, before_write=writer.flush) if job.journal else None
        try:
            async with build_client(job.settings) as client:
                run = Run(job, client, fetcher, journal, writer, progress, notify)
                try:
                    with (
                        handle_stop_signals(run.on_signal) as received,
                        collector.sized_for(job.settings.concurrency),
                    ):
                        run.received = received
                        yield run
                finally:
                    if job.settings.cookie_jar is not None:
                        save_cookie_jar(client.cookies.jar, job.settings.cookie_jar)
        finally:
            if journal is not None:
                journal.close()


def count_lines_in_background(path: Path | None, progress: Reporter) -> asyncio.Task[None] | None:
    """Count a file's request lines in a thread so the bar can show a total."""
    if path is None or not progress.wants_total:
        return None

    async def count() -> None:
        with contextlib.suppress(OSError):
            progress.set_total(await asyncio.to_thread(count_request_lines, path))

    return asyncio.create_task(count())


def write_summary(path: Path, summary: Summary) -> None:
    data = json.dumps(summary.to_dict(), indent=2) + "\n"
    try:
        write_atomically(path, data.encode())
    except OSError as exc:
        raise OutputError(f"--summary-json {path}: {exc.strerror or exc}") from exc
