"""``hx fetch --workers N``: N processes, each with its own client, one stream of records.

One process tops out at a core's worth of httpx; on a machine with several
cores, each worker runs the ordinary engine on its shard of the input
(line numbers K modulo N) and writes records to a pipe. The parent merges
them, in completion order or, with ``--ordered``, by line number, and keeps
the one progress display, the summary and the exit code.

The parent passes NDJSON records on as they are, in blocks of whatever a
worker has written since the last read: it parses a record only to show it on
a progress display or to write it as CSV/TSV, and handles one record at a
time only then or for ``--ordered``. Parsing every record, and then reading
and queueing each one, made the parent the busiest process of a run.

Each worker leaves the parts of its summary (a pickled SummaryBuilder) in a
file the parent made; the parent merges them once the workers have exited.

Workers are forked before the parent starts an event loop. Ctrl-C reaches
every process in the terminal's group; a SIGTERM sent to the parent alone is
passed on, so each worker stops with its own grace period and records.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import heapq
import json
import os
import pickle
import shutil
import signal
import stat
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from hx.client import check_settings
from hx.errors import ExitCode, InputError, UsageError
from hx.models import Result
from hx.run.records import RecordFormat, RecordWriter
from hx.run.runner import (
    BatchJob,
    FetchInput,
    Notify,
    Outcome,
    Reporter,
    count_lines_in_background,
    run_async,
    run_fetch,
    write_summary,
)
from hx.run.signals import exit_code, handle_stop_signals
from hx.run.summary import SummaryBuilder
from hx.settings import Settings
from hx.values import Shard

_READ_SIZE = 1 << 16
"""Bytes the parent reads from a worker's pipe at once (a pipe holds 64 KiB)."""
_READ_AHEAD = 16
"""Blocks of records (each at most _READ_SIZE) a worker may have waiting in the parent."""


class _Quiet:
    wants_total = False

    def set_total(self, total: int) -> None:
        pass

    def watch_in_flight(self, in_flight: Callable[[], int]) -> None:
        pass

    def advance(self, result: Result) -> None:
        pass


AUTO_MIN_BYTES = 64 * 1024
"""--workers auto forks only for a SOURCE at least this big (about 2,000 URLs, half
a second of one core's work): below it the forks cost more than they save."""


def auto_worker_count(source: str, cores: int | None = None) -> int:
    """``--workers auto``: one worker per usable core for a regular file of at least
    AUTO_MIN_BYTES; else (stdin, a small file, one core) a single process."""
    if source == "-":
        return 1
    try:
        info = os.stat(source)
    except OSError:
        return 1  # the usual open later says what is wrong with it
    if not stat.S_ISREG(info.st_mode) or info.st_size < AUTO_MIN_BYTES:
        return 1
    return max(1, cores if cores is not None else _usable_cores())


def _usable_cores() -> int:
    """The cores this process may run on (Linux), else the machine's (macOS has no affinity)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclasses.dataclass
class Worker:
    pid: int
    read_fd: int
    tally_path: Path
    """Where the worker leaves its SummaryBuilder (pickled) when it has finished."""


def fork_workers(job: BatchJob, fetch_input: FetchInput, count: int) -> list[Worker]:
    """Start ``count`` workers; call before any event loop or thread exists in this process."""
    if fetch_input.source == "-":
        raise UsageError("--workers needs SOURCE to be a file (each worker reads its shard)")
    if fetch_input.shard is not None:
        raise UsageError("--workers and --shard cannot be combined (run shards per machine)")
    if not Path(fetch_input.source).is_file():
        raise InputError(f"{fetch_input.source}: not a readable file")
    check_settings(job.settings)  # fail once here, not once per worker
    tallies = Path(
        tempfile.mkdtemp(prefix="hx-workers-")
    )  # private (0700); merge_workers removes it
    return [_fork(job, fetch_input, index, count, tallies) for index in range(1, count + 1)]


def _fork(job: BatchJob, fetch_input: FetchInput, index: int, count: int, tallies: Path) -> Worker:
    read_fd, write_fd = os.pipe()
    tally_path = tallies / f"worker-{index}.pickle"
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.close(write_fd)
        return Worker(pid, read_fd, tally_path)
    # The worker: records to the pipe as its stdout; errors on the shared stderr.
    # Whatever happens from here on, this process ends in os._exit below: it must
    # never return into the parent's code.
    code = ExitCode.INTERNAL
    try:
        os.close(read_fd)
        os.dup2(write_fd, sys.stdout.fileno())
        os.close(write_fd)
        worker_job = dataclasses.replace(
            job,
            settings=_share_of(job.settings, count),
            output_file=None,
            write_records=True,
            summary_json=None,
            record_format=RecordFormat(),  # whole NDJSON records: the parent formats them
        )
        worker_input = dataclasses.replace(fetch_input, shard=Shard(index, count))
        outcome = run_async(run_fetch(worker_job, worker_input, _Quiet(), lambda _: None))
        code = ExitCode.OK if outcome.summary.total == 0 else outcome.exit_code
        temporary = tally_path.with_suffix(".tmp")
        temporary.write_bytes(pickle.dumps(outcome.tally))
        temporary.rename(tally_path)  # whole or not at all
    except BaseException as exc:  # noqa: BLE001 - a worker must end here, whatever happens
        code = getattr(exc, "exit_code", ExitCode.INTERNAL)
        # One write: the workers share stderr, and a line must not be split by another's.
        os.write(2, f"hx: error: worker {index}/{count}: {exc}\n".encode())
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
        os._exit(int(code))


def _share_of(settings: Settings, count: int) -> Settings:
    """A worker's settings: --rate and --per-host-rate hold for the whole run, so each of
    ``count`` workers gets its share (-c applies to each worker, as documented)."""
    return dataclasses.replace(
        settings,
        rate=None if settings.rate is None else settings.rate / count,
        per_host_rate=None if settings.per_host_rate is None else settings.per_host_rate / count,
    )


async def merge_workers(
    job: BatchJob,
    fetch_input: FetchInput,
    workers: list[Worker],
    progress: Reporter,
    notify: Notify,
) -> Outcome:
    """Write the workers' records as one stream; the summary and exit code of them all."""
    loop = asyncio.get_running_loop()

    def forward(signum: signal.Signals, first: bool) -> None:
        if first:
            notify(f"{signum.name}: stopping the workers")
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signum)

    builder = SummaryBuilder()
    counting = count_lines_in_background(Path(fetch_input.source), progress)
    # A record is parsed only for a display on screen (wants_total) or a table format.
    parse = progress.wants_total or not job.record_format.is_plain
    try:
        with handle_stop_signals(forward) as received:
            streams = [_blocks(loop, worker.read_fd) for worker in workers]
            if job.settings.ordered:
                merged = _by_line([_one_by_one(stream) for stream in streams])
            else:
                merged = _as_they_come(streams)
            with RecordWriter(job.output_file, job.record_format) as writer:
                async for block in merged:
                    if not parse:
                        writer.write_serialised(block)
                        continue
                    for line in _records_in(block):
                        result = Result.from_record(json.loads(line))
                        writer.write_serialised(line, result)
                        progress.advance(result)
    finally:
        if counting is not None:
            counting.cancel()
        codes = [await _exit_code_of(worker.pid) for worker in workers]
        for worker in workers:
            _merge_tally(builder, worker.tally_path)
        shutil.rmtree(workers[0].tally_path.parent, ignore_errors=True)
    summary = builder.build()
    if job.summary_json is not None and summary.total:
        write_summary(job.summary_json, summary)
    return Outcome(summary, exit_code(summary, received, codes))


