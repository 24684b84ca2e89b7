"""hx.net.body through hx.net.http1: a body read straight into the caller's buffer, on the
asyncio loop and on uvloop (hx's), over plain TCP and TLS, against real servers on
127.0.0.1; and ResponseReader's accounting for bytes that bypass ``feed``."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import httpx
import pytest
import trustme
from hypothesis import given, settings
from hypothesis import strategies as st

from hx.net.body import BodyReader, body_reader
from hx.net.http1 import _PATIENCE, Http1Transport
from hx.net.http1_parser import ResponseReader
from hx.net.http1_state import State
from support.http1_server import OK, ScriptedServer, message, script, timed
from support.tls_servers import Certificates, server_context

_PLAIN = ssl.create_default_context()


def _loops() -> list[Any]:
    loops: list[Any] = [pytest.param(asyncio.new_event_loop, id="asyncio")]
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency where it builds
        return loops
    return [*loops, pytest.param(uvloop.new_event_loop, id="uvloop")]


@pytest.fixture(params=_loops())
def run(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, None]], None]:
    """Runs a test's coroutine on each event loop hx may run on."""

    def runner(main: Coroutine[Any, Any, None]) -> None:
        with asyncio.Runner(loop_factory=request.param) as loop:
            loop.run(main)

    return runner


def client(read_timeout: float = 2.0, context: ssl.SSLContext = _PLAIN) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=Http1Transport(context, 4), timeout=httpx.Timeout(2.0, read=read_timeout)
    )


def reader_of(response: httpx.Response) -> BodyReader:
    reader = body_reader(response)
    assert reader is not None
    return reader


async def read_all(response: httpx.Response, size: int) -> list[bytes]:
    """The body in the pieces ``readinto`` gives, into a buffer of ``size`` bytes."""
    reader, buffer, pieces = reader_of(response), bytearray(size), []
    while count := await reader.readinto(memoryview(buffer)):
        pieces.append(bytes(buffer[:count]))
    return pieces


BODY = bytes(range(256)) * 40  # 10,240 bytes


@pytest.mark.parametrize("size", [7, 4096, len(BODY), 1 << 20])
def test_a_content_length_body_fills_each_buffer(
    run: Callable[[Coroutine[Any, Any, None]], None], size: int
) -> None:
    """Every buffer but the last comes back full, and the connection serves the next request."""

    async def main() -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
        reply = script(head + BODY[:100], BODY[100:5000], BODY[5000:], delay=0.01)
        async with ScriptedServer(reply, OK) as server, client() as http:
            async with http.stream("GET", server.url()) as response:
                pieces = await read_all(response, size)
            assert (await http.get(server.url())).content == b"ok"
        assert b"".join(pieces) == BODY
        assert all(len(piece) == size for piece in pieces[:-1])
        assert server.requests_per_connection == [2]

    run(main())


def test_a_body_that_ends_at_close(run: Callable[[Coroutine[Any, Any, None]], None]) -> None:
    async def main() -> None:
        reply = script(b"HTTP/1.1 200 OK\r\n\r\n" + BODY[:3000], BODY[3000:], then="close")
        async with ScriptedServer(reply) as server, client() as http:
            async with http.stream("GET", server.url()) as response:
                pieces = await read_all(response, 1 << 16)
        assert pieces == [BODY]

    run(main())


def test_a_chunked_body_is_copied_piece_by_piece(
    run: Callable[[Coroutine[Any, Any, None]], None],
) -> None:
    async def main() -> None:
        chunked = script(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            b"lo\r\n6\r\n world\r\n0\r\n\r\n",
            delay=0.01,
        )
        async with ScriptedServer(chunked, OK) as server, client() as http:
            async with http.stream("GET", server.url()) as response:
                pieces = await read_all(response, 4)
            assert (await http.get(server.url())).content == b"ok"
        assert b"".join(pieces) == b"hello world"
        assert server.requests_per_connection == [2]

    run(main())


def test_bytes_past_the_content_length_do_not_reach_the_buffer(
    run: Callable[[Coroutine[Any, Any, None]], None],
) -> None:
    """The body is cut at its length; the stray bytes make the connection unusable."""

    async def main() -> None:
        reply = message("HTTP/1.1 200 OK", "Content-Length: 5", body=b"hello") + b"garbage"
        async with ScriptedServer(reply, OK) as server, client() as http:
            async with http.stream("GET", server.url()) as response:
                buffer = bytearray(b"." * 64)
                count = await reader_of(response).readinto(memoryview(buffer))
                assert await reader_of(response).readinto(memoryview(buffer)[count:]) == 0
            assert (await http.get(server.url())).content == b"ok"
        assert (count, bytes(buffer[:count]), bytes(buffer[count:])) == (5, b"hello", b"." * 59)
        assert server.requests_per_connection == [1, 1]

    run(main())


