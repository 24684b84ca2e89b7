"""Content-Range, the header that says which bytes of a file a response holds (RFC 9110 14.4).

Parsed as untrusted input: pure functions that either return a range
consistent with what was asked for or raise :class:`ContentRangeError`.
"""

from __future__ import annotations

import re

from hx.frozen import frozen

_NUMBER = r"([0-9]{1,19})"
_RANGE = re.compile(rf"bytes[ \t]+{_NUMBER}-{_NUMBER}/(?:{_NUMBER}|\*)", re.IGNORECASE)
_UNSATISFIED = re.compile(rf"bytes[ \t]+\*/{_NUMBER}", re.IGNORECASE)
_LIMIT = (1 << 63) - 1
"""The largest file offset (off_t); beyond it a number is no file's."""


class ContentRangeError(ValueError):
    """A Content-Range header that is missing, malformed, or not the range asked for."""


@frozen
class ContentRange:
    """Bytes ``first`` to ``last`` (inclusive) of a file of ``length`` bytes (None: unknown)."""

    first: int
    last: int
    length: int | None


def parse_content_range(content_range: str | None, resumed_from: int) -> ContentRange:
    """The range of a 206 response to a request for bytes from ``resumed_from`` on.

    ``"bytes 100-199/1000"`` asked from 100 is ``ContentRange(100, 199, 1000)``;
    a missing or malformed header, ``first > last``, ``last >= length`` or a
    range that does not start at ``resumed_from`` raise ContentRangeError.
    """
    if content_range is None:
        raise ContentRangeError("a 206 response without Content-Range")
    match = _RANGE.fullmatch(content_range.strip())
    if match is None:
        raise ContentRangeError(f"malformed Content-Range {content_range!r}")
    first, last = int(match[1]), int(match[2])
    length = None if match[3] is None else int(match[3])
    if first > last or max(last, length or 0) > _LIMIT or (length is not None and last >= length):
        raise ContentRangeError(f"invalid Content-Range {content_range!r}")
    if first != resumed_from:
        raise ContentRangeError(f"asked for bytes from {resumed_from}, got from {first}")
    return ContentRange(first, last, length)


def parse_unsatisfied_range(content_range: str | None) -> int:
    """The file's length from a 416 response's ``"bytes */LENGTH"``."""
    match = _UNSATISFIED.fullmatch((content_range or "").strip())
    if match is None:
        raise ContentRangeError(f"a 416 response without bytes */LENGTH: {content_range!r}")
    length = int(match[1])
    if length > _LIMIT:
        raise ContentRangeError(f"invalid Content-Range {content_range!r}")
    return length
