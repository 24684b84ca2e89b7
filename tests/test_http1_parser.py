"""hx.net.http1_parser on its own: response heads, body framing, chunked bodies."""

from __future__ import annotations

import pytest

from hx.net.http1_parser import (
    MAX_HEAD,
    ChunkedDecoder,
    ProtocolError,
    ResponseHead,
    ResponseReader,
    find_head_end,
    parse_head,
)

CONTROL_BYTES = [*range(0x01, 0x09), *range(0x0B, 0x0D), *range(0x0E, 0x20), 0x7F]
"""Control bytes other than NUL, HTAB, LF and CR."""


def head(*lines: str, method: bytes = b"GET") -> ResponseHead:
    """Parse a head made of ``lines``, CRLF-terminated, with its blank line."""
    return parse_head("".join(line + "\r\n" for line in (*lines, "")).encode(), method)


# -- status line ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "status", "reason", "version"),
    [
        ("HTTP/1.1 200 OK", 200, b"OK", b"HTTP/1.1"),
        ("HTTP/1.0 404 Not Found", 404, b"Not Found", b"HTTP/1.0"),
        ("HTTP/1.1 500 Internal  Server Error ", 500, b"Internal  Server Error ", b"HTTP/1.1"),
        ("HTTP/1.1 204", 204, b"", b"HTTP/1.1"),
        ("HTTP/1.1 200 ", 200, b"", b"HTTP/1.1"),
        ("HTTP/1.1 599 \xe9t\xe9", 599, b"\xe9t\xe9", b"HTTP/1.1"),
    ],
)
def test_status_line(line: str, status: int, reason: bytes, version: bytes) -> None:
    parsed = parse_head(line.encode("latin-1") + b"\r\nContent-Length: 0\r\n\r\n", b"GET")
    assert (parsed.status, parsed.reason, parsed.version) == (status, reason, version)


@pytest.mark.parametrize(
    "line",
    [
        "HTTP/2.0 200 OK",
        "HTTP/2 200 OK",
        "HTTP/1.2 200 OK",
        "http/1.1 200 OK",
        "HTTP/1.1  200 OK",
        "HTTP/1.1 20 OK",
        "HTTP/1.1 2000 OK",
        "HTTP/1.1 200OK",
        "HTTP/1.1 OK",
        "ICY 200 OK",
        " HTTP/1.1 200 OK",
        "",
        # A bare CR, or a NUL, in the reason phrase.
        "HTTP/1.1 200 O\rK",
        "HTTP/1.1 200 OK\r",
        "HTTP/1.1 200 O\x00K",
    ],
)
def test_invalid_status_line(line: str) -> None:
    with pytest.raises(ProtocolError, match="invalid status line"):
        head(line)


@pytest.mark.parametrize("byte", CONTROL_BYTES)
def test_control_bytes_in_the_reason_are_read_but_end_the_connection(byte: int) -> None:
    parsed = parse_head(b"HTTP/1.1 200 O%cK\r\nContent-Length: 0\r\n\r\n" % byte, b"GET")
    assert (parsed.status, parsed.reason, parsed.keep_alive) == (200, b"O%cK" % byte, False)


@pytest.mark.parametrize("status", ["000", "099", "600", "999"])
def test_a_status_outside_100_599_is_refused(status: str) -> None:
    with pytest.raises(ProtocolError, match=f"^invalid status code {status}$"):
        head(f"HTTP/1.1 {status} X", "Content-Length: 0")


# -- header lines --------------------------------------------------------------


