"""hx.net.http2.Http2Transport against a scripted HTTP/2 server on 127.0.0.1
(``H2Server``, tests/support/h2_server.py)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import trustme
from h2.errors import ErrorCodes
from h2.settings import SettingCodes
from hpack import NeverIndexedHeaderTuple

from hx.net.http1 import Http1Transport
from hx.net.http2 import Http2Transport
from support.h2_server import H2Server, Handler, Header, Peer, Stream, hold, ok, slow
from support.http1_server import OK, ScriptedServer
from support.tls_servers import Certificates, server_context
from support.transport import HEADER_INJECTIONS, body_parts

BIG = bytes(range(256)) * 8192
"""2 MiB: twice the stream window hx gives the server."""


def client(
    max_connections: int = 10,
    prior_knowledge: bool = True,
    context: Callable[[], ssl.SSLContext] = ssl.create_default_context,
) -> httpx.AsyncClient:
    """An AsyncClient on an Http2Transport (h2c by default); HTTP/1.1 origins get an
    Http1Transport with a context of its own."""
    transport = Http2Transport(
        context,
        max_connections,
        prior_knowledge=prior_knowledge,
        http1=lambda: Http1Transport(context, max_connections),
    )
    return httpx.AsyncClient(transport=transport, timeout=2.0)


async def until(condition: Callable[[], object]) -> None:
    """Wait (at most a second) until ``condition()`` holds: the server runs in this loop."""
    async with asyncio.timeout(1):
        while not condition():
            await asyncio.sleep(0.001)


# -- what goes on the wire -----------------------------------------------------


@pytest.mark.parametrize(("te", "sent"), [("trailers", [(b"te", b"trailers")]), ("gzip", [])])
def test_get(te: str, sent: list[Header]) -> None:
    async def answer(peer: Peer, stream: Stream) -> None:
        headers = [(b"content-type", b"text/plain"), (b"x-reply", b"1")]
        await peer.respond(stream, b"hello ", b"world", headers=headers, delay=0.01)

    async def main() -> None:
        async with H2Server(answer) as server, client() as http:
            hop_by_hop = {
                "Host": "example.test:8080",
                "Connection": "keep-alive",
                "Keep-Alive": "timeout=5",
                "Proxy-Connection": "keep-alive",
                "Transfer-Encoding": "chunked",
                "Upgrade": "h2c",
            }
            headers = {**hop_by_hop, "TE": te, "X-Test": "v"}
            request = httpx.Request("GET", server.url("/p/a%20th?q=1&r=x%2Fy"), headers=headers)
            response = await http.send(request)
        assert (response.status_code, response.http_version) == (200, "HTTP/2")
        assert response.headers.multi_items() == [("content-type", "text/plain"), ("x-reply", "1")]
        assert response.content == b"hello world"
        assert [stream.headers for stream in server.streams] == [
            [
                (b":method", b"GET"),
                (b":authority", b"example.test:8080"),
                (b":scheme", b"http"),
                (b":path", b"/p/a%20th?q=1&r=x%2Fy"),
                *sent,
                (b"x-test", b"v"),
            ]
        ]

    asyncio.run(main())


@pytest.mark.parametrize(
    "settings", [pytest.param({}, id="default"), {SettingCodes.HEADER_TABLE_SIZE: 0}]
)
def test_hpack_literal_encoding_decodes_exactly(settings: dict[SettingCodes, int]) -> None:
    # String lengths on both sides of the one-byte prefix (127) and its continuation
    # bytes (255, 16511), and past a frame (CONTINUATION).
    headers = [(b"x-%d" % n, b"v" * n) for n in (1, 126, 127, 128, 255, 16_511, 20_000)]
    headers += [
        (b"x-" + b"n" * 200, b"long name"),
        (b"authorization", b"Bearer secret"),
        (b"cookie", b"a=1; b=2"),
    ]

    async def main() -> None:
        async with H2Server(settings=settings) as server, client() as http:
            for _ in range(2):  # the first block differs: it sets the table size
                response = await http.send(httpx.Request("GET", server.url(), headers=headers))
                assert response.content == b"ok"
        for stream in server.streams:
            assert stream.headers[4:] == headers
            never_indexed = [h for h in stream.headers if isinstance(h, NeverIndexedHeaderTuple)]
            assert never_indexed == headers[-2:]

    asyncio.run(main())


@pytest.mark.parametrize(
    ("content", "body", "length"),
    [
        pytest.param(b"hello", b"hello", [(b"content-length", b"5")], id="bytes"),
        pytest.param(b"", b"", [(b"content-length", b"0")], id="empty"),
        pytest.param(body_parts, b"abcdefgh", [], id="async-generator"),
        # Past the server's 65535-byte windows: hx waits for its WINDOW_UPDATEs.
        pytest.param(BIG, BIG, [(b"content-length", b"2097152")], id="big"),
    ],
)
def test_post(
    content: bytes | Callable[[], AsyncIterator[bytes]], body: bytes, length: list[Header]
) -> None:
    async def main() -> None:
        async with H2Server() as server, client() as http:
            body_in = content() if callable(content) else content
            response = await http.send(httpx.Request("POST", server.url(), content=body_in))
            assert response.content == b"ok"
        [stream] = server.streams
        assert stream.headers[4:] == length  # no transfer-encoding for a streamed body
        assert stream.body == body

    asyncio.run(main())


def test_a_larger_initial_window_in_settings_resumes_a_parked_upload() -> None:
    async def widen(peer: Peer, stream: Stream) -> None:
        # No WINDOW_UPDATE: a new SETTINGS_INITIAL_WINDOW_SIZE is the only credit.
        peer.h2.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20})
        peer.flush()
        await ok(peer, stream)

    async def main() -> None:
        settings = {SettingCodes.INITIAL_WINDOW_SIZE: 0}  # the upload waits at once
        async with H2Server(widen, settings) as server, client() as http:
            response = await http.post(server.url(), content=b"hello", timeout=1.0)
            assert response.content == b"ok"
        assert server.streams[0].body == b"hello"

    asyncio.run(main())


def test_large_response_streams_intact() -> None:
    body = BIG * 4  # 8 MiB

    async def big(peer: Peer, stream: Stream) -> None:
        await peer.respond(stream, body if stream.id == 1 else b"ok")

    async def main() -> None:
        async with H2Server(big) as server, client() as http:
            async with http.stream("GET", server.url()) as response:
                pieces = [piece async for piece in response.aiter_raw()]
            assert (await http.get(server.url())).content == b"ok"
        assert b"".join(pieces) == body
        assert len(pieces) > 1
        assert len(server.peers) == 1

    asyncio.run(main())


def test_responses_closed_unread_hand_their_window_back() -> None:
    """21 responses of 1 MiB closed unread: more than hx's 16 MiB connection window."""
    window = BIG[: len(BIG) // 2]  # a whole stream window
    in_turn = asyncio.Lock()

    async def big(peer: Peer, stream: Stream) -> None:
        async with in_turn:  # the next head comes after the whole body before it
            await peer.respond(stream, window if stream.path == b"/big" else b"ok")

    async def main() -> None:
        async with H2Server(big) as server, client() as http:

            async def head() -> httpx.Response:
                request = http.build_request("GET", server.url("/big"), timeout=1.0)
                return await http.send(request, stream=True)

            unread = await head()
            for _ in range(20):
                following = await head()  # its head comes after all of ``unread``'s body
                await unread.aclose()
                unread = following
            await unread.aclose()
            assert (await http.get(server.url(), timeout=1.0)).content == b"ok"
        assert [len(peer.streams) for peer in server.peers] == [22]

    asyncio.run(main())


@pytest.mark.parametrize(("name", "value"), HEADER_INJECTIONS)
def test_header_injection_is_refused_and_nothing_sent(name: bytes, value: bytes) -> None:
    async def main() -> None:
        async with H2Server() as server, client() as http:
            request = httpx.Request("GET", server.url(), headers=[(name, value)])
            with pytest.raises(httpx.LocalProtocolError, match="CR, LF or NUL"):
                await http.send(request)
            assert (await http.get(server.url())).content == b"ok"
        [peer] = server.peers
        assert list(peer.streams) == [1]  # the refused request did not take a stream

    asyncio.run(main())


def test_a_pseudo_header_from_the_caller_is_refused() -> None:
    async def main() -> None:
        async with H2Server() as server, client() as http:
            request = httpx.Request("GET", server.url(), headers=[(b":path", b"/elsewhere")])
            with pytest.raises(httpx.LocalProtocolError, match="starts with ':'"):
                await http.send(request)
        assert server.streams == []

    asyncio.run(main())


# -- sharing connections -------------------------------------------------------


def test_concurrent_requests_share_one_connection() -> None:
    async def echo_path(peer: Peer, stream: Stream) -> None:
        await stream.complete.wait()
        await peer.respond(stream, stream.path)

    async def main() -> None:
        async with H2Server(echo_path) as server, client() as http:
            paths = [f"/{n}" for n in range(50)]
            responses = await asyncio.gather(*(http.get(server.url(path)) for path in paths))
        assert [r.text for r in responses] == paths
        assert [len(peer.streams) for peer in server.peers] == [50]

    asyncio.run(main())


def test_max_concurrent_streams_opens_more_connections() -> None:
    async def main() -> None:
        settings = {SettingCodes.MAX_CONCURRENT_STREAMS: 5}
        async with H2Server(slow, settings, settings_delay=0.02) as server, client() as http:
            # All at once on a new transport: a connection opens no stream
            # before the server's SETTINGS have said how many it allows.
            responses = await asyncio.gather(*(http.get(server.url()) for _ in range(20)))
        assert [r.content for r in responses] == [b"ok"] * 20
        assert sum(len(peer.streams) for peer in server.peers) == 20
        assert max(peer.most_open for peer in server.peers) == 5

    asyncio.run(main())


def test_cancelling_the_request_that_connects_leaves_the_others_waiting_to_connect() -> None:
    async def main() -> None:
        async with H2Server(settings_delay=0.1) as server, client() as http:
            connecting = asyncio.create_task(http.get(server.url("/a")))
            await asyncio.sleep(0.02)
            sharing = asyncio.create_task(http.get(server.url("/b")))
            await asyncio.sleep(0.02)  # it waits for the first one's connection
            connecting.cancel()
            assert (await sharing).content == b"ok"  # it connected itself
            with pytest.raises(asyncio.CancelledError):
                await connecting
        assert [len(peer.streams) for peer in server.peers] == [0, 1]

    asyncio.run(main())


def test_room_on_one_origin_reaches_its_waiter_behind_one_for_another() -> None:
    async def main() -> None:
        settings = {SettingCodes.MAX_CONCURRENT_STREAMS: 2}
        async with (
            H2Server(hold, settings) as a,
            H2Server() as b,
            client(max_connections=1) as http,
        ):
            held = [asyncio.create_task(http.get(a.url())) for _ in range(2)]
            await until(lambda: len(a.streams) == 2)
            a.handler = ok
            timeout = httpx.Timeout(2.0, pool=0.5)
            other_origin = asyncio.create_task(http.get(b.url(), timeout=timeout))
            await asyncio.sleep(0.01)  # it queues first: the one connection is full ...
            same_origin = asyncio.create_task(http.get(a.url(), timeout=timeout))
            await asyncio.sleep(0.01)  # ... and this one behind it
            peer = a.peers[0]
            await peer.respond(a.streams[0], b"ok")  # room on a, none for b
            assert (await same_origin).content == b"ok"
            assert not held[1].done()
            await peer.respond(a.streams[1], b"ok")  # a idle: closed to make room for b
            assert (await other_origin).content == b"ok"
            assert [(await request).content for request in held] == [b"ok", b"ok"]
        assert [len(peer.streams) for peer in a.peers + b.peers] == [3, 1]

    asyncio.run(main())


def test_the_pool_timeout_is_a_deadline_not_reset_by_each_wake_up() -> None:
    """Origin A keeps the one connection busy, its streams ending and starting again:
    each end wakes the request for origin B, which must still give up on time."""

    async def main() -> None:
        settings = {SettingCodes.MAX_CONCURRENT_STREAMS: 2}
        async with (
            H2Server(slow, settings) as a,
            H2Server() as b,
            client(max_connections=1) as http,
        ):
            busy = True

            async def keep_busy() -> None:
                while busy:
                    await http.get(a.url())

            workers = [asyncio.create_task(keep_busy()) for _ in range(2)]
            await until(lambda: a.streams)
            started = asyncio.get_running_loop().time()
            with pytest.raises(httpx.PoolTimeout):
                await asyncio.wait_for(http.get(b.url(), timeout=httpx.Timeout(5, pool=0.2)), 2)
            assert asyncio.get_running_loop().time() - started < 0.5
            busy = False
            await asyncio.gather(*workers)

    asyncio.run(main())


# -- failures ------------------------------------------------------------------


def interim(*statuses: bytes, then: bool = True) -> Handler:
    """A handler that sends 1xx heads with these statuses, then (if ``then``) 200 "ok"."""

    async def answer(peer: Peer, stream: Stream) -> None:
        await stream.complete.wait()
        peer.h2.config.validate_outbound_headers = False  # h2 would refuse some of these
        for status in statuses:
            peer.h2.send_headers(stream.id, [(b":status", status)])
        if then:
            await peer.respond(stream, b"ok")
        peer.flush()

    return answer


def test_interim_responses_are_skipped() -> None:
    async def main() -> None:
        async with H2Server(interim(b"100", b"103")) as server, client() as http:
            response = await http.get(server.url())
        assert (response.status_code, response.content) == (200, b"ok")

    asyncio.run(main())


@pytest.mark.parametrize("then", [False, True], ids=["alone", "with-the-final-response"])
@pytest.mark.parametrize("status", [b"101", b"1xx", b"1"])
def test_101_or_a_malformed_interim_status_fails_the_stream(status: bytes, then: bool) -> None:
    async def main() -> None:
        async with H2Server(interim(status, then=then)) as server, client() as http:
            with pytest.raises(httpx.RemoteProtocolError) as caught:
                await http.get(server.url())
            assert str(caught.value) == f"invalid :status {status!r} in an interim response"
            if not then:  # the stream is still open: hx resets it
                await until(lambda: server.streams[0].reset_code is not None)
                assert server.streams[0].reset_code == ErrorCodes.PROTOCOL_ERROR
            server.handler = ok
            assert (await http.get(server.url())).content == b"ok"  # the connection lives on
        assert [len(peer.streams) for peer in server.peers] == [2]

    asyncio.run(main())


@pytest.mark.parametrize("status", [b"000", b"099", b"600", b"999", b"20", b"2000", b"abc"])
def test_a_status_outside_100_599_fails_the_request(status: bytes) -> None:
    async def answer(peer: Peer, stream: Stream) -> None:
        await stream.complete.wait()
        peer.h2.config.validate_outbound_headers = False
        peer.h2.send_headers(stream.id, [(b":status", status)], end_stream=True)
        peer.flush()

    async def main() -> None:
        async with H2Server(answer) as server, client() as http:
            with pytest.raises(httpx.RemoteProtocolError, match="invalid :status"):
                await http.get(server.url())

    asyncio.run(main())


def raw_headers(peer: Peer) -> None:
    """Let ``peer`` send header blocks h2 would refuse or rewrite."""
    peer.h2.config.validate_outbound_headers = False
    peer.h2.config.normalize_outbound_headers = False


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ((b"X-Upper", b"1"), "invalid field name b'X-Upper'"),
        ((b"x-split", b"a\r\nb"), "invalid value in field b'x-split'"),
        ((b"connection", b"close"), "connection-specific field b'connection'"),
        ((b":path", b"/"), "a response needs :status and no other pseudo-header"),
    ],
)
def test_a_malformed_response_head_fails_only_its_request(
    field: tuple[bytes, bytes], reason: str
) -> None:
    async def answer(peer: Peer, stream: Stream) -> None:
        await stream.complete.wait()
        if stream.path != b"/bad":
            await peer.respond(stream, b"ok")
            return
        raw_headers(peer)
        peer.h2.send_headers(stream.id, [(b":status", b"200"), field])
        peer.flush()

    async def main() -> None:
        async with H2Server(answer) as server, client() as http:
            with pytest.raises(httpx.RemoteProtocolError) as caught:
                await http.get(server.url("/bad"))
            assert str(caught.value) == f"malformed response head: {reason}"
            await until(lambda: server.streams[0].reset_code is not None)
            assert server.streams[0].reset_code == ErrorCodes.PROTOCOL_ERROR
            assert (await http.get(server.url("/good"))).content == b"ok"
        assert [len(peer.streams) for peer in server.peers] == [2]  # one connection

    asyncio.run(main())


