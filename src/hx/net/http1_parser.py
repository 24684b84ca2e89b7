"""HTTP/1.1 responses from bytes: the head, how the body is framed, chunked bodies.

No I/O here: hx.net.http1 feeds in what the socket delivers. The rules are RFC
9112's, applied the way clients in the wild apply them: lenient where servers
commonly stray and nothing can be misread (bare LF line ends, no reason phrase,
folded header lines), strict where a mistake would run two messages together
(Content-Length, Transfer-Encoding, chunk sizes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_HEAD = 64 * 1024
"""Bytes a response head may take, status line and headers together."""

_MAX_CHUNK_LINE = 4096
_MAX_TRAILERS = 64 * 1024

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: ([^\x00]*))?")
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_HEADER_LINE = re.compile(rb"(%b):[ \t]*([^\x00\r]*?)[ \t]*" % _TOKEN)
_HEADER_LINES = re.compile(rb"^(%b):[ \t]*([^\x00\r\n]*?)[ \t]*\r?\n" % _TOKEN, re.MULTILINE)
_CONNECTION, _TRANSFER_ENCODING, _LENGTH = b"connection", b"transfer-encoding", b"content-length"
_DIGITS = re.compile(rb"[0-9]{1,18}")
_CHUNK_SIZE = re.compile(rb"[ \t]*([0-9A-Fa-f]{1,15})[ \t]*(?:;[^\r\n]*)?")


class ProtocolError(Exception):
    """The server broke HTTP/1.1; nothing more can be read from that connection."""


@dataclass(slots=True)
class ResponseHead:
    """A parsed status line and headers, and what they say about the body."""

    status: int
    reason: bytes
    version: bytes
    """``b"HTTP/1.1"`` or ``b"HTTP/1.0"``."""
    headers: list[tuple[bytes, bytes]]
    length: int | None
    """Body bytes to read; ``None`` with ``chunked`` or when the body ends at close."""
    chunked: bool
    keep_alive: bool
    """Whether the connection may carry another request after this response."""


def find_head_end(buffer: bytes | bytearray, start: int = 0) -> int:
    """Index just past the blank line that ends the head, or -1 if it has not arrived.

    ``start`` is where the previous search stopped, so a head that arrives in
    pieces is scanned once.
    """
    match = _HEAD_END.search(buffer, max(0, start - 3))
    return -1 if match is None else match.end()


def parse_head(head: bytes, method: bytes) -> ResponseHead:
    """Parse a complete head (up to and including its blank line).

    ``method`` is the request's: a response to HEAD has no body, whatever its
    Content-Length says.
    """
    first_end = head.find(b"\n")
    status_line = head[:first_end].removesuffix(b"\r")
    match = _STATUS_LINE.fullmatch(status_line)
    if match is None:
        raise ProtocolError(f"invalid status line {_show(status_line)}")
    minor, status, reason = match.group(1), int(match.group(2)), match.group(3) or b""
    headers = _parse_headers(head[first_end + 1 :])
    version = b"HTTP/1.1" if minor == b"1" else b"HTTP/1.0"

    framing: dict[bytes, list[bytes]] = {_CONNECTION: [], _TRANSFER_ENCODING: [], _LENGTH: []}
    for name, value in headers:
        values = framing.get(name.lower())
        if values is not None:
            values.append(value)
    connection = _tokens(framing[_CONNECTION])
    keep_alive = b"close" not in connection if minor == b"1" else b"keep-alive" in connection
    length: int | None
    chunked = False
    codings = _tokens(framing[_TRANSFER_ENCODING])
    if method == b"HEAD" or status in (204, 304) or 100 <= status < 200:
        length = 0
    elif codings:
        # Transfer-Encoding wins over Content-Length; a server sending both
        # is not trusted with the connection afterwards (RFC 9112 6.3).
        chunked = codings[-1] == b"chunked"
        length = None
        if not chunked or framing[_LENGTH]:
            keep_alive = False
    else:
        length = _content_length(framing[_LENGTH])
        if length is None:
            keep_alive = False  # the body runs until the server closes
    return ResponseHead(status, reason, version, headers, length, chunked, keep_alive)


def _parse_headers(block: bytes) -> list[tuple[bytes, bytes]]:
    """The header lines of a head, then its blank line, as ``(name, value)`` pairs."""
    headers: list[tuple[bytes, bytes]] = _HEADER_LINES.findall(block)
    if len(headers) == block.count(b"\n") - 1:
        return headers  # every line is a plain "name: value"
    # Folded lines, or a line that is not a header: line by line, to say which.
    headers = []
    for raw in block.split(b"\n"):
        line = raw.removesuffix(b"\r")
        if not line:
            continue  # the blank line(s) at the end
        if line[0] in b" \t":
            # obs-fold: a continuation of the previous value (RFC 9112 5.2).
            if not headers:
                raise ProtocolError("the first header line starts with whitespace")
            if b"\0" in line or b"\r" in line:
                raise ProtocolError(f"invalid header line {_show(line)}")
            name, value = headers[-1]
            headers[-1] = (name, value + b" " + line.strip(b" \t"))
            continue
        match = _HEADER_LINE.fullmatch(line)
        if match is None:
            raise ProtocolError(f"invalid header line {_show(line)}")
        headers.append((match.group(1), match.group(2)))
    return headers


def _tokens(values: list[bytes]) -> list[bytes]:
    """The comma-separated tokens of a header's values, lower-cased, in order."""
    return [
        token.strip().lower() for value in values for token in value.split(b",") if token.strip()
    ]


