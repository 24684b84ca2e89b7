"""Content-Encoding, decoded with a bound on what every step produces.

httpx's decoders expand each chunk fully, layer after layer: 16 KB of
``gzip, gzip`` becomes gigabytes in one call. Here every zlib call is given
``max_length``, so no step yields more than :data:`STEP` bytes whatever the
compression ratio, stacked encodings are pulled through one bounded step at a
time, and at most :data:`MAX_LAYERS` of them are accepted (curl's limit).
``max_size`` is counted on the decoded bytes as they come out.

hx decodes what it advertises (:data:`ACCEPT_ENCODING`): gzip (and its alias
x-gzip) and deflate, zlib-wrapped or raw as some servers send it; identity
passes through. No installed library decodes br or zstd with a bound, so hx
neither asks for them nor accepts them: a body in any encoding hx cannot decode
fails, as curl's ``--compressed`` does, rather than being kept undecoded.
Bytes after the end of a gzip or deflate stream are ignored, as curl and
httpx ignore them; a stream that stops before its end is an error.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncGenerator, Iterable, Iterator
from typing import cast

import httpx

ACCEPT_ENCODING = "gzip, deflate"
"""What hx asks servers for: the encodings it can decode with a bound."""

STEP = 64 * 1024
"""Most decoded bytes one step produces."""

MAX_LAYERS = 5
"""Most stacked encodings a response may have (curl allows as many)."""

_GZIP_WBITS = zlib.MAX_WBITS | 16
_ZLIB_WBITS = zlib.MAX_WBITS
_RAW_WBITS = -zlib.MAX_WBITS


class BodyTooLarge(Exception):
    """The decoded body grew past ``max_size``; ``size`` bytes had come when it was seen."""

    def __init__(self, limit: int, size: int) -> None:
        super().__init__(f"body exceeds --max-size {limit} bytes")
        self.limit = limit
        self.size = size


class _Inflater:
    """One gzip or deflate layer: compressed bytes in, at most ``limit`` decoded bytes a step."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._zlib = zlib.decompressobj(_GZIP_WBITS) if encoding == "gzip" else None
        self._input = b""
        self._started = False

    def give(self, data: bytes) -> None:
        """Queue ``data``; call only once ``take`` has used up what was given before."""
        self._started = True
        if self._zlib is None or not self._zlib.eof:  # after the end, bytes are ignored
            # Nothing is left over but, for deflate, a header byte awaiting its second.
            self._input += data

    def take(self, limit: int) -> bytes:
        """Up to ``limit`` decoded bytes; ``b""`` once the input given is used up."""
        if self._zlib is None:
            if len(self._input) < 2:
                return b""
            self._zlib = zlib.decompressobj(_deflate_wbits(self._input))
        if self._zlib.eof:
            return b""
        try:
            decoded = self._zlib.decompress(self._input, limit)
        except zlib.error as exc:
            raise httpx.DecodingError(f"malformed {self.encoding} body: {_reason(exc)}") from None
        self._input = self._zlib.unconsumed_tail
        return decoded

    def finish(self) -> None:
        """Raise DecodingError if the stream stopped before its end."""
        if self._started and (self._zlib is None or not self._zlib.eof):
            raise httpx.DecodingError(f"{self.encoding} body ends before its compressed data does")


def _deflate_wbits(start: bytes) -> int:
    """Zlib-wrapped deflate (RFC 9110) if its two header bytes say so, else raw deflate."""
    header = start[0] << 8 | start[1]
    return _ZLIB_WBITS if start[0] & 0x0F == 8 and header % 31 == 0 else _RAW_WBITS


def _reason(exc: zlib.error) -> str:
    # "Error -3 while decompressing data: incorrect header check" -> what went wrong.
    return str(exc).rpartition(": ")[2] or str(exc)