def test_headers_keep_order_case_and_repeats_and_trim_values() -> None:
    parsed = head(
        "HTTP/1.1 200 OK", "Content-Length: 0", "Set-Cookie: a=1", "set-cookie:b=2 ", "X:"
    )
    assert parsed.headers == [
        (b"Content-Length", b"0"),
        (b"Set-Cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
        (b"X", b""),
    ]


def test_bare_lf_line_endings() -> None:
    data = b"HTTP/1.1 200 OK\nContent-Length: 3\nX: y\r\n\n"
    assert find_head_end(data + b"abc") == len(data)
    parsed = parse_head(data, b"GET")
    assert (parsed.status, parsed.reason, parsed.length) == (200, b"OK", 3)
    assert parsed.headers == [(b"Content-Length", b"3"), (b"X", b"y")]
    assert not parsed.keep_alive  # llhttp refuses bare LF


def test_obs_fold_continues_the_previous_value() -> None:
    parsed = head("HTTP/1.1 200 OK", "X-Long: a", "   b", "\tc ", "Content-Length: 0")
    assert parsed.headers == [(b"X-Long", b"a b c"), (b"Content-Length", b"0")]
    assert not parsed.keep_alive  # llhttp refuses folds


@pytest.mark.parametrize("name", ["Transfer-Encoding", "Content-Length", "content-length"])
def test_a_folded_framing_header_is_refused(name: str) -> None:
    with pytest.raises(ProtocolError, match=f"^folded {name} header$"):
        head("HTTP/1.1 200 OK", f"{name}:", " chunked")


@pytest.mark.parametrize("byte", CONTROL_BYTES)
def test_control_bytes_in_a_value_are_read_but_end_the_connection(byte: int) -> None:
    """curl reads them, llhttp refuses them: hx reads them and does not reuse the connection."""
    value = b"a%cb" % byte
    parsed = parse_head(b"HTTP/1.1 200 OK\r\nX: %b\r\nContent-Length: 2\r\n\r\n" % value, b"GET")
    assert parsed.headers == [(b"X", value), (b"Content-Length", b"2")]
    assert (parsed.length, parsed.keep_alive) == (2, False)


def test_tabs_and_obs_text_in_a_value_keep_the_connection() -> None:
    parsed = head("HTTP/1.1 200 OK", "X: a\tb \xe9", "Content-Length: 0")
    assert parsed.headers[0] == (b"X", "a\tb \xe9".encode())
    assert parsed.keep_alive


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Content-Length : 0", "invalid header line"),
        ("Bad(Name): 1", "invalid header line"),
        ("Bad Name: 1", "invalid header line"),
        (": no name", "invalid header line"),
        ("no colon", "invalid header line"),
        ("X: a\x00b", "invalid header line"),
        ("X: a\rb", "invalid header line"),
        (" folded: first", "first header line starts with whitespace"),
        ("X: a\r\n folded\x00b", "invalid header line"),
    ],
)
def test_invalid_header_line(line: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        head("HTTP/1.1 200 OK", line, "Content-Length: 0")


# -- find_head_end -------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n", b"HTTP/1.1 200 OK\nA: b\n\n", b"HTTP/1.1 204\n\r\n"],
)
def test_find_head_end_across_every_split(data: bytes) -> None:
    end = len(data)
    whole = data + b"body\r\n\r\n"
    for split in range(len(whole) + 1):
        first = find_head_end(whole[:split])
        assert first == (end if split >= end else -1), split
        if first < 0:
            assert find_head_end(whole, split) == end, split


def test_find_head_end_not_yet_arrived() -> None:
    assert find_head_end(b"") == -1
    assert find_head_end(b"HTTP/1.1 200 OK\r\nA: b\r\n") == -1
    assert find_head_end(b"HTTP/1.1 200 OK\r\nA: b\r\n\r") == -1


# -- framing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "method"),
    [(200, b"HEAD"), (404, b"HEAD"), (204, b"GET"), (304, b"GET"), (100, b"POST"), (103, b"GET")],
)
def test_no_body(status: int, method: bytes) -> None:
    parsed = head(
        f"HTTP/1.1 {status} X", "Content-Length: 100", "Transfer-Encoding: chunked", method=method
    )
    assert (parsed.length, parsed.chunked, parsed.keep_alive) == (0, False, True)


@pytest.mark.parametrize(("status", "method"), [(204, b"GET"), (304, b"GET"), (200, b"HEAD")])
@pytest.mark.parametrize(
    "field", ["Content-Length: x", "Content-Length: 1, 2", "Transfer-Encoding: ,"]
)
def test_framing_is_checked_where_there_is_no_body_too(
    status: int, method: bytes, field: str
) -> None:
    with pytest.raises(ProtocolError):
        head(f"HTTP/1.1 {status} X", field, method=method)


