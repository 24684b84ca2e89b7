"""Transport and identity (issue 4), proven against real servers and proxies on loopback.

HTTP/2 comes from hypercorn (tests/tls_servers.py), the proxies are pproxy in a
child process (tests/proxy_servers.py) whose connection log tells which requests
went through it, and the certificates are made by trustme. The CLI runs
in-process; each test checks the exit code, stdout and stderr separately.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import os
import socket
import ssl
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner
from typer.testing import Result as CliResult

from hx.cli import app
from support.proxy_servers import ProxyProcess
from support.server import TestServer, expected_bytes
from support.tls_servers import AsgiServer, Certificates, server_context

N = 500
"""URLs in the "same list comes back all ok" runs."""

# Cleared for every run, so the environment of whoever runs the tests cannot
# route or trust anything; a test sets what it is about.
_AMBIENT = (
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NETRC",
)

INSECURE_WARNING = (
    "hx: warning: --insecure: TLS certificates are not verified; anyone on the path can listen"
)


# -- helpers -------------------------------------------------------------------


def hx(*args: str | Path, env: dict[str, str] | None = None) -> CliResult:
    """Run ``hx ARGS`` in-process with a clean proxy/TLS environment plus ``env``.

    No HX_* variable and no config file from whoever runs the tests applies.
    """
    environ: dict[str, str | None] = dict.fromkeys(_AMBIENT)
    environ.update(dict.fromkeys(name for name in os.environ if name.startswith("HX_")))
    environ["XDG_CONFIG_HOME"] = "/nonexistent/hx-test-config"
    environ.update(env or {})
    result = CliRunner().invoke(app, [str(a) for a in args], env=environ)
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def fetch(
    tmp_path: Path, urls: list[str], *args: str | Path, env: dict[str, str] | None = None
) -> CliResult:
    """``hx fetch`` over a URL list written to ``tmp_path``, quietly (no summary)."""
    source = tmp_path / "urls.txt"
    source.write_text("".join(url + "\n" for url in urls), encoding="utf-8")
    return hx("fetch", source, "-q", *args, env=env)


def records(result: CliResult) -> list[dict[str, Any]]:
    """stdout as NDJSON, one record per input line, sorted by line."""
    lines = result.stdout.splitlines()
    assert all(line.startswith("{") for line in lines), result.stdout[:500]
    recs = sorted((json.loads(line) for line in lines), key=lambda rec: rec["line"])
    counts = Counter(rec["line"] for rec in recs)
    assert all(n == 1 for n in counts.values()), "a line has more than one record"
    return recs


def assert_all_ok(result: CliResult, count: int, http_version: str) -> list[dict[str, Any]]:
    """Exit 0, nothing on stderr, ``count`` ok records over ``http_version``."""
    assert result.exit_code == 0, (result.stderr, result.stdout[:1000])
    assert result.stderr == ""
    recs = records(result)
    assert [rec["line"] for rec in recs] == list(range(1, count + 1))
    failures = [rec for rec in recs if not rec["ok"]]
    assert failures == [], failures[:3]
    assert {rec["status"] for rec in recs} == {200}
    assert {rec["http_version"] for rec in recs} == {http_version}
    assert {rec["attempts"] for rec in recs} == {1}
    return recs


def assert_all_failed(result: CliResult, count: int, kind: str) -> list[dict[str, Any]]:
    """Exit 4 (all failed), nothing on stderr, ``count`` records of error ``kind``."""
    assert result.exit_code == 4, (result.stderr, result.stdout[:1000])
    assert result.stderr == ""
    recs = records(result)
    assert len(recs) == count
    assert {rec["ok"] for rec in recs} == {False}
    assert {rec["status"] for rec in recs} == {None}
    assert {rec["error"]["kind"] for rec in recs} == {kind}, recs[0]
    return recs


def only_message(recs: list[dict[str, Any]]) -> str:
    """The one error message every record carries."""
    messages = {rec["error"]["message"] for rec in recs}
    assert len(messages) == 1, messages
    return messages.pop()


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def open_proxy(proxies: ProxyProcess) -> str:
    """The HTTP proxy that needs no credentials."""
    return f"http://127.0.0.1:{proxies.ports[0]}"


def socks_proxy(proxies: ProxyProcess) -> str:
    """The SOCKS5 proxy, with its credentials, resolving host names itself (socks5h)."""
    return f"socks5h://sam:socks-secret@127.0.0.1:{proxies.ports[2]}"


def proxied_to(log: list[str], host: str, port: int) -> list[str]:
    """The proxy log lines of connections to ``host:port``."""
    return [line for line in log if line.endswith(f" -> {host}:{port}")]


# -- servers that only some tests need ----------------------------------------------


@pytest.fixture(scope="module")
def mtls_server(tls_certs: Certificates) -> Iterator[TestServer]:
    """HTTPS that requires a client certificate issued by ``tls_ca``."""
    context = server_context(tls_certs.server, client_ca=tls_certs.ca)
    with TestServer(ssl_context=context) as srv:
        yield srv


@pytest.fixture(scope="module")
def tls12_server(tls_certs: Certificates) -> Iterator[TestServer]:
    """HTTPS capped at TLS 1.2."""
    context = server_context(tls_certs.server, max_version=ssl.TLSVersion.TLSv1_2)
    with TestServer(ssl_context=context) as srv:
        yield srv


@pytest.fixture(scope="module")
def expired_server(tls_certs: Certificates) -> Iterator[TestServer]:
    """HTTPS whose certificate expired a year ago."""
    with TestServer(ssl_context=server_context(tls_certs.expired)) as srv:
        yield srv


@pytest.fixture(scope="module")
def wrong_host_server(tls_certs: Certificates) -> Iterator[TestServer]:
    """HTTPS whose certificate names another host."""
    with TestServer(ssl_context=server_context(tls_certs.wrong_host)) as srv:
        yield srv


@pytest.fixture
def second_server() -> Iterator[TestServer]:
    """Another origin: same host, another port."""
    with TestServer() as srv:
        yield srv


# -- the same 500 URLs, all ok --------------------------------------------------------


def byte_urls(base: str) -> list[str]:
    """N URLs; line i asks for i - 1 bytes, so each record's size proves its body."""
    return [f"{base}/bytes/{i}" for i in range(N)]