def test_a_slow_but_steady_body_is_not_a_read_timeout(
    run: Callable[[Coroutine[Any, Any, None]], None],
) -> None:
    """The read timeout is the longest wait for a byte, not for a buffer to fill; and the
    bytes come back as they come, _PATIENCE at a time, not once the buffer is full."""

    async def main() -> None:
        parts = [BODY[i : i + 1000] for i in range(0, 10000, 1000)]
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n"
        async with (
            ScriptedServer(script(head, *parts, delay=0.08)) as server,
            client(read_timeout=0.3) as http,
        ):
            async with http.stream("GET", server.url()) as response:
                pieces = await read_all(response, 1 << 20)
        assert b"".join(pieces) == BODY[:10000]
        assert 2 <= len(pieces) <= 10  # 0.72 s of trickle, returned every 0.2 s or so

    run(main())


@pytest.mark.parametrize(("timeout", "gap"), [(0.5, 0.1), (0.15, 0.1)])
def test_the_read_timeout_runs_from_the_last_byte(
    run: Callable[[Coroutine[Any, Any, None]], None], timeout: float, gap: float
) -> None:
    """Bytes trickle into the buffer (which they do not wake), then stop: ReadTimeout comes
    one read timeout after the last byte (give or take _PATIENCE), not up to two, and
    not while they still come (a timeout shorter than _PATIENCE: from the loan, it would)."""

    async def main() -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n"
        parts = [BODY[i : i + 100] for i in range(0, 500, 100)]
        async with (
            ScriptedServer(script(head, *parts, delay=gap)) as server,
            client(read_timeout=timeout) as http,
        ):
            async with http.stream("GET", server.url()) as response:
                reader, buffer, got = reader_of(response), bytearray(10000), 0
                started = asyncio.get_running_loop().time()
                with pytest.raises(httpx.ReadTimeout):
                    while count := await reader.readinto(memoryview(buffer)):
                        got += count
                waited = asyncio.get_running_loop().time() - started
        assert got == 500
        last_byte = gap * len(parts)  # about when the last part was sent
        assert waited - last_byte < timeout + _PATIENCE + 0.3, waited  # not 2 x timeout

    run(main())


@pytest.mark.parametrize("first", [0.0, 0.05, 0.5], ids=["queued", "lent", "late"])
def test_bytes_that_came_return_within_patience(
    run: Callable[[Coroutine[Any, Any, None]], None], first: float
) -> None:
    """A buffer holding bytes goes back _PATIENCE after it was lent, full or not: a slow
    download's progress is heard, and a cancellation loses little. The first bytes come
    with the head, into the lent buffer before _PATIENCE is up, or after."""

    async def main() -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n"
        reply = timed((0.0, head), (first, BODY[:100]), (2.0, BODY[100:10000]))
        async with (
            ScriptedServer(reply) as server,
            client(read_timeout=5.0) as http,
        ):
            async with http.stream("GET", server.url()) as response:
                reader, buffer = reader_of(response), bytearray(10000)
                started = asyncio.get_running_loop().time()
                assert await reader.readinto(memoryview(buffer)) == 100
                waited = asyncio.get_running_loop().time() - started
                assert await reader.readinto(memoryview(buffer)[100:]) == 9900
        assert buffer == BODY[:10000]
        assert max(first, _PATIENCE) <= waited + 0.05 < 1.5, waited  # not when the rest came

    run(main())


@pytest.mark.parametrize(
    ("then", "error"), [("reset", httpx.ReadError), ("wait", httpx.ReadTimeout)]
)
def test_a_failure_mid_buffer_gives_the_bytes_that_came_then_raises(
    run: Callable[[Coroutine[Any, Any, None]], None], then: Any, error: type[Exception]
) -> None:
    async def main() -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n"
        async with (
            ScriptedServer(script(head + BODY[:3000], then=then)) as server,
            client(read_timeout=0.3) as http,
        ):
            async with http.stream("GET", server.url()) as response:
                buffer = bytearray(1 << 16)
                assert await reader_of(response).readinto(memoryview(buffer)) == 3000
                assert bytes(buffer[:3000]) == BODY[:3000]
                with pytest.raises(error):
                    await reader_of(response).readinto(memoryview(buffer))

    run(main())


