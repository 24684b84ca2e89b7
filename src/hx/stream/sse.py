"""Server-Sent Events assembled from lines, as the WHATWG spec interprets an event stream.

Sans I/O and pure: lines (already split, without their endings) go in, events
come out. Comments (``:...``) are ignored; ``event``, ``data`` (several lines
join with LF), ``id`` (ignored if it holds NUL) and ``retry`` (ASCII digits
only) are the fields; a blank line dispatches the event, and an event with no
``data`` line dispatches nothing. The last event id survives events and
reconnections, as the spec's ``lastEventId`` does.

One departure for bounded memory: an event whose data grows past ``max_data``
characters becomes one :class:`EventTooLong` and its data is dropped as it comes.
httpx-sse's decoder is the differential oracle in the tests.
"""

from __future__ import annotations

from hx.frozen import frozen

_MAX_RETRY_MS = 10**15 - 1
"""A longer ``retry:`` (31,000 years and more) is read as this: int() refuses 4,300 digits."""


@frozen
class SseEvent:
    event: str
    """The ``event:`` field, ``message`` when none was given."""
    data: str
    id: str | None
    """The last event id at dispatch (it persists across events); None if none was set."""


@frozen
class EventTooLong:
    """An event's data grew past ``limit`` characters (or one of its lines was cut)."""

    limit: int


class SseParser:
    """Feed lines with :meth:`line`; it returns an event when a blank line completes one."""

    def __init__(self, max_data: int, last_event_id: str = "") -> None:
        self._max_data = max_data
        self._event_type = ""
        self._data: list[str] = []
        self._data_size = 0
        self._too_long = False
        self._id_buffer = last_event_id
        self.last_event_id = last_event_id
        """What a reconnection sends as Last-Event-ID ("" for none)."""
        self.retry_ms: int | None = None
        """The reconnection time the server last asked for."""

    def line(self, text: str) -> SseEvent | EventTooLong | None:
        if not text:
            return self._dispatch()
        if text.startswith(":"):
            return None
        name, colon, value = text.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._add_data(value)
        elif name == "event":
            self._event_type = value
        elif name == "id":
            if "\0" not in value:
                self._id_buffer = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value) if len(value) < 16 else _MAX_RETRY_MS
        return None

    def line_dropped(self) -> None:
        """A line of this event was too long to read: the event cannot be whole."""
        self._too_long = True
        self._data.clear()
        self._data_size = 0

    def _add_data(self, value: str) -> None:
        if self._too_long:
            return
        self._data_size += len(value) + 1
        if self._data_size > self._max_data:
            self.line_dropped()
            return
        self._data.append(value)

    def _dispatch(self) -> SseEvent | EventTooLong | None:
        self.last_event_id = self._id_buffer
        event_type, data, too_long = self._event_type, self._data, self._too_long
        self._event_type, self._data, self._data_size, self._too_long = "", [], 0, False
        if too_long:
            return EventTooLong(self._max_data)
        if not data:
            return None
        return SseEvent(event_type or "message", "\n".join(data), self.last_event_id or None)
