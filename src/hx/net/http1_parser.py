"""HTTP/1.1 responses from bytes: the head, how the body is framed, chunked bodies.

No I/O here: hx.net.http1 feeds a ``ResponseReader`` what the socket delivers.
The rules are RFC 9112's, applied the way curl applies them, and checked
against h11 and llhttp (tests/test_http1_fuzz.py):

- refused where a mistake would run two messages together: Content-Length,
  Transfer-Encoding and chunk sizes are exact (no vertical tab taken for a
  space, no empty or folded Transfer-Encoding, no space before a chunk size,
  no trailer that is not a header line); so are a status outside 100-599, a
  bare CR or a NUL, and a head over MAX_HEAD bytes however it arrives;
- read, but the connection is not reused afterwards, where curl reads what h11
  or llhttp refuses: bare LF line ends, folded header lines, control bytes in
  the reason phrase or header values, a list of equal Content-Lengths, a
  transfer coding besides chunked or an empty list element, a space after a
  chunk size, a Connection trailer, bytes after the end of the response;
- read as any parser does: no reason phrase, HTTP/1.0 keep-alive.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_HEAD = 64 * 1024
"""Bytes a response head may take, status line and headers together."""

_MAX_CHUNK_LINE = 4096
_MAX_TRAILERS = 64 * 1024
_UNBOUNDED = 1 << 62

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS = rb"HTTP/1\.([01]) ([0-9]{3})(?: (%b*))?"
_STATUS_LINE = re.compile(_STATUS % rb"[\t\x20-\x7e\x80-\xff]")  # RFC 9112 4
_LAX_STATUS_LINE = re.compile(_STATUS % rb"[^\x00\r]")  # what curl takes
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# A field line as RFC 9110 5.5 and RFC 9112 2.2 have it (no control bytes but HTAB in
# the value, CRLF at the end) ...
_HEADER_LINES = re.compile(
    rb"^(%b):[ \t]*([\t\x20-\x7e\x80-\xff]*?)[ \t]*\r\n" % _TOKEN, re.MULTILINE
)
# ... and as hx takes it: any byte but NUL, CR and LF.
_HEADER_LINE = re.compile(rb"(%b):[ \t]*([^\x00\r\n]*?)[ \t]*" % _TOKEN)
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_CONNECTION, _TRANSFER_ENCODING, _LENGTH = b"connection", b"transfer-encoding", b"content-length"
_FRAMING = (_TRANSFER_ENCODING, _LENGTH)
_CODING = re.compile(_TOKEN)
_CHUNKED = [b"chunked"]
_DIGITS = re.compile(rb"[0-9]{1,18}")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})([ \t]*)(?:;[\t\x20-\x7e\x80-\xff]*)?")


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
    status_line = head[:first_end]
    # Anything doubtful (what curl reads but h11 or llhttp refuses) is read, but
    # the connection is not reused.
    doubtful = not status_line.endswith(b"\r")  # a bare LF
    status_line = status_line.removesuffix(b"\r")
    match = _STATUS_LINE.fullmatch(status_line)
    if match is None:
        doubtful = True  # control bytes in the reason phrase
        match = _LAX_STATUS_LINE.fullmatch(status_line)
        if match is None:
            raise ProtocolError(f"invalid status line {_show(status_line)}")
    minor, status, reason = match.group(1), int(match.group(2)), match.group(3) or b""
    if not 100 <= status <= 599:
        raise ProtocolError(f"invalid status code {match.group(2).decode()}")
    headers, odd_lines = _parse_headers(head[first_end + 1 :])
    doubtful = doubtful or odd_lines
    version = b"HTTP/1.1" if minor == b"1" else b"HTTP/1.0"

    framing: dict[bytes, list[bytes]] = {_CONNECTION: [], _TRANSFER_ENCODING: [], _LENGTH: []}
    for name, value in headers:
        values = framing.get(name.lower())
        if values is not None:
            values.append(value)
    connection = _tokens(framing[_CONNECTION])
    keep_alive = b"close" not in connection if minor == b"1" else b"keep-alive" in connection
    # Both are checked even where they do not apply (HEAD, 204, 304, 1xx).
    encodings, lengths = framing[_TRANSFER_ENCODING], framing[_LENGTH]
    length = _content_length(lengths)
    if lengths and (len(lengths) > 1 or b"," in lengths[0]):
        doubtful = True  # equal lengths, repeated or listed
    codings = _codings(encodings) if encodings else None
    if codings is not None and codings != _CHUNKED:
        doubtful = True  # other codings, or empty list elements
    chunked = False
    if method == b"HEAD" or status in (204, 304) or 100 <= status < 200:
        length = 0
    elif codings is not None:
        # Transfer-Encoding wins over Content-Length; a server sending both, or
        # sending it in HTTP/1.0, is not trusted with the connection afterwards
        # (RFC 9112 6.1, 6.3).
        chunked = [coding for coding in codings if coding][-1] == b"chunked"
        length = None
        if not chunked or lengths or minor == b"0":
            keep_alive = False
    elif length is None:
        keep_alive = False  # the body runs until the server closes
    keep_alive = keep_alive and not doubtful
    return ResponseHead(status, reason, version, headers, length, chunked, keep_alive)


def _parse_headers(block: bytes) -> tuple[list[tuple[bytes, bytes]], bool]:
    """The header lines of a head, then its blank line, as ``(name, value)`` pairs;
    and whether any line ends in a bare LF, is folded, or has control bytes."""
    headers: list[tuple[bytes, bytes]] = _HEADER_LINES.findall(block)
    if len(headers) == block.count(b"\n") - 1 and block.endswith(b"\r\n"):
        return headers, False  # every line is a plain "name: value" CRLF
    # Bare LF, folded lines, control bytes, or a line that is not a header: line by line.
    headers = []
    odd = False
    lines = block.split(b"\n")
    lines.pop()  # what follows the last line end: nothing
    for raw in lines:
        if raw.endswith(b"\r"):
            line = raw[:-1]
        else:
            line, odd = raw, True  # a bare LF ends it
        if not line:
            continue  # the blank line at the end
        if line[0] in b" \t":
            # obs-fold: a continuation of the previous value (RFC 9112 5.2).
            if not headers:
                raise ProtocolError("the first header line starts with whitespace")
            if b"\0" in line or b"\r" in line:
                raise ProtocolError(f"invalid header line {_show(line)}")
            name, value = headers[-1]
            if name.lower() in _FRAMING:
                raise ProtocolError(f"folded {name.decode()} header")
            headers[-1] = (name, value + b" " + line.strip(b" \t"))
            odd = True
            continue
        match = _HEADER_LINE.fullmatch(line)
        if match is None:
            raise ProtocolError(f"invalid header line {_show(line)}")
        headers.append((match.group(1), match.group(2)))
        odd = odd or _CONTROL.search(match.group(2)) is not None
    return headers, odd


def _tokens(values: list[bytes]) -> list[bytes]:
    """The comma-separated tokens of a header's values, lower-cased, in order."""
    return [
        token.lower()
        for value in values
        for item in value.split(b",")
        if (token := item.strip(b" \t"))
    ]