@pytest.mark.parametrize("queued", [True, False], ids=["queued", "lent"])
def test_a_cancelled_read_leaves_the_buffer_alone_and_the_body_broken(
    run: Callable[[Coroutine[Any, Any, None]], None], queued: bool
) -> None:
    """Once readinto is cancelled the buffer is the caller's again: later bytes never land
    in it, and reading on (past the hole) is an error, not a body with bytes missing.
    The first bytes come with the head (queued, then copied) or after it (read straight
    into the buffer), and the cancellation before _PATIENCE would return them."""

    async def main() -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n"
        first = [(0.0, head + BODY[:1000])] if queued else [(0.0, head), (0.05, BODY[:1000])]
        reply = timed(*first, (0.6, BODY[1000:10000]))
        async with ScriptedServer(reply) as server, client() as http:
            async with http.stream("GET", server.url()) as response:
                buffer = bytearray(b"." * 20000)
                connection = reader_of(response)._connection  # type: ignore[attr-defined]
                read = asyncio.create_task(reader_of(response).readinto(memoryview(buffer)))
                # Cancelled with the first bytes in hand, long before _PATIENCE is up.
                while connection._lent is None or not (queued or connection._lent_filled):
                    await asyncio.sleep(0.001)
                read.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await read
                await asyncio.sleep(0.7)  # the rest of the body arrives
                assert bytes(buffer[:1000]) == BODY[:1000]
                assert bytes(buffer[1000:]) == b"." * 19000
                with pytest.raises(httpx.ReadError, match="cancelled"):
                    await reader_of(response).readinto(memoryview(bytearray(10)))

    run(main())


def test_https_body_into_the_buffer(
    run: Callable[[Coroutine[Any, Any, None]], None],
    tls_ca: trustme.CA,
    tls_certs: Certificates,
) -> None:
    async def main() -> None:
        context = ssl.create_default_context()
        tls_ca.configure_trust(context)
        tls = server_context(tls_certs.server, alpn=["http/1.1"])
        body = BODY * 100  # 1 MiB
        big = message("HTTP/1.1 200 OK", f"Content-Length: {len(body)}", body=body)
        async with (
            ScriptedServer(big, OK, ssl_context=tls) as server,
            client(context=context) as http,
        ):
            async with http.stream("GET", server.url()) as response:
                pieces = await read_all(response, 1 << 16)
            assert (await http.get(server.url())).content == b"ok"
        assert b"".join(pieces) == body
        assert server.requests_per_connection == [2]

    run(main())


def test_a_stream_read_by_httpx_and_readinto_alike(
    run: Callable[[Coroutine[Any, Any, None]], None],
) -> None:
    """The two ways share one queue: what httpx has not taken, readinto gives, in order."""

    async def main() -> None:
        reply = message("HTTP/1.1 200 OK", f"Content-Length: {len(BODY)}", body=BODY)
        async with ScriptedServer(reply) as server, client() as http:
            async with http.stream("GET", server.url()) as response:
                first = await anext(response.aiter_raw())
                rest = await read_all(response, 1000)
        assert first + b"".join(rest) == BODY

    run(main())


# -- ResponseReader: bytes that bypass feed ------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    body=st.binary(max_size=300),
    close_delimited=st.booleans(),
    steps=st.lists(st.tuples(st.booleans(), st.integers(1, 64)), max_size=40),
    extra=st.binary(max_size=8),
)
def test_bytes_taken_directly_are_accounted_as_fed(
    body: bytes, close_delimited: bool, steps: list[tuple[bool, int]], extra: bytes
) -> None:
    """Any mix of ``feed`` and ``took`` (at most ``direct_room`` at a time) ends the
    response where feeding it all would, with the same body and reusability."""
    length = "" if close_delimited else f"Content-Length: {len(body)}\r\n"
    head = f"HTTP/1.1 200 OK\r\n{length}\r\n".encode()

    def reader() -> tuple[ResponseReader, list[bytes]]:
        pieces: list[bytes] = []
        made = ResponseReader(pieces.append)
        made.start(b"GET")
        made.feed(head)
        return made, pieces

    oracle, expected = reader()
    oracle.feed(body + extra)
    if close_delimited:
        oracle.feed_eof()

    mixed, got = reader()
    rest = body + extra
    for direct, size in steps:
        room = mixed.direct_room()
        if direct and room:
            count = min(size, room, len(rest))
            got.append(rest[:count])
            mixed.took(count)
        else:
            count = min(size, len(rest))
            mixed.feed(rest[:count])
        rest = rest[count:]
    mixed.feed(rest)
    if close_delimited:
        mixed.feed_eof()
    assert b"".join(got) == b"".join(expected)
    assert (mixed.ended, mixed.reusable, mixed.received) == (
        oracle.ended,
        oracle.reusable,
        oracle.received,
    )


