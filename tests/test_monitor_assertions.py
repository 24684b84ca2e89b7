"""Response checks: --expect-body, --expect-header, --expect-json, --max-latency, a line's
``expect``; each passes and fails against real responses from the loopback server."""

from __future__ import annotations

import dataclasses
import datetime
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hx.errors import LineError
from hx.models import Expectations, Result
from hx.monitor import json_path
from hx.monitor.assertions import failures, same_json
from hx.monitor.expectations import for_request, from_line, parse_json_check, parse_regex
from hx.net.exchange import TlsInfo
from support.cli import assert_usage_error, hx, records, write_lines, write_ndjson
from support.server import TestServer

if TYPE_CHECKING:
    import trustme


def fetch_one(url: str, *options: str) -> dict[str, Any]:
    """The one record of ``hx fetch`` on ``url``; the exit code agrees with it."""
    result = hx("fetch", "-", "-q", *options, input=url + "\n")
    (record,) = records(result)
    assert result.exit_code == (0 if record["ok"] else 4), result.stderr
    assert result.stderr == ""
    return record


def failure(record: dict[str, Any]) -> str:
    assert record["ok"] is False
    assert record["error"]["kind"] == "assertion", record["error"]
    message: str = record["error"]["message"]
    return message


# -- the checks against real responses -----------------------------------------


def test_body(server: TestServer) -> None:
    assert fetch_one(server.url("/html"), "--expect-body", "<h1>hello</h1>")["ok"] is True
    message = failure(fetch_one(server.url("/html"), "--expect-body", "goodbye"))
    assert message.startswith("expected the body to match 'goodbye'; got 111 characters: ")
    assert '"<!DOCTYPE html>\\n<html>' in message  # what came, quoted with its newline escaped


def test_header(server: TestServer) -> None:
    passing = fetch_one(server.url("/json"), "--expect-header", "Content-Type: ^application/json$")
    assert passing["ok"] is True
    message = failure(fetch_one(server.url("/html"), "--expect-header", "content-type: json"))
    assert (
        message == "expected header content-type to match 'json'; got \"text/html; charset=utf-8\""
    )
    message = failure(fetch_one(server.url("/json"), "--expect-header", "X-Version: 2"))
    assert message == "expected header x-version to match '2'; got no x-version header"


def test_json(server: TestServer) -> None:
    url = server.url("/json")  # {"hello": "world", "n": 1}
    assert fetch_one(url, "--expect-json", "hello=world", "--expect-json", "n=1")["ok"] is True
    assert failure(fetch_one(url, "--expect-json", "n=2")) == "expected n = 2; got 1"
    assert failure(fetch_one(url, "--expect-json", 'n="1"')) == 'expected n = "1"; got 1'
    assert failure(fetch_one(url, "--expect-json", "data.status=ok")) == (
        "expected data.status = \"ok\"; got nothing there (the top has no key 'data')"
    )
    message = failure(fetch_one(server.url("/html"), "--expect-json", "n=1"))
    assert message.startswith('expected JSON with n=1; the body is not JSON: "<!DOCTYPE html>')


def test_max_latency(server: TestServer) -> None:
    assert fetch_one(server.url("/slow?delay=0"), "--max-latency", "5s")["ok"] is True
    record = fetch_one(server.url("/slow?delay=0.3"), "--max-latency", "100ms")
    took = record["elapsed_ms"]
    assert took >= 300
    assert failure(record) == f"expected a response within 100 ms; it took {took:.0f} ms"


def test_every_failed_check_is_named_once(server: TestServer) -> None:
    record = fetch_one(
        server.url("/html"), "--expect-body", "nope", "--expect-header", "Content-Type: json"
    )
    message = failure(record)
    assert message.count("; expected ") == 1, message
    assert record["attempts"] == 1  # a failed check is not retried


def test_failed_requests_keep_their_own_error(server: TestServer) -> None:
    record = fetch_one(server.url("/status/500"), "--expect-body", "x", "--retries", "0")
    assert record["error"]["kind"] == "http_status"


def test_records_hold_headers_and_body_only_when_asked(server: TestServer) -> None:
    checks = ("--expect-header", "Content-Type: json", "--expect-json", "n=1")
    plain = fetch_one(server.url("/json"), *checks)
    assert "headers" not in plain and "body" not in plain
    asked = fetch_one(server.url("/json"), *checks, "--include-headers", "--body")
    assert asked["body"] == '{"hello": "world", "n": 1}'
    assert ["content-type", "application/json"] in asked["headers"]


def test_a_line_expects_for_itself(server: TestServer, tmp_path: Path) -> None:
    source = write_ndjson(
        tmp_path / "checks.ndjson",
        [
            {"url": server.url("/json"), "expect": {"json": {"n": 1}}},
            {"url": server.url("/json"), "expect": {"json": {"n": 2}, "max_latency": 5}},
            {"url": server.url("/json")},
            {"url": server.url("/json"), "expect": {"status": 200}},
        ],
    )
    # The command line's body check holds where a line says nothing of the body.
    result = hx("fetch", source, "-q", "--ordered", "--expect-body", "world")
    first, second, third, fourth = records(result)
    assert first["ok"] is True and third["ok"] is True
    assert failure(second) == "expected n = 2; got 1"
    assert fourth["error"] == {
        "kind": "invalid_input",
        "message": "line 4: unknown key 'expect.status' (allowed: body, headers, json,"
        " max_latency, min_cert_days)",
    }
    assert result.exit_code == 3