def test_malformed_trailers_fail_the_request_and_hand_its_window_back() -> None:
    """17 bodies of 1 MiB with malformed trailers: more than hx's 16 MiB connection
    window, so the request after them waits forever if their credit is kept."""
    window = BIG[: len(BIG) // 2]  # a whole stream window

    async def answer(peer: Peer, stream: Stream) -> None:
        await stream.complete.wait()
        if stream.path != b"/bad":
            await peer.respond(stream, b"ok")
            return
        await peer.respond(stream, window, end=False)
        raw_headers(peer)
        peer.h2.send_headers(stream.id, [(b":status", b"200")], end_stream=True)
        peer.flush()

    async def main() -> None:
        async with H2Server(answer) as server, client() as http:
            for _ in range(17):
                with pytest.raises(httpx.RemoteProtocolError) as caught:
                    request = http.build_request("GET", server.url("/bad"), timeout=1.0)
                    response = await http.send(request, stream=True)
                    await asyncio.sleep(0.02)  # the body arrives and waits, unread
                    await response.aread()
                await response.aclose()
                assert str(caught.value) == "malformed trailers: pseudo-header in trailers"
            assert (await http.get(server.url("/good"), timeout=1.0)).content == b"ok"
        assert [len(peer.streams) for peer in server.peers] == [18]

    asyncio.run(main())


@pytest.mark.parametrize("after_head", [False, True], ids=["before-head", "mid-body"])
def test_reset_stream_fails_only_that_request(after_head: bool) -> None:
    async def reset_one(peer: Peer, stream: Stream) -> None:
        await until(lambda: len(peer.streams) == 3)
        if stream.path != b"/reset":
            await peer.respond(stream, b"ok")
            return
        if after_head:
            await peer.respond(stream, b"partial", end=False)
        peer.reset(stream)

    async def fetch(http: httpx.AsyncClient, url: str) -> bytes:
        return (await http.get(url)).content

    async def main() -> None:
        async with H2Server(reset_one) as server, client() as http:
            paths = ["/a", "/reset", "/b"]
            outcomes = await asyncio.gather(
                *(fetch(http, server.url(path)) for path in paths), return_exceptions=True
            )
        assert outcomes[::2] == [b"ok", b"ok"]
        assert isinstance(outcomes[1], httpx.RemoteProtocolError)
        assert str(outcomes[1]) == "server reset the stream (INTERNAL_ERROR)"
        assert [len(peer.streams) for peer in server.peers] == [3]

    asyncio.run(main())


async def trickle() -> AsyncIterator[bytes]:
    """256 KiB, past the server's 65535-byte window, produced slowly."""
    for _ in range(64):
        yield b"y" * 4096
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("answer", [True, False], ids=["413-then-reset", "reset"])
def test_server_stops_an_upload_midway(answer: bool) -> None:
    async def stop(peer: Peer, stream: Stream) -> None:
        await until(lambda: stream.body)
        if answer:
            await peer.respond(stream, b"too big", status=413)
            peer.reset(stream, ErrorCodes.NO_ERROR)
        else:
            peer.reset(stream, ErrorCodes.INTERNAL_ERROR)

    async def main() -> None:
        async with H2Server(stop) as server, client() as http:
            if answer:
                response = await http.post(server.url(), content=trickle())
                assert (response.status_code, response.content) == (413, b"too big")
            else:
                with pytest.raises(httpx.RemoteProtocolError) as caught:
                    await http.post(server.url(), content=trickle())
                assert str(caught.value) == "server reset the stream (INTERNAL_ERROR)"
            server.handler = ok
            assert (await http.get(server.url())).content == b"ok"
        assert len(server.streams[0].body) < 64 * 4096  # hx stopped sending
        assert [len(peer.streams) for peer in server.peers] == [2]

    asyncio.run(main())


def test_goaway_fails_the_unprocessed_streams_and_the_next_request_reconnects() -> None:
    async def main() -> None:
        async with H2Server(hold) as server, client() as http:
            paths = ["/a", "/b", "/c"]
            requests = [asyncio.create_task(http.get(server.url(path))) for path in paths]
            await until(lambda: len(server.streams) == 3)
            peer = server.peers[0]
            peer.goaway(last_stream_id=1)
            async with asyncio.timeout(1):  # past the stream window: hx still acknowledges
                await peer.respond(peer.streams[1], BIG)
            outcomes = await asyncio.gather(*requests, return_exceptions=True)
            server.handler = ok
            assert (await http.get(server.url())).content == b"ok"
            await asyncio.wait_for(peer.hung_up.wait(), 1)  # its last stream done, hx hangs up
        by_path = dict(zip(paths, outcomes, strict=True))
        answered = by_path.pop(peer.streams[1].path.decode())
        assert isinstance(answered, httpx.Response)
        assert answered.content == BIG
        for refused in by_path.values():
            assert isinstance(refused, httpx.RemoteProtocolError)
            assert "GOAWAY NO_ERROR" in str(refused)
        assert [len(peer.streams) for peer in server.peers] == [3, 1]

    asyncio.run(main())


@pytest.mark.parametrize("after_head", [False, True], ids=["before-head", "mid-body"])
def test_server_closes_the_socket_then_a_new_connection(after_head: bool) -> None:
    async def main() -> None:
        async with H2Server(hold) as server, client() as http:
            request = asyncio.create_task(http.get(server.url()))
            await until(lambda: server.streams)
            peer = server.peers[0]
            if after_head:
                await peer.respond(peer.streams[1], b"partial", end=False)
            peer.writer.close()
            message = "without sending complete message body" if after_head else "disconnected"
            with pytest.raises(httpx.RemoteProtocolError, match=message):
                await request
            server.handler = ok
            assert (await http.get(server.url())).content == b"ok"
        assert [len(peer.streams) for peer in server.peers] == [1, 1]

    asyncio.run(main())


def test_read_timeout_resets_the_stream_and_keeps_the_connection() -> None:
    async def main() -> None:
        async with H2Server(hold) as server, client() as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(server.url(), timeout=0.1)
            server.handler = ok
            assert (await http.get(server.url())).content == b"ok"
            await until(lambda: server.streams[0].reset_code is not None)
        assert server.streams[0].reset_code == ErrorCodes.CANCEL
        assert [len(peer.streams) for peer in server.peers] == [2]

    asyncio.run(main())


def test_closing_an_unread_response_resets_its_stream() -> None:
    async def endless(peer: Peer, stream: Stream) -> None:
        if stream.id == 1:
            await peer.respond(stream, b"x" * 1000, end=False)
        else:
            await ok(peer, stream)

    async def main() -> None:
        async with H2Server(endless) as server, client() as http:
            async with http.stream("GET", server.url()) as response:
                assert response.status_code == 200
            await until(lambda: server.streams[0].reset_code is not None)
            assert server.streams[0].reset_code == ErrorCodes.CANCEL
            assert (await http.get(server.url())).content == b"ok"
        assert [len(peer.streams) for peer in server.peers] == [2]

    asyncio.run(main())


def test_connect_refused(refused_url: str) -> None:
    async def main() -> None:
        async with client() as http:
            outcomes = await asyncio.wait_for(
                asyncio.gather(*(http.get(refused_url) for _ in range(5)), return_exceptions=True),
                1,
            )
        for outcome in outcomes:
            assert isinstance(outcome, httpx.ConnectError)
            assert isinstance(outcome.__cause__, ConnectionRefusedError)

    asyncio.run(main())


# -- TLS, ALPN and closing -----------------------------------------------------


def trusting(ca: trustme.CA) -> Callable[[], ssl.SSLContext]:
    """A maker of client contexts that trust ``ca``: each transport sets its own ALPN."""

    def make() -> ssl.SSLContext:
        context = ssl.create_default_context()
        ca.configure_trust(context)
        return context

    return make


def test_https_with_alpn_h2(tls_ca: trustme.CA, tls_certs: Certificates) -> None:
    async def main() -> None:
        tls = server_context(tls_certs.server, alpn=["h2", "http/1.1"])
        async with (
            H2Server(ssl_context=tls) as server,
            client(prior_knowledge=False, context=trusting(tls_ca)) as http,
        ):
            responses = [await http.get(server.url()) for _ in range(2)]
        assert [(r.http_version, r.content) for r in responses] == [("HTTP/2", b"ok")] * 2
        assert [dict(stream.headers)[b":scheme"] for stream in server.streams] == [b"https"] * 2
        assert len(server.peers) == 1

    asyncio.run(main())


def test_https_without_h2_in_alpn_falls_back_to_http1(
    tls_ca: trustme.CA, tls_certs: Certificates
) -> None:
    async def main() -> None:
        tls = server_context(tls_certs.server, alpn=["http/1.1"])
        async with ScriptedServer(OK, OK, ssl_context=tls) as server:
            async with client(prior_knowledge=False, context=trusting(tls_ca)) as http:
                responses = [await http.get(server.url()) for _ in range(2)]
            # The connection whose ALPN said http/1.1 was closed with nothing sent on
            # it; hx.net.http1 took over the origin, and closed with the transport.
            assert server.requests_per_connection == [0, 2]
            for peer in server.peers:
                await asyncio.wait_for(peer.hung_up.wait(), 1)
        assert [(r.http_version, r.content) for r in responses] == [("HTTP/1.1", b"ok")] * 2

    asyncio.run(main())
