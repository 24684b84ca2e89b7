"""Transport and identity (issue 4), proven against real servers and proxies on loopback.

HTTP/2 comes from hypercorn (tests/tls_servers.py), the proxies are pproxy in a
child process (tests/proxy_servers.py) whose connection log tells which requests
went through it, and the certificates are made by trustme. The CLI runs
in-process; each test checks the exit code, stdout and stderr separately.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result as CliResult
from proxy_servers import ProxyProcess
from server import TestServer
from tls_servers import AsgiServer, Certificates, server_context
from typer.testing import CliRunner

from hx.cli import app

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
    "HX_BEARER",
    "NETRC",
)

INSECURE_WARNING = (
    "hx: warning: --insecure: TLS certificates are not verified; anyone on the path can listen"
)


# -- helpers -------------------------------------------------------------------


def hx(*args: str | Path, env: dict[str, str] | None = None) -> CliResult:
    """Run ``hx ARGS`` in-process with a clean proxy/TLS environment plus ``env``."""
    environ: dict[str, str | None] = dict.fromkeys(_AMBIENT)
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


def test_500_through_http_proxy(
    server: TestServer, proxies: ProxyProcess, tmp_path: Path
) -> None:
    mark = proxies.mark()
    proxy = f"http://127.0.0.1:{proxies.ports[0]}"
    result = fetch(tmp_path, byte_urls(server.base_url), "-c", "20", "--proxy", proxy)
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
    proxy = f"socks5h://sam:socks-secret@127.0.0.1:{proxies.ports[2]}"
    urls = byte_urls(f"http://localhost:{server.port}")
    result = fetch(tmp_path, urls, "-c", "20", "--proxy", proxy)
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


def test_without_client_certificate_the_server_refuses(
    mtls_server: TestServer, tls_certs: Certificates, tmp_path: Path
) -> None:
    urls = [mtls_server.url(f"/status/200?{i}") for i in range(5)]
    recs = assert_all_failed(fetch(tmp_path, urls, "--cacert", tls_certs.ca_pem), 5, "tls")
    assert "certificate" in only_message(recs)