def test_bad_check_options_are_usage_errors(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/json")])
    assert_usage_error(hx("fetch", source, "--expect-body", "(unclosed"), "--expect-body")
    assert_usage_error(hx("fetch", source, "--expect-header", "no colon"), "--expect-header")
    assert_usage_error(hx("fetch", source, "--expect-json", "a..b=1"), "--expect-json")


# -- the parts, on their own ---------------------------------------------------


@pytest.mark.parametrize(
    ("path", "document", "value"),
    [
        ("status", {"status": "ok"}, "ok"),
        ("data.items[0].id", {"data": {"items": [{"id": 7}]}}, 7),
        ("[1]", [10, 20], 20),
        ("a[-1]", {"a": [1, 2, 3]}, 3),
    ],
)
def test_json_path_finds(path: str, document: Any, value: Any) -> None:
    assert json_path.look_up(document, json_path.parse_path(path)) == value


@pytest.mark.parametrize(
    ("path", "document", "missing"),
    [
        ("a.b", {"a": []}, "a is not an object"),
        ("a[2]", {"a": [1]}, "a has 1 items, no [2]"),
        ("a[0]", {"a": {}}, "a is not an array"),
        ("x", [], "the top is not an object"),
    ],
)
def test_json_path_says_where_it_stops(path: str, document: Any, missing: str) -> None:
    with pytest.raises(json_path.Missing, match=missing.replace("[", r"\[").replace("]", r"\]")):
        json_path.look_up(document, json_path.parse_path(path))


@pytest.mark.parametrize("text", ["", ".a", "a..b", "a[x]", "a=b", "a[", "a.[0]", "a[0]b", "a."])
def test_json_path_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="JSON path"):
        json_path.parse_path(text)


_KEY = st.text(st.characters(blacklist_characters=".[]=", blacklist_categories=["Cs"]), min_size=1)


@given(st.lists(st.one_of(_KEY, st.integers(-5, 5)), min_size=1, max_size=6))
def test_json_path_reads_what_it_writes(steps: list[str | int]) -> None:
    path = tuple(steps)
    assert json_path.parse_path(json_path.format_path(path)) == path


def test_json_values_compare_as_json() -> None:
    assert same_json(1, 1.0) and same_json({"a": [1, None]}, {"a": [1.0, None]})
    assert not same_json(True, 1) and not same_json(0, False) and not same_json("1", 1)
    assert not same_json([True], [1]) and not same_json({"a": 1}, {"b": 1})


def test_json_check_values_are_json_else_text() -> None:
    assert parse_json_check("a=3").value == 3
    assert parse_json_check("a=true").value is True
    assert parse_json_check('a="3"').value == "3"
    assert parse_json_check("a=ok").value == "ok"
    assert parse_json_check("a=").value == ""


def test_a_lines_keys_replace_the_command_lines() -> None:
    command_line = Expectations(body=parse_regex("x"), min_cert_days=9)
    line = from_line({"body": "y", "max_latency": "250ms"})
    assert for_request(command_line, line) == Expectations(
        body=parse_regex("y"), max_latency_ms=250.0, min_cert_days=9
    )
    assert for_request(command_line, None) is command_line


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "'expect' must be an object"),
        ({"body": 3}, "'body' must be a string"),
        ({"body": "("}, "not a regular expression"),
        ({"headers": {"A": 1}}, "'headers' values must be strings"),
        ({"json": {"a..b": 1}}, "not a JSON path"),
        ({"max_latency": True}, "'max_latency' must be a duration"),
        ({"max_latency": "soon"}, "expected seconds or a duration"),
        ({"min_cert_days": 1.5}, "'min_cert_days' must be a whole number"),
        ({"min_cert_days": -1}, "days cannot be negative"),
    ],
)
def test_bad_line_expectations(value: Any, message: str) -> None:
    with pytest.raises(LineError, match=message):
        from_line(value)


# -- --min-cert-days -------------------------------------------------------------


@pytest.fixture(scope="module")
def expiring_server(tls_ca: trustme.CA) -> Iterator[TestServer]:
    """HTTPS on 127.0.0.1 with a certificate from ``tls_ca`` that expires in 5 days."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=5, hours=1)
    tls_ca.issue_cert("127.0.0.1", not_after=expires).configure_cert(context)
    with TestServer(ssl_context=context) as server:
        yield server


def test_min_cert_days(expiring_server: TestServer, tls_ca_pem: Path) -> None:
    url = expiring_server.url("/json")
    passing = fetch_one(url, "--cacert", str(tls_ca_pem), "--min-cert-days", "5")
    assert passing["ok"] is True and passing["tls"]["days_left"] == 5
    message = failure(fetch_one(url, "--cacert", str(tls_ca_pem), "--min-cert-days", "6"))
    assert message.startswith(
        "expected a certificate valid for at least 6 more days; it expires in 5 days ("
    )


def test_min_cert_days_on_its_own() -> None:
    https = Result(id=1, line=1, url="https://h/", method="GET", ok=True, status=200)
    expect = Expectations(min_cert_days=14)
    facts = TlsInfo(not_after="2026-12-02T00:00:00Z", days_left=5)
    assert failures(dataclasses.replace(https, tls=facts), expect) == [
        "expected a certificate valid for at least 14 more days;"
        " it expires in 5 days (2026-12-02T00:00:00Z)"
    ]
    assert failures(dataclasses.replace(https, tls=TlsInfo(days_left=14)), expect) == []
    assert failures(https, expect) == [
        "expected a certificate valid for at least 14 more days; got no certificate facts"
    ]
    plain = dataclasses.replace(https, url="http://h/")
    assert failures(plain, expect) == []  # no certificate on plain http
