"""hx.batch.sources: URL lists and NDJSON become RequestSpecs; bad lines become BadLines."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hx.batch.sources import (
    MAX_JSON_DEPTH,
    MAX_LINE_BYTES,
    NDJSON_KEYS,
    InputFormat,
    RequestDefaults,
    check_method,
    count_request_lines,
    detect_format,
    nested_too_deep,
    open_source,
    read_items,
)
from hx.errors import InputError, LineError
from hx.models import BadLine, InputItem, RequestSpec

BASE = RequestDefaults(base_url="https://api.example.com/v1/")


def items(
    data: bytes, fmt: InputFormat = "auto", defaults: RequestDefaults | None = None
) -> list[InputItem]:
    return list(read_items(io.BytesIO(data), fmt, defaults))


def ndjson(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def one_ndjson(obj: Any, defaults: RequestDefaults | None = None) -> InputItem:
    [item] = items(ndjson(obj) + b"\n", "ndjson", defaults)
    return item


# --- URL lists ---------------------------------------------------------------


def test_url_list_skips_blank_and_comment_lines_but_counts_them() -> None:
    data = b"# header\n\nhttps://a.example/1\n   \n  # indented comment\nhttps://a.example/2\n"
    assert items(data) == [
        RequestSpec(line=3, url="https://a.example/1"),
        RequestSpec(line=6, url="https://a.example/2"),
    ]


def test_url_list_trims_whitespace_and_crlf() -> None:
    data = b"  https://a.example/x \t\r\n\r\nhttps://a.example/y\r\n\thttps://a.example/z"
    assert items(data) == [
        RequestSpec(line=1, url="https://a.example/x"),
        RequestSpec(line=3, url="https://a.example/y"),
        RequestSpec(line=4, url="https://a.example/z"),
    ]


def test_utf8_bom_on_first_line_is_ignored() -> None:
    data = b"\xef\xbb\xbfhttps://a.example/\nhttps://b.example/\n"
    assert items(data) == [
        RequestSpec(line=1, url="https://a.example/"),
        RequestSpec(line=2, url="https://b.example/"),
    ]


def test_utf8_bom_before_a_comment_line() -> None:
    assert items(b"\xef\xbb\xbf# comment\nhttps://a.example/\n") == [
        RequestSpec(line=2, url="https://a.example/")
    ]


def test_url_is_kept_as_written_without_base_url() -> None:
    assert items(b"HTTPS://A.example:443/%7Euser?q=a%20b\n") == [
        RequestSpec(line=1, url="HTTPS://A.example:443/%7Euser?q=a%20b")
    ]


def test_url_list_takes_method_and_body_from_defaults() -> None:
    body = RequestDefaults(content=b"payload", content_type="text/plain")
    assert items(b"https://a.example/\n", defaults=body) == [
        RequestSpec(
            line=1,
            url="https://a.example/",
            method="POST",
            content=b"payload",
            content_type="text/plain",
        )
    ]
    put = RequestDefaults(method="PUT", content=b"x")
    [spec] = items(b"https://a.example/\n", defaults=put)
    assert isinstance(spec, RequestSpec)
    assert (spec.method, spec.content) == ("PUT", b"x")


# --- format detection ----------------------------------------------------------


def test_auto_detects_ndjson_from_first_request_line() -> None:
    data = b'# comment\n\n{"url": "https://a.example/"}\n{"url": "https://b.example/"}\n'
    assert items(data) == [
        RequestSpec(line=3, url="https://a.example/"),
        RequestSpec(line=4, url="https://b.example/"),
    ]


def test_auto_detects_ndjson_after_a_bom() -> None:
    assert items(b'\xef\xbb\xbf{"url": "https://a.example/"}\n') == [
        RequestSpec(line=1, url="https://a.example/")
    ]


def test_auto_format_is_fixed_by_the_first_request_line() -> None:
    data = b'{"url": "https://a.example/"}\nhttps://b.example/\n'
    result = items(data)
    assert result[0] == RequestSpec(line=1, url="https://a.example/")
    assert result[1] == BadLine(2, "line 2: invalid JSON: Expecting value at column 1")


def test_explicit_ndjson_rejects_a_url_line() -> None:
    assert items(b"https://a.example/\n", "ndjson") == [
        BadLine(1, "line 1: invalid JSON: Expecting value at column 1")
    ]


def test_explicit_urls_does_not_parse_json() -> None:
    line = '{"url":"https://a.example/"}'
    assert items(line.encode() + b"\n", "urls") == [
        BadLine(1, f"line 1: not an absolute URL (no scheme): {line}", url=line)
    ]


@pytest.mark.parametrize(
    ("source", "requested", "expected"),
    [
        ("requests.ndjson", "auto", "ndjson"),
        ("REQUESTS.NDJSON", "auto", "ndjson"),
        ("requests.jsonl", "auto", "ndjson"),
        ("urls.txt", "auto", "auto"),
        ("-", "auto", "auto"),
        ("ndjson", "auto", "auto"),
        ("requests.ndjson", "urls", "urls"),
        ("urls.txt", "ndjson", "ndjson"),
    ],
)
def test_detect_format(source: str, requested: InputFormat, expected: InputFormat) -> None:
    assert detect_format(source, requested) == expected


# --- NDJSON keys ---------------------------------------------------------------

URL = "https://a.example/p"


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"url": URL}, RequestSpec(line=1, url=URL)),
        ({"url": URL, "method": "delete"}, RequestSpec(line=1, url=URL, method="DELETE")),
        (
            {"url": URL, "headers": {"X-Token": "abc", "Accept": "text/plain"}},
            RequestSpec(line=1, url=URL, headers=(("X-Token", "abc"), ("Accept", "text/plain"))),
        ),
        (
            {"url": URL, "params": {"q": "a b", "n": 2, "f": 1.5, "tag": ["x", 3]}},
            RequestSpec(
                line=1,
                url=URL,
                params=(("q", "a b"), ("n", "2"), ("f", "1.5"), ("tag", "x"), ("tag", "3")),
            ),
        ),
        ({"url": URL, "params": {"empty": []}}, RequestSpec(line=1, url=URL)),
        (
            {"url": URL, "json": {"k": "é", "n": [1, 2]}},
            RequestSpec(
                line=1,
                url=URL,
                method="POST",
                content='{"k":"é","n":[1,2]}'.encode(),
                content_type="application/json",
            ),
        ),
        (
            {"url": URL, "json": None},
            RequestSpec(
                line=1, url=URL, method="POST", content=b"null", content_type="application/json"
            ),
        ),
        (
            {"url": URL, "data": "raw text"},
            RequestSpec(line=1, url=URL, method="POST", content=b"raw text"),
        ),
        (
            {"url": URL, "data": {"a": "1", "b": "x y&z"}},
            RequestSpec(
                line=1,
                url=URL,
                method="POST",
                content=b"a=1&b=x+y%26z",
                content_type="application/x-www-form-urlencoded",
            ),
        ),
        (
            {"url": URL, "files": {"upload": "/data/f.bin"}, "data": {"k": "v"}},
            RequestSpec(
                line=1,
                url=URL,
                method="POST",
                form=(("k", "v"),),
                files=(("upload", "/data/f.bin"),),
            ),
        ),
        (
            {"url": URL, "files": {"upload": "f.bin"}},
            RequestSpec(line=1, url=URL, method="POST", files=(("upload", "f.bin"),)),
        ),
        (
            {"url": URL, "method": "PUT", "json": {}},
            RequestSpec(
                line=1, url=URL, method="PUT", content=b"{}", content_type="application/json"
            ),
        ),
        ({"url": URL, "id": "req-7"}, RequestSpec(line=1, url=URL, id="req-7")),
        ({"url": URL, "id": 7}, RequestSpec(line=1, url=URL, id=7)),
        ({"url": URL, "id": None}, RequestSpec(line=1, url=URL)),
        ({"url": URL, "timeout": 2}, RequestSpec(line=1, url=URL, timeout=2.0)),
        ({"url": URL, "timeout": 0.25}, RequestSpec(line=1, url=URL, timeout=0.25)),
        ({"url": URL, "retry": True}, RequestSpec(line=1, url=URL, retry=True)),
        ({"url": URL, "retry": False}, RequestSpec(line=1, url=URL)),
    ],
    ids=lambda value: "" if isinstance(value, RequestSpec) else ",".join(value),
)
def test_ndjson_keys(obj: dict[str, Any], expected: RequestSpec) -> None:
    assert one_ndjson(obj) == expected


def test_ndjson_timeout_is_a_float() -> None:
    spec = one_ndjson({"url": URL, "timeout": 2})
    assert isinstance(spec, RequestSpec)
    assert type(spec.timeout) is float


def test_ndjson_line_without_body_uses_default_body() -> None:
    defaults = RequestDefaults(content=b"d", content_type="text/plain")
    assert one_ndjson({"url": URL}, defaults) == RequestSpec(
        line=1, url=URL, method="POST", content=b"d", content_type="text/plain"
    )


def test_ndjson_body_overrides_default_body_and_default_method_wins() -> None:
    defaults = RequestDefaults(method="PATCH", content=b"d", content_type="text/plain")
    assert one_ndjson({"url": URL, "json": [1]}, defaults) == RequestSpec(
        line=1, url=URL, method="PATCH", content=b"[1]", content_type="application/json"
    )


# --- --base-url ------------------------------------------------------------------


def test_base_url_resolves_url_list_lines() -> None:
    data = b"/root\nitems/1\nhttps://other.example/y\n"
    assert items(data, defaults=BASE) == [
        RequestSpec(line=1, url="https://api.example.com/root"),
        RequestSpec(line=2, url="https://api.example.com/v1/items/1"),
        RequestSpec(line=3, url="https://other.example/y"),
    ]


def test_base_url_resolves_ndjson_urls() -> None:
    data = ndjson({"url": "items/1", "id": "a"}) + b"\n" + ndjson({"url": "/x"}) + b"\n"
    assert items(data, defaults=BASE) == [
        RequestSpec(line=1, url="https://api.example.com/v1/items/1", id="a"),
        RequestSpec(line=2, url="https://api.example.com/x"),
    ]


def test_base_url_does_not_admit_other_schemes() -> None:
    assert items(b"ftp://files.example/f\n", defaults=BASE) == [
        BadLine(
            1,
            "line 1: unsupported scheme 'ftp' (only http and https): ftp://files.example/f",
            url="ftp://files.example/f",
        )
    ]


# --- bad lines -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("hello world", "not a URL (contains whitespace): hello world"),
        ("https://a.example/a\tb", "not a URL (contains whitespace): https://a.example/a\tb"),
        ("hello", "not an absolute URL (no scheme): hello"),
        (
            "example.com/x",
            "not an absolute URL (no scheme); did you mean https://example.com/x?: example.com/x",
        ),
        (
            "file:///etc/passwd",
            "unsupported scheme 'file' (only http and https): file:///etc/passwd",
        ),
        (
            "ftp://files.example/f",
            "unsupported scheme 'ftp' (only http and https): ftp://files.example/f",
        ),
        (
            "javascript:alert(1)",
            "unsupported scheme 'javascript' (only http and https): javascript:alert(1)",
        ),
        ("http://", "URL has no host: http://"),
        # httpx.URL takes these; a socket would wrap 83616 to port 18080.
        ("http://127.0.0.1:83616/x", "port 83616 is outside 1-65535: http://127.0.0.1:83616/x"),
        ("http://[::1]:65536/", "port 65536 is outside 1-65535: http://[::1]:65536/"),
        ("http://h:0/", "port 0 is outside 1-65535: http://h:0/"),
        ("https://[::1/x", "not a valid URL (Invalid port: ':1'): https://[::1/x"),
    ],
)
def test_bad_url_line_names_the_line_and_reading_goes_on(bad: str, message: str) -> None:
    data = b"https://ok.example/1\n" + bad.encode() + b"\nhttps://ok.example/2\n"
    assert items(data) == [
        RequestSpec(line=1, url="https://ok.example/1"),
        BadLine(2, f"line 2: {message}", url=bad),
        RequestSpec(line=3, url="https://ok.example/2"),
    ]


UNKNOWN = f"unknown key 'nope' (allowed: {', '.join(NDJSON_KEYS)})"
TIMEOUT_MESSAGE = "'timeout' must be a positive number of seconds"
FILES_COMBO = "'files' can only be combined with a 'data' object"
PARAMS_ITEM = "'params.a' must be a string, number or a list of them"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (b"{bad", "invalid JSON: Expecting property name enclosed in double quotes at column 2"),
        (b"[1, 2]", "expected a JSON object, got an array"),
        (b"42", "expected a JSON object, got a number"),
        (b'"https://a.example/"', "expected a JSON object, got a string"),
        (b"null", "expected a JSON object, got null"),
        (b"true", "expected a JSON object, got a boolean"),
        (ndjson({"url": URL, "nope": 1}), UNKNOWN),
        (ndjson({"id": 1}), "missing required key 'url'"),
        (ndjson({"url": 1}), "'url' must be a string, got a number"),
        (ndjson({"url": None}), "'url' must be a string, got null"),
        (ndjson({"url": "/relative"}), "not an absolute URL (no scheme): /relative"),
        (
            ndjson({"url": "file:///etc/passwd"}),
            "unsupported scheme 'file' (only http and https): file:///etc/passwd",
        ),
        (ndjson({"url": URL, "method": 1}), "'method' must be a string, got a number"),
        (ndjson({"url": URL, "method": ""}), "invalid method ''"),
        (ndjson({"url": URL, "method": "GE T"}), "invalid method 'GE T'"),
        (ndjson({"url": URL, "headers": []}), "'headers' must be an object, got an array"),
        (ndjson({"url": URL, "headers": "X: y"}), "'headers' must be an object, got a string"),
        (ndjson({"url": URL, "headers": {"X": 1}}), "'headers.X' must be a string, got a number"),
        (ndjson({"url": URL, "headers": {"X": "a\rb"}}), "header 'X' value contains CR, LF or NUL"),
        (ndjson({"url": URL, "headers": {"X": "a\nb"}}), "header 'X' value contains CR, LF or NUL"),
        (ndjson({"url": URL, "headers": {"X": "a\0b"}}), "header 'X' value contains CR, LF or NUL"),
        (ndjson({"url": URL, "headers": {"Bad Name": "v"}}), "invalid header name 'Bad Name'"),
        (ndjson({"url": URL, "headers": {"X:Y": "v"}}), "invalid header name 'X:Y'"),
        (ndjson({"url": URL, "headers": {"": "v"}}), "invalid header name ''"),
        (ndjson({"url": URL, "headers": {"Ä": "v"}}), "invalid header name 'Ä'"),
        (ndjson({"url": URL, "params": "a=1"}), "'params' must be an object, got a string"),
        (ndjson({"url": URL, "params": {"a": {"b": 1}}}), PARAMS_ITEM),
        (ndjson({"url": URL, "params": {"a": True}}), PARAMS_ITEM),
        (ndjson({"url": URL, "params": {"a": None}}), PARAMS_ITEM),
        (ndjson({"url": URL, "params": {"a": ["x", None]}}), PARAMS_ITEM),
        (ndjson({"url": URL, "params": {"a": [["x"]]}}), PARAMS_ITEM),
        (ndjson({"url": URL, "data": 1}), "'data' must be an object, got a number"),
        (ndjson({"url": URL, "data": None}), "'data' must be an object, got null"),
        (ndjson({"url": URL, "data": ["a"]}), "'data' must be an object, got an array"),
        (ndjson({"url": URL, "data": {"a": 1}}), "'data.a' must be a string, got a number"),
        (ndjson({"url": URL, "json": {}, "data": "x"}), "'json' and 'data' cannot both be given"),
        (ndjson({"url": URL, "files": "f.bin"}), "'files' must be an object, got a string"),
        (ndjson({"url": URL, "files": {}}), "'files' must not be empty"),
        (ndjson({"url": URL, "files": {"f": 1}}), "'files.f' must be a string, got a number"),
        (ndjson({"url": URL, "files": {"f": "x"}, "json": {}}), FILES_COMBO),
        (ndjson({"url": URL, "files": {"f": "x"}, "data": "raw"}), FILES_COMBO),
        (
            ndjson({"url": URL, "files": {"f": "x"}, "data": {"k": 1}}),
            "'data.k' must be a string, got a number",
        ),
        (ndjson({"url": URL, "id": True}), "'id' must be a string or an integer, got a boolean"),
        (ndjson({"url": URL, "id": 1.5}), "'id' must be a string or an integer, got a number"),
        (ndjson({"url": URL, "id": []}), "'id' must be a string or an integer, got an array"),
        (ndjson({"url": URL, "id": {}}), "'id' must be a string or an integer, got an object"),
        (ndjson({"url": URL, "timeout": "5"}), TIMEOUT_MESSAGE),
        (ndjson({"url": URL, "timeout": 0}), TIMEOUT_MESSAGE),
        (ndjson({"url": URL, "timeout": -1.5}), TIMEOUT_MESSAGE),
        (ndjson({"url": URL, "timeout": True}), TIMEOUT_MESSAGE),
        (ndjson({"url": URL, "timeout": [5]}), TIMEOUT_MESSAGE),
        (ndjson({"url": URL, "retry": "yes"}), "'retry' must be true or false, got a string"),
        (ndjson({"url": URL, "retry": 1}), "'retry' must be true or false, got a number"),
    ],
)
def test_bad_ndjson_line_names_the_line_and_reading_goes_on(bad: bytes, message: str) -> None:
    ok1 = ndjson({"url": "https://ok.example/1"})
    ok2 = ndjson({"url": "https://ok.example/2"})
    data = ok1 + b"\n" + bad + b"\n" + ok2 + b"\n"
    assert items(data) == [
        RequestSpec(line=1, url="https://ok.example/1"),
        BadLine(2, f"line 2: {message}"),
        RequestSpec(line=3, url="https://ok.example/2"),
    ]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (b"\xff\xfehttps://x.example/", "not valid UTF-8 (byte 1)"),
        (b"https://a.example/\xe9", "not valid UTF-8 (byte 19)"),
    ],
)
def test_non_utf8_line_is_a_bad_line(bad: bytes, message: str) -> None:
    data = b"https://ok.example/1\n" + bad + b"\nhttps://ok.example/2\n"
    assert items(data) == [
        RequestSpec(line=1, url="https://ok.example/1"),
        BadLine(2, f"line 2: {message}"),
        RequestSpec(line=3, url="https://ok.example/2"),
    ]


def test_non_utf8_first_line_leaves_format_undecided() -> None:
    data = b"\xff\n" + ndjson({"url": URL}) + b"\n"
    assert items(data) == [
        BadLine(1, "line 1: not valid UTF-8 (byte 1)"),
        RequestSpec(line=2, url=URL),
    ]


TOO_LONG = f"line is longer than {MAX_LINE_BYTES} bytes"


@pytest.mark.parametrize("length", [MAX_LINE_BYTES + 1, 3 * MAX_LINE_BYTES + 5])
def test_overlong_line_is_rejected_and_the_next_line_still_parses(length: int) -> None:
    long_line = b"https://x.example/" + b"a" * (length - 18)
    data = b"https://ok.example/1\n" + long_line + b"\nhttps://ok.example/2\n"
    assert items(data) == [
        RequestSpec(line=1, url="https://ok.example/1"),
        BadLine(2, f"line 2: {TOO_LONG}"),
        RequestSpec(line=3, url="https://ok.example/2"),
    ]


def test_overlong_last_line_without_newline() -> None:
    data = b"https://ok.example/1\n" + b"a" * (MAX_LINE_BYTES + 10)
    assert items(data) == [
        RequestSpec(line=1, url="https://ok.example/1"),
        BadLine(2, f"line 2: {TOO_LONG}"),
    ]


def data_line(length: int) -> bytes:
    """An NDJSON line of exactly ``length`` bytes, padded in its ``data`` string."""
    head = b'{"url": "https://a.example/", "data": "'
    return head + b"a" * (length - len(head) - 2) + b'"}'


def test_line_of_exactly_the_limit_is_accepted() -> None:
    line = data_line(MAX_LINE_BYTES)
    assert len(line) == MAX_LINE_BYTES
    [spec] = items(line + b"\n")
    assert isinstance(spec, RequestSpec)
    assert spec.content == b"a" * (MAX_LINE_BYTES - 41)


def test_line_one_byte_over_the_limit_is_rejected() -> None:
    data = data_line(MAX_LINE_BYTES + 1) + b"\n" + data_line(100) + b"\n"
    assert items(data) == [
        BadLine(1, f"line 1: {TOO_LONG}"),
        RequestSpec(line=2, url="https://a.example/", method="POST", content=b"a" * 59),
    ]


def test_duplicate_ids_are_bad_lines_naming_the_first() -> None:
    lines = [
        ndjson({"url": "https://a.example/1", "id": 1}),
        ndjson({"url": "https://a.example/2", "id": "1"}),
        ndjson({"url": "https://a.example/3", "id": 1}),
        b"",
        ndjson({"url": "https://a.example/5", "id": "1"}),
        ndjson({"url": "https://a.example/6", "id": 2}),
    ]
    assert items(b"\n".join(lines) + b"\n") == [
        RequestSpec(line=1, url="https://a.example/1", id=1),
        RequestSpec(line=2, url="https://a.example/2", id="1"),
        BadLine(3, "line 3: duplicate id 1 (first on line 1)", id=1, url="https://a.example/3"),
        BadLine(5, "line 5: duplicate id '1' (first on line 2)", id="1", url="https://a.example/5"),
        RequestSpec(line=6, url="https://a.example/6", id=2),
    ]


def test_bad_url_line_message_does_not_leak_the_password() -> None:
    [item] = items(b"https://user:s3cret@example.com/a b\n")
    assert isinstance(item, BadLine)
    assert "s3cret" not in item.message


def test_ndjson_nan_timeout_is_a_bad_line() -> None:
    assert items(b'{"url": "https://a.example/", "timeout": NaN}\n') == [
        BadLine(1, f"line 1: {TIMEOUT_MESSAGE}")
    ]


def test_ndjson_non_ascii_header_value_is_a_bad_line() -> None:
    [item] = items(ndjson({"url": URL, "headers": {"X-Name": "café"}}) + b"\n")
    assert isinstance(item, BadLine)
    assert item.line == 1
    assert "'X-Name'" in item.message


# --- opening and counting ------------------------------------------------------------


def test_open_source_reads_a_file_as_bytes(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_bytes(b"https://a.example/\r\n")
    with open_source(str(path)) as stream:
        assert stream.read() == b"https://a.example/\r\n"


def test_open_source_dash_is_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"https://a.example/\n"))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert open_source("-") is stdin.buffer


def test_open_source_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.txt"
    with pytest.raises(InputError) as info:
        open_source(str(path))
    assert str(info.value) == f"{path}: No such file or directory"


def test_open_source_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        open_source(str(tmp_path))
    assert str(info.value) == f"{tmp_path}: is a directory"


def test_count_request_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    data = (
        b"# comment\n\nhttps://a.example/\r\n  \r\n"
        b'{"url": 1}\n\xff\n   # indented\nhttps://dup.example/ x\nlast-without-newline'
    )
    path.write_bytes(data)
    assert count_request_lines(path) == 5
    assert len(items(data)) == 5


def test_count_request_lines_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert count_request_lines(path) == 0


@pytest.mark.parametrize("first", [b"\xef\xbb\xbf# comment\n", b"\xef\xbb\xbf\n"])
def test_count_request_lines_agrees_with_read_items_after_a_bom(
    tmp_path: Path, first: bytes
) -> None:
    data = first + b"https://a.example/\n"
    path = tmp_path / "bom.txt"
    path.write_bytes(data)
    assert count_request_lines(path) == len(items(data)) == 1


# --- methods ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "expected"),
    [("get", "GET"), ("POST", "POST"), ("M-SEARCH", "M-SEARCH"), ("propfind", "PROPFIND")],
)
def test_check_method(method: str, expected: str) -> None:
    assert check_method(method) == expected


@pytest.mark.parametrize("method", ["", "GE T", "GET\r\n", "PÖST", "GET/"])
def test_check_method_rejects(method: str) -> None:
    with pytest.raises(LineError) as info:
        check_method(method)
    assert str(info.value) == f"invalid method {method!r}"


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\ab', max_size=4), children, max_size=3)
    ),
    max_leaves=40,
)


@given(_json_values, st.integers(min_value=0, max_value=6))
def test_nesting_is_measured_outside_strings(value: Any, limit: int) -> None:
    assert nested_too_deep(json.dumps(value), limit) == (_depth(value) > limit)


def test_deeply_nested_line_is_invalid_input_and_reading_goes_on() -> None:
    deep = b'{"url": "http://h/", "json": ' + b"[" * 1000 + b"]" * 1000 + b"}\n"
    assert items(deep + ndjson({"url": "http://h/2"})) == [
        BadLine(1, f"line 1: JSON nested deeper than {MAX_JSON_DEPTH} levels"),
        RequestSpec(line=2, url="http://h/2"),
    ]
