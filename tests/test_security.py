"""The security review of issue 7, one test (or parametrized group) per point, through the CLI.

Secrets never leak (records, logs, errors, summary); secret headers stay with
their origin; no https-to-http downgrade; only http(s); bounded redirects and
decoded sizes; files stay in their directory; no header injection. The last
test greps every output of a representative set of runs for known secrets.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from support.cli import (
    SECRET_RESPONSE_HEADERS,
    RouteServer,
    assert_usage_error,
    hx,
    records,
)
from support.server import TestServer, expected_text

URL_PASSWORD = "urlpass-Zq71"
AUTH_PASSWORD = "authpass-Zq72"
BEARER = "bearertok-Zq73"
COOKIE = "cookieval-Zq74"
X_TOKEN = "xtoken-Zq75"


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


#: Every form in which one of the secrets above could leak.
SECRET_FORMS = (
    URL_PASSWORD,
    AUTH_PASSWORD,
    BEARER,
    COOKIE,
    X_TOKEN,
    basic("alice", URL_PASSWORD),
    basic("bob", AUTH_PASSWORD),
)


def assert_no_secret(text: str, where: str = "") -> None:
    for secret in SECRET_FORMS:
        assert secret not in text, (secret, where, text[:2000])


pytestmark = pytest.mark.usefixtures("isolated")


@pytest.fixture
def secrets_server(route_server: RouteServer) -> RouteServer:
    """Sends COOKIE in Set-Cookie (``/login``) and in every header of ``/secrets``."""
    route_server.cookie_value = COOKIE
    return route_server


def with_password(url: str) -> str:
    """``url`` with user ``alice`` and URL_PASSWORD in its user-info."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://alice:{URL_PASSWORD}@{rest}"


def write_urls(path: Path, *urls: str) -> Path:
    path.write_text("".join(url + "\n" for url in urls))
    return path


def one_record(*args: str | Path, input: str | None = None) -> dict[str, Any]:
    result = hx(*args, input=input)
    [record] = records(result)
    assert_no_secret(result.stdout + result.stderr)
    return record


# -- redaction: records, logs, errors, summary --------------------------------


def test_records_redact_credentials_in_urls(server: TestServer, tmp_path: Path) -> None:
    source = write_urls(
        tmp_path / "urls.txt",
        with_password(server.url("/status/200")),
        with_password(server.url("/redirect/2")),
    )

    result = hx("fetch", source, "--ordered", "-q")

    assert result.exit_code == 0, result.stderr
    first, second = records(result)
    assert (
        first["url"] == first["final_url"] == f"http://alice:***@127.0.0.1:{server.port}/status/200"
    )
    assert second["url"] == f"http://alice:***@127.0.0.1:{server.port}/redirect/2"
    assert second["final_url"].endswith("/redirect/0")
    assert_no_secret(result.stdout)


def test_records_redact_secret_response_headers(
    secrets_server: RouteServer, tmp_path: Path
) -> None:
    source = write_urls(tmp_path / "urls.txt", secrets_server.url("/secrets"))

    result = hx("fetch", source, "-q", "--include-headers", "--secret-header", "X-Token")

    assert result.exit_code == 0, result.stderr
    [record] = records(result)
    headers = dict(record["headers"])
    assert {name: headers[name.lower()] for name in SECRET_RESPONSE_HEADERS} == dict.fromkeys(
        SECRET_RESPONSE_HEADERS, "***"
    )
    assert headers["content-type"].startswith("text/plain")
    assert_no_secret(result.stdout)


def test_records_show_headers_not_declared_secret(
    secrets_server: RouteServer, tmp_path: Path
) -> None:
    """Redaction goes by name: X-Token is shown unless --secret-header names it."""
    source = write_urls(tmp_path / "urls.txt", secrets_server.url("/secrets"))

    result = hx("fetch", source, "-q", "--include-headers")

    headers = dict(records(result)[0]["headers"])
    assert headers["x-token"] == COOKIE
    assert headers["set-cookie"] == "***"


