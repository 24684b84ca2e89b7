"""How a stream's lines become events: SSE, NDJSON or plain lines, chosen by Content-Type.

A framer takes the lines of :mod:`hx.stream.lines` and gives, for each, an event
payload (the event record's fields besides ``id``, ``seq`` and ``t_ms``), a
:class:`BadEvent`, or nothing (an SSE field line, a blank NDJSON line).
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal, Protocol

from hx.frozen import frozen
from hx.stream.sse import EventTooLong, SseEvent, SseParser

Framing = Literal["sse", "ndjson", "lines"]
FramingChoice = Literal["auto", "sse", "ndjson", "lines"]

NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonl"}
)
"""Media types read as NDJSON by ``auto`` (``text/event-stream`` is SSE, the rest lines)."""

_BOM = "\ufeff"


@frozen
class BadEvent:
    """A line or event that could not be read; the stream goes on."""

    kind: Literal["too_long", "invalid_json"]
    message: str


Payload = dict[str, Any]
Item = Payload | BadEvent


class Framer(Protocol):
    keeps_unended_line: bool
    """Whether a last line without a line ending counts (not in SSE: the event is incomplete)."""

    def line(self, raw: bytes) -> Item | None: ...
    def line_too_long(self, limit: int) -> Item | None: ...


def resolve(choice: FramingChoice, content_type: str | None) -> Framing:
    """The framing to read a response with: the user's choice, or its Content-Type's."""
    if choice != "auto":
        return choice
    media = (content_type or "").partition(";")[0].strip().lower()
    if media == "text/event-stream":
        return "sse"
    return "ndjson" if media in NDJSON_TYPES else "lines"


def framer_for(framing: Framing, max_line: int, last_event_id: str = "") -> Framer:
    if framing == "sse":
        return SseFramer(max_line, last_event_id)
    return NdjsonFramer() if framing == "ndjson" else LinesFramer()


def _skipped_line(limit: int) -> BadEvent:
    return BadEvent("too_long", f"a line longer than --max-line {limit} bytes; skipped")


class SseFramer:
    """SSE: text decoded as UTF-8 (bad bytes replaced, as the spec says), a leading BOM dropped."""

    keeps_unended_line = False

    def __init__(self, max_line: int, last_event_id: str = "") -> None:
        self.parser = SseParser(max_line, last_event_id)
        self._first_line = True

    def line(self, raw: bytes) -> Item | None:
        text = raw.decode("utf-8", "replace")
        if self._first_line:
            self._first_line = False
            text = text.removeprefix(_BOM)
        event = self.parser.line(text)
        if isinstance(event, SseEvent):
            return {"event": event.event, "data": event.data, "event_id": event.id}
        if isinstance(event, EventTooLong):
            message = f"an event longer than --max-line {event.limit} bytes; dropped"
            return BadEvent("too_long", message)
        return None

    def line_too_long(self, limit: int) -> Item | None:
        self._first_line = False
        self.parser.line_dropped()  # reported once, when the event's blank line comes
        return None


class NdjsonFramer:
    """NDJSON: each non-blank line one JSON value, in UTF-8, that JSON can write again."""

    keeps_unended_line = True

    def line(self, raw: bytes) -> Item | None:
        if not raw.strip():
            return None
        try:
            text = raw.decode("utf-8")
            return {"data": json.loads(text, parse_constant=_not_json, parse_float=_finite)}
        except UnicodeDecodeError as exc:
            return BadEvent("invalid_json", f"not UTF-8 at byte {exc.start + 1}")
        except json.JSONDecodeError as exc:
            return BadEvent("invalid_json", f"not JSON: {exc.msg} at column {exc.colno}")
        except ValueError as exc:  # a constant, or an integer of more than 4,300 digits
            return BadEvent("invalid_json", f"not JSON: {exc}")
        except RecursionError:
            return BadEvent("invalid_json", "not JSON: nested too deeply")

    def line_too_long(self, limit: int) -> Item | None:
        return _skipped_line(limit)


class LinesFramer:
    """Plain lines: each line one event, its text (bytes that are not UTF-8 replaced)."""

    keeps_unended_line = True

    def line(self, raw: bytes) -> Item | None:
        return {"data": raw.decode("utf-8", "replace")}

    def line_too_long(self, limit: int) -> Item | None:
        return _skipped_line(limit)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def _finite(text: str) -> float:
    """A JSON number as a float; one beyond float range could not be written back as JSON."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is out of range")
    return value