class BodyDecoder:
    """Raw body bytes in, decoded pieces out: sans I/O, so any reader can drive it.

    ``encodings`` are the Content-Encoding values in the order the server
    applied them. Decoded pieces are at most ``step`` bytes; without an
    encoding, raw pieces pass through as they are. An encoding hx cannot decode,
    or too many of them, is reported when the first body byte arrives, so an
    empty body (a HEAD, a 304) never fails for it.
    """

    def __init__(
        self, encodings: Iterable[str], max_size: int | None = None, step: int = STEP
    ) -> None:
        names = _layer_names(encodings)
        self._layers = [_Inflater(name) for name in reversed(names)]
        self._refusal = _refusal(names)
        self._max_size = max_size
        self._step = step
        self.size = 0
        """Decoded bytes produced so far."""

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces ``data`` completes; raises DecodingError or BodyTooLarge."""
        if not data:
            return iter(())
        if self._refusal is not None:
            raise httpx.DecodingError(self._refusal)
        return self._through(0, data)

    def finish(self) -> None:
        """The body has ended: raise DecodingError if a layer's stream is incomplete."""
        for layer in self._layers:
            layer.finish()

    def _through(self, level: int, data: bytes) -> Iterator[bytes]:
        if level == len(self._layers):
            self._count(data)
            yield data
            return
        layer = self._layers[level]
        layer.give(data)
        last = level == len(self._layers) - 1
        while piece := layer.take(self._room() if last else self._step):
            yield from self._through(level + 1, piece)

    def _room(self) -> int:
        """The size of the next decoded piece: one byte past ``max_size`` is enough to tell."""
        if self._max_size is None:
            return self._step
        return max(1, min(self._step, self._max_size - self.size + 1))

    def _count(self, piece: bytes) -> None:
        self.size += len(piece)
        if self._max_size is not None and self.size > self._max_size:
            raise BodyTooLarge(self._max_size, self.size)


def _layer_names(encodings: Iterable[str]) -> list[str]:
    """The encodings that need decoding, normalised: no identity, x-gzip as gzip."""
    names = (name.strip().lower() for name in encodings)
    return ["gzip" if name == "x-gzip" else name for name in names if name not in ("", "identity")]


def _refusal(names: list[str]) -> str | None:
    """Why a body in ``names`` cannot be decoded, or None if it can."""
    unknown = [name for name in names if name not in ("gzip", "deflate")]
    if unknown:
        return (
            f"cannot decode Content-Encoding {', '.join(unknown)}"
            f" (hx decodes {ACCEPT_ENCODING}, and asks only for those)"
        )
    if len(names) > MAX_LAYERS:
        return f"{len(names)} stacked content encodings (at most {MAX_LAYERS} are accepted)"
    return None


def decoded_chunks(
    response: httpx.Response, max_size: int | None = None
) -> AsyncGenerator[bytes, None]:
    """The body of ``response`` (opened with ``stream=True``), decoded, in pieces of at most
    :data:`STEP` bytes (raw pieces when it is not encoded).

    Raises httpx.DecodingError for a body hx cannot decode and BodyTooLarge once
    more than ``max_size`` decoded bytes arrive.
    """
    if max_size is None and "content-encoding" not in response.headers:
        # Most bodies: nothing to decode or watch. httpx's own generator, with no
        # second one around it (a tenth of hx's own work for a small body).
        return cast(AsyncGenerator[bytes, None], response.aiter_raw())
    return _decoded_chunks(response, max_size)


async def _decoded_chunks(
    response: httpx.Response, max_size: int | None
) -> AsyncGenerator[bytes, None]:
    if "content-encoding" not in response.headers:
        # Nothing to decode, only the size to watch.
        size = 0
        async for raw in response.aiter_raw():
            size += len(raw)
            if max_size is not None and size > max_size:
                raise BodyTooLarge(max_size, size)
            yield raw
        return
    encodings = response.headers.get_list("content-encoding", split_commas=True)
    decoder = BodyDecoder(encodings, max_size)
    async for raw in response.aiter_raw():
        for count, piece in enumerate(decoder.feed(raw)):
            if count:
                # One raw chunk of a bomb decodes to thousands of pieces: let the
                # other requests, and the --max-time timer, run between them.
                await asyncio.sleep(0)
            yield piece
    decoder.finish()
