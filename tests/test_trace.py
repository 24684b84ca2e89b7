"""``-v``: a line per request and per answer on stderr; ``-vv`` adds headers, secrets as ***."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cli import RouteServer, hx, isolate, records
from support.fault_server import FaultServer
from support.server import TestServer

SENT = re.compile(r"hx: > (?P<method>[A-Z]+) (?P<url>\S+) \(attempt (?P<attempt>\d+)\)")
ANSWERED = re.compile(
    r"hx: < (?P<outcome>\d{3}|no response [a-z_]+: .+) (?P<method>[A-Z]+) (?P<url>\S+)"
    r" in (?P<ms>\d+\.\d) ms \(attempt (?P<attempt>\d+)\)"
)
HEADER = re.compile(r"hx: (?P<way>[<>])   (?P<name>[^:]+): (?P<value>.*)")
STATUS_LINE = re.compile(r"hx: <   HTTP/1\.1 \d{3}")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


@pytest.fixture
def login_server() -> Iterator[RouteServer]:
    with RouteServer() as srv:
        srv.cookie_value = "trace-cookie-secret"
        yield srv
    assert not srv.errors


def parse(pattern: re.Pattern[str], line: str) -> re.Match[str]:
    match = pattern.fullmatch(line)
    assert match is not None, line
    return match


def trace_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("hx: >", "hx: <"))]


def test_v_one_line_per_request_and_answer(
    server: TestServer, refused_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "requests.ndjson"
    lines = [
        {"url": server.url("/status/200")},
        {"url": server.url("/status/404")},
        {"url": server.url("/echo"), "method": "POST", "data": "x"},
        {"url": refused_url + "/gone"},
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))

    result = hx("fetch", source, "-v", "-q", "--retries", "0")

    assert result.exit_code == 3
    assert len(records(result)) == 4
    stderr = result.stderr.splitlines()
    assert trace_lines(result.stderr) == stderr  # -q: nothing else
    sent = [parse(SENT, line) for line in stderr if line.startswith("hx: >")]
    answered = [parse(ANSWERED, line) for line in stderr if line.startswith("hx: <")]
    expected = {
        ("GET", server.url("/status/200"), "200"),
        ("GET", server.url("/status/404"), "404"),
        ("POST", server.url("/echo"), "200"),
        ("GET", refused_url + "/gone", "no response connect: connection refused"),
    }
    assert sorted((m["method"], m["url"], m["attempt"]) for m in sent) == sorted(
        (method, url, "1") for method, url, _ in expected
    )
    assert sorted((m["method"], m["url"], m["outcome"]) for m in answered) == sorted(expected)
    assert {m["attempt"] for m in answered} == {"1"}
    for line in lines[:3]:  # each request is sent before it is answered
        url = str(line["url"])
        sent_at = next(
            i for i, text in enumerate(stderr) if text.startswith("hx: >") and url in text
        )
        answered_at = next(
            i for i, text in enumerate(stderr) if text.startswith("hx: <") and url in text
        )
        assert sent_at < answered_at


def test_v_keeps_stdout_for_records_and_summary_after_trace(
    server: TestServer, tmp_path: Path
) -> None:
    source = tmp_path / "urls.txt"
    source.write_text(server.url("/status/200") + "\n")

    result = hx("fetch", source, "-v")

    assert result.exit_code == 0
    [record] = records(result)
    assert record["status"] == 200
    stderr = result.stderr.splitlines()
    assert len(trace_lines(result.stderr)) == 2
    assert [bool(SENT.fullmatch(line)) for line in stderr[:2]] == [True, False]
    assert ANSWERED.fullmatch(stderr[1])
    assert stderr[2].startswith("hx: 1 requests in ")
    assert not any(HEADER.fullmatch(line) for line in stderr)  # headers need -vv


def test_vv_adds_request_and_response_headers(server: TestServer, tmp_path: Path) -> None:
    source = tmp_path / "urls.txt"
    source.write_text(server.url("/json") + "\n")

    result = hx("fetch", source, "-vv", "-q", "-H", "X-Trace: yes")

    assert result.exit_code == 0
    assert len(records(result)) == 1
    stderr = result.stderr.splitlines()
    assert SENT.fullmatch(stderr[0])
    assert ANSWERED.fullmatch(stderr[-1])
    headers = [HEADER.fullmatch(line) for line in stderr]
    sent = {(m["name"], m["value"]) for m in headers if m and m["way"] == ">"}
    received = {(m["name"], m["value"]) for m in headers if m and m["way"] == "<"}
    assert {("x-trace", "yes"), ("host", f"127.0.0.1:{server.port}")} <= sent
    assert any(name == "user-agent" and value.startswith("hx/") for name, value in sent)
    assert {("content-type", "application/json"), ("server", "hx-test-server")} <= received
    assert sum(bool(STATUS_LINE.fullmatch(line)) for line in stderr) == 1
    # Every line is a trace line, a header line or the status line: nothing else.
    for line in stderr:
        assert (
            SENT.fullmatch(line)
            or ANSWERED.fullmatch(line)
            or HEADER.fullmatch(line)
            or (STATUS_LINE.fullmatch(line))
        ), line


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


SECRET_CASES = {
    # case: (extra args, path, header redacted, secrets that must not appear)
    "auth": (["--auth", "alice:auth-pass-123"], "/status/200", "authorization", ["auth-pass-123"]),
    "bearer": (["--bearer", "bearer-tok-456"], "/status/200", "authorization", ["bearer-tok-456"]),
    "cookie": (["-H", "Cookie: sid=cookie-789"], "/status/200", "cookie", ["cookie-789"]),
    "set-cookie": ([], "/login", "set-cookie", ["trace-cookie-secret"]),
    "secret-header": (
        ["--secret-header", "X-Token", "-H", "X-Token: xtok-000"],
        "/status/200",
        "x-token",
        ["xtok-000"],
    ),
    "proxy-authorization": (
        ["-H", "Proxy-Authorization: Basic pa-111"],
        "/status/200",
        "proxy-authorization",
        ["pa-111"],
    ),
}


@pytest.mark.parametrize("case", list(SECRET_CASES))
def test_vv_redacts_secret_headers(login_server: RouteServer, tmp_path: Path, case: str) -> None:
    args, path, name, secrets = SECRET_CASES[case]
    source = tmp_path / "urls.txt"
    source.write_text(login_server.url(path) + "\n")

    result = hx("fetch", source, "-vv", "-q", *args)

    assert result.exit_code == 0, result.stderr
    shown = [m for m in map(HEADER.fullmatch, result.stderr.splitlines()) if m]
    assert [m["value"] for m in shown if m["name"] == name] == ["***"], result.stderr
    forms = [*secrets, basic("alice", "auth-pass-123")]
    for secret in forms:
        assert secret not in result.stderr
        assert secret not in result.stdout


def test_vv_redacts_password_in_url(server: TestServer, tmp_path: Path) -> None:
    url = f"http://alice:url-pass-321@127.0.0.1:{server.port}/status/200"
    source = tmp_path / "urls.txt"
    source.write_text(url + "\n")

    result = hx("fetch", source, "-vv", "-q")

    assert result.exit_code == 0, result.stderr
    redacted = f"http://alice:***@127.0.0.1:{server.port}/status/200"
    stderr = result.stderr.splitlines()
    assert parse(SENT, stderr[0])["url"] == redacted
    assert parse(ANSWERED, stderr[-1])["url"] == redacted
    assert "hx: >   authorization: ***" in stderr
    for secret in ("url-pass-321", basic("alice", "url-pass-321")):
        assert secret not in result.stderr
        assert secret not in result.stdout


def test_retry_shows_attempt_two(fault_server: FaultServer, tmp_path: Path) -> None:
    url = fault_server.url("/flaky/trace?fail=1&fault=503")
    source = tmp_path / "urls.txt"
    source.write_text(url + "\n")

    result = hx("fetch", source, "-v", "-q", "--retries", "1", "--retry-delay", "0")

    assert result.exit_code == 0, result.stderr
    [record] = records(result)
    assert (record["status"], record["attempts"]) == (200, 2)
    lines = result.stderr.splitlines()
    assert len(lines) == 4, lines
    sent = [parse(SENT, line) for line in lines[0::2]]
    answered = [parse(ANSWERED, line) for line in lines[1::2]]
    assert [(m["url"], m["attempt"]) for m in sent] == [(url, "1"), (url, "2")]
    assert [(m["outcome"], m["attempt"]) for m in answered] == [("503", "1"), ("200", "2")]


def test_no_trace_without_v(server: TestServer, fault_server: FaultServer, tmp_path: Path) -> None:
    source = tmp_path / "urls.txt"
    source.write_text(
        server.url("/status/200") + "\n" + fault_server.url("/flaky/quiet?fail=1") + "\n"
    )

    quiet = hx("fetch", source, "-q", "--retry-delay", "0")
    normal = hx("fetch", source, "--retry-delay", "0")

    assert quiet.exit_code == normal.exit_code == 0
    assert quiet.stderr == ""
    assert trace_lines(normal.stderr) == []
    assert normal.stderr.startswith("hx: 2 requests in ")
    assert not logging.getLogger("hx").isEnabledFor(logging.INFO)
