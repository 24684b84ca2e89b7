"""The pool contract hx.net.pool.Pool gives both transports, tested once for each.

Each test runs against Http1Transport with a ScriptedServer and against
Http2Transport (h2c) with an H2Server that allows one stream at a time, so
that in both ``max_connections=1`` means one exchange at a time. Both servers
answer "ok", except to ``/hold``: the head and half the body, then nothing.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from h2.settings import SettingCodes

from hx.net.http1 import Http1Transport
from hx.net.http2 import Http2Transport
from hx.net.pool import Pool, origin_of
from support.h2_server import H2Server, Peer, Stream
from support.http1_server import OK, ScriptedServer, message

_CONTEXT = ssl.create_default_context()  # unused by http:// URLs; built once

Server = ScriptedServer | H2Server


def _http1_answer(request: bytes) -> bytes:
    if request.startswith(b"GET /hold "):
        return message("HTTP/1.1 200 OK", "Content-Length: 10", body=b"12345")
    return OK


async def _http2_answer(peer: Peer, stream: Stream) -> None:
    await stream.complete.wait()
    if stream.path == b"/hold":
        await peer.respond(stream, b"12345", end=False)
    else:
        await peer.respond(stream, b"ok")


@dataclass(frozen=True)
class Kind:
    """One of hx's pools, and a server on 127.0.0.1 it can talk to."""

    transport: Callable[[int], Pool[Any]]
    server: Callable[[], Server]


def _http2_transport(max_connections: int) -> Http2Transport:
    return Http2Transport(
        _CONTEXT,
        max_connections,
        prior_knowledge=True,
        http1=lambda: Http1Transport(_CONTEXT, max_connections),
    )


KINDS = {
    "http1": Kind(
        lambda limit: Http1Transport(_CONTEXT, limit), lambda: ScriptedServer(answer=_http1_answer)
    ),
    "http2": Kind(
        _http2_transport,
        lambda: H2Server(_http2_answer, {SettingCodes.MAX_CONCURRENT_STREAMS: 1}),
    ),
}


@pytest.fixture(params=sorted(KINDS))
def kind(request: pytest.FixtureRequest) -> Kind:
    return KINDS[request.param]


def client(transport: Pool[Any]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, timeout=2.0)


async def hold(http: httpx.AsyncClient, server: Server) -> httpx.Response:
    """A response whose body never ends: it keeps its connection (or stream) busy."""
    return await http.send(http.build_request("GET", server.url("/hold")), stream=True)


def test_requests_beyond_the_limit_wait_their_turn(kind: Kind) -> None:
    async def main() -> None:
        async with kind.server() as server, client(kind.transport(1)) as http:
            responses = await asyncio.gather(*(http.get(server.url()) for _ in range(3)))
        assert [r.content for r in responses] == [b"ok"] * 3
        assert server.requests_per_connection == [3]

    asyncio.run(main())


def test_the_pool_timeout_is_a_deadline(kind: Kind) -> None:
    async def main() -> None:
        async with kind.server() as server, client(kind.transport(1)) as http:
            held = await hold(http, server)
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(httpx.PoolTimeout, match="waiting for a free connection"):
                await http.get(server.url(), timeout=httpx.Timeout(2.0, pool=0.2))
            assert 0.2 <= loop.time() - started < 0.5
            await held.aclose()  # its room is back
            assert (await http.get(server.url())).content == b"ok"

    asyncio.run(main())


def test_a_waiter_cancelled_as_it_is_woken_passes_its_turn_on(kind: Kind) -> None:
    """hx's --max-time cancels a request; if that happens just as room is freed for
    it, the next request in the queue must get the room instead."""

    async def main() -> None:
        async with kind.server() as server, client(kind.transport(1)) as http:
            async with http.stream("GET", server.url()) as first:
                waiting = [asyncio.create_task(http.get(server.url())) for _ in range(2)]
                await asyncio.sleep(0.01)  # both queue for the room
                await first.aread()  # the end of the body frees the room ...
                waiting[0].cancel()  # ... for waiting[0], cancelled before it can run
            assert (await asyncio.wait_for(waiting[1], 1)).content == b"ok"
            with pytest.raises(asyncio.CancelledError):
                await waiting[0]
        assert server.requests_per_connection == [2]

    asyncio.run(main())


def test_a_failed_connect_gives_its_place_to_a_waiter(kind: Kind, refused_url: str) -> None:
    async def main() -> None:
        async with kind.server() as server, client(kind.transport(1)) as http:
            failing = asyncio.create_task(http.get(refused_url))
            waiting = asyncio.create_task(http.get(server.url()))
            with pytest.raises(httpx.ConnectError):
                await failing
            assert (await asyncio.wait_for(waiting, 1)).content == b"ok"

    asyncio.run(main())


def test_at_the_limit_an_idle_connection_to_another_origin_is_evicted(kind: Kind) -> None:
    async def main() -> None:
        async with kind.server() as a, kind.server() as b, client(kind.transport(1)) as http:
            assert (await http.get(a.url())).content == b"ok"
            assert (await http.get(b.url())).content == b"ok"
            await asyncio.wait_for(a.peers[0].hung_up.wait(), 1)
            assert not b.peers[0].hung_up.is_set()
        assert (a.requests_per_connection, b.requests_per_connection) == ([1], [1])

    asyncio.run(main())


def test_aclose_returns_once_every_connection_is_closed(kind: Kind) -> None:
    async def main() -> None:
        transport = kind.transport(2)
        async with kind.server() as server, client(transport) as http:
            assert (await http.get(server.url())).content == b"ok"
            held = await hold(http, server)  # a connection closed in the middle of a body
            assert not any(peer.hung_up.is_set() for peer in server.peers)
            await transport.aclose()
            assert not transport._open and not transport._closing  # each one is gone
            for peer in server.peers:
                await asyncio.wait_for(peer.hung_up.wait(), 1)
            with pytest.raises(httpx.RemoteProtocolError):
                await held.aread()
            await held.aclose()

    asyncio.run(main())


def test_aclose_fails_a_request_waiting_for_room(kind: Kind) -> None:
    async def main() -> None:
        async with kind.server() as server, client(kind.transport(1)) as http:
            held = await hold(http, server)
            waiting = asyncio.create_task(http.get(server.url()))
            await asyncio.sleep(0.01)  # it queues for the room
            await http.aclose()
            with pytest.raises(RuntimeError, match="^the transport is closed$"):
                await waiting
            await held.aclose()
        assert server.requests_per_connection == [1]

    asyncio.run(main())


@pytest.mark.parametrize("port", [0, 65536, 83616])
def test_a_port_outside_the_tcp_range_is_refused_before_connecting(kind: Kind, port: int) -> None:
    """The last line of defence: hx.request.urls refuses such URLs from input."""
    url = f"http://127.0.0.1:{port}/"
    with pytest.raises(httpx.InvalidURL, match=f"^port {port} is outside 1-65535$"):
        origin_of(httpx.Request("GET", url))

    async def main() -> None:
        async with client(kind.transport(1)) as http:
            with pytest.raises(httpx.InvalidURL, match="outside 1-65535"):
                await http.get(url)

    asyncio.run(main())


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://example.test/", (b"http", b"example.test", 80)),
        ("https://example.test/", (b"https", b"example.test", 443)),
        ("http://example.test:1/", (b"http", b"example.test", 1)),
        ("https://[::1]:65535/", (b"https", b"::1", 65535)),
    ],
)
def test_origin_of(url: str, origin: tuple[bytes, bytes, int]) -> None:
    assert origin_of(httpx.Request("GET", url)) == origin
