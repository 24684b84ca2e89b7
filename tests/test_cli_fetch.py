"""End-to-end tests of ``hx fetch``: the CLI run in-process against the loopback server.

Every test checks the exit code, stdout (parsed as NDJSON) and stderr separately.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result as CliResult

from hx import __version__
from hx.errors import EXIT_CODE_MEANINGS
from support.cli import RouteServer, assert_usage_error, hx, records, write_lines, write_ndjson
from support.server import TestServer, expected_bytes, expected_text

SUMMARY_HEAD = re.compile(
    r"hx: (?P<total>[\d,]+) requests in \d+\.\d\d s \([\d,.]+ req/s\): "
    r"(?P<ok>[\d,]+) ok, (?P<failed>[\d,]+) failed"
)
TEXT_PLAIN = "text/plain; charset=utf-8"


# -- helpers -------------------------------------------------------------------


def by_line(result: CliResult) -> dict[int, dict[str, Any]]:
    """Records keyed by input line; fails if a line has more than one record."""
    recs = records(result)
    counts = Counter(rec["line"] for rec in recs)
    assert all(n == 1 for n in counts.values()), [k for k, n in counts.items() if n > 1]
    return {rec["line"]: rec for rec in recs}


def summary_head(stderr: str) -> re.Match[str]:
    first = stderr.splitlines()[0]
    match = SUMMARY_HEAD.fullmatch(first)
    assert match is not None, stderr
    return match


def echo_of(record: dict[str, Any]) -> dict[str, Any]:
    """The /echo (or /headers) JSON the server sent back, from a ``--body`` record."""
    assert record["ok"] is True, record
    assert record["body_encoding"] == "text"
    echoed: dict[str, Any] = json.loads(record["body"])
    return echoed


# -- a big batch ---------------------------------------------------------------


def test_thousand_urls_one_record_each(server: TestServer, tmp_path: Path) -> None:
    def path_for(line: int) -> str:
        return ["/status/200", "/status/404", "/status/500", f"/bytes/{line}"][line % 4]

    urls = [server.url(path_for(n)) for n in range(1, 1001)]
    source = write_lines(tmp_path / "urls.txt", urls)

    result = hx("fetch", source, "-c", "50")

    assert result.exit_code == 3
    recs = by_line(result)
    assert sorted(recs) == list(range(1, 1001))
    for line, rec in recs.items():
        url = urls[line - 1]
        path = path_for(line)
        status = 200 if path.startswith("/bytes/") else int(path.rsplit("/", 1)[1])
        assert rec["id"] == line
        assert rec["url"] == url
        assert rec["final_url"] == url
        assert rec["method"] == "GET"
        assert rec["status"] == status
        assert rec["ok"] is (status == 200)
        assert rec["http_version"] == "HTTP/1.1"
        if path.startswith("/bytes/"):
            assert (rec["bytes"], rec["content_type"]) == (line, "application/octet-stream")
        else:
            assert (rec["bytes"], rec["content_type"]) == (len(f"status {status}\n"), TEXT_PLAIN)
        if status == 200:
            assert rec["error"] is None
        else:
            assert rec["error"]["kind"] == "http_status"
            assert rec["error"]["message"].startswith(f"HTTP {status}")
    head = summary_head(result.stderr)
    assert head["total"] == "1,000"
    assert (head["ok"], head["failed"]) == ("500", "500")
    assert re.search(r"status:\s+2xx 500\s+4xx 250\s+5xx 250\n", result.stderr)
    assert re.search(r"errors:\s+http_status 500\n", result.stderr)


# -- mixed outcomes, summary and exit codes ------------------------------------


def test_mixed_list_summary_json_and_exit_code(
    server: TestServer, refused_url: str, tmp_path: Path
) -> None:
    lines = [
        server.url("/status/200").encode(),  # 1
        server.url("/bytes/100").encode(),  # 2
        server.url("/status/404").encode(),  # 3
        f"{refused_url}/x".encode(),  # 4
        b"not a url",  # 5
        b"ftp://example.com/file",  # 6
        b"javascript:alert(1)",  # 7
        b"\xff\xfe\xfd",  # 8: not UTF-8
        b"# a comment",  # 9: skipped
        b"",  # 10: skipped
        server.url("/json").encode(),  # 11
        server.url("/status/503").encode(),  # 12
    ]
    source = tmp_path / "mixed.txt"
    source.write_bytes(b"\n".join(lines) + b"\n")
    summary_file = tmp_path / "summary.json"

    result = hx("fetch", source, "--summary-json", summary_file, "--retries", "0")

    assert result.exit_code == 3
    recs = by_line(result)
    assert sorted(recs) == [1, 2, 3, 4, 5, 6, 7, 8, 11, 12]
    kinds = {line: rec["error"] and rec["error"]["kind"] for line, rec in recs.items()}
    assert kinds == {
        1: None,
        2: None,
        3: "http_status",
        4: "connect",
        5: "invalid_input",
        6: "invalid_input",
        7: "invalid_input",
        8: "invalid_input",
        11: None,
        12: "http_status",
    }
    for line in (5, 6, 7, 8):
        rec = recs[line]
        assert rec["ok"] is False
        assert rec["status"] is None
        assert rec["error"]["message"].startswith(f"line {line}: ")
    assert "ftp" in recs[6]["error"]["message"]
    assert "javascript" in recs[7]["error"]["message"]
    assert "UTF-8" in recs[8]["error"]["message"]
    assert recs[4]["status"] is None

    summary = json.loads(summary_file.read_text())
    assert {key: summary[key] for key in ("total", "ok", "failed", "by_status", "by_error")} == {
        "total": 10,
        "ok": 3,
        "failed": 7,
        "by_status": {"2xx": 3, "4xx": 1, "5xx": 1},
        "by_error": {"connect": 1, "http_status": 2, "invalid_input": 4},
    }
    assert summary["bytes"] == 11 + 100 + 11 + 26 + 11
    assert summary["interrupted"] is False
    head = summary_head(result.stderr)
    assert (head["total"], head["ok"], head["failed"]) == ("10", "3", "7")
    assert not list(tmp_path.glob("*.part"))


def test_exit_0_when_all_ok(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "ok.txt", [server.url("/status/200"), server.url("/json")])
    result = hx("fetch", source)
    assert result.exit_code == 0
    assert [rec["ok"] for rec in records(result)] == [True, True]
    head = summary_head(result.stderr)
    assert (head["total"], head["ok"], head["failed"]) == ("2", "2", "0")


def test_exit_4_when_all_fail(server: TestServer, refused_url: str, tmp_path: Path) -> None:
    source = write_lines(
        tmp_path / "bad.txt", [server.url("/status/500"), f"{refused_url}/", "no-scheme"]
    )
    result = hx("fetch", source, "--retries", "0")
    assert result.exit_code == 4
    kinds = {rec["line"]: rec["error"]["kind"] for rec in records(result)}
    assert kinds == {1: "http_status", 2: "connect", 3: "invalid_input"}
    head = summary_head(result.stderr)
    assert (head["total"], head["ok"], head["failed"]) == ("3", "0", "3")


@pytest.mark.parametrize("case", ["missing", "directory", "empty", "comments-only"])
def test_unusable_input_file_is_a_usage_error(tmp_path: Path, case: str) -> None:
    path = tmp_path / f"input-{case}"
    if case == "directory":
        path.mkdir()
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "comments-only":
        path.write_text("# only a comment\n\n   \n# another\n")
    result = hx("fetch", path)
    assert_usage_error(result, str(path))


def test_empty_input_leaves_no_output_files(tmp_path: Path) -> None:
    source = tmp_path / "empty.txt"
    source.write_text("# nothing to do\n")
    out, summary = tmp_path / "records.ndjson", tmp_path / "summary.json"
    result = hx("fetch", source, "--output-file", out, "--summary-json", summary)
    assert_usage_error(result, str(source))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.txt"]


# -- usage errors --------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["-H", "bad header"], "--header"),
        (["-H", "X: a\r\nb"], "--header"),
        (["--ok-status", "abc"], "--ok-status"),
        (["--json", "{bad"], "--json"),
        (["--data", "x", "--json", "{}"], "--data"),
        (["--base-url", "ftp://x"], "--base-url"),
        (["--data", "@/nonexistent/hx-data"], "--data"),
    ],
)
def test_bad_option_is_a_usage_error(
    server: TestServer, tmp_path: Path, options: list[str], named: str
) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/status/200")])
    server_requests = len(server.requests)
    result = hx("fetch", source, *options)
    assert_usage_error(result, named)
    if "--json" in options and "--data" in options:
        assert "--json" in result.stderr
    assert len(server.requests) == server_requests  # nothing was sent


def test_data_from_stdin_with_stdin_source_is_a_usage_error(server: TestServer) -> None:
    result = hx("fetch", "-", "--data", "@-", input=server.url("/echo") + "\n")
    assert_usage_error(result, "--data", "stdin")


def test_zero_concurrency_is_a_usage_error(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/status/200")])
    result = hx("fetch", source, "-c", "0")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--concurrency" in result.stderr


# -- NDJSON input --------------------------------------------------------------


def test_ndjson_request_fields_reach_the_server(server: TestServer, tmp_path: Path) -> None:
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"upload-content")
    echo = server.url("/echo")
    source = write_ndjson(
        tmp_path / "requests.ndjson",
        [
            {
                "url": echo,
                "method": "put",
                "headers": {"X-Line": "1"},
                "params": {"q": ["a", "b"], "n": 1},
                "json": {"k": [1, 2]},
                "id": "first",
                "timeout": 5,
            },
            {"url": echo, "data": "raw body"},
            {"url": echo, "data": {"f": "v", "g": "w w"}},
            {"url": echo, "data": {"field": "x"}, "files": {"upload": str(upload)}},
            {"url": echo, "id": "first"},
            {"url": echo, "bogus": 1},
            {"url": echo, "id": 7},
        ],
    )

    result = hx("fetch", source, "--body")

    assert result.exit_code == 3
    recs = by_line(result)
    assert sorted(recs) == [1, 2, 3, 4, 5, 6, 7]

    first = echo_of(recs[1])
    assert recs[1]["id"] == "first"
    assert recs[1]["method"] == "PUT"
    assert first["method"] == "PUT"
    assert first["query"] == {"q": ["a", "b"], "n": ["1"]}
    assert first["headers"]["x-line"] == "1"
    assert first["headers"]["content-type"] == "application/json"
    assert json.loads(first["body"]) == {"k": [1, 2]}

    raw = echo_of(recs[2])
    assert recs[2]["id"] == 2
    assert raw["method"] == "POST"
    assert raw["body"] == "raw body"
    assert "content-type" not in raw["headers"]

    form = echo_of(recs[3])
    assert form["method"] == "POST"
    assert form["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert form["body"] == "f=v&g=w+w"

    multipart = echo_of(recs[4])
    assert multipart["method"] == "POST"
    assert multipart["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert 'name="field"\r\n\r\nx\r\n' in multipart["body"]
    assert 'name="upload"; filename="upload.bin"' in multipart["body"]
    assert "\r\n\r\nupload-content\r\n" in multipart["body"]

    duplicate = recs[5]
    assert duplicate["id"] == "first"
    assert duplicate["ok"] is False
    assert duplicate["status"] is None
    assert duplicate["error"]["kind"] == "invalid_input"
    assert duplicate["error"]["message"].startswith("line 5: duplicate id 'first'")

    unknown = recs[6]
    assert unknown["error"]["kind"] == "invalid_input"
    assert unknown["error"]["message"].startswith("line 6: unknown key 'bogus'")

    assert recs[7]["id"] == 7
    assert echo_of(recs[7])["method"] == "GET"


def test_ndjson_timeout_applies_to_its_line(server: TestServer, tmp_path: Path) -> None:
    drip = server.url("/drip?bytes=3&delay=2")
    source = write_ndjson(
        tmp_path / "t.ndjson", [{"url": drip, "timeout": 0.3}, {"url": server.url("/json")}]
    )
    started = time.monotonic()
    result = hx("fetch", source, "--retries", "0", "-q")
    assert time.monotonic() - started < 1.5
    assert result.exit_code == 3
    recs = by_line(result)
    assert recs[1]["error"]["kind"] == "timeout"
    assert recs[2]["ok"] is True
    assert result.stderr == ""


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson"])
def test_ndjson_suffix_decides_format(server: TestServer, tmp_path: Path, suffix: str) -> None:
    # The first line is not an object: only the suffix can make this NDJSON.
    lines = ["[1]", json.dumps({"url": server.url("/json")})]
    result = hx("fetch", write_lines(tmp_path / f"requests{suffix}", lines), "-q")
    assert result.exit_code == 3
    recs = by_line(result)
    assert recs[1]["error"]["kind"] == "invalid_input"
    assert recs[1]["error"]["message"] == "line 1: expected a JSON object, got an array"
    assert recs[2]["ok"] is True
    assert recs[2]["url"] == server.url("/json")


def test_ndjson_detected_from_first_line(server: TestServer, tmp_path: Path) -> None:
    lines = ["# requests", json.dumps({"url": server.url("/json"), "id": "j"})]
    result = hx("fetch", write_lines(tmp_path / "requests.txt", lines), "-q")
    assert result.exit_code == 0
    [rec] = records(result)
    assert (rec["id"], rec["line"], rec["status"]) == ("j", 2, 200)


def test_input_format_urls_forces_url_list(server: TestServer, tmp_path: Path) -> None:
    source = write_ndjson(tmp_path / "requests.jsonl", [{"url": server.url("/json")}])
    result = hx("fetch", source, "--input-format", "urls", "-q")
    assert result.exit_code == 4
    [rec] = records(result)
    assert rec["error"]["kind"] == "invalid_input"
    assert rec["error"]["message"].startswith("line 1: ")
    assert rec["method"] is None
    assert len(result.stdout.splitlines()) == 1


# -- request options -----------------------------------------------------------


def test_base_url_resolves_relative_lines(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "rel.txt", ["status/201", "/json", server.url("/text/5")])
    result = hx("fetch", source, "--base-url", server.url("/"), "-q")
    assert result.exit_code == 0
    recs = by_line(result)
    assert {line: (rec["url"], rec["status"]) for line, rec in recs.items()} == {
        1: (server.url("/status/201"), 201),
        2: (server.url("/json"), 200),
        3: (server.url("/text/5"), 200),
    }


def test_method_and_data(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/echo")])
    result = hx("fetch", source, "-X", "POST", "--data", "hello", "--body", "-q")
    assert result.exit_code == 0
    [rec] = records(result)
    assert rec["method"] == "POST"
    echoed = echo_of(rec)
    assert (echoed["method"], echoed["body"]) == ("POST", "hello")

    result = hx("fetch", source, "-X", "PATCH", "--body", "-q")
    assert echo_of(records(result)[0])["method"] == "PATCH"


def test_data_from_file(server: TestServer, tmp_path: Path) -> None:
    payload = b"\x00\xffbinary body\n"
    (tmp_path / "body.bin").write_bytes(payload)
    source = write_lines(tmp_path / "urls.txt", [server.url("/echo"), server.url("/echo")])
    result = hx("fetch", source, "--data", f"@{tmp_path / 'body.bin'}", "--body", "-q")
    assert result.exit_code == 0
    for rec in records(result):
        echoed = echo_of(rec)
        assert echoed["method"] == "POST"  # a body without -X means POST
        assert echoed["body_base64"] is True
        assert base64.b64decode(echoed["body"]) == payload


def test_json_option_sets_content_type(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/echo")])
    result = hx("fetch", source, "--json", '{"a": [1, 2]}', "--body", "-q")
    assert result.exit_code == 0
    echoed = echo_of(records(result)[0])
    assert echoed["method"] == "POST"
    assert echoed["headers"]["content-type"] == "application/json"
    assert json.loads(echoed["body"]) == {"a": [1, 2]}


def test_header_option_on_every_request(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/headers")] * 3)
    result = hx("fetch", source, "-H", "X-Token: abc", "-H", "X-Other:  spaced ", "--body", "-q")
    assert result.exit_code == 0
    recs = records(result)
    assert len(recs) == 3
    for rec in recs:
        headers = echo_of(rec)
        assert headers["x-token"] == "abc"
        assert headers["x-other"] == "spaced"
        assert headers["user-agent"] == f"hx/{__version__}"


def test_line_header_overrides_header_option(server: TestServer, tmp_path: Path) -> None:
    url = server.url("/headers")
    source = write_ndjson(
        tmp_path / "r.ndjson", [{"url": url, "headers": {"x-token": "from-line"}}, {"url": url}]
    )
    result = hx("fetch", source, "-H", "X-Token: from-cli", "--body", "-q")
    assert result.exit_code == 0
    recs = by_line(result)
    assert echo_of(recs[1])["x-token"] == "from-line"
    assert echo_of(recs[2])["x-token"] == "from-cli"


def test_header_option_sets_user_agent(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/headers")])
    result = hx("fetch", source, "-H", "User-Agent: mine/1", "--body", "-q")
    assert result.exit_code == 0
    assert echo_of(records(result)[0])["user-agent"] == "mine/1"


# -- output --------------------------------------------------------------------


def slow_urls(server: TestServer, count: int, step: float) -> list[str]:
    """Decreasing delays: the last line finishes first."""
    return [server.url(f"/slow?delay={step * (count - 1 - n):.2f}") for n in range(count)]


def test_ordered_output_follows_input(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", slow_urls(server, 10, 0.03))
    result = hx("fetch", source, "--ordered", "-c", "10", "-q")
    assert result.exit_code == 0
    recs = records(result)
    assert [rec["line"] for rec in recs] == list(range(1, 11))
    # Completion order was the reverse of input order.
    assert recs[0]["elapsed_ms"] > recs[-1]["elapsed_ms"] + 150


def test_unordered_output_has_every_record(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", slow_urls(server, 10, 0.03))
    result = hx("fetch", source, "-c", "10", "-q")
    assert result.exit_code == 0
    assert sorted(by_line(result)) == list(range(1, 11))


def test_output_file(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/status/200"), server.url("/json")])
    out = tmp_path / "results.ndjson"
    result = hx("fetch", source, "--output-file", out)
    assert result.exit_code == 0
    assert result.stdout == ""
    summary_head(result.stderr)
    recs = records(out.read_text())
    assert sorted((rec["line"], rec["status"]) for rec in recs) == [(1, 200), (2, 200)]
    assert not Path(f"{out}.part").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.ndjson", "urls.txt"]


def test_output_dir_saves_bodies_inside_it(server: TestServer, tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "bodies"
    urls = [
        server.url("/bytes/100"),
        server.url("/text/50"),
        server.url("/status/200/..%2F..%2Fetc"),
        server.url("/bytes/10?x=../../y"),
        server.url("/"),
    ]
    source = write_lines(tmp_path / "urls.txt", urls)

    result = hx("fetch", source, "-O", out, "-q")

    assert result.exit_code == 3  # the traversal-looking paths are 404s
    recs = by_line(result)
    assert sorted(recs) == [1, 2, 3, 4, 5]
    for line, rec in recs.items():
        saved = Path(rec["path"])
        assert saved.parent == out
        assert saved.name.startswith(f"{line}-")
        data = saved.read_bytes()
        assert len(data) == rec["bytes"]
        assert rec["sha256"] == hashlib.sha256(data).hexdigest()
    assert Path(recs[1]["path"]).name == "1-100"
    assert Path(recs[1]["path"]).read_bytes() == expected_bytes(100)
    assert Path(recs[2]["path"]).name == "2-50"
    assert Path(recs[2]["path"]).read_text() == expected_text(50)
    assert Path(recs[4]["path"]).read_bytes() == expected_bytes(10)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        Path(r["path"]).name for r in recs.values()
    )
    # Nothing was written anywhere else, and no .part file is left.
    everything = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    expected = ["a", "a/b", "a/b/bodies", "urls.txt"]
    expected += [f"a/b/bodies/{Path(r['path']).name}" for r in recs.values()]
    assert everything == sorted(expected)


def test_include_headers_redacts_set_cookie(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/set-cookie?a=s3cr3t&b=other")])
    result = hx("fetch", source, "--include-headers", "-q")
    assert result.exit_code == 0
    [rec] = records(result)
    headers = rec["headers"]
    assert all(isinstance(pair, list) and len(pair) == 2 for pair in headers)
    names = [name.lower() for name, _ in headers]
    assert names.count("set-cookie") == 2
    assert [value for name, value in headers if name.lower() == "set-cookie"] == ["***", "***"]
    assert ["content-length", "2"] in [[n.lower(), v] for n, v in headers]
    assert "s3cr3t" not in json.dumps(headers)
    assert "body" not in rec


def test_headers_absent_without_include_headers(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/json")])
    [rec] = records(hx("fetch", source, "-q"))
    assert "headers" not in rec
    assert "body" not in rec
    assert "path" not in rec


def test_body_text_json_and_base64(server: TestServer, tmp_path: Path) -> None:
    urls = [server.url("/text/10"), server.url("/json"), server.url("/bytes/10")]
    result = hx("fetch", write_lines(tmp_path / "urls.txt", urls), "--body", "-q")
    assert result.exit_code == 0
    recs = by_line(result)
    assert (recs[1]["body"], recs[1]["body_encoding"]) == (expected_text(10), "text")
    assert recs[2]["body_encoding"] == "text"
    assert json.loads(recs[2]["body"]) == {"hello": "world", "n": 1}
    assert recs[3]["body_encoding"] == "base64"
    assert base64.b64decode(recs[3]["body"]) == expected_bytes(10)


def test_url_credentials_never_printed(
    server: TestServer, refused_url: str, tmp_path: Path
) -> None:
    def with_credentials(url: str) -> str:
        return url.replace("http://", "http://user:secret@", 1)

    urls = [
        with_credentials(server.url("/status/200")),
        with_credentials(server.url("/status/404")),
        with_credentials(server.url("/redirect/2")),
        with_credentials(f"{refused_url}/x"),
        "ftp://user:secret@example.com/file",
    ]
    summary_file = tmp_path / "summary.json"
    result = hx(
        "fetch",
        write_lines(tmp_path / "urls.txt", urls),
        "--include-headers",
        "--summary-json",
        summary_file,
        "--retries",
        "0",
    )
    assert result.exit_code == 3
    assert "secret" not in result.stdout
    assert "secret" not in result.stderr
    assert "secret" not in summary_file.read_text()
    recs = by_line(result)
    assert recs[1]["url"] == server.url("/status/200").replace("http://", "http://user:***@")
    assert recs[1]["ok"] is True
    assert recs[3]["final_url"].endswith("/redirect/0")
    assert recs[4]["error"]["kind"] == "connect"
    assert recs[5]["error"]["kind"] == "invalid_input"


def test_credentials_not_printed_for_bad_url_line(server: TestServer, tmp_path: Path) -> None:
    # The error message quotes the line: it must quote it redacted.
    line = server.url("/a b").replace("http://", "http://user:secret@", 1)
    result = hx("fetch", write_lines(tmp_path / "urls.txt", [line]), "-q")
    assert result.exit_code == 4
    assert records(result)[0]["error"]["kind"] == "invalid_input"
    assert "secret" not in result.stdout


def test_credentials_not_printed_for_unparseable_url(tmp_path: Path) -> None:
    # urlsplit() raises on this URL; redaction must not give up on it.
    source = write_lines(tmp_path / "urls.txt", ["http://user:secret@[bad/"])
    # The bad host goes to the resolver: keep a slow one from stalling the test.
    result = hx("fetch", source, "--retries", "0", "--timeout", "2", "-q")
    assert result.exit_code == 4
    assert len(records(result)) == 1
    assert "secret" not in result.stdout


def test_unclosed_ipv6_bracket_is_invalid_input(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", ["http://[bad/"])
    result = hx("fetch", source, "--retries", "0", "--timeout", "2", "-q")
    assert result.exit_code == 4
    [rec] = records(result)
    assert rec["error"]["kind"] == "invalid_input"
    assert rec["error"]["message"].startswith("line 1: ")


# -- redirects and timeouts ----------------------------------------------------


def test_redirects_followed_by_default(server: TestServer, tmp_path: Path) -> None:
    result = hx("fetch", write_lines(tmp_path / "u.txt", [server.url("/redirect/3")]), "-q")
    assert result.exit_code == 0
    [rec] = records(result)
    assert (rec["status"], rec["ok"]) == (200, True)
    assert rec["url"] == server.url("/redirect/3")
    assert rec["final_url"] == server.url("/redirect/0")
    assert rec["redirects"] == 3


def test_no_follow_redirects(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "u.txt", [server.url("/redirect/3")])
    result = hx("fetch", source, "--no-follow-redirects", "-q")
    assert result.exit_code == 0
    [rec] = records(result)
    assert (rec["status"], rec["ok"], rec["error"]) == (302, True, None)
    assert rec["final_url"] == server.url("/redirect/3")
    assert rec["redirects"] == 0


def test_too_many_redirects(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "u.txt", [server.url("/redirect/3")])
    result = hx("fetch", source, "--max-redirects", "1", "-q")
    assert result.exit_code == 4
    [rec] = records(result)
    assert rec["ok"] is False
    assert rec["error"]["kind"] == "too_many_redirects"

    result = hx("fetch", write_lines(tmp_path / "l.txt", [server.url("/redirect-loop")]), "-q")
    assert result.exit_code == 4
    [rec] = records(result)
    assert rec["error"]["kind"] == "too_many_redirects"


@pytest.mark.parametrize("option", ["--read-timeout", "--timeout"])
def test_read_timeout(server: TestServer, tmp_path: Path, option: str) -> None:
    source = write_lines(tmp_path / "u.txt", [server.url("/drip?bytes=3&delay=2")])
    started = time.monotonic()
    result = hx("fetch", source, option, "0.3", "--retries", "0", "-q")
    assert time.monotonic() - started < 1.5
    assert result.exit_code == 4
    [rec] = records(result)
    assert rec["ok"] is False
    assert rec["error"]["kind"] == "timeout"
    assert result.stderr == ""


def test_timeout_waiting_for_headers(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "u.txt", [server.url("/slow?delay=2")])
    started = time.monotonic()
    result = hx("fetch", source, "--timeout", "0.3", "--retries", "0", "-q")
    assert time.monotonic() - started < 1.5
    assert result.exit_code == 4
    [rec] = records(result)
    assert (rec["status"], rec["error"]["kind"]) == (None, "timeout")


# -- concurrency ---------------------------------------------------------------


def test_per_host_limit(route_server: RouteServer, tmp_path: Path) -> None:
    urls = [route_server.url(f"/inflight?delay=0.1&n={n}") for n in range(8)]
    result = hx("fetch", write_lines(tmp_path / "u.txt", urls), "--per-host", "2", "-c", "20", "-q")
    assert result.exit_code == 0
    assert sorted(by_line(result)) == list(range(1, 9))
    assert route_server.max_in_flight == 2  # counted by the server: two at once, never three


# -- stderr, stdin, version, help ----------------------------------------------


def test_quiet_prints_nothing_on_stderr(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "u.txt", [server.url("/status/200"), server.url("/json")])
    result = hx("fetch", source, "-q")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert len(records(result)) == 2


def test_summary_on_stderr(server: TestServer, tmp_path: Path) -> None:
    urls = [server.url("/status/200"), server.url("/json"), server.url("/bytes/1024")]
    result = hx("fetch", write_lines(tmp_path / "u.txt", urls))
    assert result.exit_code == 0
    head = summary_head(result.stderr)
    assert (head["total"], head["ok"], head["failed"]) == ("3", "3", "0")
    assert "hx: " not in "\n".join(result.stderr.splitlines()[1:])  # no warnings or errors
    assert "\x1b" not in result.stderr


def test_stdin_source(server: TestServer) -> None:
    text = f"{server.url('/status/200')}\n# comment\n{server.url('/status/404')}\n"
    result = hx("fetch", "-", input=text)
    assert result.exit_code == 3
    recs = by_line(result)
    assert {line: rec["status"] for line, rec in recs.items()} == {1: 200, 3: 404}
    head = summary_head(result.stderr)
    assert (head["total"], head["ok"], head["failed"]) == ("2", "1", "1")


def test_stdin_ndjson(server: TestServer) -> None:
    text = json.dumps({"url": server.url("/json"), "id": "from-stdin"}) + "\n"
    result = hx("fetch", "-", "-q", input=text)
    assert result.exit_code == 0
    [rec] = records(result)
    assert (rec["id"], rec["status"]) == ("from-stdin", 200)


def test_empty_stdin_is_a_usage_error() -> None:
    assert_usage_error(hx("fetch", "-", input=""), "no requests")


def test_version() -> None:
    result = hx("--version")
    assert result.exit_code == 0
    assert result.stdout == f"hx {__version__}\n"
    assert result.stderr == ""


def test_fetch_help_mentions_examples_and_exit_codes() -> None:
    result = hx("fetch", "--help")
    assert result.exit_code == 0
    assert result.stderr == ""
    text = " ".join(result.stdout.split())
    assert "Examples:" in text
    assert "hx fetch urls.txt -c 20" in text
    assert "Exit codes:" in text
    for code, meaning in EXIT_CODE_MEANINGS.items():
        assert f"{int(code)} {meaning}" in text


def test_fetch_help_keeps_bracketed_defaults() -> None:
    # Help texts hold literal "[default: ...]": they must not be eaten as rich markup.
    text = " ".join(hx("fetch", "--help").stdout.split())
    assert "GET, or POST with a body" in text