@pytest.mark.parametrize(
    ("fields", "length"),
    [
        (["Content-Length: 42"], 42),
        (["Content-Length: 0"], 0),
        (["content-length:  7 "], 7),
        (["Content-Length: 05"], 5),
        (["Content-Length: 999999999999999999"], 999_999_999_999_999_999),
    ],
)
def test_content_length(fields: list[str], length: int) -> None:
    parsed = head("HTTP/1.1 200 OK", *fields)
    assert (parsed.length, parsed.chunked, parsed.keep_alive) == (length, False, True)


@pytest.mark.parametrize(
    "fields", [["Content-Length: 5", "Content-Length: 5"], ["Content-Length: 5, 5"]]
)
def test_equal_content_lengths_are_read_but_end_the_connection(fields: list[str]) -> None:
    """RFC 9110 8.6 allows them, llhttp refuses them."""
    parsed = head("HTTP/1.1 200 OK", *fields)
    assert (parsed.length, parsed.chunked, parsed.keep_alive) == (5, False, False)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (["Content-Length: 5", "Content-Length: 6"], "conflicting Content-Length"),
        (["Content-Length: 5, 6"], "conflicting Content-Length"),
        (["Content-Length: abc"], "invalid Content-Length 'abc'"),
        (["Content-Length: -1"], "invalid Content-Length"),
        (["Content-Length: +5"], "invalid Content-Length"),
        (["Content-Length: 5.0"], "invalid Content-Length"),
        (["Content-Length: 0x10"], "invalid Content-Length"),
        (["Content-Length:"], "invalid Content-Length"),
        (["Content-Length: 1000000000000000000"], "invalid Content-Length"),
        # Only spaces and tabs are whitespace around a value (RFC 9110 5.6.3).
        (["Content-Length: \x0b5"], "invalid Content-Length"),
        (["Content-Length: 5\x0c"], "invalid Content-Length"),
        (["Content-Length: 5\xa0"], "invalid Content-Length"),
        # Checked beside Transfer-Encoding too, though the body goes by the latter.
        (["Transfer-Encoding: chunked", "Content-Length: nonsense"], "invalid Content-Length"),
    ],
)
def test_bad_content_length(fields: list[str], message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        head("HTTP/1.1 200 OK", *fields)


@pytest.mark.parametrize(
    ("fields", "chunked", "keep_alive"),
    [
        (["Transfer-Encoding: chunked"], True, True),
        (["Transfer-Encoding: Chunked"], True, True),
        # Other codings: h11 refuses them.
        (["Transfer-Encoding: gzip, chunked"], True, False),
        (["Transfer-Encoding: gzip", "Transfer-Encoding: chunked"], True, False),
        # Transfer-Encoding wins, and the connection is not trusted afterwards.
        (["Content-Length: 10", "Transfer-Encoding: chunked"], True, False),
        # Not chunked last: the body runs until the server closes.
        (["Transfer-Encoding: gzip"], False, False),
        (["Transfer-Encoding: chunked, gzip"], False, False),
        (["Transfer-Encoding: gzip", "Content-Length: 10"], False, False),
        (["Transfer-Encoding: \t chunked \t"], True, True),
        # Empty elements: RFC 9110 allows them, h11 and llhttp refuse them.
        (["Transfer-Encoding: , chunked,"], True, False),
        (["Transfer-Encoding: gzip,,chunked"], True, False),
    ],
)
def test_transfer_encoding(fields: list[str], chunked: bool, keep_alive: bool) -> None:
    parsed = head("HTTP/1.1 200 OK", *fields)
    assert (parsed.length, parsed.chunked, parsed.keep_alive) == (None, chunked, keep_alive)


def test_transfer_encoding_in_http1_0_ends_the_connection() -> None:
    """RFC 9112 6.1: the framing of such a message is faulty, whatever Connection says."""
    parsed = head("HTTP/1.0 200 OK", "Connection: keep-alive", "Transfer-Encoding: chunked")
    assert (parsed.chunked, parsed.keep_alive) == (True, False)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (["Transfer-Encoding:"], "^empty Transfer-Encoding$"),
        (["Transfer-Encoding: ,"], "^empty Transfer-Encoding$"),
        (["Transfer-Encoding: , ,", "Content-Length: 2"], "^empty Transfer-Encoding$"),
        (["Transfer-Encoding: chunked\x0c"], "invalid Transfer-Encoding"),
        (["Transfer-Encoding: \x0bchunked"], "invalid Transfer-Encoding"),
        (["Transfer-Encoding: chunked;x=1"], "invalid Transfer-Encoding"),
        (["Transfer-Encoding: chun ked"], "invalid Transfer-Encoding"),
    ],
)
def test_bad_transfer_encoding(fields: list[str], message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        head("HTTP/1.1 200 OK", *fields)


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_no_length_reads_until_close(version: str) -> None:
    parsed = head(f"HTTP/{version} 200 OK", "Connection: keep-alive")
    assert (parsed.length, parsed.chunked, parsed.keep_alive) == (None, False, False)


@pytest.mark.parametrize(
    ("version", "connection", "keep_alive"),
    [
        ("1.1", [], True),
        ("1.1", ["Connection: keep-alive"], True),
        ("1.1", ["Connection: close"], False),
        ("1.1", ["Connection: CLOSE"], False),
        ("1.1", ["Connection: upgrade, close"], False),
        ("1.1", ["Connection: upgrade", "Connection: close"], False),
        ("1.0", [], False),
        ("1.0", ["Connection: keep-alive"], True),
        ("1.0", ["Connection: Keep-Alive"], True),
        ("1.0", ["Connection: foo,keep-alive"], True),
        ("1.0", ["Connection: close"], False),
    ],
)
def test_keep_alive(version: str, connection: list[str], keep_alive: bool) -> None:
    parsed = head(f"HTTP/{version} 200 OK", "Content-Length: 0", *connection)
    assert parsed.keep_alive is keep_alive
    no_body = head(f"HTTP/{version} 204 No Content", *connection)
    assert no_body.keep_alive is keep_alive


# -- ChunkedDecoder ------------------------------------------------------------

SAMPLE = b"5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n"
SAMPLE_DATA = b"hello 0123456789"


def decode(*parts: bytes) -> tuple[bytes, ChunkedDecoder]:
    """Feed ``parts`` to a new decoder; the data it gave back, and the decoder."""
    decoder = ChunkedDecoder()
    return b"".join(piece for part in parts for piece in decoder.feed(part)), decoder


@pytest.mark.parametrize(
    ("body", "data"),
    [
        (b"0\r\n\r\n", b""),
        (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
        (b"5;name=value;x\r\nhello\r\n0;last\r\n\r\n", b"hello"),
        (b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\nOther: 2\r\n\r\n", b"hello"),
        (b"A\r\n0123456789\r\n1f\r\n" + b"x" * 31 + b"\r\n0\r\n\r\n", b"0123456789" + b"x" * 31),
        (b"0004\r\n\r\n\r\n\r\n000\r\n\r\n", b"\r\n\r\n"),
        (SAMPLE, SAMPLE_DATA),
    ],
)
def test_chunked_whole(body: bytes, data: bytes) -> None:
    decoded, decoder = decode(body)
    assert decoded == data
    assert (decoder.done, decoder.clean) == (True, True)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"5\nhello\r\n0\r\n\r\n", id="bare-lf-after-the-size"),
        pytest.param(b"5\r\nhello\n0\r\n\r\n", id="bare-lf-after-the-data"),
        pytest.param(b"5\r\nhello\r\n0\r\n\n", id="bare-lf-ending-the-trailers"),
        pytest.param(b"5\nhello\n0\n\n", id="bare-lf-everywhere"),
        pytest.param(b"5 \r\nhello\r\n0\r\n\r\n", id="space-after-the-size"),
        pytest.param(b"5\t;ext\r\nhello\r\n0\r\n\r\n", id="tab-before-an-extension"),
        pytest.param(b"5\r\nhello\r\n0\r\nX: a\x01b\r\n\r\n", id="control-byte-in-a-trailer"),
        pytest.param(b"5\r\nhello\r\n0\r\nConnection: close\r\n\r\n", id="connection-trailer"),
    ],
)
def test_chunked_accepted_but_not_clean(body: bytes) -> None:
    """Framing curl reads but h11 or llhttp refuses: the data, and no reuse."""
    decoded, decoder = decode(body)
    assert (decoded, decoder.done, decoder.clean) == (b"hello", True, False)