def test_logs_redact_every_secret(secrets_server: RouteServer, tmp_path: Path) -> None:
    source = write_urls(
        tmp_path / "urls.txt",
        with_password(secrets_server.url("/status/200")),
        secrets_server.url("/secrets"),
        secrets_server.url("/login"),
    )

    result = hx(
        "fetch",
        source,
        "-vv",
        "--auth",
        f"bob:{AUTH_PASSWORD}",
        "-H",
        f"Cookie: sid={COOKIE}",
        "-H",
        f"X-Token: {X_TOKEN}",
        "-H",
        f"Proxy-Authorization: Bearer {BEARER}",
        "--secret-header",
        "X-Token",
    )

    assert result.exit_code == 0, result.stderr
    # Trace lines without the record id that tags each of them.
    lines = [re.sub(r"^hx: \[\d+\] ", "hx: ", line) for line in result.stderr.splitlines()]
    for name in ("authorization", "cookie", "x-token", "proxy-authorization"):
        assert f"hx: >   {name}: ***" in lines, name
    for name in ("authorization", "cookie", "set-cookie", "x-token", "proxy-authorization"):
        assert f"hx: <   {name}: ***" in lines, name
    assert (
        f"hx: > GET http://alice:***@127.0.0.1:{secrets_server.port}/status/200 (attempt 1)"
        in lines
    )
    assert_no_secret(result.stderr)
    assert_no_secret(result.stdout)


def test_error_messages_redact_credentials(
    server: TestServer, refused_url: str, tmp_path: Path
) -> None:
    source = write_urls(
        tmp_path / "urls.txt",
        with_password(server.url("/redirect-loop")),  # too many redirects: names the URL
        with_password(refused_url + "/x"),  # connect error
        with_password(server.url("/x y")),  # invalid line: quotes it
        with_password("ftp://127.0.0.1/x"),  # unsupported scheme
        with_password("http://127.0.0.1:port/"),  # invalid port
    )

    result = hx("fetch", source, "--ordered", "--max-redirects", "2", "--retries", "0", "-v")

    kinds = [(rec["error"] or {}).get("kind") for rec in records(result)]
    assert kinds == ["too_many_redirects", "connect", *["invalid_input"] * 3]
    messages = [rec["error"]["message"] for rec in records(result)]
    assert "alice:***@" in messages[0]
    assert "alice:***@" in messages[2]
    assert_no_secret(result.stdout + result.stderr)


def test_proxy_error_redacts_proxy_credentials(server: TestServer, refused_url: str) -> None:
    proxy = with_password(refused_url)

    result = hx("fetch", "-", "--proxy", proxy, "--retries", "0", input=server.url("/x"))

    [record] = records(result)
    assert record["error"]["kind"] == "proxy"
    assert "alice:***@" in record["error"]["message"]
    assert_no_secret(result.stdout + result.stderr)


def test_invalid_line_without_scheme_is_redacted() -> None:
    result = hx("fetch", "-", "-q", input=f"alice:{URL_PASSWORD}@example.com/x\n")

    assert records(result)[0]["error"]["kind"] == "invalid_input"
    assert_no_secret(result.stdout + result.stderr)


def test_download_bad_url_usage_error_is_redacted(tmp_path: Path) -> None:
    result = hx("download", with_password("http://127.0.0.1:port/x"), "-d", tmp_path)

    assert_usage_error(result, "alice:***@")
    assert_no_secret(result.stderr)


def test_summary_redacts_credentials(server: TestServer, refused_url: str, tmp_path: Path) -> None:
    source = write_urls(
        tmp_path / "urls.txt",
        with_password(server.url("/status/500")),
        with_password(refused_url + "/x"),
        with_password(server.url("/redirect-loop")),
    )
    summary = tmp_path / "summary.json"

    result = hx(
        "fetch", source, "--summary-json", summary, "--retries", "0", "--max-redirects", "1"
    )

    assert result.exit_code == 4
    data = json.loads(summary.read_text())
    assert data["failed"] == 3
    assert "hx: 3 requests in " in result.stderr
    assert_no_secret(summary.read_text() + result.stderr)


# -- redirects -----------------------------------------------------------------