def assert_sizes(recs: list[dict[str, Any]]) -> None:
    assert [rec["bytes"] for rec in recs] == list(range(N))


def test_500_direct_http1(server: TestServer, tmp_path: Path) -> None:
    result = fetch(tmp_path, byte_urls(server.base_url), "-c", "20")
    assert_sizes(assert_all_ok(result, N, "HTTP/1.1"))


def test_500_http2_over_tls(h2_server: AsgiServer, tls_certs: Certificates, tmp_path: Path) -> None:
    h2_server.clear_log()
    urls = byte_urls(h2_server.base_url)
    result = fetch(tmp_path, urls, "-c", "20", "--http2", "--cacert", tls_certs.ca_pem)
    assert_sizes(assert_all_ok(result, N, "HTTP/2"))
    assert Counter(seen.http_version for seen in h2_server.requests) == {"2": N}


def test_http2_falls_back_to_http1_without_alpn(
    tls_server: TestServer, tls_certs: Certificates, tmp_path: Path
) -> None:
    urls = [tls_server.url(f"/status/200?{i}") for i in range(5)]
    result = fetch(tmp_path, urls, "--http2", "--cacert", tls_certs.ca_pem)
    assert_all_ok(result, 5, "HTTP/1.1")


def test_http2_prior_knowledge_over_cleartext(h2_server: AsgiServer, tmp_path: Path) -> None:
    h2_server.clear_log()
    urls = [h2_server.h2c_url(f"/status/200?{i}") for i in range(20)]
    result = fetch(tmp_path, urls, "-c", "5", "--http2-prior-knowledge")
    assert_all_ok(result, 20, "HTTP/2")
    assert {seen.http_version for seen in h2_server.requests} == {"2"}
    assert {seen.scheme for seen in h2_server.requests} == {"http"}


def test_500_through_http_proxy(server: TestServer, proxies: ProxyProcess, tmp_path: Path) -> None:
    mark = proxies.mark()
    args = ["-c", "20", "--proxy", open_proxy(proxies)]
    result = fetch(tmp_path, byte_urls(server.base_url), *args)
    assert_sizes(assert_all_ok(result, N, "HTTP/1.1"))
    # One log line per connection the proxy opened onwards, at most one per client connection.
    log = proxies.since(mark)
    assert 1 <= len(proxied_to(log, "127.0.0.1", server.port)) <= 20, log


