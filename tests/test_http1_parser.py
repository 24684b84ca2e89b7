"""hx.net.http1_parser on its own: response heads, body framing, chunked bodies."""

from __future__ import annotations

import pytest

from hx.net.http1_parser import (
    ChunkedDecoder,
    ProtocolError,
    ResponseHead,
    find_head_end,
    parse_head,
)


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
    ],
)
def test_invalid_status_line(line: str) -> None:
    with pytest.raises(ProtocolError, match="invalid status line"):
        head(line)


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


def test_obs_fold_continues_the_previous_value() -> None:
    parsed = head("HTTP/1.1 200 OK", "X-Long: a", "   b", "\tc ", "Content-Length: 0")
    assert parsed.headers == [(b"X-Long", b"a b c"), (b"Content-Length", b"0")]


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


@pytest.mark.parametrize(
    ("fields", "length"),
    [
        (["Content-Length: 42"], 42),
        (["Content-Length: 0"], 0),
        (["content-length:  7 "], 7),
        (["Content-Length: 5", "Content-Length: 5"], 5),
        (["Content-Length: 5, 5"], 5),
        (["Content-Length: 999999999999999999"], 999_999_999_999_999_999),
    ],
)
def test_content_length(fields: list[str], length: int) -> None:
    parsed = head("HTTP/1.1 200 OK", *fields)
    assert (parsed.length, parsed.chunked, parsed.keep_alive) == (length, False, True)


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
        (["Transfer-Encoding: gzip, chunked"], True, True),
        (["Transfer-Encoding: gzip", "Transfer-Encoding: chunked"], True, True),
        # Transfer-Encoding wins, and the connection is not trusted afterwards.
        (["Content-Length: 10", "Transfer-Encoding: chunked"], True, False),
        (["Transfer-Encoding: chunked", "Content-Length: nonsense"], True, False),
        # Not chunked last: the body runs until the server closes.
        (["Transfer-Encoding: gzip"], False, False),
        (["Transfer-Encoding: chunked, gzip"], False, False),
        (["Transfer-Encoding: gzip", "Content-Length: 10"], False, False),
    ],
)
def test_transfer_encoding(fields: list[str], chunked: bool, keep_alive: bool) -> None:
    parsed = head("HTTP/1.1 200 OK", *fields)
    assert (parsed.length, parsed.chunked, parsed.keep_alive) == (None, chunked, keep_alive)


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
        (b"5 \r\nhello\r\n0\r\n\r\n", b"hello"),
        (b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\nOther: 2\r\n\r\n", b"hello"),
        (b"A\r\n0123456789\r\n1f\r\n" + b"x" * 31 + b"\r\n0\r\n\r\n", b"0123456789" + b"x" * 31),
        (b"5\nhello\n0\n\n", b"hello"),
        (b"0004\r\n\r\n\r\n\r\n000\r\n\r\n", b"\r\n\r\n"),
        (SAMPLE, SAMPLE_DATA),
    ],
)
def test_chunked_whole(body: bytes, data: bytes) -> None:
    decoded, decoder = decode(body)
    assert decoded == data
    assert (decoder.done, decoder.extra) == (True, False)


def test_chunked_every_split_and_byte_by_byte() -> None:
    for split in range(len(SAMPLE) + 1):
        decoded, decoder = decode(SAMPLE[:split], SAMPLE[split:])
        assert (decoded, decoder.done, decoder.extra) == (SAMPLE_DATA, True, False), split
    decoded, decoder = decode(*(SAMPLE[i : i + 1] for i in range(len(SAMPLE))))
    assert (decoded, decoder.done, decoder.extra) == (SAMPLE_DATA, True, False)


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
        (b"3\r\nhello\r\n0\r\n\r\n", "chunk data longer than its size"),
        (b"1" * 5000, "chunk size line too long"),
        (b"5;" + b"x" * 5000, "chunk size line too long"),
        (b"0\r\nX-Trailer: " + b"x" * 5000, "trailer line too long"),
    ],
)
def test_chunked_errors(body: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        decode(body)


@pytest.mark.parametrize("parts", [[SAMPLE + b"HTTP/1.1"], [SAMPLE, b"x"], [SAMPLE + b"\r\n"]])
def test_chunked_bytes_after_the_end(parts: list[bytes]) -> None:
    decoded, decoder = decode(*parts)
    assert (decoded, decoder.done, decoder.extra) == (SAMPLE_DATA, True, True)
