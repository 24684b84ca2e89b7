"""Bounded concurrent execution of a stream of requests over one AsyncClient.

``concurrency`` workers each take the next input item, run it and hand its
result to the consumer; input is pulled only as fast as workers free up, so
memory is flat for any input length. Every item that was read yields exactly
one result, including items cut short by :meth:`Batch.stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import httpx

from hx.errors import InputError
from hx.fetch import bad_line_result, fetch, interrupted_result
from hx.models import BadLine, InputItem, RequestSpec, Result, Settings

Fetcher = Callable[[httpx.AsyncClient, RequestSpec, Settings], Awaitable[Result]]


class ItemSource:
    """Input items for the workers: ``take()`` the next, ``drain()`` what is left over."""

    def __init__(self, items: Iterable[InputItem]) -> None:
        self._items = iter(items)

    async def take(self) -> InputItem | None:
        """The next item, or None at the end. Reading a regular file never blocks for long."""
        try:
            return next(self._items, None)
        except OSError as exc:
            raise InputError(f"reading input failed: {exc.strerror or exc}") from exc

    def drain(self) -> list[InputItem]:
        """Items already read from the input but never taken (after a stop)."""
        return []

    def close(self) -> None:
        """Stop reading; safe to call more than once."""


class ThreadedItemSource(ItemSource):
    """Reads a pipe or terminal in a daemon thread so the event loop never blocks on it.

    At most ``read_ahead`` items wait in the queue. The thread is a daemon
    because a read from a silent pipe cannot be interrupted: it must not keep
    the process alive after hx is done.
    """

    _END = object()

    def __init__(self, items: Iterable[InputItem], read_ahead: int = 64) -> None:
        super().__init__(items)
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._room = threading.Semaphore(read_ahead)
        self._closed = threading.Event()
        threading.Thread(target=self._read, name="hx-input", daemon=True).start()

    def _read(self) -> None:
        try:
            for item in self._items:
                self._room.acquire()
                if self._closed.is_set():
                    return
                self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
            self._loop.call_soon_threadsafe(self._queue.put_nowait, self._END)
        except OSError as exc:
            error = InputError(f"reading input failed: {exc.strerror or exc}")
            self._loop.call_soon_threadsafe(self._queue.put_nowait, error)
        except RuntimeError:
            pass  # the event loop closed under us: hx is exiting anyway

    async def take(self) -> InputItem | None:
        entry = await self._queue.get()
        if entry is self._END:
            self._queue.put_nowait(entry)  # every other worker sees the end too
            return None
        if isinstance(entry, InputError):
            raise entry
        self._room.release()
        return entry  # type: ignore[return-value]

    def drain(self) -> list[InputItem]:
        items = []
        while not self._queue.empty():
            entry = self._queue.get_nowait()
            if isinstance(entry, RequestSpec | BadLine):
                items.append(entry)
        return items

    def close(self) -> None:
        self._closed.set()
        self._room.release()  # wake the thread if it waits for room


class Batch:
    """One run over one client: iterate :meth:`results`, call :meth:`stop` to end early."""

    def __init__(
        self, client: httpx.AsyncClient, settings: Settings, fetcher: Fetcher = fetch
    ) -> None:
        self._client = client
        self._settings = settings
        self._fetcher = fetcher
        self._stopping = False
        self._stop_reason = "hx was stopped first"
        self._in_flight: set[asyncio.Timeout] = set()
        self._idle: set[asyncio.Task[None]] = set()
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._next_seq = 0
        self._window: asyncio.Semaphore | None = None

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop(self, grace: float = 0.0, reason: str = "interrupted") -> None:
        """Read no more input; give requests in flight ``grace`` seconds, then cut them.

        Safe to call again (a second Ctrl-C) with a shorter grace.
        """
        self._stopping = True
        self._stop_reason = reason
        for task in self._idle:
            task.cancel()
        deadline = asyncio.get_running_loop().time() + grace
        for scope in self._in_flight:
            when = scope.when()
            if when is None or when > deadline:
                scope.reschedule(deadline)

    async def results(self, source: ItemSource) -> AsyncIterator[Result]:
        """Yield one result per input item, in completion order or input order."""
        settings = self._settings
        ordered = settings.ordered
        if ordered:
            window = settings.reorder_window or max(1000, 10 * settings.concurrency)
            self._window = asyncio.Semaphore(window)
        out: asyncio.Queue[tuple[int, Result] | BaseException | None] = asyncio.Queue(
            maxsize=settings.queue_size or 2 * settings.concurrency
        )
        workers = [
            asyncio.create_task(self._work(source, out), name=f"hx-worker-{n}")
            for n in range(settings.concurrency)
        ]
        supervisor = asyncio.create_task(self._supervise(workers, source, out))
        pending: dict[int, Result] = {}
        next_to_emit = 0
        try:
            while (entry := await out.get()) is not None:
                if isinstance(entry, BaseException):
                    raise entry
                seq, result = entry
                if not ordered:
                    yield result
                    continue
                pending[seq] = result
                while next_to_emit in pending:
                    yield pending.pop(next_to_emit)
                    next_to_emit += 1
                    assert self._window is not None
                    self._window.release()
        finally:
            source.close()
            for task in (*workers, supervisor):
                task.cancel()
            await asyncio.gather(*workers, supervisor, return_exceptions=True)

    async def _supervise(
        self,
        workers: list[asyncio.Task[None]],
        source: ItemSource,
        out: asyncio.Queue[tuple[int, Result] | BaseException | None],
    ) -> None:
        done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if not task.cancelled() and (exc := task.exception()) is not None:
                await out.put(exc)
                return
        for item in source.drain():
            await out.put((self._take_seq(), self._unstarted(item)))
        await out.put(None)

    async def _work(
        self, source: ItemSource, out: asyncio.Queue[tuple[int, Result] | BaseException | None]
    ) -> None:
        while not self._stopping:
            item = await self._take(source)
            if item is None:
                return
            seq = self._take_seq()
            await out.put((seq, await self._run(item)))

    async def _take(self, source: ItemSource) -> InputItem | None:
        """The next item; cancelled by stop() while waiting, which loses nothing."""
        task = asyncio.current_task()
        assert task is not None
        self._idle.add(task)
        try:
            if self._window is not None:
                await self._window.acquire()
            item = await source.take()
            if item is None and self._window is not None:
                self._window.release()
            return item
        except asyncio.CancelledError:
            if self._stopping:
                return None
            raise
        finally:
            self._idle.discard(task)

    def _take_seq(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def _unstarted(self, item: InputItem) -> Result:
        if isinstance(item, BadLine):
            return bad_line_result(item)
        return interrupted_result(item, f"{self._stop_reason} before the request started")

    async def _run(self, item: InputItem) -> Result:
        if isinstance(item, BadLine) or self._stopping:
            return self._unstarted(item)
        async with self._host_slot(item.url):
            if self._stopping:
                return self._unstarted(item)
            try:
                return await self._stoppable_fetch(item)
            except TimeoutError:
                return interrupted_result(item, f"{self._stop_reason} while the request ran")

    async def _stoppable_fetch(self, spec: RequestSpec) -> Result:
        """Fetch ``spec`` under a deadline that stop() can bring forward."""
        async with asyncio.timeout(None) as scope:
            self._in_flight.add(scope)
            try:
                return await self._fetcher(self._client, spec, self._settings)
            finally:
                self._in_flight.discard(scope)

    @contextlib.asynccontextmanager
    async def _host_slot(self, url: str) -> AsyncIterator[None]:
        if self._settings.per_host is None:
            yield
            return
        host = httpx.URL(url).netloc.decode("ascii")
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = asyncio.Semaphore(self._settings.per_host)
        async with slot:
            yield


def run_batch(
    client: httpx.AsyncClient, settings: Settings, items: Iterable[InputItem]
) -> AsyncIterator[Result]:
    """Shorthand for library users: the results of ``items`` run with ``settings``."""
    return Batch(client, settings).results(ItemSource(items))