SECRET_REQUEST_HEADERS = [
    f"Authorization: Bearer {BEARER}",
    f"Proxy-Authorization: Basic {basic('bob', AUTH_PASSWORD)}",
    f"Cookie: sid={COOKIE}",
    f"X-Token: {X_TOKEN}",
]


def redirect_via(first: TestServer, target: str) -> str:
    return first.url("/redirect-to?url=" + quote(target, safe=""))


@pytest.mark.parametrize("auth", ["headers", "auth-option"])
def test_secret_headers_dropped_on_cross_origin_redirect(
    server: TestServer, fresh_server: TestServer, auth: str
) -> None:
    url = redirect_via(server, fresh_server.url("/headers"))
    args = [a for h in SECRET_REQUEST_HEADERS for a in ("-H", h)]
    if auth == "auth-option":
        args = ["--auth", f"bob:{AUTH_PASSWORD}", "-H", f"X-Token: {X_TOKEN}"]

    record = one_record(
        "fetch", "-", "-q", "--secret-header", "X-Token", "-H", "X-Plain: kept", *args, input=url
    )

    assert record["ok"] and record["final_url"] == fresh_server.url("/headers")
    [seen] = fresh_server.requests
    assert seen.headers["x-plain"] == "kept"
    for name in ("authorization", "proxy-authorization", "cookie", "x-token"):
        assert name not in seen.headers, name
    first = next(r for r in reversed(server.requests) if r.path == url.split(str(server.port))[1])
    assert first.headers["x-token"] == X_TOKEN
    assert "authorization" in first.headers


def test_secret_headers_kept_on_same_origin_redirect(fresh_server: TestServer) -> None:
    url = redirect_via(fresh_server, "/headers")
    args = [a for h in SECRET_REQUEST_HEADERS for a in ("-H", h)]

    record = one_record("fetch", "-", "-q", "--secret-header", "X-Token", *args, input=url)

    assert record["ok"]
    seen = fresh_server.requests[-1]
    assert seen.url_path == "/headers"
    assert seen.headers["authorization"] == f"Bearer {BEARER}"
    assert seen.headers["x-token"] == X_TOKEN


def test_cookie_header_kept_on_same_origin_redirect(fresh_server: TestServer) -> None:
    url = redirect_via(fresh_server, "/headers")

    record = one_record("fetch", "-", "-q", "-H", f"Cookie: sid={COOKIE}", input=url)

    assert record["ok"]
    assert fresh_server.requests[-1].headers.get("cookie") == f"sid={COOKIE}"


def test_https_to_http_redirect_refused(
    tls_server: TestServer, tls_ca_pem: Path, fresh_server: TestServer
) -> None:
    url = redirect_via(tls_server, fresh_server.url("/status/200"))

    refused = one_record("fetch", "-", "-q", "--cacert", tls_ca_pem, input=url)
    allowed = one_record("fetch", "-", "-q", "--cacert", tls_ca_pem, "--allow-downgrade", input=url)

    assert refused["ok"] is False
    assert refused["error"]["kind"] == "redirect"
    assert "--allow-downgrade" in refused["error"]["message"]
    assert refused["status"] in (None, 302)
    assert (allowed["ok"], allowed["status"]) == (True, 200)
    assert allowed["final_url"] == fresh_server.url("/status/200")
    assert len(fresh_server.requests) == 1  # only the allowed run reached the http server


def test_https_to_https_redirect_is_followed(tls_server: TestServer, tls_ca_pem: Path) -> None:
    url = redirect_via(tls_server, tls_server.url("/status/200"))

    record = one_record("fetch", "-", "-q", "--cacert", tls_ca_pem, input=url)

    assert (record["ok"], record["status"]) == (True, 200)


@pytest.mark.parametrize(
    "target",
    ["file:///etc/passwd", "ftp://127.0.0.1/pub/x", "gopher://127.0.0.1/"],
)
@pytest.mark.parametrize("command", ["fetch", "download"])
def test_redirect_to_other_scheme_refused(
    server: TestServer, tmp_path: Path, target: str, command: str
) -> None:
    url = redirect_via(server, target)
    out = tmp_path / "out"
    if command == "fetch":
        record = one_record("fetch", "-", "-q", "-O", out, "--body", input=url)
        assert record.get("body") is None
    else:
        record = one_record("download", url, "-d", out, "-q")

    assert record["ok"] is False
    assert record["error"]["kind"] == "redirect", record
    assert list(out.iterdir()) == []