def test_https_through_http_proxy_tunnel(
    h2_server: AsgiServer, tls_certs: Certificates, proxies: ProxyProcess, tmp_path: Path
) -> None:
    # CONNECT: TLS and ALPN go end to end, so HTTP/2 works through the tunnel.
    mark = proxies.mark()
    proxy = f"http://alice:proxy-secret@127.0.0.1:{proxies.ports[1]}"
    urls = [h2_server.url(f"/status/200?{i}") for i in range(50)]
    args = ["-c", "10", "--http2", "--proxy", proxy, "--cacert", tls_certs.ca_pem]
    result = fetch(tmp_path, urls, *args)
    assert_all_ok(result, 50, "HTTP/2")
    assert proxied_to(proxies.since(mark), "127.0.0.1", h2_server.port)


def test_500_through_socks5h_with_auth(
    server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    mark = proxies.mark()
    urls = byte_urls(f"http://localhost:{server.port}")
    result = fetch(tmp_path, urls, "-c", "20", "--proxy", socks_proxy(proxies))
    assert_sizes(assert_all_ok(result, N, "HTTP/1.1"))
    log = proxies.since(mark)
    # socks5h: the proxy got the host name, not an address hx resolved.
    through = proxied_to(log, "localhost", server.port)
    assert through and all(line.startswith("socks5 ") for line in through), log
    assert not proxied_to(log, "127.0.0.1", server.port)


def test_500_with_client_certificate(
    mtls_server: TestServer, tls_certs: Certificates, tmp_path: Path
) -> None:
    args = ["--cacert", tls_certs.ca_pem, "--cert", tls_certs.client_cert]
    result = fetch(
        tmp_path, byte_urls(mtls_server.base_url), "-c", "20", *args, "--key", tls_certs.client_key
    )
    assert_sizes(assert_all_ok(result, N, "HTTP/1.1"))


def test_client_certificate_and_key_in_one_file(
    mtls_server: TestServer, tls_certs: Certificates, tmp_path: Path
) -> None:
    urls = [mtls_server.url("/status/200")]
    args = ["--cacert", tls_certs.ca_pem, "--cert", tls_certs.client_cert_and_key]
    assert_all_ok(fetch(tmp_path, urls, *args), 1, "HTTP/1.1")


def test_without_client_certificate_nothing_gets_through(
    mtls_server: TestServer, tls_certs: Certificates, tmp_path: Path
) -> None:
    mtls_server.clear_log()
    urls = [mtls_server.url(f"/status/200?{i}") for i in range(20)]
    result = fetch(tmp_path, urls, "-c", "5", "--retries", "0", "--cacert", tls_certs.ca_pem)
    assert result.exit_code == 4
    assert {rec["status"] for rec in records(result)} == {None}
    assert mtls_server.requests == []


def test_without_client_certificate_every_record_is_tls(
    mtls_server: TestServer, tls_certs: Certificates, tmp_path: Path
) -> None:
    urls = [mtls_server.url(f"/status/200?{i}") for i in range(100)]
    result = fetch(tmp_path, urls, "-c", "20", "--retries", "0", "--cacert", tls_certs.ca_pem)
    recs = assert_all_failed(result, 100, "tls")
    assert only_message(recs) == "TLSV13_ALERT_CERTIFICATE_REQUIRED"


# -- trust: wrong CA, -k, expired, wrong host, TLS version -------------------------------


def test_wrong_ca_every_record_is_tls(h2_server: AsgiServer, tmp_path: Path) -> None:
    # No --cacert: certifi's CAs do not include the test CA.
    result = fetch(tmp_path, byte_urls(h2_server.base_url), "-c", "20", "--http2")
    recs = assert_all_failed(result, N, "tls")
    assert only_message(recs) == "certificate verify failed: unable to get local issuer certificate"
    assert {rec["attempts"] for rec in recs} == {1}


def test_insecure_succeeds_and_warns(h2_server: AsgiServer, tmp_path: Path) -> None:
    result = fetch(tmp_path, byte_urls(h2_server.base_url), "-c", "20", "--http2", "-k")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == INSECURE_WARNING + "\n"
    recs = records(result)
    assert len(recs) == N
    assert {(rec["ok"], rec["status"], rec["http_version"]) for rec in recs} == {
        (True, 200, "HTTP/2")
    }


def test_insecure_warning_comes_before_the_summary(h2_server: AsgiServer, tmp_path: Path) -> None:
    source = tmp_path / "urls.txt"
    source.write_text(h2_server.url("/status/200") + "\n")
    result = hx("fetch", source, "--insecure")
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert lines[0] == INSECURE_WARNING
    assert lines[1].startswith("hx: 1 request in ")


def test_expired_certificate(
    expired_server: TestServer, tls_certs: Certificates, tmp_path: Path
) -> None:
    urls = [expired_server.url("/status/200")]
    recs = assert_all_failed(fetch(tmp_path, urls, "--cacert", tls_certs.ca_pem), 1, "tls")
    assert only_message(recs) == "certificate verify failed: certificate has expired"


def test_wrong_host_certificate(
    wrong_host_server: TestServer, tls_certs: Certificates, tmp_path: Path
) -> None:
    port = wrong_host_server.port
    urls = [f"https://127.0.0.1:{port}/status/200", f"https://localhost:{port}/status/200"]
    recs = assert_all_failed(fetch(tmp_path, urls, "--cacert", tls_certs.ca_pem), 2, "tls")
    assert [rec["error"]["message"] for rec in recs] == [
        "certificate verify failed: IP address mismatch, certificate is not valid for '127.0.0.1'.",
        "certificate verify failed: Hostname mismatch, certificate is not valid for 'localhost'.",
    ]


def test_tls_min_above_what_the_server_offers(
    tls12_server: TestServer, tls_certs: Certificates, tmp_path: Path
) -> None:
    urls = [tls12_server.url("/status/200")]
    ca = ["--cacert", tls_certs.ca_pem]
    recs = assert_all_failed(fetch(tmp_path, urls, *ca, "--tls-min", "1.3"), 1, "tls")
    assert "PROTOCOL_VERSION" in only_message(recs)
    assert_all_ok(fetch(tmp_path, urls, *ca, "--tls-min", "1.2"), 1, "HTTP/1.1")


def test_ssl_cert_file_from_the_environment(
    h2_server: AsgiServer, tls_certs: Certificates, tmp_path: Path
) -> None:
    urls = [h2_server.url("/status/200")]
    env = {"SSL_CERT_FILE": str(tls_certs.ca_pem)}
    assert_all_ok(fetch(tmp_path, urls, "--http2", env=env), 1, "HTTP/2")


def test_a_missing_ssl_cert_file_is_a_usage_error_before_any_request(
    server: TestServer, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-ca.pem"
    result = fetch(tmp_path, [server.url("/status/200")], env={"SSL_CERT_FILE": str(missing)})
    assert result.exit_code == 2
    assert result.stderr == f"hx: error: SSL_CERT_FILE {missing}: no such file\n"


def test_an_ssl_cert_file_is_loaded_only_for_https(
    server: TestServer, h2_server: AsgiServer, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    env = {"SSL_CERT_FILE": str(garbage)}
    assert_all_ok(fetch(tmp_path, [server.url("/status/200")], env=env), 1, "HTTP/1.1")
    result = fetch(tmp_path, [h2_server.url("/status/200")], "--http2", env=env)
    assert result.exit_code == 2, result.stdout
    assert result.stderr.startswith(f"hx: error: SSL_CERT_FILE/DIR {garbage}: ")


# -- secrets ----------------------------------------------------------------------------

SECRETS = ("proxy-secret", "auth-secret", "url-secret", "socks-secret")
ENCODED_SECRETS = tuple(
    base64.b64encode(pair.encode()).decode()
    for pair in ("alice:proxy-secret", "bob:auth-secret", "carol:url-secret", "sam:socks-secret")
)


def assert_no_secret(text: str | bytes, where: str) -> None:
    data = text.encode() if isinstance(text, str) else text
    for secret in (*SECRETS, *ENCODED_SECRETS):
        assert secret.encode() not in data, f"{secret!r} leaked into {where}"


def test_credentials_never_leak(
    server: TestServer, second_server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    out, summary, journal = tmp_path / "out", tmp_path / "summary.json", tmp_path / "journal"
    urls = [
        server.url("/bytes/100"),
        server.url("/status/404"),
        f"http://carol:url-secret@127.0.0.1:{server.port}/status/200",
        server.url(f"/redirect-to?url={second_server.url('/status/200')}"),
        f"http://127.0.0.1:{closed_port()}/status/200",
    ]
    proxy = f"http://alice:proxy-secret@127.0.0.1:{proxies.ports[1]}"
    server.clear_log()
    source = tmp_path / "urls.txt"
    source.write_text("".join(url + "\n" for url in urls))
    args = ["--proxy", proxy, "--auth", "bob:auth-secret", "--retries", "0"]
    mark = proxies.mark()
    result = hx("fetch", source, *args, "-O", out, "--summary-json", summary, "--journal", journal)
    assert result.exit_code == 3, result.stderr
    recs = records(result)
    assert [rec["ok"] for rec in recs] == [True, False, True, True, False]
    assert recs[2]["url"] == f"http://carol:***@127.0.0.1:{server.port}/status/200"
    # The credentials did their job: the server got them, through the proxy.
    assert {log.headers.get("authorization") for log in server.requests} == {
        basic("bob", "auth-secret")
    }
    log = proxies.since(mark)
    assert proxied_to(log, "127.0.0.1", server.port), log
    assert proxied_to(log, "127.0.0.1", second_server.port), log
    assert_no_secret(result.stdout, "stdout")
    assert_no_secret(result.stderr, "stderr")
    assert_no_secret(summary.read_bytes(), "--summary-json")
    assert_no_secret(journal.read_bytes(), "--journal")
    saved = sorted(out.iterdir())
    assert [path.name for path in saved] == ["1-100", "2-404", "3-200", "4-redirect-to"]
    for path in saved:
        assert_no_secret(path.name, "a saved file's name")
        assert_no_secret(path.read_bytes(), str(path))


@pytest.mark.parametrize("scheme", ["http", "socks5h"])
def test_unreachable_proxy(server: TestServer, scheme: str, tmp_path: Path) -> None:
    port = closed_port()
    summary = tmp_path / "summary.json"
    source = tmp_path / "urls.txt"
    source.write_text(server.url("/status/200") + "\n" + server.url("/bytes/10") + "\n")
    proxy = f"{scheme}://alice:proxy-secret@127.0.0.1:{port}"
    result = hx("fetch", source, "--proxy", proxy, "--summary-json", summary)
    assert result.exit_code == 4
    recs = records(result)
    assert {rec["error"]["kind"] for rec in recs} == {"proxy"}
    assert only_message(recs).startswith(
        f"cannot reach proxy {scheme}://alice:***@127.0.0.1:{port}: "
    )
    assert_no_secret(result.stdout, "stdout")
    assert_no_secret(result.stderr, "stderr")
    assert_no_secret(summary.read_bytes(), "--summary-json")
    assert json.loads(summary.read_text())["by_error"] == {"proxy": 2}


@contextlib.contextmanager
def resource_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """ResourceWarnings raised inside, garbage collected at the end: recorded, not raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield caught
        gc.collect()


def test_socks_proxy_refusing_the_password(
    server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    proxy = f"socks5h://sam:wrong-secret@127.0.0.1:{proxies.ports[2]}"
    with resource_warnings():
        result = fetch(tmp_path, [server.url("/status/200")], "--proxy", proxy)
    recs = assert_all_failed(result, 1, "proxy")
    assert only_message(recs).endswith(": Invalid username/password")
    assert "wrong-secret" not in result.stdout


def test_http_proxy_refusing_a_tunnel(
    h2_server: AsgiServer, tls_certs: Certificates, proxies: ProxyProcess, tmp_path: Path
) -> None:
    proxy = f"http://alice:wrong-secret@127.0.0.1:{proxies.ports[1]}"
    urls = [h2_server.url("/status/200")]
    result = fetch(tmp_path, urls, "--proxy", proxy, "--cacert", tls_certs.ca_pem)
    recs = assert_all_failed(result, 1, "proxy")
    assert only_message(recs).endswith(": 407 Proxy Authentication Required")


@pytest.mark.xfail(
    strict=True,
    reason="httpcore 1.0.9 leaves the proxy socket open when the SOCKS handshake fails",
)
def test_failed_socks_handshake_closes_its_socket(
    server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    proxy = f"socks5h://sam:wrong-secret@127.0.0.1:{proxies.ports[2]}"
    with resource_warnings() as caught:
        fetch(tmp_path, [server.url("/status/200")], "--proxy", proxy)
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


def test_socks_proxy_hanging_up_is_a_proxy_failure(
    server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    # This proxy wants a password; offered none, pproxy closes without a reply.
    proxy = f"socks5h://127.0.0.1:{proxies.ports[2]}"
    urls = [server.url("/status/200"), server.url("/bytes/1")]
    with resource_warnings():
        result = fetch(tmp_path, urls, "--proxy", proxy)
    assert_all_failed(result, 2, "proxy")


# -- proxies from the environment ---------------------------------------------------------


def routes(
    proxies: ProxyProcess, tmp_path: Path, urls: list[str], *args: str, env: dict[str, str]
) -> list[str]:
    """Fetch ``urls`` (all must succeed); the proxy log lines of the run."""
    mark = proxies.mark()
    assert_all_ok(fetch(tmp_path, urls, *args, env=env), len(urls), "HTTP/1.1")
    return proxies.since(mark)


@pytest.mark.parametrize("name", ["http_proxy", "ALL_PROXY", "all_proxy"])
def test_env_proxy_for_http(
    name: str, second_server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    log = routes(
        proxies, tmp_path, [second_server.url("/status/200")], env={name: open_proxy(proxies)}
    )
    assert proxied_to(log, "127.0.0.1", second_server.port), log


@pytest.mark.parametrize("name", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_env_proxy_for_https(
    name: str,
    h2_server: AsgiServer,
    tls_certs: Certificates,
    proxies: ProxyProcess,
    tmp_path: Path,
) -> None:
    urls = [h2_server.url("/status/200")]
    env = {name: open_proxy(proxies)}
    log = routes(proxies, tmp_path, urls, "--cacert", str(tls_certs.ca_pem), env=env)
    assert proxied_to(log, "127.0.0.1", h2_server.port), log


def test_env_https_proxy_is_not_used_for_http(
    second_server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    env = {"HTTPS_PROXY": open_proxy(proxies)}
    log = routes(proxies, tmp_path, [second_server.url("/status/200")], env=env)
    assert not proxied_to(log, "127.0.0.1", second_server.port), log
    assert len(second_server.requests) == 1


def test_env_all_proxy_socks(
    second_server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    env = {"ALL_PROXY": socks_proxy(proxies)}
    log = routes(proxies, tmp_path, [second_server.url("/status/200")], env=env)
    lines = proxied_to(log, "127.0.0.1", second_server.port)
    assert lines and lines[0].startswith("socks5 "), log


def test_env_uppercase_http_proxy_is_ignored_for_http(
    second_server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    # curl (and hx) ignore HTTP_PROXY: a CGI script gets it from a request's "Proxy:" header.
    env = {"HTTP_PROXY": open_proxy(proxies)}
    log = routes(proxies, tmp_path, [second_server.url("/status/200")], env=env)
    assert not proxied_to(log, "127.0.0.1", second_server.port), log
    assert len(second_server.requests) == 1


def test_env_http_proxy_beats_all_proxy(
    second_server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    env = {"http_proxy": open_proxy(proxies), "ALL_PROXY": socks_proxy(proxies)}
    log = routes(proxies, tmp_path, [second_server.url("/status/200")], env=env)
    lines = proxied_to(log, "127.0.0.1", second_server.port)
    assert lines and lines[0].startswith("http "), log


@pytest.mark.parametrize("name", ["NO_PROXY", "no_proxy"])
def test_env_no_proxy_bypasses_listed_hosts(
    name: str, second_server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    port = second_server.port
    urls = [f"http://localhost:{port}/status/200", f"http://127.0.0.1:{port}/status/200"]
    env = {"http_proxy": open_proxy(proxies), name: "example.org,localhost"}
    log = routes(proxies, tmp_path, urls, env=env)
    assert not proxied_to(log, "localhost", port), log
    assert proxied_to(log, "127.0.0.1", port), log
    assert len(second_server.requests) == 2


def test_noproxy_option_replaces_env_no_proxy(
    second_server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    port = second_server.port
    urls = [f"http://localhost:{port}/status/200", f"http://127.0.0.1:{port}/status/200"]
    env = {"http_proxy": open_proxy(proxies), "NO_PROXY": "localhost"}
    log = routes(proxies, tmp_path, urls, "--noproxy", "127.0.0.0/8", env=env)
    assert proxied_to(log, "localhost", port), log
    assert not proxied_to(log, "127.0.0.1", port), log


def test_noproxy_option_applies_to_proxy_option(
    second_server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    urls = [second_server.url("/status/200")]
    args = ["--proxy", open_proxy(proxies), "--noproxy", "127.0.0.1"]
    log = routes(proxies, tmp_path, urls, *args, env={})
    assert not proxied_to(log, "127.0.0.1", second_server.port), log


def test_no_env_proxy_ignores_the_environment(
    second_server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    env = {"http_proxy": open_proxy(proxies), "ALL_PROXY": socks_proxy(proxies)}
    urls = [second_server.url("/status/200")]
    log = routes(proxies, tmp_path, urls, "--no-env-proxy", env=env)
    assert not proxied_to(log, "127.0.0.1", second_server.port), log
    assert len(second_server.requests) == 1


def test_proxy_option_beats_the_environment(
    second_server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    env = {"http_proxy": f"http://127.0.0.1:{closed_port()}"}
    urls = [second_server.url("/status/200")]
    log = routes(proxies, tmp_path, urls, "--proxy", open_proxy(proxies), env=env)
    assert proxied_to(log, "127.0.0.1", second_server.port), log


def test_env_proxy_with_a_bad_url_is_a_usage_error(server: TestServer, tmp_path: Path) -> None:
    result = fetch(tmp_path, [server.url("/status/200")], env={"http_proxy": "ftp://x:y@h:1"})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("hx: error: http_proxy: unsupported proxy scheme 'ftp'")
    assert "y@" not in result.stderr


# -- auth -------------------------------------------------------------------------------


def only_request(srv: TestServer) -> dict[str, str]:
    [log] = srv.requests
    return log.headers


def test_basic_auth(second_server: TestServer, tmp_path: Path) -> None:
    result = fetch(tmp_path, [second_server.url("/status/200")], "--auth", "user:pa:ss")
    assert_all_ok(result, 1, "HTTP/1.1")
    assert only_request(second_server)["authorization"] == basic("user", "pa:ss")


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--bearer", "t0ken"], {}), ([], {"HX_BEARER": "t0ken"})],
    ids=["option", "env"],
)
def test_bearer_token(
    args: list[str], env: dict[str, str], second_server: TestServer, tmp_path: Path
) -> None:
    result = fetch(tmp_path, [second_server.url("/status/200")], *args, env=env)
    assert_all_ok(result, 1, "HTTP/1.1")
    assert only_request(second_server)["authorization"] == "Bearer t0ken"


def test_netrc_file(second_server: TestServer, tmp_path: Path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(
        "machine example.org login other password nope\n"
        "machine 127.0.0.1 login nuser password npass\n"
    )
    netrc.chmod(0o600)
    result = fetch(tmp_path, [second_server.url("/status/200")], "--netrc-file", netrc)
    assert_all_ok(result, 1, "HTTP/1.1")
    assert only_request(second_server)["authorization"] == basic("nuser", "npass")


AUTH_OPTIONS = pytest.mark.parametrize(
    ("auth", "header"),
    [(["--auth", "u:p"], basic("u", "p")), (["--bearer", "t0ken"], "Bearer t0ken")],
    ids=["basic", "bearer"],
)
SECRET_HEADER = ["-H", "X-Api-Token: s3cr3t", "--secret-header", "X-Api-Token"]


@AUTH_OPTIONS
def test_secrets_dropped_on_cross_origin_redirect(
    auth: list[str],
    header: str,
    fresh_server: TestServer,
    second_server: TestServer,
    tmp_path: Path,
) -> None:
    url = fresh_server.url(f"/redirect-to?url={second_server.url('/headers')}")
    result = fetch(tmp_path, [url], *auth, *SECRET_HEADER)
    [rec] = assert_all_ok(result, 1, "HTTP/1.1")
    assert rec["final_url"] == second_server.url("/headers")
    first = only_request(fresh_server)
    assert (first["authorization"], first["x-api-token"]) == (header, "s3cr3t")
    second = only_request(second_server)
    assert "authorization" not in second
    assert "x-api-token" not in second


@AUTH_OPTIONS
def test_secrets_kept_on_same_origin_redirect(
    auth: list[str], header: str, fresh_server: TestServer, tmp_path: Path
) -> None:
    url = fresh_server.url("/redirect-to?url=/headers")
    assert_all_ok(fetch(tmp_path, [url], *auth, *SECRET_HEADER), 1, "HTTP/1.1")
    assert [log.url_path for log in fresh_server.requests] == ["/redirect-to", "/headers"]
    for log in fresh_server.requests:
        assert (log.headers["authorization"], log.headers["x-api-token"]) == (header, "s3cr3t")


def test_https_to_http_redirect_refused(
    h2_server: AsgiServer, tls_certs: Certificates, second_server: TestServer, tmp_path: Path
) -> None:
    target = second_server.url("/status/200")
    urls = [h2_server.url(f"/redirect-to?url={target}")]
    recs = assert_all_failed(fetch(tmp_path, urls, "--cacert", tls_certs.ca_pem), 1, "redirect")
    assert only_message(recs) == (
        f"redirect from https to http refused (--allow-downgrade allows it): {target}"
    )
    assert second_server.requests == []


def test_https_to_http_redirect_allowed(
    h2_server: AsgiServer, tls_certs: Certificates, second_server: TestServer, tmp_path: Path
) -> None:
    target = second_server.url("/status/200")
    urls = [h2_server.url(f"/redirect-to?url={target}")]
    args = ["--cacert", tls_certs.ca_pem, "--allow-downgrade", "--auth", "u:p"]
    [rec] = assert_all_ok(fetch(tmp_path, urls, *args), 1, "HTTP/1.1")
    assert rec["final_url"] == target
    assert "authorization" not in only_request(second_server)


# -- cookies ----------------------------------------------------------------------------


def test_requests_are_independent_by_default(fresh_server: TestServer, tmp_path: Path) -> None:
    urls = [fresh_server.url("/set-cookie?session=abc"), fresh_server.url("/headers")]
    assert_all_ok(fetch(tmp_path, urls, "-c", "1"), 2, "HTTP/1.1")
    first, second = fresh_server.requests
    assert (first.url_path, second.url_path) == ("/set-cookie", "/headers")
    assert "cookie" not in second.headers


def test_cookie_jar_shared_across_runs(fresh_server: TestServer, tmp_path: Path) -> None:
    jar = tmp_path / "cookies.txt"
    login = [fresh_server.url("/set-cookie?session=abc123")]
    assert_all_ok(fetch(tmp_path, login, "--cookie-jar", jar), 1, "HTTP/1.1")
    text = jar.read_text()
    assert text.startswith("# Netscape HTTP Cookie File")
    [entry] = [line.split("\t") for line in text.splitlines() if line and line[0] != "#"]
    assert entry[0].startswith("127.0.0.1")
    assert entry[2:3] + entry[5:] == ["/", "session", "abc123"]
    assert jar.stat().st_mode & 0o777 == 0o600

    urls = [fresh_server.url("/headers")]
    assert_all_ok(fetch(tmp_path, urls, "--cookie-jar", jar), 1, "HTTP/1.1")
    assert fresh_server.requests[-1].headers.get("cookie") == "session=abc123"


def test_cookie_jar_shared_within_a_batch(fresh_server: TestServer, tmp_path: Path) -> None:
    jar = tmp_path / "cookies.txt"
    urls = [fresh_server.url("/set-cookie?session=abc"), fresh_server.url("/headers")]
    assert_all_ok(fetch(tmp_path, urls, "-c", "1", "--cookie-jar", jar), 2, "HTTP/1.1")
    first, second = fresh_server.requests
    assert (first.url_path, second.url_path) == ("/set-cookie", "/headers")
    assert second.headers.get("cookie") == "session=abc"


def test_cookie_from_a_redirect_goes_to_the_next_hop(
    h2_server: AsgiServer, tls_certs: Certificates, tmp_path: Path
) -> None:
    h2_server.clear_log()
    urls = [h2_server.url("/redirect-to?url=/cookies&cookie=hop=1"), h2_server.url("/cookies")]
    args = ["-c", "1", "--http2", "--cacert", tls_certs.ca_pem]
    assert_all_ok(fetch(tmp_path, urls, *args), 2, "HTTP/2")
    seen = [(r.path, r.headers.get("cookie")) for r in h2_server.requests]
    # The chain's cookie stays in the chain: the next request starts without it.
    assert seen == [("/redirect-to", None), ("/cookies", "hop=1"), ("/cookies", None)]


# -- hx download shares the transport options ---------------------------------------------


def test_download_through_socks5h_over_http2(
    h2_server: AsgiServer, tls_certs: Certificates, proxies: ProxyProcess, tmp_path: Path
) -> None:
    mark = proxies.mark()
    url = f"https://localhost:{h2_server.port}/bytes/100000"
    args = ["--http2", "--cacert", tls_certs.ca_pem, "--proxy", socks_proxy(proxies)]
    result = hx("download", "-q", "-d", tmp_path, *args, url)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    [rec] = records(result)
    assert (rec["ok"], rec["http_version"], rec["bytes"]) == (True, "HTTP/2", 100_000)
    assert (tmp_path / "100000").read_bytes() == expected_bytes(100_000)
    assert proxied_to(proxies.since(mark), "localhost", h2_server.port)
    assert_no_secret(result.stdout, "stdout")


def test_download_with_the_wrong_ca(h2_server: AsgiServer, tmp_path: Path) -> None:
    result = hx("download", "-q", "-d", tmp_path, h2_server.url("/bytes/10"))
    assert result.exit_code == 4
    [rec] = records(result)
    assert rec["error"] == {
        "kind": "tls",
        "message": "certificate verify failed: unable to get local issuer certificate",
    }
    assert list(tmp_path.iterdir()) == []
