"""Splitting a body into lines with a hard bound on each: sans I/O, bytes in, lines out.

A line may end in CRLF, LF or CR alone (the three endings of the SSE spec); a
CRLF split across two chunks is one ending. A line longer than ``max_line``
bytes becomes one :class:`LineTooLong` as soon as it crosses the bound, and the
rest of it is skipped as it arrives, never buffered: memory stays within
``max_line`` whatever the server sends.
"""

from __future__ import annotations

from collections.abc import Iterator

from hx.frozen import frozen


@frozen
class LineTooLong:
    """A line grew past ``limit`` bytes: all of it, up to its end, is dropped."""

    limit: int


Piece = bytes | LineTooLong
"""A complete line (without its ending), or the news that one was too long."""


class LineSplitter:
    """Feed body chunks, get complete lines; :meth:`finish` gives a last unended line."""

    def __init__(self, max_line: int) -> None:
        if max_line < 1:
            raise ValueError("max_line must be at least 1")
        self._max_line = max_line
        self._partial = bytearray()
        self._skipping = False
        """Inside a line that was too long: drop bytes up to its end."""
        self._after_cr = False
        """The last chunk ended in CR: an LF opening the next one belongs to that ending."""

    def feed(self, data: bytes) -> Iterator[Piece]:
        if not data:
            return
        start = 1 if self._after_cr and data[:1] == b"\n" else 0
        self._after_cr = False
        # bytes.find (memchr) rather than a regex: a 1 GB line is skipped at memory speed.
        lf, cr = data.find(b"\n", start), data.find(b"\r", start)
        while lf >= 0 or cr >= 0:
            if cr < 0 or 0 <= lf < cr:
                end, next_start = lf, lf + 1
                lf = data.find(b"\n", next_start)
            else:
                end = cr
                next_start = cr + 1
                if next_start == len(data):
                    self._after_cr = True  # an LF may open the next chunk
                elif data[next_start] == 0x0A:
                    next_start += 1
                    lf = data.find(b"\n", next_start)
                cr = data.find(b"\r", next_start)
            yield from self._take(data[start:end], ended=True)
            start = next_start
        yield from self._take(data[start:], ended=False)

    def finish(self) -> Iterator[Piece]:
        """The body ended: its last line, if it had no line ending."""
        if self._partial:
            yield bytes(self._partial)
        self._partial.clear()
        self._skipping = False
        self._after_cr = False

    def _take(self, segment: bytes, ended: bool) -> Iterator[Piece]:
        if self._skipping:
            self._skipping = not ended
            return
        if len(self._partial) + len(segment) > self._max_line:
            self._partial.clear()
            self._skipping = not ended
            yield LineTooLong(self._max_line)
            return
        if not ended:
            self._partial += segment
            return
        if self._partial:
            self._partial += segment
            segment = bytes(self._partial)
            self._partial.clear()
        yield segment
