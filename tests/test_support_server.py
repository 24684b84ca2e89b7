"""Self-tests for the stdlib test server in tests/support/server.py."""

from __future__ import annotations

import gzip
import socket
import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import trustme

from support.server import TestServer, expected_bytes, expected_text

# Building an httpx.Client loads the CA bundle (~45 ms); share one SSLContext instead.
_VERIFY = ssl.create_default_context()


def _client(**kwargs: Any) -> httpx.Client:
    kwargs.setdefault("timeout", 5.0)
    kwargs.setdefault("verify", _VERIFY)
    return httpx.Client(**kwargs)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with _client() as c:
        yield c


# -- /status ------------------------------------------------------------------


@pytest.mark.parametrize("code", [200, 201, 400, 404, 418, 429, 500, 503, 599])
def test_status(server: TestServer, client: httpx.Client, code: int) -> None:
    r = client.get(server.url(f"/status/{code}"))
    assert r.status_code == code
    assert r.text == f"status {code}\n"


@pytest.mark.parametrize("code", [204, 304])
def test_status_without_body(server: TestServer, client: httpx.Client, code: int) -> None:
    r = client.get(server.url(f"/status/{code}"))
    assert r.status_code == code
    assert r.content == b""
    # the connection is still usable afterwards
    assert client.get(server.url("/status/200")).status_code == 200


@pytest.mark.parametrize("bad", ["abc", "99", "600", "-1", "2x0"])
def test_status_invalid(server: TestServer, client: httpx.Client, bad: str) -> None:
    assert client.get(server.url(f"/status/{bad}")).status_code == 400


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"])
def test_status_any_method(server: TestServer, client: httpx.Client, method: str) -> None:
    r = client.request(method, server.url("/status/201"), content=b"ignored")
    assert r.status_code == 201
    assert r.text == "status 201\n"


# -- /bytes, /text, /html, /json, /gzip ------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 255, 256, 1000, 64 * 1024, 200_000])
def test_bytes(server: TestServer, client: httpx.Client, n: int) -> None:
    r = client.get(server.url(f"/bytes/{n}"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-length"] == str(n)
    assert r.content == expected_bytes(n)


def test_bytes_large_streamed(server: TestServer, client: httpx.Client) -> None:
    n = 5 * 1024 * 1024 + 7
    total = 0
    with client.stream("GET", server.url(f"/bytes/{n}")) as r:
        for chunk in r.iter_raw():
            total += len(chunk)
    assert total == n


def test_text(server: TestServer, client: httpx.Client) -> None:
    r = client.get(server.url("/text/1000"))
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert len(r.content) == 1000
    assert r.content.isascii()
    assert r.text == expected_text(1000)


def test_html_and_json(server: TestServer, client: httpx.Client) -> None:
    r = client.get(server.url("/html"))
    assert r.headers["content-type"].startswith("text/html")
    assert "<html>" in r.text
    r = client.get(server.url("/json"))
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"hello": "world", "n": 1}


def test_gzip(server: TestServer, client: httpx.Client) -> None:
    r = client.get(server.url("/gzip/5000"))
    assert r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) < 5000
    assert r.text == expected_text(5000)
    with client.stream("GET", server.url("/gzip/5000")) as raw:
        assert gzip.decompress(b"".join(raw.iter_raw())) == expected_text(5000).encode()


def test_not_found(server: TestServer, client: httpx.Client) -> None:
    for path in ["/", "/nope", "/status", "/bytes/1/2"]:
        r = client.get(server.url(path))
        assert (r.status_code, r.text) == (404, "not found")


# -- HEAD ---------------------------------------------------------------------------


def test_head(server: TestServer, client: httpx.Client) -> None:
    r = client.head(server.url("/bytes/12345"))
    assert r.status_code == 200
    assert r.headers["content-length"] == "12345"
    assert r.content == b""
    r = client.head(server.url("/status/404"))
    assert r.status_code == 404
    assert r.content == b""
    # keep-alive survived both bodiless responses
    assert client.get(server.url("/bytes/3")).content == b"\x00\x01\x02"


# -- /echo, /headers -------------------------------------------------------------


def test_echo_get(server: TestServer, client: httpx.Client) -> None:
    r = client.get(server.url("/echo?a=1&a=2&b="), headers={"X-Test": "yes"})
    data = r.json()
    assert data["method"] == "GET"
    assert data["path"] == "/echo"
    assert data["raw_path"] == "/echo?a=1&a=2&b="
    assert data["query"] == {"a": ["1", "2"], "b": [""]}
    assert data["headers"]["x-test"] == "yes"
    assert data["body"] == ""
    assert data["body_base64"] is False


def test_echo_json_body(server: TestServer, client: httpx.Client) -> None:
    r = client.post(server.url("/echo"), json={"k": "v"})
    data = r.json()
    assert data["method"] == "POST"
    assert data["headers"]["content-type"] == "application/json"
    assert httpx.Response(200, content=data["body"]).json() == {"k": "v"}