def test_chunked_every_split_and_byte_by_byte() -> None:
    for split in range(len(SAMPLE) + 1):
        decoded, decoder = decode(SAMPLE[:split], SAMPLE[split:])
        assert (decoded, decoder.done, decoder.clean) == (SAMPLE_DATA, True, True), split
    decoded, decoder = decode(*(SAMPLE[i : i + 1] for i in range(len(SAMPLE))))
    assert (decoded, decoder.done, decoder.clean) == (SAMPLE_DATA, True, True)


def test_chunked_not_done_until_the_trailers_end() -> None:
    decoder = ChunkedDecoder()
    assert decoder.feed(b"5\r\nhel") == [b"hel"]
    assert decoder.feed(b"lo\r\n0\r\nTrailer: 1\r\n") == [b"lo"]
    assert not decoder.done
    assert decoder.feed(b"\r\n") == []
    assert decoder.done


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"xyz\r\n", "invalid chunk size line 'xyz'"),
        (b"\r\n", "invalid chunk size line"),
        (b"-5\r\n", "invalid chunk size line"),
        (b"0x5\r\n", "invalid chunk size line"),
        (b"1000000000000000\r\n", "invalid chunk size line"),
        (b"5\r\nhello\r\n5 5\r\n", "invalid chunk size line"),
        (b" 5\r\nhello\r\n0\r\n\r\n", "invalid chunk size line ' 5'"),
        (b"\t5\r\nhello\r\n0\r\n\r\n", "invalid chunk size line"),
        (b"5\x0b\r\nhello\r\n0\r\n\r\n", "invalid chunk size line"),
        (b"5;a\x00b\r\nhello\r\n0\r\n\r\n", "invalid chunk size line"),
        (b"5\r\r\nhello\r\n0\r\n\r\n", "invalid chunk size line"),
        (b"0\r\nnot a header\r\n\r\n", "invalid trailer line 'not a header'"),
        (b"0\r\nX : 1\r\n\r\n", "invalid trailer line"),
        (b"0\r\nX: 1\r\n folded\r\n\r\n", "invalid trailer line"),
        (b"0\r\nX: a\x00b\r\n\r\n", "invalid trailer line"),
        (b"3\r\nhello\r\n0\r\n\r\n", "chunk data longer than its size"),
        (b"1" * 5000, "chunk size line too long"),
        (b"5;" + b"x" * 5000, "chunk size line too long"),
        (b"0\r\nX-Trailer: " + b"x" * 5000, "trailer line too long"),
        # The limits hold when a whole line arrives in one piece, too.
        (b"5;" + b"x" * 5000 + b"\r\n", "chunk size line too long"),
        (b"0\r\nX-Trailer: " + b"x" * 5000 + b"\r\n", "trailer line too long"),
    ],
)
def test_chunked_errors(body: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        decode(body)


@pytest.mark.parametrize("parts", [[SAMPLE + b"HTTP/1.1"], [SAMPLE, b"x"], [SAMPLE + b"\r\n"]])
def test_chunked_bytes_after_the_end(parts: list[bytes]) -> None:
    decoded, decoder = decode(*parts)
    assert (decoded, decoder.done, decoder.clean) == (SAMPLE_DATA, True, False)


# -- ResponseReader ------------------------------------------------------------


def read(*parts: bytes, method: bytes = b"GET", eof: bool = False) -> tuple[ResponseReader, bytes]:
    """Feed ``parts`` (then the end of the stream) to a new reader; it, and the body it gave."""
    body: list[bytes] = []
    reader = ResponseReader(body.append)
    reader.start(method)
    for part in parts:
        reader.feed(part)
    if eof:
        reader.feed_eof()
    return reader, b"".join(body)


def every_split(data: bytes) -> list[list[bytes]]:
    """``data`` whole, in two pieces at every point, and byte by byte."""
    halves = [[data[:n], data[n:]] for n in range(1, len(data))]
    return [[data], *halves, [data[n : n + 1] for n in range(len(data))]]


KEEP_ALIVE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


@pytest.mark.parametrize(
    ("data", "body", "reusable"),
    [
        pytest.param(KEEP_ALIVE, b"hello", True, id="content-length"),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            b"hello",
            True,
            id="chunked",
        ),
        pytest.param(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\n"
            + KEEP_ALIVE,
            b"hello",
            True,
            id="interim-responses",
        ),
        pytest.param(KEEP_ALIVE + b"HTTP/1.1", b"hello", False, id="bytes-after-the-end"),
        pytest.param(
            b"HTTP/1.1 204 No Content\r\n\r\nX", b"", False, id="bytes-after-an-empty-body"
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n",
            b"hello",
            False,
            id="chunked-bare-lf",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nX: \x01\r\nContent-Length: 5\r\n\r\nhello",
            b"hello",
            False,
            id="control-byte-in-a-value",
        ),
    ],
)
def test_reader_however_the_bytes_arrive(data: bytes, body: bytes, reusable: bool) -> None:
    for parts in every_split(data):
        reader, read_body = read(*parts)
        assert reader.head is not None
        assert (reader.head.status, read_body, reader.ended) == (200 if body else 204, body, True)
        assert reader.reusable is reusable, parts


