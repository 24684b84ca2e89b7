"""hx.models: result records and record ids."""

from __future__ import annotations

import json

import pytest

from hx.errors import ErrorKind
from hx.models import BadLine, ErrorInfo, RequestSpec, Result
from hx.schema import record_schema

# --- Result.to_record -------------------------------------------------------------------

FIXED_FIELDS = set(record_schema()["required"])
"""In every record: the schema (src/hx/schema/record.schema.json) is their one list."""


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
