"""A raw HTTP/1.1 server on 127.0.0.1 that attacks its client, for tests/test_hostile.py.

It runs an asyncio loop in a thread of its own, so the client under test (an
``hx`` child process, or the test's own loop) never shares its loop. Every
response is written byte for byte; large bodies are generated as they are
sent, never held whole. Connections are kept alive after a framed response.

Routes (GET; ``N`` in bytes, ``S`` in seconds):

``/ok``                          200 ``"ok"``
``/bomb?size=N``                 200, ``Content-Encoding: gzip``, chunked: N zero bytes
                                 gzip'ed (N a multiple of 1 MiB), generated while sending
``/stacked-bomb?size=N``         200, ``Content-Encoding: gzip, gzip``: N zero bytes
                                 gzip'ed twice (4 GiB is ~5 KB on the wire)
``/endless``                     200, chunked, 64 KiB chunks forever
``/drip-head?delay=S``           the head of a 200 one byte every S seconds, never ending
``/drip-body?delay=S``           a 200 head, then one body byte every S seconds, forever
``/silent``                      reads the request, never answers
``/huge-head?size=N``            200 with an ``X-Filler`` header of N bytes
``/huge-reason?size=N``          200 whose reason phrase is N bytes
``/cookies?count=N``             200 with N ``Set-Cookie`` headers
``/loop``                        302 to itself
``/retry-after?value=V``         503 with ``Retry-After: V``
``/redirect?to=L&body=B``        302 with ``Location: L`` (sent verbatim, so anything
                                 goes) and a body B: ``short`` (default, 11 bytes),
                                 ``endless`` (chunked, forever), ``broken`` (9 of its
                                 1000 bytes, then the connection closes) or ``bomb``
                                 (a ``gzip, gzip`` of 4 GiB)
anything else                    404
"""

from __future__ import annotations

import asyncio
import functools
import struct
import threading
import zlib
from collections.abc import Awaitable, Callable, Iterable, Iterator
from urllib.parse import parse_qs, urlsplit

from support.server import Service

__all__ = ["HostileServer", "gzip_zeros", "stacked_gzip_zeros"]

MIB = 1 << 20
_ZEROS = bytes(MIB)
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


def _deflated_mib() -> bytes:
    # A full flush ends the block on a byte boundary and forgets the history,
    # so the same bytes stand for every further MiB of zeros.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(_ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)


_DEFLATED_MIB = _deflated_mib()
_FINAL_BLOCK = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush(zlib.Z_FINISH)


def gzip_zeros(size: int, batch: int = 64) -> Iterator[bytes]:
    """A gzip stream of ``size`` zero bytes (a multiple of 1 MiB), ``batch`` MiB a piece."""
    if size % MIB:
        raise ValueError("size must be a multiple of 1 MiB")
    yield _GZIP_HEADER
    crc = 0
    left = size // MIB
    while left:
        count = min(batch, left)
        for _ in range(count):
            crc = zlib.crc32(_ZEROS, crc)
        left -= count
        yield _DEFLATED_MIB * count
    yield _FINAL_BLOCK + struct.pack("<II", crc, size & 0xFFFFFFFF)


def _gzip_stream(pieces: Iterable[bytes]) -> Iterator[bytes]:
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    for piece in pieces:
        yield compressor.compress(piece)
    yield compressor.flush()


@functools.cache
def stacked_gzip_zeros(size: int) -> bytes:
    """``size`` zero bytes gzip'ed twice: the body of ``Content-Encoding: gzip, gzip``."""
    return b"".join(_gzip_stream(gzip_zeros(size)))


_REDIRECT_BOMB_SIZE = 4 << 30
_ENDLESS_CHUNK = b"%x\r\n%b\r\n" % (64 * 1024, b"x" * 64 * 1024)

Handler = Callable[[asyncio.StreamWriter, dict[str, str]], Awaitable[bool]]
"""Writes one response; True if the connection may carry another request."""