def _codings(values: list[bytes]) -> list[bytes]:
    """The elements of Transfer-Encoding values, lower-cased, empty ones too (RFC 9110
    5.6.1 allows them): at least one coding, each a token (parameters, which no
    coding hx knows takes, are not)."""
    items = [item.strip(b" \t").lower() for value in values for item in value.split(b",")]
    if not any(items):
        raise ProtocolError("empty Transfer-Encoding")
    for coding in items:
        if coding and _CODING.fullmatch(coding) is None:
            raise ProtocolError(f"invalid Transfer-Encoding {_show(coding)}")
    return items


def _content_length(values: list[bytes]) -> int | None:
    lengths = {item.strip(b" \t") for value in values for item in value.split(b",")}
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
    last chunk and the trailers have been read. Trailers are checked and dropped.
    """

    def __init__(self) -> None:
        self.done = False
        self.clean = True
        """No bare LF, no space after a chunk size, no control byte or Connection field in
        the trailers, no bytes after the end: nothing puts the next response in doubt."""
        self._remaining = 0  # data bytes left in the current chunk
        self._line = b""  # an incomplete size, chunk-end or trailer line
        # The step for the next line: a plain function, called with self. (A bound
        # method kept here would make every decoder a reference cycle, garbage for
        # the collector to find after each chunked response.)
        self._state: Callable[[ChunkedDecoder, bytes], None] = ChunkedDecoder._size_line
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
                    self._state = ChunkedDecoder._chunk_end
                continue
            newline = data.find(b"\n", position)
            line = self._line + data[position : len(data) if newline < 0 else newline]
            if len(line) > _MAX_CHUNK_LINE:
                what = "trailer" if self._state is ChunkedDecoder._trailer_line else "chunk size"
                raise ProtocolError(f"{what} line too long")
            if newline < 0:
                self._line = line
                break
            self._line = b""
            position = newline + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            else:
                self.clean = False  # a bare LF ends the line
            self._state(self, line)
        if self.done and position < len(data):
            self.clean = False
        return pieces

    def _size_line(self, line: bytes) -> None:
        match = _CHUNK_SIZE.fullmatch(line)
        if match is None:
            raise ProtocolError(f"invalid chunk size line {_show(line)}")
        if match.group(2):
            self.clean = False  # "5 ;ext": RFC 9112 allows it, h11 and llhttp do not
        self._remaining = int(match.group(1), 16)
        if not self._remaining:
            self._state = ChunkedDecoder._trailer_line

    def _chunk_end(self, line: bytes) -> None:
        if line:
            raise ProtocolError("chunk data longer than its size")
        self._state = ChunkedDecoder._size_line

    def _trailer_line(self, line: bytes) -> None:
        if not line:
            self.done = True
            return
        self._trailer_bytes += len(line)
        if self._trailer_bytes > _MAX_TRAILERS:
            raise ProtocolError("trailers too long")
        match = _HEADER_LINE.fullmatch(line)
        if match is None:
            raise ProtocolError(f"invalid trailer line {_show(line)}")
        # Connection has no place in trailers, but llhttp honours a "close" there.
        if _CONTROL.search(match.group(2)) or match.group(1).lower() == _CONNECTION:
            self.clean = False


def _nowhere(data: bytes) -> None:
    """Where a detached reader would put body bytes (none come)."""


class ResponseReader:
    """The response to one request after another, from a connection's bytes as they arrive.

    ``start`` expects a response; ``feed`` takes bytes (``head`` is set once the
    final head has arrived, 1xx interim responses skipped; body data goes to
    ``on_data``); ``feed_eof`` says the server closed. ``ended`` tells when the
    response is whole, ``reusable`` whether the connection may carry another
    request after it. Bytes that break HTTP/1.1 raise ProtocolError.
    """

    def __init__(self, on_data: Callable[[bytes], None]) -> None:
        self._on_data = on_data
        self._buffer = bytearray()  # an incomplete head
        self._method = b"GET"
        self.head: ResponseHead | None = None
        self.ended = False
        self.reusable = False
        self.received = 0
        """Body bytes received."""
        self._remaining: int | None = None  # Content-Length bytes still to come
        self._chunks: ChunkedDecoder | None = None

    def detach(self) -> None:
        """No more bytes will come (the connection is gone): let go of ``on_data``, the
        connection's, so that the connection and its reader are no reference cycle
        left for the collector (a run at -c 1000 closes a thousand)."""
        self._on_data = _nowhere

    def start(self, method: bytes) -> None:
        """Expect the response to a ``method`` request."""
        self._buffer.clear()
        self._method = method
        self.head = None
        self.ended = False
        self.reusable = False
        self.received = 0
        self._remaining = None
        self._chunks = None

    def feed(self, data: bytes) -> None:
        if self.head is None:
            data = self._feed_head(data)
        if not data:
            return
        if self.ended:
            self.reusable = False  # bytes after the end of the response
            return
        chunks = self._chunks
        if chunks is not None:
            for piece in chunks.feed(data):
                self._body(piece)
            if chunks.done:
                self._end(chunks.clean)
        elif self._remaining is None:
            self._body(data)  # the body runs until the server closes
        else:
            clean = len(data) <= self._remaining  # more than Content-Length: not reusable
            if not clean:
                data = data[: self._remaining]
            self._remaining -= len(data)
            self._body(data)
            if not self._remaining:
                self._end(clean)

    def direct_room(self) -> int:
        """How many of the next body bytes may bypass ``feed`` (see ``took``): the rest of a
        Content-Length body, as much as wanted of a body that ends at close, none of a
        chunked one, nor before the head or after the end."""
        if self.head is None or self.ended or self._chunks is not None:
            return 0
        return self._remaining if self._remaining is not None else _UNBOUNDED

    def took(self, count: int) -> None:
        """``count`` body bytes went straight to the reader's consumer, at most
        ``direct_room()`` of them: account for them as ``feed`` would have."""
        self.received += count
        if self._remaining is not None:
            self._remaining -= count
            if not self._remaining:
                self._end(True)

    def feed_eof(self) -> None:
        """The server closed the connection: the end of a body delimited by the close;
        ProtocolError if the response was cut short."""
        if self.ended:
            return
        if self.head is None:
            raise ProtocolError("Server disconnected without sending a response.")
        if self._chunks is not None:
            raise ProtocolError(
                "peer closed connection without sending complete message body: "
                "incomplete chunked read"
            )
        if self._remaining is not None:
            raise ProtocolError(
                "peer closed connection without sending complete message body: "
                f"received {self.received} bytes, expected {self.received + self._remaining}"
            )
        self._end(False)

    def _feed_head(self, data: bytes) -> bytes:
        """Collect the head; once the final one is complete, parse it and return what
        follows it."""
        buffer = self._buffer
        searched = len(buffer)
        buffer += data
        while True:
            end = find_head_end(buffer, searched)
            if end < 0 and len(buffer) <= MAX_HEAD:
                return b""
            if end < 0 or end > MAX_HEAD:
                raise ProtocolError(f"response head larger than {MAX_HEAD} bytes")
            head = parse_head(bytes(buffer[:end]), self._method)
            del buffer[:end]
            if head.status < 200:
                if head.status == 101:
                    raise ProtocolError("unexpected 101 Switching Protocols")
                searched = 0  # an interim response (100 Continue, 103 Early Hints)
                continue
            self.head = head
            self.reusable = head.keep_alive
            rest = bytes(buffer)
            buffer.clear()
            if head.chunked:
                self._chunks = ChunkedDecoder()
            else:
                self._remaining = head.length
                if head.length == 0:
                    self._end(True)
            return rest

    def _body(self, piece: bytes) -> None:
        if piece:
            self.received += len(piece)
            self._on_data(piece)

    def _end(self, clean: bool) -> None:
        self.ended = True
        self.reusable = self.reusable and clean
