"""``-v``: a line per request, answer and retry wait, each tagged with the record's id.

``-vv`` adds each hop's headers (secrets as ***) below the line they belong to.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from pathlib import Path

import pytest

from support.cli import RouteServer, hx, records
from support.fault_server import FaultServer
from support.server import TestServer

ID = r"hx: \[(?P<id>[^\]]+)\] "
SENT = re.compile(ID + r"> (?P<method>[A-Z]+) (?P<url>\S+) \(attempt (?P<attempt>\d+)\)")
ANSWERED = re.compile(
    ID + r"< (?P<outcome>\d{3}|no response [a-z_]+: .+) (?P<method>[A-Z]+) (?P<url>\S+)"
    r" in (?P<ms>\d+\.\d) ms \(attempt (?P<attempt>\d+)\)"
)
RETRY = re.compile(
    ID + r"~ retrying in (?P<delay>\d+\.\d\d) s \(attempt (?P<attempt>\d+), after (?P<outcome>.+)\)"
)
HEADER = re.compile(ID + r"(?P<way>[<>])   (?P<name>[^:]+): (?P<value>.*)")
STATUS_LINE = re.compile(ID + r"< HTTP/1\.1 (?P<status>\d{3}) [A-Za-z ]+")
HOP = re.compile(ID + r"> (?P<method>[A-Z]+) (?P<url>\S+)")


pytestmark = pytest.mark.usefixtures("isolated")


@pytest.fixture
def login_server(route_server: RouteServer) -> RouteServer:
    route_server.cookie_value = "trace-cookie-secret"
    return route_server


def parse(pattern: re.Pattern[str], line: str) -> re.Match[str]:
    match = pattern.fullmatch(line)
    assert match is not None, line
    return match


def trace_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("hx: [")]


def kind(line: str) -> str:
    """What a -vv line is: sent, answered, status, hop, retry, or > / < for a header."""
    for name, pattern in (
        ("sent", SENT),
        ("answered", ANSWERED),
        ("status", STATUS_LINE),
        ("retry", RETRY),
    ):
        if pattern.fullmatch(line):
            return name
    if header := HEADER.fullmatch(line):
        return header["way"]
    if HOP.fullmatch(line):
        return "hop"
    raise AssertionError(f"not a trace line: {line!r}")


def line_id(line: str) -> str:
    match = re.match(ID, line)
    assert match is not None, line
    return match["id"]


def collapse(kinds: list[str]) -> list[str]:
    """Runs of header lines as one entry: ``[">", ">", "<"]`` -> ``[">", "<"]``."""
    return [k for i, k in enumerate(kinds) if k not in "<>" or kinds[i - 1 : i] != [k]]


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
    sent = [m for m in map(SENT.fullmatch, stderr) if m]
    answered = [m for m in map(ANSWERED.fullmatch, stderr) if m]
    assert len(sent) + len(answered) == len(stderr)
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
    # Each line names its record: the input line number, as the record's id.
    ids = {(m["id"], m["url"]) for m in [*sent, *answered]}
    assert ids == {(str(number), str(line["url"])) for number, line in enumerate(lines, 1)}
    for number in range(1, 5):  # each request is sent before it is answered
        kinds = [kind(text) for text in stderr if line_id(text) == str(number)]
        assert kinds == ["sent", "answered"]


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
    assert stderr[2].startswith("hx: 1 request in ")
    assert not any(HEADER.fullmatch(line) for line in stderr)  # headers need -vv


def test_vv_adds_request_and_response_headers(server: TestServer, tmp_path: Path) -> None:
    source = tmp_path / "urls.txt"
    source.write_text(server.url("/json") + "\n")

    result = hx("fetch", source, "-vv", "-q", "-H", "X-Trace: yes")

    assert result.exit_code == 0
    assert len(records(result)) == 1
    stderr = result.stderr.splitlines()
    # The request line, its headers, the status line, its headers, the answer: all of record 1.
    assert collapse([kind(line) for line in stderr]) == ["sent", ">", "status", "<", "answered"]
    assert {line_id(line) for line in stderr} == {"1"}
    headers = [HEADER.fullmatch(line) for line in stderr]
    sent = {(m["name"], m["value"]) for m in headers if m and m["way"] == ">"}
    received = {(m["name"], m["value"]) for m in headers if m and m["way"] == "<"}
    assert {("x-trace", "yes"), ("host", f"127.0.0.1:{server.port}")} <= sent
    assert any(name == "user-agent" and value.startswith("hx/") for name, value in sent)
    assert {("content-type", "application/json"), ("server", "hx-test-server")} <= received
    assert parse(STATUS_LINE, stderr[len(sent) + 1])["status"] == "200"


def test_vv_blocks_of_concurrent_requests_carry_their_ids(
    server: TestServer, tmp_path: Path
) -> None:
    source = tmp_path / "requests.ndjson"
    ids = ["alpha", "beta", "gamma"]
    source.write_text(
        "".join(
            json.dumps({"url": server.url(f"/slow?delay=0.2&n={n}"), "id": name}) + "\n"
            for n, name in enumerate(ids)
        )
    )

    result = hx("fetch", source, "-vv", "-q", "-c", "3")

    assert result.exit_code == 0, result.stderr
    stderr = result.stderr.splitlines()
    assert sorted({line_id(line) for line in stderr}) == sorted(ids)
    for name in ids:
        own = [line for line in stderr if line_id(line) == name]
        assert collapse([kind(line) for line in own]) == ["sent", ">", "status", "<", "answered"]
    # The three were on the wire together: their lines interleave.
    first_answer = next(i for i, line in enumerate(stderr) if kind(line) == "answered")
    assert sum(kind(line) == "sent" for line in stderr[:first_answer]) == 3


def test_vv_shows_each_redirect_hop_under_the_request(server: TestServer, tmp_path: Path) -> None:
    source = tmp_path / "urls.txt"
    source.write_text(server.url("/redirect/1") + "\n")

    result = hx("fetch", source, "-vv", "-q")

    assert result.exit_code == 0, result.stderr
    stderr = result.stderr.splitlines()
    kinds = collapse([kind(line) for line in stderr])
    assert kinds == ["sent", ">", "status", "<", "hop", ">", "status", "<", "answered"]
    statuses = [parse(STATUS_LINE, line)["status"] for line in stderr if kind(line) == "status"]
    assert statuses[1] == "200" and statuses[0].startswith("3")
    hop = next(parse(HOP, line) for line in stderr if kind(line) == "hop")
    assert (hop["method"], hop["url"]) == ("GET", server.url("/redirect/0"))


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
    assert "hx: [1] >   authorization: ***" in stderr
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
    assert [kind(line) for line in lines] == ["sent", "answered", "retry", "sent", "answered"]
    sent = [parse(SENT, line) for line in lines[0::3]]
    answered = [parse(ANSWERED, line) for line in (lines[1], lines[4])]
    assert [(m["url"], m["attempt"]) for m in sent] == [(url, "1"), (url, "2")]
    assert [(m["outcome"], m["attempt"]) for m in answered] == [("503", "1"), ("200", "2")]
    retry = parse(RETRY, lines[2])
    assert (retry["id"], retry["delay"], retry["attempt"], retry["outcome"]) == (
        "1",
        "0.00",
        "2",
        "503",
    )


def test_v_shows_the_wait_before_a_retry_after_a_network_error(
    refused_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "urls.txt"
    source.write_text(refused_url + "/x\n")

    result = hx("fetch", source, "-v", "-q", "--retries", "1", "--retry-delay", "0.01")

    assert result.exit_code == 4
    [retry] = [parse(RETRY, line) for line in result.stderr.splitlines() if kind(line) == "retry"]
    assert retry["attempt"] == "2"
    assert retry["outcome"] == "no response connect: connection refused"
    assert float(retry["delay"]) <= 0.01


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