def test_echo_chunked_body(server: TestServer, client: httpx.Client) -> None:
    r = client.put(server.url("/echo"), content=iter([b"hello ", b"chunked ", b"world"]))
    data = r.json()
    assert data["method"] == "PUT"
    assert data["headers"]["transfer-encoding"] == "chunked"
    assert "content-length" not in data["headers"]
    assert data["body"] == "hello chunked world"


def test_echo_binary_body(server: TestServer, client: httpx.Client) -> None:
    r = client.post(server.url("/echo"), content=b"\xff\xfe\x00")
    data = r.json()
    assert data["body_base64"] is True
    assert data["body"] == "//4A"


def test_headers(server: TestServer, client: httpx.Client) -> None:
    r = client.get(server.url("/headers"), headers={"X-One": "1", "Authorization": "Bearer t"})
    data = r.json()
    assert data["x-one"] == "1"
    assert data["authorization"] == "Bearer t"
    assert all(name == name.lower() for name in data)


def test_bad_chunked_body_is_400(server: TestServer) -> None:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400 ")


# -- redirects ------------------------------------------------------------------------


def test_redirect_chain(server: TestServer, client: httpx.Client) -> None:
    r = client.get(server.url("/redirect/3"))
    assert r.status_code == 302
    assert r.headers["location"] == "/redirect/2"
    r = client.get(server.url("/redirect/3"), follow_redirects=True)
    assert (r.status_code, r.text) == (200, "done")
    assert len(r.history) == 3


def test_redirect_to(server: TestServer, client: httpx.Client) -> None:
    r = client.get(server.url("/redirect-to"), params={"url": "/json", "status": "307"})
    assert r.status_code == 307
    assert r.headers["location"] == "/json"
    r = client.get(server.url("/redirect-to"), params={"url": server.url("/json")})
    assert r.status_code == 302
    r = client.get(server.url("/redirect-to"), params={"url": "/json"}, follow_redirects=True)
    assert r.json() == {"hello": "world", "n": 1}
    assert client.get(server.url("/redirect-to")).status_code == 400
    bad = client.get(server.url("/redirect-to"), params={"url": "/json", "status": "200"})
    assert bad.status_code == 400


def test_redirect_loop(server: TestServer) -> None:
    with _client(max_redirects=5, follow_redirects=True) as c:
        with pytest.raises(httpx.TooManyRedirects):
            c.get(server.url("/redirect-loop"))


# -- /set-cookie, /content-type -----------------------------------------------------------


def test_set_cookie(server: TestServer, client: httpx.Client) -> None:
    r = client.get(server.url("/set-cookie?a=1&b=two"))
    assert r.headers.get_list("set-cookie") == ["a=1; Path=/", "b=two; Path=/"]
    assert r.cookies["a"] == "1"
    assert r.cookies["b"] == "two"


def test_content_type(server: TestServer, client: httpx.Client) -> None:
    r = client.get(server.url("/content-type"), params={"type": "image/png", "body": "xyz"})
    assert r.headers["content-type"] == "image/png"
    assert r.content == b"xyz"
    r = client.get(server.url("/content-type"))
    assert "content-type" not in r.headers
    assert r.content == b""


# -- timing: /slow, /drip -----------------------------------------------------------------


def test_slow(server: TestServer, client: httpx.Client) -> None:
    start = time.monotonic()
    r = client.get(server.url("/slow?delay=0.1"))
    assert time.monotonic() - start >= 0.1
    assert (r.status_code, r.text) == (200, "slow")


def test_slow_read_timeout(server: TestServer) -> None:
    with _client(timeout=0.05) as c, pytest.raises(httpx.ReadTimeout):
        c.get(server.url("/slow?delay=0.3"))


@pytest.mark.parametrize("chunked", [False, True])
def test_drip(server: TestServer, client: httpx.Client, chunked: bool) -> None:
    start = time.monotonic()
    url = server.url(f"/drip?bytes=5&delay=0.05&chunked={int(chunked)}")
    with client.stream("GET", url) as r:
        if chunked:
            assert r.headers["transfer-encoding"] == "chunked"
            assert "content-length" not in r.headers
        else:
            assert r.headers["content-length"] == "5"
        first_header_at = time.monotonic() - start
        body = r.read()
    assert time.monotonic() - start >= 0.2
    assert first_header_at < 0.15  # headers are sent before the first delay
    assert body == b"*****"


def test_drip_client_disconnect_is_quiet(fresh_server: TestServer) -> None:
    with _client() as c:
        with c.stream("GET", fresh_server.url("/drip?bytes=50&delay=0.01")) as r:
            next(r.iter_raw(1))
        time.sleep(0.1)  # let the server hit the broken connection
        assert c.get(fresh_server.url("/json")).status_code == 200
    # fresh_server's teardown fails the test if a handler raised anything but OSError


# -- connections, keep-alive, concurrency ------------------------------------------------


