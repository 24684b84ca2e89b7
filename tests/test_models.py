"""hx.models: status sets, result records and record ids."""

from __future__ import annotations

import json
import re

import pytest

from hx.errors import ErrorKind
from hx.models import BadLine, ErrorInfo, RequestSpec, Result
from hx.values import StatusSet

# --- StatusSet -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("200-399", ((200, 399),)),
        ("2xx,304", ((200, 299), (304, 304))),
        ("200", ((200, 200),)),
        ("200,201", ((200, 200), (201, 201))),
        (" 2XX , 404 ", ((200, 299), (404, 404))),
        ("1xx,5xx", ((100, 199), (500, 599))),
        ("100-599", ((100, 599),)),
        ("301-301", ((301, 301),)),
    ],
)
def test_parse(text: str, ranges: tuple[tuple[int, int], ...]) -> None:
    assert StatusSet.parse(text).ranges == ranges


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "not a status or range: 'abc'"),
        ("", "not a status or range: ''"),
        ("200-", "not a status or range: '200-'"),
        ("-200", "not a status or range: '-200'"),
        ("2xx-3xx", "not a status or range: '2xx-3xx'"),
        ("6xx", "not a status or range: '6xx'"),
        ("200,,201", "not a status or range: ''"),
        ("600", "status out of range 100-599: '600'"),
        ("99", "status out of range 100-599: '99'"),
        ("300-200", "status out of range 100-599: '300-200'"),
        ("200-600", "status out of range 100-599: '200-600'"),
    ],
)
def test_parse_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        StatusSet.parse(text)


def test_membership_of_a_range() -> None:
    statuses = StatusSet.parse("200-399")
    assert [code in statuses for code in (199, 200, 302, 399, 400)] == [
        False,
        True,
        True,
        True,
        False,
    ]


def test_membership_of_a_class_and_a_single_status() -> None:
    statuses = StatusSet.parse("2xx,304")
    assert [code in statuses for code in (200, 299, 300, 303, 304, 305)] == [
        True,
        True,
        False,
        False,
        True,
        False,
    ]


@pytest.mark.parametrize("value", ["200", 200.0, None])
def test_only_ints_are_members(value: object) -> None:
    assert value not in StatusSet.parse("2xx")


def test_equality_hash_and_repr() -> None:
    assert StatusSet.parse("2xx") == StatusSet.parse("200-299")
    assert hash(StatusSet.parse("2xx")) == hash(StatusSet.parse("200-299"))
    assert StatusSet.parse("2xx") != StatusSet.parse("200-298")
    assert repr(StatusSet.parse("2xx,304")) == "StatusSet('200-299,304')"


# --- Result.to_record -------------------------------------------------------------------

FIXED_FIELDS = {
    "id",
    "line",
    "url",
    "method",
    "status",
    "ok",
    "http_version",
    "final_url",
    "started_at",
    "elapsed_ms",
    "total_ms",
    "bytes",
    "content_type",
    "attempts",
    "redirects",
    "remote_ip",
    "remote_port",
    "reused",
    "timings",
    "tls",
    "error",
}


def test_minimal_record_has_exactly_the_fixed_fields() -> None:
    record = Result(id=1, line=1, url="https://a.example/", method="GET", ok=True).to_record()
    assert record == {
        "id": 1,
        "line": 1,
        "url": "https://a.example/",
        "method": "GET",
        "status": None,
        "ok": True,
        "http_version": None,
        "final_url": None,
        "started_at": None,
        "elapsed_ms": 0.0,
        "total_ms": None,
        "bytes": 0,
        "content_type": None,
        "attempts": 0,
        "redirects": 0,
        "remote_ip": None,
        "remote_port": None,
        "reused": None,
        "timings": None,
        "tls": None,
        "error": None,
    }


def test_full_success_record() -> None:
    result = Result(
        id="a",
        line=3,
        url="https://a.example/x",
        method="POST",
        ok=True,
        status=201,
        http_version="HTTP/2",
        final_url="https://a.example/y",
        elapsed_ms=12.34567,
        bytes=42,
        content_type="application/json",
        attempts=2,
    )
    record = result.to_record()
    assert set(record) == FIXED_FIELDS
    assert record["elapsed_ms"] == 12.346
    assert (record["status"], record["http_version"], record["attempts"]) == (201, "HTTP/2", 2)


def test_error_is_a_plain_object() -> None:
    result = Result(
        id=1,
        line=1,
        url=None,
        method=None,
        ok=False,
        error=ErrorInfo(ErrorKind.TIMEOUT, "read timeout"),
    )
    record = result.to_record()
    assert record["error"] == {"kind": "timeout", "message": "read timeout"}
    assert type(record["error"]["kind"]) is str
    assert json.loads(json.dumps(record)) == record


def test_optional_fields_appear_when_present() -> None:
    result = Result(
        id=1,
        line=1,
        url="https://a.example/",
        method="GET",
        ok=True,
        headers=(("Content-Type", "text/plain"), ("Set-Cookie", "***")),
        body="aGk=",
        body_encoding="base64",
        path="out/1-index",
        sha256="ab" * 32,
    )
    record = result.to_record()
    assert set(record) - FIXED_FIELDS == {"headers", "body", "body_encoding", "path", "sha256"}
    assert record["headers"] == [["Content-Type", "text/plain"], ["Set-Cookie", "***"]]
    assert (record["body"], record["body_encoding"]) == ("aGk=", "base64")
    assert (record["path"], record["sha256"]) == ("out/1-index", "ab" * 32)
    assert json.loads(json.dumps(record)) == record


def test_empty_headers_and_empty_body_are_still_written() -> None:
    result = Result(id=1, line=1, url=None, method=None, ok=True, headers=(), body="")
    record = result.to_record()
    assert (record["headers"], record["body"], record["body_encoding"]) == ([], "", None)


# --- record ids ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record_id", "expected"),
    [(None, 7), ("abc", "abc"), (3, 3), (0, 0), ("", "")],
)
def test_record_id(record_id: str | int | None, expected: str | int) -> None:
    assert RequestSpec(line=7, url="https://a.example/", id=record_id).record_id == expected
    assert BadLine(7, "line 7: bad", id=record_id).record_id == expected