def test_a_read_after_the_lent_buffer_is_full_is_queued(
    run: Callable[[Coroutine[Any, Any, None]], None],
) -> None:
    """Reading pauses once the lent buffer is full; should a transport read once more
    (the rest of a TLS record), the bytes go to the queue, in order, not into the buffer."""
    from hx.net import http1

    async def main() -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
        async with ScriptedServer(script(head, b"0123456789", delay=0.05)) as server:
            async with client() as http, http.stream("GET", server.url()) as response:
                connection = reader_of(response)._connection  # type: ignore[attr-defined]
                lending = http1._Lending(connection)
                spill = lending.get_buffer(-1)  # nothing is lent: a buffer of its own
                spill[:4] = b"abcd"
                lending.buffer_updated(4)
                buffer = bytearray(8)
                count = await reader_of(response).readinto(memoryview(buffer))
                assert bytes(buffer[:count]) == b"abcd0123"

    run(main())


@contextlib.contextmanager
def tls_server_closing_without_notify(context: ssl.SSLContext, reply: bytes) -> Iterator[str]:
    """A TLS server (a thread, blocking sockets) that answers one request with ``reply``
    and then closes the TCP connection without TLS close_notify: a "ragged" close, as
    many servers do."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        raw, _ = listener.accept()
        with context.wrap_socket(raw, server_side=True) as conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            conn.sendall(reply)
            conn.shutdown(socket.SHUT_WR)  # drops the TLS session: FIN, no close_notify
            conn.settimeout(5)
            with contextlib.suppress(OSError):
                conn.recv(1)  # until the client closes

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        thread.join(10)
        listener.close()


@pytest.mark.parametrize("framing", ["content-length", "close"])
def test_a_tls_body_then_a_ragged_close_arrives_whole(
    run: Callable[[Coroutine[Any, Any, None]], None],
    tls_ca: trustme.CA,
    tls_certs: Certificates,
    framing: str,
) -> None:
    """The body ends just past a full buffer and the server closes at once, without
    close_notify: every byte still reaches the caller (a TLS transport whose reading
    is paused when the close arrives drops the bytes it holds)."""
    body = bytes(i % 251 for i in range((1 << 20) + 100_000))
    length = f"Content-Length: {len(body)}\r\n" if framing == "content-length" else ""
    reply = f"HTTP/1.1 200 OK\r\n{length}Connection: close\r\n\r\n".encode() + body
    context = ssl.create_default_context()
    tls_ca.configure_trust(context)

    async def main() -> None:
        with tls_server_closing_without_notify(server_context(tls_certs.server), reply) as url:
            async with client(context=context) as http, http.stream("GET", url) as response:
                pieces = await read_all(response, 1 << 20)
        assert b"".join(pieces) == body

    run(main())


@pytest.mark.parametrize("ending", ["end", "reset"])
def test_a_cancellation_racing_the_end_of_the_body_stays_a_cancellation(
    run: Callable[[Coroutine[Any, Any, None]], None], ending: str
) -> None:
    """The last bytes (or a reset) arrive, then the reading task is cancelled before it
    runs again: it ends cancelled, not with an error of the connection's states."""

    async def main() -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n"
        then: Any = "reset" if ending == "reset" else "wait"
        rest = BODY[1000:2000] if ending == "end" else BODY[1000:1500]
        async with ScriptedServer(script(head, BODY[:1000], rest, delay=0.05, then=then)) as server:
            async with client() as http, http.stream("GET", server.url()) as response:
                reader = reader_of(response)
                read = asyncio.create_task(reader.readinto(memoryview(bytearray(4000))))
                connection = reader._connection  # type: ignore[attr-defined]
                while connection.state in (State.AWAITING_HEAD, State.RECEIVING_BODY):
                    await asyncio.sleep(0)  # until the body ends or breaks, unread
                read.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await read

    run(main())


def test_httpx_reads_on_after_readinto(run: Callable[[Coroutine[Any, Any, None]], None]) -> None:
    """A buffer filled (reading paused), then the rest read the way httpx reads: no hang."""

    async def main() -> None:
        head = message("HTTP/1.1 200 OK", f"Content-Length: {len(BODY)}")
        async with ScriptedServer(script(head, BODY, delay=0.05)) as server:
            async with (
                client(read_timeout=1.0) as http,
                http.stream("GET", server.url()) as response,
            ):
                buffer = bytearray(100)
                assert await reader_of(response).readinto(memoryview(buffer)) == 100
                rest = b"".join([piece async for piece in response.aiter_raw()])
        assert bytes(buffer) + rest == BODY

    run(main())


def test_an_empty_buffer_is_refused(run: Callable[[Coroutine[Any, Any, None]], None]) -> None:
    async def main() -> None:
        async with ScriptedServer(OK) as server, client() as http:
            async with http.stream("GET", server.url()) as response:
                with pytest.raises(ValueError, match="at least one byte"):
                    await reader_of(response).readinto(memoryview(bytearray()))

    run(main())