@pytest.mark.parametrize("size", [MAX_HEAD + 1, 100_000])
def test_a_head_over_the_limit_is_refused_however_it_arrives(size: int) -> None:
    status = b"HTTP/1.1 200 OK\r\n"
    filler = b"X: " + b"y" * (size - len(status) - len(b"X: \r\n\r\n")) + b"\r\n"
    data = status + filler + b"\r\n"
    assert len(data) == size
    for parts in ([data], [data[:1000], data[1000:]], [data[:-1], data[-1:]]):
        with pytest.raises(ProtocolError, match=f"response head larger than {MAX_HEAD}"):
            read(*parts)
    with pytest.raises(ProtocolError, match="response head larger than"):
        read(*(data[n : n + 4096] for n in range(0, len(data), 4096)))


def test_a_head_at_the_limit_is_read() -> None:
    status = b"HTTP/1.1 204 No Content\r\n"
    filler = b"X: " + b"y" * (MAX_HEAD - len(status) - len(b"X: \r\n\r\n")) + b"\r\n"
    reader, _ = read(status + filler + b"\r\n")
    assert reader.head is not None and reader.ended


def test_101_is_refused() -> None:
    with pytest.raises(ProtocolError, match="unexpected 101"):
        read(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")


def test_a_response_to_head_has_no_body() -> None:
    reader, body = read(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", method=b"HEAD")
    assert (body, reader.ended, reader.reusable) == (b"", True, True)


def test_more_than_content_length_is_cut_and_ends_the_connection() -> None:
    reader, body = read(KEEP_ALIVE + b"!!")
    assert (body, reader.ended, reader.reusable) == (b"hello", True, False)


def test_a_body_delimited_by_the_close() -> None:
    reader, body = read(b"HTTP/1.1 200 OK\r\n\r\nsome", b" body")
    assert (body, reader.ended) == (b"some body", False)
    reader.feed_eof()
    assert (reader.ended, reader.reusable) == (True, False)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"^Server disconnected without sending a response\.$"),
        (b"HTTP/1.1 200 OK\r\n", r"^Server disconnected without sending a response\.$"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", "received 3 bytes, expected 5"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "incomplete chunked"),
    ],
)
def test_cut_short_by_the_close(data: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        read(data, eof=True)


def test_the_reader_starts_afresh_for_each_response() -> None:
    body: list[bytes] = []
    reader = ResponseReader(body.append)
    for _ in range(2):
        reader.start(b"GET")
        reader.feed(KEEP_ALIVE[:20])
        assert reader.head is None
        reader.feed(KEEP_ALIVE[20:])
        assert (reader.ended, reader.reusable) == (True, True)
    assert body == [b"hello", b"hello"]