def test_redirects_capped(fresh_server: TestServer) -> None:
    capped = one_record(
        "fetch", "-", "-q", "--max-redirects", "2", input=fresh_server.url("/redirect/3")
    )
    enough = one_record(
        "fetch", "-", "-q", "--max-redirects", "3", input=fresh_server.url("/redirect/3")
    )
    fresh_server.clear_log()
    loop = one_record("fetch", "-", "-q", input=fresh_server.url("/redirect-loop"))

    assert capped["error"]["kind"] == "too_many_redirects"
    assert "more than 2 redirects" in capped["error"]["message"]
    assert (enough["ok"], enough["final_url"]) == (True, fresh_server.url("/redirect/0"))
    assert loop["error"]["kind"] == "too_many_redirects"
    assert len(fresh_server.requests) == 21  # the first request and 20 redirects, no more


def test_no_follow_redirects(server: TestServer) -> None:
    record = one_record(
        "fetch", "-", "-q", "--no-follow-redirects", input=server.url("/redirect/3")
    )

    assert (record["status"], record["final_url"]) == (302, server.url("/redirect/3"))


# -- sizes ---------------------------------------------------------------------


def test_decompressed_size_capped_by_max_size(server: TestServer, tmp_path: Path) -> None:
    """A small gzip body that expands past --max-size fails; nothing is saved."""
    out = tmp_path / "out"
    url = server.url("/gzip/2000000")

    record = one_record("fetch", "-", "-q", "--max-size", "100K", "-O", out, input=url)

    assert record["ok"] is False
    assert record["error"]["kind"] == "too_large", record
    assert record["bytes"] > 100 * 1024
    assert record.get("path") is None
    assert list(out.iterdir()) == []


def test_decompressed_body_under_max_size_is_saved(server: TestServer, tmp_path: Path) -> None:
    out = tmp_path / "out"

    record = one_record(
        "fetch", "-", "-q", "--max-size", "100K", "-O", out, input=server.url("/gzip/50000")
    )

    assert (record["ok"], record["bytes"]) == (True, 50000)
    assert Path(record["path"]).read_text() == expected_text(50000)


def test_download_decompressed_size_capped(server: TestServer, tmp_path: Path) -> None:
    out = tmp_path / "out"

    record = one_record(
        "download", server.url("/gzip/2000000"), "-d", out, "-q", "--max-size", "100K"
    )

    assert record["error"]["kind"] == "too_large", record
    assert [p.name for p in out.iterdir() if not p.name.endswith(".hx")] == []


# -- files stay in their directory ---------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside.txt"
    path.write_text("precious\n")
    return path


def assert_contained(directory: Path, outside: Path, record: dict[str, Any], content: str) -> None:
    """Outside untouched; the body is a regular file in ``directory``, or the record says io."""
    assert outside.read_text() == "precious\n"
    if record["ok"]:
        saved = Path(record["path"])
        assert saved.parent.resolve() == directory.resolve()
        assert not saved.is_symlink() and saved.is_file()
        assert saved.read_text() == content
    else:
        assert record["error"]["kind"] == "io", record
    for entry in directory.iterdir():
        assert not entry.is_symlink() or entry.readlink() == outside, entry


@pytest.mark.parametrize("planted", ["1-10", "1-10.part"])
def test_fetch_output_dir_does_not_write_through_symlinks(
    server: TestServer, tmp_path: Path, outside: Path, planted: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / planted).symlink_to(outside)

    record = one_record("fetch", "-", "-q", "-O", out, input=server.url("/text/10"))

    assert record["ok"] is True, record
    assert Path(record["path"]) == out / "1-10"
    assert_contained(out, outside, record, expected_text(10))


