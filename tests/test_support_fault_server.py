"""Self-tests for support/fault_server.py: every fault is checked at the socket and with httpx.

These double as a record of which httpx exception each real-world fault produces
(httpx 0.28 / httpcore 1.0), which the retry policy depends on.
"""

from __future__ import annotations

import asyncio
import email.utils
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from support.fault_server import FAULTS, Blackhole, FaultServer, retry_after_date

_VERIFY = ssl.create_default_context()  # only to skip loading the CA bundle per client


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0, verify=_VERIFY) as c:
        yield c


def _raw(srv: FaultServer, target: str) -> tuple[bytes, OSError | None]:
    """Send a GET on a raw socket; return everything received and how the read ended."""
    with socket.create_connection((srv.host, srv.port), timeout=5) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except OSError as exc:
            return data, exc
        return data, None  # clean EOF (FIN)


def _split(data: bytes) -> tuple[bytes, bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


# -- resets ------------------------------------------------------------------------


def test_reset_before_is_a_tcp_rst(fault_server: FaultServer) -> None:
    data, exc = _raw(fault_server, "/reset-before")
    assert data == b""
    assert isinstance(exc, ConnectionResetError)


def test_reset_before_httpx(fault_server: FaultServer, client: httpx.Client) -> None:
    with pytest.raises(httpx.ReadError, match="Connection reset by peer"):
        client.get(fault_server.url("/reset-before"))
    # the request itself was read in full and logged
    assert [r.url_path for r in fault_server.requests] == ["/reset-before"]


def test_reset_before_after_a_request_body(fault_server: FaultServer, client: httpx.Client) -> None:
    with pytest.raises(httpx.ReadError):
        client.post(fault_server.url("/reset-before"), content=b"x" * 100_000)
    assert fault_server.requests[0].body == b"x" * 100_000


@pytest.mark.parametrize("n", [1000, 300_000])
def test_reset_mid_is_a_tcp_rst_after_half_the_body(fault_server: FaultServer, n: int) -> None:
    data, exc = _raw(fault_server, f"/reset-mid?bytes={n}")
    head, body = _split(data)
    assert head.startswith(b"HTTP/1.1 200 ")
    assert f"Content-Length: {n}".encode() in head
    assert len(body) == n // 2
    assert isinstance(exc, ConnectionResetError)


def test_reset_mid_httpx_raises_during_body(
    fault_server: FaultServer, client: httpx.Client
) -> None:
    received = 0
    with client.stream("GET", fault_server.url("/reset-mid?bytes=200000")) as r:
        assert r.status_code == 200
        assert r.headers["content-length"] == "200000"
        with pytest.raises(httpx.ReadError):
            for chunk in r.iter_bytes():
                received += len(chunk)
    assert 0 < received <= 100_000
    with pytest.raises(httpx.ReadError):
        client.get(fault_server.url("/reset-mid"))


# -- short body --------------------------------------------------------------------


def test_short_body_ends_with_fin(fault_server: FaultServer) -> None:
    data, exc = _raw(fault_server, "/short-body?bytes=1000")
    head, body = _split(data)
    assert exc is None  # a clean EOF, not a reset
    assert b"Content-Length: 1000" in head
    assert len(body) == 500


def test_short_body_httpx(fault_server: FaultServer, client: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match=r"received 50 bytes, expected 100"):
        client.get(fault_server.url("/short-body?bytes=100"))


# -- drip, status faults ---------------------------------------------------------------


def test_drip(fault_server: FaultServer, client: httpx.Client) -> None:
    r = client.get(fault_server.url("/drip?bytes=3&delay=0.01"))
    assert r.status_code == 200
    assert r.content == b"***"


def test_429_retry_after_seconds(fault_server: FaultServer, client: httpx.Client) -> None:
    r = client.get(fault_server.url("/429?after=7"))
    assert r.status_code == 429
    assert r.headers["retry-after"] == "7"


@pytest.mark.parametrize("route", ["/429-date", "/503-date"])
def test_retry_after_http_date(fault_server: FaultServer, client: httpx.Client, route: str) -> None:
    before = time.time()
    r = client.get(fault_server.url(f"{route}?after=30"))
    assert r.status_code == int(route[1:4])
    value = r.headers["retry-after"]
    assert value.endswith(" GMT")
    when = email.utils.parsedate_to_datetime(value)
    assert when.tzinfo is not None
    # rounded up to whole seconds: never earlier than asked
    assert before + 30 - 1 <= when.timestamp() <= time.time() + 31


def test_retry_after_date_helper() -> None:
    assert retry_after_date(5, now=0.2) == "Thu, 01 Jan 1970 00:00:06 GMT"
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    assert retry_after_date(0, now=now) == "Wed, 02 Jan 2030 03:04:05 GMT"


def test_503_with_and_without_retry_after(fault_server: FaultServer, client: httpx.Client) -> None:
    r = client.get(fault_server.url("/503"))
    assert r.status_code == 503
    assert "retry-after" not in r.headers
    r = client.get(fault_server.url("/503?after=2"))
    assert (r.status_code, r.headers["retry-after"]) == (503, "2")


def test_raw_retry_after(fault_server: FaultServer, client: httpx.Client) -> None:
    r = client.get(fault_server.url("/429?raw=soon-ish"))
    assert r.headers["retry-after"] == "soon-ish"


@pytest.mark.parametrize(
    "target",
    [
        "/429?after=-1",
        "/503?after=x",
        "/reset-mid?bytes=abc",
        "/short-body?bytes=",
        "/close-after-response?when=later",
        "/flaky/k?fault=nope",
        "/flaky/k?fail=-1",
        "/flaky/k?after=1.5",
    ],
)
def test_bad_parameters(fault_server: FaultServer, client: httpx.Client, target: str) -> None:
    assert client.get(fault_server.url(target)).status_code == 400
    assert fault_server.attempts("k") == 0


def test_anything_else_is_ok(fault_server: FaultServer, client: httpx.Client) -> None:
    r = client.post(fault_server.url("/whatever/path?q=1"), content=b"body")
    assert (r.status_code, r.text) == (200, "ok")


# -- dead keep-alive connections ---------------------------------------------------


def test_close_after_response_next_request_fails(
    fault_server: FaultServer, client: httpx.Client
) -> None:
    r = client.get(fault_server.url("/close-after-response"))
    assert (r.status_code, r.text, r.headers["connection"]) == (200, "ok\n", "keep-alive")
    # httpcore reuses the pooled connection, sends the request, gets a FIN: no retry.
    with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected without sending"):
        client.get(fault_server.url("/second"))
    assert fault_server.connections == 1
    assert [r.url_path for r in fault_server.requests] == ["/close-after-response", "/second"]
    # the dead connection was dropped from the pool: the next request opens a new one
    assert client.get(fault_server.url("/third")).status_code == 200
    assert fault_server.connections == 2


def test_close_after_response_transport_retries_do_not_help(fault_server: FaultServer) -> None:
    transport = httpx.HTTPTransport(retries=3)  # retries connect errors only
    with httpx.Client(transport=transport, timeout=5.0) as c:
        c.get(fault_server.url("/close-after-response"))
        with pytest.raises(httpx.RemoteProtocolError):
            c.get(fault_server.url("/second"))
    assert fault_server.connections == 1


def test_close_after_response_async(fault_server: FaultServer) -> None:
    async def run() -> None:
        async with httpx.AsyncClient(timeout=5.0, verify=_VERIFY) as c:
            await c.get(fault_server.url("/close-after-response"))
            with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected"):
                await c.get(fault_server.url("/second"))
            assert (await c.get(fault_server.url("/third"))).status_code == 200

    asyncio.run(run())
    assert fault_server.connections == 2


def test_close_now_idle_connection_is_replaced_silently(
    fault_server: FaultServer, client: httpx.Client
) -> None:
    assert client.get(fault_server.url("/close-after-response?when=now")).status_code == 200
    time.sleep(0.05)  # let the FIN land while the connection sits idle in the pool
    # httpcore sees the idle socket is readable (EOF), discards it, connects again.
    assert client.get(fault_server.url("/second")).status_code == 200
    assert fault_server.connections == 2


# -- flaky ---------------------------------------------------------------------------


def test_flaky_counts_per_key(fault_server: FaultServer, client: httpx.Client) -> None:
    url_a = fault_server.url("/flaky/a?fail=2&fault=503&after=1")
    got = [client.get(url_a) for _ in range(4)]
    assert [r.status_code for r in got] == [503, 503, 200, 200]
    assert got[0].headers["retry-after"] == "1"
    assert got[2].text == "ok a\n"
    assert fault_server.attempts("a") == 4
    assert fault_server.attempts("b") == 0
    assert client.get(fault_server.url("/flaky/b?fail=0")).text == "ok b\n"
    assert fault_server.attempts("b") == 1
    fault_server.reset_counts()
    assert fault_server.attempts("a") == 0
    assert client.get(url_a).status_code == 503


_FAULT_ERRORS: dict[str, type[httpx.HTTPError] | int] = {
    "reset-before": httpx.ReadError,
    "reset-mid": httpx.ReadError,
    "short-body": httpx.RemoteProtocolError,
    "close": httpx.RemoteProtocolError,
    "503": 503,
    "429": 429,
}


@pytest.mark.parametrize("fault", FAULTS)
def test_flaky_each_fault_then_ok(
    fault_server: FaultServer, client: httpx.Client, fault: str
) -> None:
    url = fault_server.url(f"/flaky/k1?fail=1&fault={fault}&after=0&bytes=64")
    expected = _FAULT_ERRORS[fault]
    if isinstance(expected, int):
        r = client.get(url)
        assert r.status_code == expected
        assert r.headers["retry-after"] == "0"
    else:
        with pytest.raises(expected):
            client.get(url)
    r = client.get(url)
    assert (r.status_code, r.text) == (200, "ok k1\n")
    assert fault_server.attempts("k1") == 2


def test_flaky_is_thread_safe(fault_server: FaultServer) -> None:
    url = fault_server.url("/flaky/shared?fail=5&fault=503")
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(timeout=5.0, verify=_VERIFY) as c:
            for _ in range(4):
                code = c.get(url).status_code
                with lock:
                    statuses.append(code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 27 + [503] * 5
    assert fault_server.attempts("shared") == 32


# -- blackhole -----------------------------------------------------------------------


def test_blackhole_raw_connect_times_out(blackhole_url: str) -> None:
    port = httpx.URL(blackhole_url).port
    assert port is not None
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5)
    assert time.monotonic() - start >= 0.45


def test_blackhole_httpx_connect_timeout(blackhole_url: str) -> None:
    with httpx.Client(timeout=httpx.Timeout(5.0, connect=0.3), verify=_VERIFY) as c:
        with pytest.raises(httpx.ConnectTimeout):
            c.get(blackhole_url + "/x")


def test_blackhole_stop_closes_everything() -> None:
    hole = Blackhole().start()
    assert hole.url("x") == f"http://127.0.0.1:{hole.port}/x"
    hole.stop()
    hole.stop()  # idempotent
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", hole.port), timeout=0.5)