def _merge_tally(builder: SummaryBuilder, path: Path) -> None:
    """Add a worker's results to ``builder``: none if it failed before leaving them (its
    error and exit code say so)."""
    try:
        tally = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        return
    builder.merge(tally)


async def _blocks(loop: asyncio.AbstractEventLoop, fd: int) -> AsyncIterator[str]:
    """The records a worker writes, as they come: each block one or more whole NDJSON
    lines, newlines included (a line cut short by a worker's death is ended)."""
    reader = asyncio.StreamReader(loop=loop)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb")
    )
    pending = bytearray()  # the start of a record not yet whole
    try:
        while data := await reader.read(_READ_SIZE):
            end = data.rfind(b"\n") + 1
            pending += data[:end] if end else data
            if end:
                yield pending.decode()
                pending = bytearray(data[end:])
        if pending:
            yield pending.decode(errors="replace") + "\n"
    finally:
        transport.close()


def _records_in(block: str) -> list[str]:
    """The NDJSON lines of ``block``, each with its newline. (Not str.splitlines: that
    also splits at characters such as U+2028 that JSON strings may hold as they are.)"""
    return [line + "\n" for line in block[:-1].split("\n")]


async def _one_by_one(blocks: AsyncIterator[str]) -> AsyncIterator[str]:
    async for block in blocks:
        for line in _records_in(block):
            yield line


def _line_number(record: str) -> int:
    """The input line of an NDJSON record as hx.run.records writes it: ``{"id":ID,"line":N,``.

    The first ``,"line":`` is the key: inside the id, a string, every quote is escaped.
    """
    start = record.index(',"line":') + 8
    return int(record[start : record.index(",", start)])


async def _as_they_come(streams: list[AsyncIterator[str]]) -> AsyncIterator[str]:
    queue: asyncio.Queue[str | None] = asyncio.Queue(_READ_AHEAD * len(streams))

    async def pump(stream: AsyncIterator[str]) -> None:
        try:
            async for entry in stream:
                await queue.put(entry)
        finally:
            await queue.put(None)

    tasks = [asyncio.create_task(pump(stream)) for stream in streams]
    try:
        remaining = len(tasks)
        while remaining:
            entry = await queue.get()
            if entry is None:
                remaining -= 1
            else:
                yield entry
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _by_line(streams: list[AsyncIterator[str]]) -> AsyncIterator[str]:
    """Each worker writes its shard in line order; merge the shards by line."""
    heads: list[tuple[int, int, str]] = []
    for index, stream in enumerate(streams):
        record = await anext(stream, None)
        if record is not None:
            heapq.heappush(heads, (_line_number(record), index, record))
    while heads:
        _line, index, record = heapq.heappop(heads)
        yield record
        record = await anext(streams[index], None)
        if record is not None:
            heapq.heappush(heads, (_line_number(record), index, record))


async def _exit_code_of(pid: int) -> int:
    _, status = await asyncio.to_thread(os.waitpid, pid, 0)
    return os.waitstatus_to_exitcode(status)
