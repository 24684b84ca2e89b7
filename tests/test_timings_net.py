"""The Exchange hx's transports put on every response (hx.net.exchange), on loopback.

Phases that happened have a duration, those that did not are None: resolving,
connecting and the TLS handshake belong to the first request on a connection;
``wait`` and ``transfer`` are checked against delays the server puts in.
"""

from __future__ import annotations

import asyncio
import datetime
import math
import socket
import ssl
import sys
from collections.abc import Iterator
from time import perf_counter

import httpx
import pytest
import trustme
from cryptography import x509

from hx.net.connect import connect_in_turn
from hx.net.exchange import Exchange, TlsInfo
from hx.net.http1 import Http1Transport
from hx.net.http2 import Http2Transport
from support.h2_server import H2Server, Peer, Stream
from support.http1_server import OK, ScriptedServer
from support.tls_servers import AsgiServer, Certificates, server_context
from support.transport import SilentServer

HEAD_DELAY, BODY_DELAY = 0.2, 0.3
"""Seconds the delaying servers wait before the head, then before the body."""


def exchange_of(response: httpx.Response) -> Exchange:
    exchange = response.extensions["hx.exchange"]
    assert isinstance(exchange, Exchange)
    return exchange


def assert_new_connection(exchange: Exchange, port: int, tls: bool) -> None:
    assert exchange.reused is False
    assert exchange.dns is not None and exchange.dns > 0
    assert exchange.connect is not None and exchange.connect > 0
    assert (exchange.tls is not None and exchange.tls > 0) is tls
    assert (exchange.remote_ip, exchange.remote_port) == ("127.0.0.1", port)
    assert exchange.wait is not None and exchange.wait > 0
    assert exchange.transfer is not None and exchange.transfer >= 0
    assert exchange.started < perf_counter()


def assert_reused(exchange: Exchange, port: int) -> None:
    assert exchange.reused is True
    assert (exchange.dns, exchange.connect, exchange.tls) == (None, None, None)
    assert (exchange.remote_ip, exchange.remote_port) == ("127.0.0.1", port)
    assert exchange.wait is not None and exchange.transfer is not None


def near(measured: float | None, seconds: float) -> bool:
    """Within 10 % or 10 ms of ``seconds``, ``measured`` being milliseconds."""
    expected = seconds * 1000
    return measured is not None and abs(measured - expected) <= max(0.1 * expected, 10)


def http1(context: ssl.SSLContext | None = None) -> httpx.AsyncClient:
    transport = Http1Transport(context or ssl.create_default_context(), 4)
    return httpx.AsyncClient(transport=transport)


def http2(
    context: ssl.SSLContext | None = None, prior_knowledge: bool = False
) -> httpx.AsyncClient:
    """HTTP/2 by ALPN over TLS; in clear, with ``prior_knowledge`` (else HTTP/1.1)."""
    tls = context or ssl.create_default_context()
    transport = Http2Transport(
        tls, 4, prior_knowledge=prior_knowledge, http1=lambda: Http1Transport(tls, 4)
    )
    return httpx.AsyncClient(transport=transport)


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def days_left(leaf: trustme.LeafCert) -> int:
    certificate = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())
    remaining = certificate.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    return math.floor(remaining / datetime.timedelta(days=1))


# -- HTTP/1.1 ------------------------------------------------------------------


def test_http1_new_then_reused_connection() -> None:
    async def main() -> None:
        async with ScriptedServer(OK, OK) as server, http1() as http:
            first, second = [exchange_of(await http.get(server.url())) for _ in range(2)]
        assert_new_connection(first, server.port, tls=False)
        assert first.tls_info is None
        assert_reused(second, server.port)
        assert first.started < second.started

    asyncio.run(main())