def _content_length(values: list[bytes]) -> int | None:
    lengths = {item.strip() for value in values for item in value.split(b",")}
    if not lengths:
        return None
    if len(lengths) > 1:
        raise ProtocolError("conflicting Content-Length values")
    length = lengths.pop()
    if _DIGITS.fullmatch(length) is None:
        raise ProtocolError(f"invalid Content-Length {_show(length)}")
    return int(length)


def _show(data: bytes) -> str:
    """Bytes from the wire, shortened and quoted for an error message."""
    return repr(data[:80].decode("latin-1"))


class ChunkedDecoder:
    """Takes the bytes of a chunked body as they arrive; gives back its data.

    ``feed`` returns the data found, in pieces, and sets ``done`` once the
    last chunk and the trailers have been read. Trailers are read and dropped.
    """

    def __init__(self) -> None:
        self.done = False
        self.extra = False
        """Bytes followed the end of the body: the connection is not reusable."""
        self._remaining = 0  # data bytes left in the current chunk
        self._line = b""  # an incomplete size, chunk-end or trailer line
        self._state = self._size_line
        self._trailer_bytes = 0

    def feed(self, data: bytes) -> list[bytes]:
        pieces: list[bytes] = []
        position = 0
        while position < len(data) and not self.done:
            if self._remaining:
                end = min(len(data), position + self._remaining)
                pieces.append(data if (position, end) == (0, len(data)) else data[position:end])
                self._remaining -= end - position
                position = end
                if not self._remaining:
                    self._state = self._chunk_end
                continue
            newline = data.find(b"\n", position)
            if newline < 0:
                self._line += data[position:]
                if len(self._line) > _MAX_CHUNK_LINE:
                    what = "trailer" if self._state == self._trailer_line else "chunk size"
                    raise ProtocolError(f"{what} line too long")
                break
            line = (self._line + data[position:newline]).removesuffix(b"\r")
            self._line = b""
            position = newline + 1
            self._state(line)
        if self.done and position < len(data):
            self.extra = True
        return pieces

    def _size_line(self, line: bytes) -> None:
        match = _CHUNK_SIZE.fullmatch(line)
        if match is None:
            raise ProtocolError(f"invalid chunk size line {_show(line)}")
        self._remaining = int(match.group(1), 16)
        if not self._remaining:
            self._state = self._trailer_line

    def _chunk_end(self, line: bytes) -> None:
        if line:
            raise ProtocolError("chunk data longer than its size")
        self._state = self._size_line

    def _trailer_line(self, line: bytes) -> None:
        self._trailer_bytes += len(line)
        if self._trailer_bytes > _MAX_TRAILERS:
            raise ProtocolError("trailers too long")
        if not line:
            self.done = True