@pytest.mark.parametrize(
    ("planted", "options"),
    [
        ("10", []),
        ("10", ["--overwrite"]),
        ("10", ["-C"]),
        ("10.part", []),
        ("10.part", ["--overwrite"]),
        ("10.part", ["-C"]),
    ],
)
def test_download_does_not_write_through_symlinks(
    server: TestServer, tmp_path: Path, outside: Path, planted: str, options: list[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / planted).symlink_to(outside)

    record = one_record("download", server.url("/text/10"), "-d", out, "-q", *options)

    if not record["ok"] and record["error"]["kind"] == "exists":
        assert outside.read_text() == "precious\n"
        return
    assert_contained(out, outside, record, expected_text(10))


def test_hostile_url_path_stays_in_output_dir(server: TestServer, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "out"
    urls = [
        server.url("/status/%2E%2E%2F%2E%2E%2Fescaped"),
        server.url("/status/..%2F..%2Fescaped2"),
        server.url("/status/%2Fetc%2Fpasswd"),
    ]

    result = hx("fetch", "-", "-q", "-O", out, "--ok-status", "100-599", input="\n".join(urls))

    assert result.exit_code == 0, result.stderr
    saved = [Path(rec["path"]) for rec in records(result)]
    assert len(saved) == 3
    assert all(path.parent == out and path.is_file() for path in saved)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        path.name for path in saved
    )


# -- header injection ----------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["X-A: a\r\nEvil: 1", "X-A: a\nEvil: 1", "X-A: a\rEvil: 1", "X-A: a\x00b", "X-A\r\nEvil: 1"],
)
@pytest.mark.parametrize("command", ["fetch", "download"])
def test_header_injection_on_command_line_is_a_usage_error(
    fresh_server: TestServer, tmp_path: Path, header: str, command: str
) -> None:
    url = fresh_server.url("/status/200")
    if command == "fetch":
        result = hx("fetch", "-", "-H", header, input=url)
    else:
        result = hx("download", url, "-d", tmp_path, "-H", header)

    assert_usage_error(result, "--header")
    assert fresh_server.requests == []


def test_method_injection_is_a_usage_error(fresh_server: TestServer) -> None:
    result = hx("fetch", "-", "-X", "GET /x HTTP/1.1\r\nEvil: 1", input=fresh_server.url("/"))

    assert_usage_error(result, "--method")
    assert fresh_server.requests == []


@pytest.mark.parametrize(
    "line",
    [
        {"headers": {"X-A": "a\r\nEvil: 1"}},
        {"headers": {"X-A": "a\nEvil: 1"}},
        {"headers": {"X-A\r\nEvil": "1"}},
        {"method": "GET /x HTTP/1.1\r\nEvil: 1"},
    ],
)
def test_injection_in_ndjson_line_is_an_invalid_input_record(
    fresh_server: TestServer, line: dict[str, Any]
) -> None:
    bad = json.dumps({"url": fresh_server.url("/headers"), **line})
    good = json.dumps({"url": fresh_server.url("/status/200")})

    result = hx("fetch", "-", "-q", "--ordered", input=f"{bad}\n{good}\n")

    assert result.exit_code == 3
    first, second = records(result)
    assert first["error"]["kind"] == "invalid_input"
    assert "line 1:" in first["error"]["message"]
    assert second["ok"] is True
    assert [r.url_path for r in fresh_server.requests] == ["/status/200"]


def test_injection_in_ndjson_url_never_reaches_the_wire(fresh_server: TestServer) -> None:
    bad = json.dumps({"url": fresh_server.url("/headers") + " HTTP/1.1\r\nEvil: 1\r\nX: "})

    result = hx("fetch", "-", "-q", input=bad + "\n")

    assert result.exit_code == 4
    [record] = records(result)
    assert record["error"]["kind"] == "invalid_input"
    assert record["error"]["message"].startswith("line 1: not a valid URL")
    assert fresh_server.requests == []


# -- grep every output for the secrets -----------------------------------------


