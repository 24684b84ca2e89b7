"""Bounded concurrent execution of a stream of requests over one AsyncClient.

A dispatcher reads input items one at a time while fewer than ``backlog``
are unfinished (read, running, or their result not yet handed over). An
item that sends nothing (a bad line, one the journal has) is answered as it
is read; a request becomes a task only when one of ``concurrency`` slots is
free, and the task starts holding that slot (:class:`_FirstSlot`); each
attempt holds a slot only while it is on the wire. So memory is flat for
any input length, a task waiting for a paused host or backing off before a
retry holds no slot, and other hosts keep being served. Items read ahead
wait as items, not as tasks waiting for a slot: each such wait was one more
wake-up per request, and hundreds of waiting tasks a larger working set (6%
of hx's CPU at ``-c 20``).

Every item that was read yields exactly one result, including items cut
short by :meth:`Batch.stop`. After :meth:`Batch.start_no_more` every item not
sent yet, to the end of the input, yields a ``not_started`` result.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Protocol, runtime_checkable

import httpx

from hx import trace
from hx.batch import retry
from hx.batch.feed import ItemSource
from hx.batch.ratelimit import HostPause, RateLimiter
from hx.batch.slots import Slots
from hx.errors import ErrorKind, HxError
from hx.models import BadLine, ErrorInfo, InputItem, RequestSpec, Result
from hx.request.failures import internal_error
from hx.request.fetch import bad_line_result, failed_result, fetch, interrupted_result
from hx.settings import RetryPolicy, Settings

Fetcher = Callable[[httpx.AsyncClient, RequestSpec, Settings], Awaitable[Result]]

_BACK_OFF_STATUSES = frozenset({429, 503})


class Journal(Protocol):
    """What the engine needs of a batch journal (see hx.batch.journal)."""

    def previous(self, spec: RequestSpec) -> Result | None: ...
    def record(self, spec: RequestSpec, result: Result) -> None: ...


@runtime_checkable
class LeavesWork(Protocol):
    """A fetcher whose attempt leaves work behind when it is cut short (a download's .part)."""

    def left_behind(self, spec: RequestSpec, result: Result) -> Result:
        """``result`` of the cut attempt, completed with what the attempt left behind."""
        ...


class _Host:
    """What hx keeps per host: its connection slots, its rate and its pause."""

    __slots__ = ("slots", "rate", "pause")

    def __init__(self, settings: Settings) -> None:
        self.slots = Slots(settings.per_host) if settings.per_host else None
        self.rate = RateLimiter(settings.per_host_rate) if settings.per_host_rate else None
        self.pause = HostPause()


class _FirstSlot:
    """The concurrency slot a task was started with: its first attempt's, so that
    attempt goes out without waiting. Given back if the task has to wait first (a
    paused or busy host) or ends without sending (declined since it was read);
    later attempts take their own."""

    __slots__ = ("_slots", "_held")

    def __init__(self, slots: Slots) -> None:
        self._slots = slots
        self._held = True

    def give_back(self) -> None:
        if self._held:
            self._held = False
            self._slots.release()

    async def __aenter__(self) -> None:
        """``async with first:`` holds a slot for the block: this one if still held,
        else one waited for."""
        if self._held:
            self._held = False  # the block owns it now
        else:
            await self._slots.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self._slots.release()


_Finished = tuple[int, Result, RequestSpec | None]
"""``(seq, result, spec to journal once the result is handed over, if any)``."""
_Outcome = _Finished | BaseException | None


class Batch:
    """One run over one client: iterate :meth:`results`, call :meth:`stop` to end early."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        fetcher: Fetcher = fetch,
        journal: Journal | None = None,
    ) -> None:
        self._client = client
        self._settings = settings
        self._fetcher = fetcher
        self._journal = journal
        self._slots = Slots(settings.concurrency, on_free=self._start_read_items)
        self._admitted = Slots(settings.effective_backlog)
        self._read: deque[tuple[int, RequestSpec]] = deque()
        """Requests read (and admitted) whose task has not started: ``(seq, spec)``."""
        self._closed = False
        """The consumer is gone (``results`` ended): nothing more is read or started."""
        self._rate = RateLimiter(settings.rate) if settings.rate else None
        self._hosts: dict[str, _Host] = {}
        self._stopped = asyncio.Event()
        self._stop_reason = "interrupted"
        self._declined: ErrorInfo | None = None
        """Why items stop being sent while the input is still read (start_no_more)."""
        self._in_flight: set[asyncio.Timeout] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._out: asyncio.Queue[_Outcome] = asyncio.Queue()
        self._next_seq = 0

    @property
    def in_flight(self) -> int:
        """Attempts on the wire now (for a live display)."""
        return len(self._in_flight)

    @property
    def stopping(self) -> bool:
        return self._stopped.is_set()

    def stop(self, grace: float = 0.0, reason: str = "interrupted") -> None:
        """Read no more input; give requests in flight ``grace`` seconds, then cut them.

        Safe to call again (a second Ctrl-C) with a shorter grace.
        """
        if not self._stopped.is_set():
            self._stop_reason = reason
            self._stopped.set()
        deadline = asyncio.get_running_loop().time() + grace
        for scope in self._in_flight:
            when = scope.when()
            if when is None or when > deadline:
                scope.reschedule(deadline)

    def start_no_more(self, reason: str) -> None:
        """Send nothing more (``--fail-fast``): requests sent already finish; every other
        item, to the end of the input, gets a ``not_started`` result saying ``reason``."""
        if self._declined is None:
            self._declined = ErrorInfo(ErrorKind.NOT_STARTED, f"not sent: {reason}")

    async def results(self, source: ItemSource) -> AsyncIterator[Result]:
        """Yield one result per input item, in completion order or (``ordered``) input order.

        A backlog permit is returned when a result is handed over, not when its
        request ends, so results waiting for a slow reader or for their turn in
        ``ordered`` output count against the backlog too. A request is journaled
        only when the consumer comes back for the next result, that is, after
        it has written this one: a kill at any moment loses no record.
        """
        dispatcher = asyncio.create_task(self._dispatch(source), name="hx-dispatcher")
        pending: dict[int, _Finished] = {}
        next_to_emit = 0
        try:
            while (outcome := await self._out.get()) is not None:
                if isinstance(outcome, BaseException):
                    raise outcome
                if not self._settings.ordered:
                    yield self._hand_over(outcome)
                    self._journal_after(outcome)
                    continue
                pending[outcome[0]] = outcome
                while next_to_emit in pending:
                    finished = pending.pop(next_to_emit)
                    yield self._hand_over(finished)
                    self._journal_after(finished)
                    next_to_emit += 1
        finally:
            # Nothing more is read or started, even by a slot a cancelled task frees
            # or by admission running once more before its cancellation lands.
            self._closed = True
            source.close()
            leftovers = [dispatcher, *self._tasks]
            for task in leftovers:
                task.cancel()
            await asyncio.gather(*leftovers, return_exceptions=True)

    def _hand_over(self, finished: _Finished) -> Result:
        self._admitted.release()
        return finished[1]

    def _journal_after(self, finished: _Finished) -> None:
        _seq, result, spec = finished
        if self._journal is not None and spec is not None:
            self._journal.record(spec, result)

    async def _dispatch(self, source: ItemSource) -> None:
        """Admit input until it ends or stop(); then let admitted requests finish."""
        admission = asyncio.create_task(self._admit(source), name="hx-admission")
        stopped = asyncio.create_task(self._stopped.wait())
        try:
            await asyncio.wait({admission, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Admission never holds an unrecorded item across an await, so
            # cancelling it loses nothing; drain() below collects read-ahead.
            admission.cancel()
            stopped.cancel()
        try:
            await admission
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # noqa: BLE001 - unreadable input, or a bug: surface it
            await self._out.put(exc)
            return
        while self._tasks:  # (a task that ends may start one for an item read)
            await asyncio.wait(set(self._tasks))
        while self._read:  # stopped before they started
            seq, spec = self._read.popleft()
            await self._emit(seq, self._unstarted(spec))
        for item in source.drain():
            await self._emit(self._take_seq(), self._unstarted(item))
        await self._out.put(None)

    async def _admit(self, source: ItemSource) -> None:
        while not self.stopping:
            await self._admitted.acquire()
            item = await source.take()
            if item is None:
                return
            if self._closed:
                return
            # What sends nothing is answered here, without waiting for a slot.
            seq = self._take_seq()
            if isinstance(item, BadLine):
                await self._emit(seq, bad_line_result(item))
            elif (known := self._answer_without_sending(item)) is not None:
                await self._emit(seq, known)
            else:
                self._read.append((seq, item))
                self._start_read_items()

    def _answer_without_sending(self, spec: RequestSpec) -> Result | None:
        """The journal's record of ``spec`` from an earlier run, or not_started after
        start_no_more(); None if it is to be sent."""
        previous = self._journal.previous(spec) if self._journal else None
        if previous is not None:
            return previous
        if self._declined is not None:
            return self._unstarted(spec)
        return None

    def _start_read_items(self) -> None:
        """Start a task for each request read while a slot is free; it starts holding it."""
        while self._read and not self.stopping and not self._closed and self._slots.try_acquire():
            seq, spec = self._read.popleft()
            first = _FirstSlot(self._slots)
            task = asyncio.create_task(self._complete(seq, spec, first))
            self._tasks.add(task)
            # Also for a task cancelled before its first step, which never ran the
            # code that gives its slot back.
            task.add_done_callback(functools.partial(self._task_done, first))

    def _task_done(self, first: _FirstSlot, task: asyncio.Task[None]) -> None:
        first.give_back()
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._out.put_nowait(exc)  # a bug: surface it rather than hang

    def _take_seq(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        return seq

    async def _emit(self, seq: int, result: Result, journal: RequestSpec | None = None) -> None:
        await self._out.put((seq, result, journal))

    async def _complete(self, seq: int, spec: RequestSpec, first: _FirstSlot) -> None:
        try:
            result, journal = await self._outcome(spec, first)
        finally:
            first.give_back()
        await self._emit(seq, result, journal)

    async def _outcome(
        self, spec: RequestSpec, first: _FirstSlot
    ) -> tuple[Result, RequestSpec | None]:
        """``spec``'s result, and the spec to journal once it is handed over (if any)."""
        if self._declined is not None:  # start_no_more() since it was read
            return self._unstarted(spec), None
        started_at = time.time()
        started = time.monotonic()
        result = await self._run(spec, first)
        result.stamp(rfc3339(started_at), (time.monotonic() - started) * 1000)
        return result, None if _interrupted(result) else spec

    def _unstarted(self, item: InputItem) -> Result:
        if isinstance(item, BadLine):
            return bad_line_result(item)
        if self._declined is not None and not self.stopping:
            return failed_result(item, self._declined, attempts=0)
        return interrupted_result(item, f"{self._stop_reason} before the request started")

    async def _run(self, spec: RequestSpec, first: _FirstSlot) -> Result:
        """All attempts of one request, with pauses, backoff and the retry budget."""
        policy = self._settings.retry
        host = self._host(spec.url)
        first_start = time.monotonic()
        attempts = 0
        result: Result | None = None
        while True:
            if (pause := host.pause.remaining()) > 0:
                first.give_back()  # nobody waits for a paused host holding the wire
            if not await self._sleep(pause):
                break
            outcome = await self._attempt(spec, host, attempts + 1, first)
            if outcome is None:
                continue  # the host asked for a pause while this request queued
            result = outcome
            attempts += 1
            trace.answered(spec, result, attempts)
            if _interrupted(result):
                break
            if result.status in _BACK_OFF_STATUSES and result.retry_after is not None:
                host.pause.extend(retry.pause_limit(policy, result.retry_after))
            elapsed = time.monotonic() - first_start
            delay = retry.next_delay(policy, result, spec.method, attempts, elapsed, spec.retry)
            if delay is None:
                result = _explain_refused_wait(policy, result, spec, elapsed)
                break
            trace.retrying(spec, result, attempts + 1, delay)
            if not await self._sleep(delay):
                break
        if result is None:
            return self._unstarted(spec)
        return result if attempts == 1 else dataclasses.replace(result, attempts=attempts)

    async def _attempt(
        self, spec: RequestSpec, host: _Host, attempt: int, first: _FirstSlot
    ) -> Result | None:
        """One attempt; None if its host paused while it waited for a slot or the rate."""
        if host.slots is not None and not host.slots.free:
            first.give_back()  # nor waits for its host's slot holding the wire
        async with host.slots or contextlib.nullcontext(), first:
            if self.stopping or (self._declined is not None and attempt == 1):
                return self._unstarted(spec)
            if self._rate is not None:
                await self._rate.acquire()
            if host.rate is not None:
                await host.rate.acquire()
            if host.pause.remaining() > 0:
                return None
            started = time.perf_counter()
            trace.sending(spec, attempt)
            try:
                return await self._deadline_fetch(spec)
            except TimeoutError:
                result = self._cut_short(spec, started)
                if isinstance(self._fetcher, LeavesWork):
                    result = self._fetcher.left_behind(spec, result)
                return result

    def _cut_short(self, spec: RequestSpec, started: float) -> Result:
        """The result of an attempt cut by stop() or by ``max_time``."""
        if self.stopping:
            return interrupted_result(spec, f"{self._stop_reason} while the request was running")
        limit = self._settings.max_time
        message = f"the attempt took longer than --max-time {limit:g} s"
        elapsed_ms = (time.perf_counter() - started) * 1000
        return failed_result(spec, ErrorInfo(ErrorKind.TIMEOUT, message), elapsed_ms=elapsed_ms)

    async def _deadline_fetch(self, spec: RequestSpec) -> Result:
        """Fetch under ``max_time``, a deadline that stop() can also bring forward."""
        async with asyncio.timeout(self._settings.max_time) as scope:
            self._in_flight.add(scope)
            try:
                return await self._fetcher(self._client, spec, self._settings)
            except HxError:
                raise  # the batch's own machinery failed (output unwritable): end the run
            except Exception as exc:  # noqa: BLE001 - one request's failure, never the batch's
                return failed_result(spec, internal_error(exc))
            finally:
                self._in_flight.discard(scope)

    async def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopped first; True if hx is still running afterwards."""
        if seconds > 0 and not self.stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), seconds)
        return not self.stopping

    def _host(self, url: str) -> _Host:
        # Specs hold absolute URLs ("scheme://netloc/..."): no need to parse again.
        key = url.split("/", 3)[2].rpartition("@")[2]
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(self._settings)
        return host


def _explain_refused_wait(
    policy: RetryPolicy, result: Result, spec: RequestSpec, elapsed: float
) -> Result:
    """A retryable failure whose server asked for a wait beyond the budget says so."""
    reason = retry.refused_wait(policy, result, elapsed)
    if (
        reason is None
        or result.error is None
        or not retry.retryable(policy, result, spec.method, spec.retry)
    ):
        return result
    error = ErrorInfo(result.error.kind, f"{result.error.message}; {reason}")
    return dataclasses.replace(result, error=error)


def rfc3339(timestamp: float) -> str:
    """``2026-11-27T16:09:04.123Z``: UTC, millisecond precision."""
    second = int(timestamp)
    return f"{_utc_second(second)}.{int((timestamp - second) * 1000):03d}Z"


@functools.lru_cache(maxsize=4)
def _utc_second(second: int) -> str:
    # Most requests of a batch start within the same second as the one before.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def _interrupted(result: Result) -> bool:
    return result.error is not None and result.error.kind == ErrorKind.INTERRUPTED


def run_batch(
    client: httpx.AsyncClient, settings: Settings, items: Iterable[InputItem]
) -> AsyncIterator[Result]:
    """Shorthand for library users: the results of ``items`` run with ``settings``."""
    return Batch(client, settings).results(ItemSource(items))
