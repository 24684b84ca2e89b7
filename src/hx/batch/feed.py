"""Input items for the engine's dispatcher, read from an iterable or, for pipes, a thread.

The dispatcher ``take()``s one item at a time while the backlog has room, so
memory stays flat for any input length; after a stop, ``drain()`` returns
what was read ahead but never started (those items still get records).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable

from hx.errors import InputError
from hx.models import BadLine, InputItem, RequestSpec


class ItemSource:
    """Input items for the dispatcher: ``take()`` the next, ``drain()`` what is left."""

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
        end: object = self._END
        try:
            for item in self._items:
                self._room.acquire()
                if self._closed.is_set() or not self._deliver(item):
                    return
        except OSError as exc:
            end = InputError(f"reading input failed: {exc.strerror or exc}")
        except BaseException as exc:  # noqa: BLE001 - a bug: surface it, never hang the run
            end = exc
        self._deliver(end)

    def _deliver(self, entry: object) -> bool:
        """Hand ``entry`` to the event loop; False if the loop has closed (hx is exiting)."""
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, entry)
        except RuntimeError:
            return False
        return True

    async def take(self) -> InputItem | None:
        entry = await self._queue.get()
        if entry is self._END:
            self._queue.put_nowait(entry)
            return None
        if isinstance(entry, BaseException):
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