class HostileServer(Service):
    """The server; ``url(path)`` addresses it, ``connections`` counts accepted connections."""

    __test__ = False

    def __init__(self) -> None:
        self.port = 0
        self.connections = 0
        self.errors: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._routes: dict[str, Handler] = {
            "/ok": self._ok,
            "/bomb": self._bomb,
            "/stacked-bomb": self._stacked_bomb,
            "/endless": self._endless,
            "/drip-head": self._drip_head,
            "/drip-body": self._drip_body,
            "/silent": self._silent,
            "/huge-head": self._huge_head,
            "/huge-reason": self._huge_reason,
            "/cookies": self._cookies,
            "/loop": self._loop_redirect,
            "/retry-after": self._retry_after,
            "/redirect": self._redirect,
        }

    def start(self) -> HostileServer:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            # A backlog for the 1,000 streams of tests/test_stream_load.py opened at once
            # (asyncio's 100 would drop SYNs, and the client retries them a second later).
            asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024),
            self._loop,
        ).result()
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode("latin-1")
                parts = urlsplit(target)
                query = {name: values[0] for name, values in parse_qs(parts.query).items()}
                handler = self._routes.get(parts.path, self._not_found)
                if not await handler(writer, query):
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away: what these routes are for
        except Exception as exc:  # noqa: BLE001 - reported to the test through ``errors``
            self.errors.append(exc)
        finally:
            self._tasks.discard(task)
            writer.close()

    # -- routes --------------------------------------------------------------

    async def _ok(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        writer.write(_response("200 OK", body=b"ok"))
        return True

    async def _not_found(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        writer.write(_response("404 Not Found", body=b"not found"))
        return True

    async def _bomb(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        writer.write(_head("200 OK", "Content-Encoding: gzip", "Transfer-Encoding: chunked"))
        await _send_chunked(writer, gzip_zeros(int(query["size"])))
        return True

    async def _stacked_bomb(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        body = await asyncio.to_thread(stacked_gzip_zeros, int(query["size"]))
        writer.write(_response("200 OK", "Content-Encoding: gzip, gzip", body=body))
        return True

    async def _endless(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        writer.write(_head("200 OK", "Transfer-Encoding: chunked"))
        await _send_endless(writer)
        return False

    async def _drip_head(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        delay = float(query["delay"])
        head = b"HTTP/1.1 200 OK\r\n" + b"X-Drip: " + b"." * 10_000_000
        for index in range(len(head)):
            writer.write(head[index : index + 1])
            await writer.drain()
            await asyncio.sleep(delay)
        return False

    async def _drip_body(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        delay = float(query["delay"])
        writer.write(_head("200 OK", "Content-Length: 1000000000"))
        while True:
            await writer.drain()
            await asyncio.sleep(delay)
            writer.write(b".")

    async def _silent(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        await asyncio.Event().wait()  # until the client hangs up and stop() cancels it
        return False

    async def _huge_head(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        filler = "X-Filler: " + "f" * int(query["size"])
        writer.write(_response("200 OK", filler, body=b"ok"))
        return False

    async def _huge_reason(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        writer.write(_response("200 " + "R" * int(query["size"]), body=b"ok"))
        return False

    async def _cookies(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        cookies = [f"Set-Cookie: c{index}=v{index}; Path=/" for index in range(int(query["count"]))]
        writer.write(_response("200 OK", *cookies, body=b"ok"))
        return False

    async def _loop_redirect(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        writer.write(_response("302 Found", "Location: /loop", body=b"again"))
        return True

    async def _retry_after(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        value = query["value"]
        writer.write(_response("503 Service Unavailable", f"Retry-After: {value}", body=b"busy"))
        return True

    async def _redirect(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> bool:
        location = f"Location: {query['to']}"
        body = query.get("body", "short")
        if body == "endless":
            writer.write(_head("302 Found", location, "Transfer-Encoding: chunked"))
            await _send_endless(writer)
            return False
        if body == "broken":
            writer.write(_head("302 Found", location, "Content-Length: 1000") + b"cut short")
            return False
        if body == "bomb":
            bomb = await asyncio.to_thread(stacked_gzip_zeros, _REDIRECT_BOMB_SIZE)
            writer.write(
                _response("302 Found", location, "Content-Encoding: gzip, gzip", body=bomb)
            )
            return True
        writer.write(_response("302 Found", location, body=b"moved along"))
        return True


def _head(status: str, *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _response(status: str, *headers: str, body: bytes) -> bytes:
    return _head(status, *headers, f"Content-Length: {len(body)}") + body


async def _send_chunked(writer: asyncio.StreamWriter, pieces: Iterable[bytes]) -> None:
    for piece in pieces:
        writer.write(b"%x\r\n%b\r\n" % (len(piece), piece))
        await writer.drain()
    writer.write(b"0\r\n\r\n")


async def _send_endless(writer: asyncio.StreamWriter) -> None:
    while True:
        writer.write(_ENDLESS_CHUNK)
        await writer.drain()