def test_no_secret_in_any_output(
    secrets_server: RouteServer,
    tls_server: TestServer,
    tls_ca_pem: Path,
    refused_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Representative runs with a URL password, a basic-auth password, a bearer token and a
    cookie; every byte they write (stdout, stderr, files and file names) is searched."""
    srv = secrets_server
    out = tmp_path / "outputs"
    out.mkdir()
    monkeypatch.chdir(out)
    write_urls(
        out / "urls.txt",
        with_password(srv.url("/status/200")),
        with_password(srv.url("/redirect/2")),
        with_password(srv.url("/redirect-loop")),
        with_password(srv.url("/secrets")),
        with_password(srv.url("/login")),
        with_password(srv.url("/status/503")),
        with_password(refused_url + "/x"),
        with_password(srv.url("/x y")),
        with_password(redirect_via(tls_server, srv.url("/status/200"))),
        srv.url("/gzip/300000"),
    )
    requests = out / "requests.ndjson"
    lines = [
        {"url": srv.url("/secrets"), "headers": {"Cookie": f"sid={COOKIE}"}},
        {"url": srv.url("/login"), "headers": {"Authorization": f"Bearer {BEARER}"}},
        {"url": srv.url("/status/200"), "headers": {"X-Token": f"{X_TOKEN}\r\nEvil: 1"}},
        {"url": with_password(srv.url("/redirect/1")), "id": "r"},
        {"url": redirect_via(srv, srv.url("/login").replace("127.0.0.1", "localhost"))},
    ]
    requests.write_text("".join(json.dumps(line) + "\n" for line in lines))
    common = ["--retries", "1", "--retry-delay", "0", "-vv"]
    secret_options = ["--secret-header", "X-Token", "-H", f"X-Token: {X_TOKEN}"]
    runs: list[tuple[list[str], dict[str, str] | None, str | None]] = [
        (
            ["fetch", "urls.txt", "--max-redirects", "3", "--max-size", "100K", "-O", "bodies1",
             "--include-headers", "--summary-json", "s1.json", "--journal", "j1",
             "-H", f"Cookie: sid={COOKIE}", "--cacert", str(tls_ca_pem), *secret_options,
             *common],
            None,
            None,
        ),
        (
            ["fetch", "requests.ndjson", "--auth", f"bob:{AUTH_PASSWORD}", "-O", "bodies2",
             "--include-headers", "--output-file", "r2.ndjson", "--summary-json", "s2.json",
             "--journal", "j2", "--ordered", *secret_options, *common],
            None,
            None,
        ),
        (
            ["fetch", "-", "--include-headers", *secret_options, *common],
            {"HX_BEARER": BEARER},
            "\n".join([srv.url("/secrets"), with_password(srv.url("/login"))]),
        ),
        (
            ["download", with_password(srv.url("/bytes/1000")), srv.url("/text/100"),
             with_password(refused_url + "/y"), "-d", "files", "--bearer", BEARER,
             "--summary-json", "s4.json", "--output-file", "r4.ndjson", *common],
            None,
            None,
        ),
        (
            ["download", with_password(srv.url("/login")), "-o", "-", "--auth",
             f"bob:{AUTH_PASSWORD}", *common],
            None,
            None,
        ),
    ]  # fmt: skip
    outputs: list[tuple[str, str]] = []
    for args, env, stdin in runs:
        result = hx(*args, env=env, input=stdin)
        assert result.exit_code in (0, 3, 4), (args, result.stderr)
        outputs += [(f"{args[:2]} stdout", result.stdout), (f"{args[:2]} stderr", result.stderr)]
        assert "hx: [1] >   authorization: ***" in result.stderr.splitlines(), args

    files = [p for p in out.rglob("*") if p.is_file() and p.name not in ("urls.txt",)]
    names = {p.relative_to(out).as_posix() for p in files}
    assert {"s1.json", "j1", "r2.ndjson", "s2.json", "j2", "s4.json", "r4.ndjson"} <= names
    assert any(name.startswith("bodies1/") for name in names)
    assert any(name.startswith("files/") for name in names)
    outputs.append(("file names", "\n".join(sorted(os.listdir(out)) + sorted(names))))
    for path in files:
        if path.name != "requests.ndjson":
            outputs.append((str(path), path.read_bytes().decode("utf-8", "replace")))
    for where, text in outputs:
        assert_no_secret(text, where)
    assert sum(text.count("***") for _, text in outputs) > 20  # redacted, not missing