def test_keep_alive_reuses_connection(fresh_server: TestServer) -> None:
    with _client() as c:
        assert c.get(fresh_server.url("/json")).status_code == 200
        assert c.post(fresh_server.url("/echo"), content=b"x").status_code == 200
        assert c.get(fresh_server.url("/bytes/100000")).status_code == 200
    assert fresh_server.connections == 1
    with _client() as c1, _client() as c2:
        c1.get(fresh_server.url("/json"))
        c2.get(fresh_server.url("/json"))
    assert fresh_server.connections == 3


def test_connection_close_header(fresh_server: TestServer) -> None:
    with _client(headers={"Connection": "close"}) as c:
        c.get(fresh_server.url("/json"))
        c.get(fresh_server.url("/json"))
    assert fresh_server.connections == 2


def test_two_hundred_concurrent_connections(fresh_server: TestServer) -> None:
    # Connect all 200 first (the listen backlog must hold them), then send every request.
    start = time.monotonic()
    socks = [
        socket.create_connection((fresh_server.host, fresh_server.port), 5) for _ in range(200)
    ]
    try:
        for sock in socks:
            sock.sendall(b"GET /slow?delay=0.2 HTTP/1.1\r\nHost: test\r\n\r\n")
        for sock in socks:
            reply = b""
            while not reply.endswith(b"\r\n\r\nslow"):
                data = sock.recv(4096)
                assert data, reply
                reply += data
            assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
    finally:
        for sock in socks:
            sock.close()
    assert time.monotonic() - start < 2.0  # served concurrently, not 200 * 0.2 s
    assert fresh_server.connections == 200
    assert len(fresh_server.requests) == 200


# -- request log -------------------------------------------------------------------------


def test_request_log(fresh_server: TestServer) -> None:
    with _client() as c:
        c.get(fresh_server.url("/status/200?x=1"), headers={"X-Trace": "abc"})
        c.post(fresh_server.url("/echo"), content=b"payload")
        c.put(fresh_server.url("/nowhere"), content=iter([b"a", b"b"]))
    log = fresh_server.requests
    assert [(e.method, e.path) for e in log] == [
        ("GET", "/status/200?x=1"),
        ("POST", "/echo"),
        ("PUT", "/nowhere"),
    ]
    assert log[0].url_path == "/status/200"
    assert log[0].query == {"x": ["1"]}
    assert log[0].headers["x-trace"] == "abc"
    assert log[0].body == b""
    assert log[1].body == b"payload"
    assert log[1].headers["content-length"] == "7"
    assert log[2].body == b"ab"
    fresh_server.clear_log()
    assert fresh_server.requests == []


# -- lifecycle ---------------------------------------------------------------------------


def test_lifecycle_and_urls() -> None:
    srv = TestServer()
    srv.stop()  # stopping a never-started server is a no-op
    with srv:
        assert srv.port > 0
        assert srv.base_url == f"http://127.0.0.1:{srv.port}"
        assert srv.url("/json") == srv.base_url + "/json"
        with _client() as c:
            assert c.get(srv.url("/json")).status_code == 200
    srv.stop()  # idempotent
    with _client() as c, pytest.raises(httpx.ConnectError):
        c.get(srv.url("/json"))


def test_stop_with_open_keep_alive_and_slow_request() -> None:
    srv = TestServer().start()
    with _client() as idle, _client() as busy:
        idle.get(srv.url("/json"))  # leaves an idle keep-alive connection open
        with busy.stream("GET", srv.url("/drip?bytes=100&delay=1")):
            start = time.monotonic()
            srv.stop()
            assert time.monotonic() - start < 1.0


def test_refused_url(refused_url: str) -> None:
    with _client() as c, pytest.raises(httpx.ConnectError):
        c.get(refused_url)


# -- IPv6 and TLS -------------------------------------------------------------------------


def _have_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _have_ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6() -> None:
    with TestServer(host="::1") as srv:
        assert srv.base_url == f"http://[::1]:{srv.port}"
        with _client() as c:
            r = c.get(srv.url("/echo"))
    assert r.json()["method"] == "GET"


def test_tls(tls_server: TestServer, tls_client_context: ssl.SSLContext) -> None:
    assert tls_server.base_url.startswith("https://127.0.0.1:")
    with _client(verify=tls_client_context) as c:
        r = c.post(tls_server.url("/echo"), content=b"secret")
        assert r.json()["body"] == "secret"
        assert c.get(tls_server.url("/bytes/300000")).content == expected_bytes(300000)
        assert c.get(tls_server.url("/drip?bytes=3&delay=0&chunked=1")).content == b"***"


def test_tls_untrusted_client_fails_cleanly(tls_server: TestServer) -> None:
    with _client() as c:  # default trust store: does not know the test CA
        with pytest.raises(httpx.ConnectError):
            c.get(tls_server.url("/json"))
    with _client(verify=False) as c:
        assert c.get(tls_server.url("/json")).status_code == 200


def test_tls_localhost_name(tls_ca: trustme.CA, tls_client_context: ssl.SSLContext) -> None:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    with TestServer(ssl_context=ctx) as srv:
        with _client(verify=tls_client_context) as c:
            r = c.get(f"https://localhost:{srv.port}/json")
    assert r.json() == {"hello": "world", "n": 1}