def test_http1_wait_and_transfer() -> None:
    async def delayed(writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(HEAD_DELAY)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe")
        await writer.drain()
        await asyncio.sleep(BODY_DELAY)
        writer.write(b"llo")

    async def main() -> None:
        async with (
            ScriptedServer(delayed) as server,
            http1() as http,
        ):
            async with http.stream("GET", server.url()) as response:
                exchange = exchange_of(response)
                assert near(exchange.wait, HEAD_DELAY), exchange
                assert exchange.transfer is None  # the body has not ended yet
                assert await response.aread() == b"hello"
        assert near(exchange.transfer, BODY_DELAY), exchange

    asyncio.run(main())


def test_a_body_delimited_by_the_close_ends_its_transfer_there() -> None:
    async def until_close(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nsome")
        await writer.drain()
        await asyncio.sleep(BODY_DELAY)
        writer.write(b" body")
        writer.close()

    async def main() -> None:
        async with (
            ScriptedServer(until_close) as server,
            http1() as http,
        ):
            response = await http.get(server.url())
        assert response.content == b"some body"
        assert near(exchange_of(response).transfer, BODY_DELAY)

    asyncio.run(main())


def test_https_facts_of_the_certificate(tls_ca: trustme.CA) -> None:
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=40, hours=1)
    leaf = tls_ca.issue_cert("127.0.0.1", common_name="hx timings", not_after=expires)
    tls = server_context(leaf, alpn=["http/1.1"])

    async def main() -> None:
        async with (
            ScriptedServer(OK, OK, ssl_context=tls) as server,
            http1(trusting(tls_ca)) as http,
        ):
            first, second = [exchange_of(await http.get(server.url())) for _ in range(2)]
        assert_new_connection(first, server.port, tls=True)
        assert_reused(second, server.port)
        info = first.tls_info
        assert info is not None and second.tls_info is info  # once per connection
        assert info.version in ("TLSv1.2", "TLSv1.3")
        assert info.cipher
        assert info.alpn == "http/1.1"
        assert info.days_left == 40
        assert info.not_after == expires.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert info.subject_cn == "hx timings"
        assert info.issuer_cn is None  # trustme names its CA by organisation only

    asyncio.run(main())


@pytest.fixture
def without_cryptography(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``import cryptography`` fails, as where it is not installed."""
    for name in [name for name in sys.modules if name.startswith("cryptography")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)
    yield


@pytest.mark.parametrize("readable", [True, False], ids=["cryptography", "no-cryptography"])
def test_https_unverified(
    tls_ca: trustme.CA, readable: bool, request: pytest.FixtureRequest
) -> None:
    """With verification off, getpeercert() is empty: the certificate is read from its DER
    bytes if cryptography is installed, and left out if not."""
    leaf = tls_ca.issue_cert("127.0.0.1", common_name="unverified")
    expected = ("unverified", days_left(leaf))
    if not readable:
        request.getfixturevalue("without_cryptography")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    async def main() -> TlsInfo | None:
        async with (
            ScriptedServer(OK, ssl_context=server_context(leaf)) as server,
            http1(context) as http,
        ):
            return exchange_of(await http.get(server.url())).tls_info

    info = asyncio.run(main())
    assert info is not None and info.version and info.cipher
    if readable:
        assert (info.subject_cn, info.days_left) == expected
    else:
        assert (info.not_after, info.days_left, info.subject_cn, info.issuer_cn) == (None,) * 4


def test_a_certificate_that_cannot_be_read_closes_its_connection(
    tls_ca: trustme.CA, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the TLS facts failing (a cryptography too old, a certificate it cannot
    parse) fails that request and closes its connection; the next one connects anew."""
    import hx.net.connect

    calls: list[ssl.SSLObject] = []

    def tls_info_once(ssl_object: ssl.SSLObject) -> TlsInfo:
        calls.append(ssl_object)
        if len(calls) == 1:
            raise ValueError("unreadable certificate")
        return TlsInfo()

    monkeypatch.setattr(hx.net.connect, "tls_info", tls_info_once)
    tls = server_context(tls_ca.issue_cert("127.0.0.1"), alpn=["http/1.1"])

    async def main() -> None:
        async with (
            ScriptedServer(OK, ssl_context=tls) as server,
            http1(trusting(tls_ca)) as http,
        ):
            with pytest.raises(ValueError, match="unreadable certificate"):
                await http.get(server.url())
            while not server.peers:  # the server's side of the handshake may lag
                await asyncio.sleep(0.01)
            await asyncio.wait_for(server.peers[0].hung_up.wait(), 2)  # closed, not leaked
            assert (await http.get(server.url())).content == b"ok"
        assert server.requests_per_connection == [0, 1]

    asyncio.run(main())


# -- HTTP/2 --------------------------------------------------------------------


def test_http2_over_tls(h2_server: AsgiServer, tls_ca: trustme.CA, tls_certs: Certificates) -> None:
    async def main() -> list[Exchange]:
        async with http2(trusting(tls_ca)) as http:
            first = await http.get(h2_server.url("/bytes/10"))
            url = h2_server.url("/bytes/10")
            together = await asyncio.gather(*(http.get(url) for _ in range(3)))
        assert {r.http_version for r in [first, *together]} == {"HTTP/2"}
        return [exchange_of(response) for response in [first, *together]]

    first, *others = asyncio.run(main())
    assert_new_connection(first, h2_server.port, tls=True)
    for other in others:
        assert_reused(other, h2_server.port)
        assert other.tls_info is first.tls_info
    info = first.tls_info
    assert info is not None and info.alpn == "h2"
    assert info.days_left == days_left(tls_certs.server)


def test_http2_wait_and_transfer() -> None:
    async def delayed(peer: Peer, stream: Stream) -> None:
        await stream.complete.wait()
        await asyncio.sleep(HEAD_DELAY)
        await peer.respond(stream, b"he", end=False)
        await asyncio.sleep(BODY_DELAY)
        await peer.send(stream, b"llo")
        peer.h2.end_stream(stream.id)
        peer.flush()

    async def main() -> None:
        async with (
            H2Server(delayed) as server,
            http2(prior_knowledge=True) as http,
        ):
            async with http.stream("GET", server.url()) as response:
                exchange = exchange_of(response)
                assert near(exchange.wait, HEAD_DELAY), exchange
                assert await response.aread() == b"hello"
        assert_new_connection(exchange, server.port, tls=False)
        assert near(exchange.transfer, BODY_DELAY), exchange

    asyncio.run(main())


# -- connecting ----------------------------------------------------------------


def test_the_connect_timeout_covers_the_tls_handshake() -> None:
    async def main() -> None:
        async with SilentServer() as server, http1() as http:
            started = perf_counter()
            with pytest.raises(httpx.ConnectTimeout):
                await http.get(f"https://127.0.0.1:{server.port}/", timeout=0.2)
            assert perf_counter() - started < 1

    asyncio.run(main())


def test_addresses_are_tried_in_turn(refused_url: str) -> None:
    refused_port = httpx.URL(refused_url).port

    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with ScriptedServer() as server:
            addresses = [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", refused_port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", server.port)),
            ]
            sock = await connect_in_turn(loop, addresses)
            assert sock.getpeername() == ("127.0.0.1", server.port)
            sock.close()
            with pytest.raises(ConnectionRefusedError):
                await connect_in_turn(loop, addresses[:1] * 2)  # the same error twice: that one
            other = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", refused_port))
            with pytest.raises(OSError, match="^Multiple exceptions: .*127.0.0.1.*127.0.0.2"):
                await connect_in_turn(loop, addresses[:1] + [other])

    asyncio.run(main())
