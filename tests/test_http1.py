"""hx.net.http1.Http1Transport against real servers on 127.0.0.1, byte for byte.

Each test scripts the replies of a ``ScriptedServer`` (tests/http1_server.py) and
checks what it received on which connection.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import trustme

from hx.net.http1 import Http1Transport
from hx.net.http1_state import TRANSITIONS, Event, MissingTransition, State, advance
from support.http1_server import OK, Reply, ScriptedServer, message, script
from support.tls_servers import Certificates, server_context
from support.transport import HEADER_INJECTIONS, body_parts

_PLAIN = ssl.create_default_context()  # http:// tests never use it; built once


def client(
    max_connections: int = 4, keepalive_expiry: float = 5.0, context: ssl.SSLContext = _PLAIN
) -> httpx.AsyncClient:
    transport = Http1Transport(context, max_connections, keepalive_expiry)
    return httpx.AsyncClient(transport=transport, timeout=2.0)


async def get_twice(server: ScriptedServer) -> tuple[httpx.Response, ...]:
    """Two GETs, one after the other, through one client."""
    async with client() as http:
        return (await http.get(server.url()), await http.get(server.url()))


# -- keep-alive ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "status", "body", "per_connection"),
    [
        pytest.param(OK, 200, b"ok", [2], id="keep-alive"),
        pytest.param(
            message("HTTP/1.1 200 OK", "Connection: close", "Content-Length: 2", body=b"ok"),
            200,
            b"ok",
            [1, 1],
            id="connection-close",
        ),
        pytest.param(
            message("HTTP/1.0 200 OK", "Content-Length: 2", body=b"ok"),
            200,
            b"ok",
            [1, 1],
            id="http1.0",
        ),
        pytest.param(
            message("HTTP/1.0 200 OK", "Connection: Keep-Alive", "Content-Length: 2", body=b"ok"),
            200,
            b"ok",
            [2],
            id="http1.0-keep-alive",
        ),
        pytest.param(
            message(
                "HTTP/1.1 200 OK",
                "Transfer-Encoding: chunked",
                "Content-Length: 2",
                body=b"2\r\nok\r\n0\r\n\r\n",
            ),
            200,
            b"ok",
            [1, 1],
            id="chunked-and-content-length",
        ),
        pytest.param(OK + b"HTTP/1.1 200 OK\r\n", 200, b"ok", [1, 1], id="unasked-for-bytes"),
        pytest.param(
            message("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", body=b"2\r\nok\r\n0\r\n\r\nX"),
            200,
            b"ok",
            [1, 1],
            id="chunked-then-unasked-for-bytes",
        ),
        pytest.param(
            message("HTTP/1.1 200 OK", "X: a\x01b", "Content-Length: 2", body=b"ok"),
            200,
            b"ok",
            [1, 1],
            id="control-byte-in-a-header",
        ),
        pytest.param(
            message("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", body=b"2\nok\n0\n\n"),
            200,
            b"ok",
            [1, 1],
            id="chunked-with-bare-lf",
        ),
        pytest.param(
            message(
                "HTTP/1.0 200 OK",
                "Connection: keep-alive",
                "Transfer-Encoding: chunked",
                body=b"2\r\nok\r\n0\r\n\r\n",
            ),
            200,
            b"ok",
            [1, 1],
            id="http1.0-chunked",
        ),
        pytest.param(message("HTTP/1.1 204 No Content"), 204, b"", [2], id="204"),
        pytest.param(
            message("HTTP/1.1 304 Not Modified", "Content-Length: 1000"),
            304,
            b"",
            [2],
            id="304",
        ),
    ],
)
def test_reuse(first: bytes, status: int, body: bytes, per_connection: list[int]) -> None:
    async def main() -> None:
        async with ScriptedServer(first, OK) as server:
            responses = await get_twice(server)
        assert [(r.status_code, r.content) for r in responses] == [(status, body), (200, b"ok")]
        assert server.requests_per_connection == per_connection

    asyncio.run(main())


def test_http_version_and_reason() -> None:
    async def main() -> None:
        reply = message("HTTP/1.0 201 Made It", "Connection: keep-alive", "Content-Length: 0")
        async with ScriptedServer(reply, OK) as server:
            made, ok = await get_twice(server)
        assert (made.http_version, made.reason_phrase) == ("HTTP/1.0", "Made It")
        assert (ok.http_version, ok.reason_phrase) == ("HTTP/1.1", "OK")

    asyncio.run(main())


def test_chunked_body_across_writes() -> None:
    async def main() -> None:
        chunked = script(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            b"lo\r\n6;ext=1\r\n world\r",
            b"\n0\r\nTrailer: x\r\n",
            b"\r\n",
            delay=0.02,
        )
        async with ScriptedServer(chunked, OK) as server:
            responses = await get_twice(server)
        assert [r.content for r in responses] == [b"hello world", b"ok"]
        assert server.requests_per_connection == [2]

    asyncio.run(main())


def test_body_delimited_by_close() -> None:
    async def main() -> None:
        until_close = script(b"HTTP/1.1 200 OK\r\n\r\nsome", b" body", delay=0.02, then="close")
        async with ScriptedServer(until_close, OK) as server:
            responses = await get_twice(server)
        assert [r.content for r in responses] == [b"some body", b"ok"]
        assert server.requests_per_connection == [1, 1]

    asyncio.run(main())


def test_head_has_no_body_and_keeps_the_connection() -> None:
    async def main() -> None:
        head = message("HTTP/1.1 200 OK", "Content-Length: 1000")
        async with ScriptedServer(head, OK) as server, client() as http:
            response = await http.head(server.url())
            assert (response.content, response.headers["content-length"]) == (b"", "1000")
            assert (await http.get(server.url())).content == b"ok"
        assert server.requests_per_connection == [2]
        assert server.peers[0].requests[0].startswith(b"HEAD / HTTP/1.1\r\n")

    asyncio.run(main())


@pytest.mark.parametrize("delay", [0.0, 0.02])
def test_interim_responses_are_skipped(delay: float) -> None:
    async def main() -> None:
        interim = script(
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n",
            OK,
            delay=delay,
        )
        async with ScriptedServer(interim, OK) as server:
            responses = await get_twice(server)
        assert [(r.status_code, r.content) for r in responses] == [(200, b"ok"), (200, b"ok")]
        assert "link" not in responses[0].headers
        assert server.requests_per_connection == [2]

    asyncio.run(main())


# -- what goes on the wire -----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "target", "content", "framing", "body"),
    [
        ("GET", "/p/a%20th?q=1&r=x%2Fy", None, b"", b""),
        ("DELETE", "/items/7", None, b"", b""),
        ("POST", "/upload", b"hello", b"Content-Length: 5\r\n", b"hello"),
        ("PUT", "/big", b"x" * 100_000, b"Content-Length: 100000\r\n", b"x" * 100_000),
        (
            "POST",
            "/stream",
            body_parts,
            b"Transfer-Encoding: chunked\r\n",
            b"3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n",
        ),
    ],
)
def test_request_bytes_exactly(
    method: str,
    target: str,
    content: bytes | Callable[[], AsyncIterator[bytes]] | None,
    framing: bytes,
    body: bytes,
) -> None:
    async def main() -> None:
        async with ScriptedServer(OK) as server, client() as http:
            body_in = content() if callable(content) else content
            request = httpx.Request(
                method, server.url(target), headers={"X-Test": "v"}, content=body_in
            )
            assert (await http.send(request)).content == b"ok"
        head = b"%b %b HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (
            method.encode(),
            target.encode(),
            server.port,
        )
        assert server.peers[0].requests == [head + b"X-Test: v\r\n" + framing + b"\r\n" + body]

    asyncio.run(main())


@pytest.mark.parametrize(("name", "value"), HEADER_INJECTIONS)
def test_header_injection_is_refused_and_nothing_sent(name: bytes, value: bytes) -> None:
    async def main() -> None:
        async with ScriptedServer(OK) as server, client() as http:
            request = httpx.Request("GET", server.url(), headers=[(name, value)])
            with pytest.raises(httpx.LocalProtocolError, match="CR, LF or NUL"):
                await http.send(request)
            await asyncio.wait_for(server.peers[0].hung_up.wait(), 1)
            assert server.peers[0].requests == []
            assert (await http.get(server.url())).content == b"ok"
        assert server.requests_per_connection == [0, 1]

    asyncio.run(main())


# -- failures ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "error", "match"),
    [
        pytest.param(
            script(message("HTTP/1.1 200 OK", "Content-Length: 100", body=b"x" * 50), then="close"),
            httpx.RemoteProtocolError,
            "received 50 bytes, expected 100",
            id="short-body",
        ),
        pytest.param(
            script(
                message("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", body=b"5\r\nhel"),
                then="close",
            ),
            httpx.RemoteProtocolError,
            "incomplete chunked read",
            id="short-chunked-body",
        ),
        pytest.param(
            script(then="close"),
            httpx.RemoteProtocolError,
            r"^Server disconnected without sending a response\.$",
            id="no-response",
        ),
        pytest.param(script(then="reset"), httpx.ReadError, "reset", id="reset"),
        pytest.param(
            script(message("HTTP/1.1 200 OK", "Content-Length: 100", body=b"x" * 50), then="reset"),
            httpx.ReadError,
            "reset",
            id="reset-mid-body",
        ),
        pytest.param(
            b"HTTP/1.1 OK\r\n\r\n",
            httpx.RemoteProtocolError,
            "invalid status line 'HTTP/1.1 OK'",
            id="bad-status-line",
        ),
        pytest.param(
            message("HTTP/1.1 200 OK", "Content-Length: 1", "Content-Length: 2"),
            httpx.RemoteProtocolError,
            "conflicting Content-Length",
            id="conflicting-length",
        ),
        pytest.param(
            message("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", body=b"zz\r\n"),
            httpx.RemoteProtocolError,
            "invalid chunk size line",
            id="bad-chunk-size",
        ),
        pytest.param(
            message("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket"),
            httpx.RemoteProtocolError,
            "unexpected 101",
            id="101",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\n" + b"X: " + b"y" * 70_000,
            httpx.RemoteProtocolError,
            "response head larger than",
            id="huge-head",
        ),
        pytest.param(
            message("HTTP/1.1 200 OK", "X: " + "y" * 100_000, "Content-Length: 0"),
            httpx.RemoteProtocolError,
            "response head larger than",
            id="huge-head-in-one-write",
        ),
        pytest.param(
            message("HTTP/1.1 099 Early", "Content-Length: 0"),
            httpx.RemoteProtocolError,
            "invalid status code 099",
            id="status-099",
        ),
        pytest.param(
            message("HTTP/1.1 200 O\rK", "Content-Length: 0"),
            httpx.RemoteProtocolError,
            "invalid status line",
            id="cr-in-the-status-line",
        ),
        pytest.param(
            message("HTTP/1.1 200 OK", "Transfer-Encoding: ,", "Content-Length: 2", body=b"ok"),
            httpx.RemoteProtocolError,
            "empty Transfer-Encoding",
            id="empty-transfer-encoding",
        ),
        pytest.param(
            message("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", body=b" 2\r\nok\r\n"),
            httpx.RemoteProtocolError,
            "invalid chunk size line",
            id="space-before-a-chunk-size",
        ),
        pytest.param(b"", httpx.ReadTimeout, "timed out reading", id="no-answer"),
        pytest.param(
            message("HTTP/1.1 200 OK", "Content-Length: 10", body=b"12345"),
            httpx.ReadTimeout,
            "timed out reading",
            id="body-stalls",
        ),
    ],
)
def test_failure_then_a_new_connection(
    reply: Reply, error: type[httpx.RequestError], match: str
) -> None:
    async def main() -> None:
        async with ScriptedServer(reply, OK) as server, client() as http:
            with pytest.raises(error, match=match) as caught:
                await http.get(server.url(), timeout=0.2)
            assert caught.value.request.url == server.url()
            assert (await http.get(server.url())).content == b"ok"
        assert server.requests_per_connection == [1, 1]

    asyncio.run(main())


def test_connect_refused(refused_url: str) -> None:
    async def main() -> None:
        async with client() as http:
            with pytest.raises(httpx.ConnectError) as caught:
                await http.get(refused_url)
        assert isinstance(caught.value.__cause__, ConnectionRefusedError)

    asyncio.run(main())


# -- the pool ------------------------------------------------------------------


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(script(OK, then="close"), id="server-closed"),
        pytest.param(script(OK, b"HTTP/1.1 200 OK\r\n", delay=0.01), id="unasked-for-bytes"),
    ],
)
def test_an_idle_connection_is_not_reused_after(first: Reply) -> None:
    async def main() -> None:
        async with ScriptedServer(first, OK) as server, client() as http:
            assert (await http.get(server.url())).content == b"ok"
            await asyncio.sleep(0.05)  # what follows the response arrives while idle
            assert (await http.get(server.url())).content == b"ok"
        assert server.requests_per_connection == [1, 1]

    asyncio.run(main())


def test_a_body_not_read_to_its_end_gives_up_the_connection() -> None:
    async def main() -> None:
        partial = message("HTTP/1.1 200 OK", "Content-Length: 10", body=b"12345")
        async with ScriptedServer(partial, OK) as server, client() as http:
            async with http.stream("GET", server.url()) as response:
                assert response.status_code == 200
            assert (await http.get(server.url())).content == b"ok"
        assert server.requests_per_connection == [1, 1]

    asyncio.run(main())


def test_a_whole_body_left_unread_still_lets_the_connection_serve_the_next() -> None:
    """A body that arrived whole past the high-water mark (reading paused), then closed
    unread: the connection is reused, and reads the next response (it hung until the
    read timeout, stalling a retried --split download)."""

    async def main() -> None:
        # One byte past _HIGH_WATER: the piece that ends the body is the one that pauses
        # reading, however the bytes arrive.
        body = b"x" * ((1 << 20) + 1)
        big = message("HTTP/1.1 200 OK", f"Content-Length: {len(body)}", body=body)
        async with ScriptedServer(big, OK) as server, client() as http:
            async with http.stream("GET", server.url()) as response:
                assert response.status_code == 200
                await asyncio.sleep(0.2)  # the whole body arrives; nobody reads it
            answer = await asyncio.wait_for(http.get(server.url()), 1.0)
            assert answer.content == b"ok"
        assert server.requests_per_connection == [2]

    asyncio.run(main())


def test_keepalive_expiry() -> None:
    async def main() -> None:
        async with ScriptedServer(OK, OK) as server, client(keepalive_expiry=0.05) as http:
            assert (await http.get(server.url())).content == b"ok"
            await asyncio.sleep(0.1)
            assert (await http.get(server.url())).content == b"ok"
        assert server.requests_per_connection == [1, 1]

    asyncio.run(main())


def test_large_body_streams_intact() -> None:
    async def main() -> None:
        body = bytes(range(256)) * (8 * 4096)  # 8 MiB
        big = message("HTTP/1.1 200 OK", f"Content-Length: {len(body)}", body=body)
        async with ScriptedServer(big, OK) as server, client() as http:
            async with http.stream("GET", server.url()) as response:
                pieces = [piece async for piece in response.aiter_raw()]
            assert (await http.get(server.url())).content == b"ok"
        assert b"".join(pieces) == body
        assert len(pieces) > 1
        assert server.requests_per_connection == [2]

    asyncio.run(main())


def test_https(tls_ca: trustme.CA, tls_certs: Certificates) -> None:
    async def main() -> None:
        context = ssl.create_default_context()
        tls_ca.configure_trust(context)
        tls = server_context(tls_certs.server, alpn=["http/1.1"])
        async with (
            ScriptedServer(OK, OK, ssl_context=tls) as server,
            client(context=context) as http,
        ):
            responses = [await http.get(server.url()) for _ in range(2)]
        assert [(r.http_version, r.content) for r in responses] == [("HTTP/1.1", b"ok")] * 2
        assert server.requests_per_connection == [2]

    asyncio.run(main())


# -- the connection's states ---------------------------------------------------


def test_every_state_is_reachable_and_only_idle_takes_a_request() -> None:
    reached, frontier = {State.CONNECTING}, [State.CONNECTING]
    while frontier:
        for target in TRANSITIONS[frontier.pop()].values():
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(State)
    assert [state for state in State if Event.SEND in TRANSITIONS[state]] == [State.IDLE]


def test_a_transition_missing_from_the_table_is_a_bug() -> None:
    with pytest.raises(MissingTransition, match="no transition IDLE -HEAD->"):
        advance(State.IDLE, Event.HEAD)
