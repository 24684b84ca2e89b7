"""hx.request.decoding: Content-Encoding decoded in bounded steps.

The oracle is zlib's one-shot decompression (and the gzip module) on the same
bytes; the decoder must agree with it however the body is split, and never
produce more than its step in one piece.
"""

from __future__ import annotations

import asyncio
import gzip
import inspect
import zlib
from collections.abc import AsyncIterator, Iterable

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hx.client import build_client
from hx.request.decoding import (
    ACCEPT_ENCODING,
    MAX_LAYERS,
    STEP,
    BodyDecoder,
    BodyTooLarge,
    decoded_chunks,
)
from hx.settings import Settings


def deflate(data: bytes, wbits: int = zlib.MAX_WBITS) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return compressor.compress(data) + compressor.flush()


ENCODERS = {
    "gzip": lambda data: deflate(data, zlib.MAX_WBITS | 16),
    "deflate": deflate,
    "raw-deflate": lambda data: deflate(data, -zlib.MAX_WBITS),
}


def encode(data: bytes, encodings: Iterable[str]) -> bytes:
    for name in encodings:
        data = ENCODERS[name](data)
    return data


def header(encodings: Iterable[str]) -> list[str]:
    """Content-Encoding values: raw deflate is labelled deflate, as servers label it."""
    return ["deflate" if name == "raw-deflate" else name for name in encodings]


def decode_all(decoder: BodyDecoder, pieces: Iterable[bytes]) -> list[bytes]:
    out = [chunk for piece in pieces for chunk in decoder.feed(piece)]
    decoder.finish()
    return out


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[start:end] for start, end in zip(points, points[1:], strict=False)]


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=20_000) | st.builds(lambda n: b"\0" * n, st.integers(0, 300_000)),
    encodings=st.lists(st.sampled_from(sorted(ENCODERS)), min_size=1, max_size=3),
    cuts=st.lists(st.integers(min_value=0), max_size=12),
    step=st.integers(min_value=1, max_value=70_000),
)
def test_any_split_decodes_to_the_one_shot_result_in_bounded_pieces(
    data: bytes, encodings: list[str], cuts: list[int], step: int
) -> None:
    wire = encode(data, encodings)
    expected = wire
    for name in reversed(encodings):
        wbits = {"gzip": 31, "deflate": 15, "raw-deflate": -15}[name]
        expected = zlib.decompress(expected, wbits)
    assert expected == data
    pieces = decode_all(BodyDecoder(header(encodings), step=step), split(wire, cuts))
    assert b"".join(pieces) == expected
    assert all(0 < len(piece) <= step for piece in pieces)


def test_gzip_module_output_and_aliases_decode() -> None:
    data = b"hello, " * 1000
    for value in ("gzip", "x-gzip", " GZIP ", "identity, gzip"):
        decoder = BodyDecoder(value.split(","))
        assert b"".join(decode_all(decoder, [gzip.compress(data)])) == data


def test_identity_passes_raw_pieces_through_unchanged() -> None:
    pieces = [b"a" * 100_000, b"b"]
    assert decode_all(BodyDecoder([]), pieces) == pieces
    assert decode_all(BodyDecoder(["identity"]), pieces) == pieces


def test_stacked_bomb_comes_out_in_steps_and_stops_at_max_size() -> None:
    wire = encode(b"\0" * (64 << 20), ["gzip", "gzip"])
    assert len(wire) < 1024
    limit = 3 * STEP + 5
    decoder = BodyDecoder(["gzip", "gzip"], max_size=limit)
    sizes: list[int] = []
    with pytest.raises(BodyTooLarge, match=f"exceeds --max-size {limit} bytes"):
        for piece in decoder.feed(wire):
            sizes.append(len(piece))
    assert sizes == [STEP, STEP, STEP]  # the next 6 bytes cross the limit
    assert decoder.size == limit + 1


def test_a_body_of_exactly_max_size_passes() -> None:
    data = b"x" * 1000
    decoder = BodyDecoder(["deflate"], max_size=1000)
    assert b"".join(decode_all(decoder, [deflate(data)])) == data
    with pytest.raises(BodyTooLarge):
        decode_all(BodyDecoder(["deflate"], max_size=999), [deflate(data)])


def test_max_size_counts_bodies_without_encoding_too() -> None:
    decoder = BodyDecoder([], max_size=10)
    assert list(decoder.feed(b"x" * 10)) == [b"x" * 10]
    with pytest.raises(BodyTooLarge) as raised:
        list(decoder.feed(b"xyz"))
    assert raised.value.size == 13


@pytest.mark.parametrize(
    ("encodings", "wire", "message"),
    [
        (["gzip"], b"not gzip at all", "malformed gzip body: incorrect header check"),
        (["deflate"], b"\x78\x9c\xff\xff\xff", "malformed deflate body"),
        (["gzip"], gzip.compress(b"x" * 1000)[:-12], "gzip body ends before its compressed"),
        (["deflate"], b"\x78", "deflate body ends before its compressed"),
        (["br"], b"\x1b", "cannot decode Content-Encoding br (hx decodes gzip, deflate"),
        (["gzip", "zstd"], b"\x28", "cannot decode Content-Encoding zstd"),
        (
            ["gzip"] * (MAX_LAYERS + 1),
            b"\x1f",
            f"6 stacked content encodings (at most {MAX_LAYERS}",
        ),
    ],
)
def test_bodies_that_cannot_be_decoded_fail_with_a_reason(
    encodings: list[str], wire: bytes, message: str
) -> None:
    with pytest.raises(httpx.DecodingError, match=message.replace("(", r"\(")):
        decode_all(BodyDecoder(encodings), [wire])


def test_an_empty_body_never_fails_for_its_encoding() -> None:
    for encodings in (["br"], ["gzip"] * (MAX_LAYERS + 1), ["gzip"]):
        assert decode_all(BodyDecoder(encodings), [b""]) == []


def test_five_layers_are_accepted() -> None:
    data = b"layered " * 100
    wire = encode(data, ["gzip"] * MAX_LAYERS)
    assert b"".join(decode_all(BodyDecoder(["gzip"] * MAX_LAYERS), [wire])) == data


def test_bytes_after_the_end_of_the_stream_are_ignored() -> None:
    decoder = BodyDecoder(["gzip"])
    assert decode_all(decoder, [gzip.compress(b"body") + b"trailing", b"more" * 1000]) == [b"body"]


async def _stream(pieces: list[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def _response(pieces: list[bytes], encoding: str) -> httpx.Response:
    return httpx.Response(200, headers={"content-encoding": encoding}, content=_stream(pieces))


async def _collect(response: httpx.Response, max_size: int | None = None) -> list[bytes]:
    return [piece async for piece in decoded_chunks(response, max_size)]


def test_decoded_chunks_reads_a_streamed_response() -> None:
    wire = encode(b"abc" * 50_000, ["deflate", "gzip"])
    pieces = asyncio.run(_collect(_response([wire[:7], wire[7:]], "deflate, gzip")))
    assert b"".join(pieces) == b"abc" * 50_000
    assert max(map(len, pieces)) <= STEP


def test_decoded_chunks_lets_other_tasks_run_while_a_bomb_expands() -> None:
    async def main() -> list[int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        response = _response([encode(b"\0" * (4 << 20), ["gzip"])], "gzip")
        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        seen = []
        async for _piece in decoded_chunks(response):
            seen.append(ticks)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return seen

    seen = asyncio.run(main())
    assert len(seen) == 64  # 4 MiB from one raw chunk, 64 KiB at a time
    assert seen[-1] - seen[0] >= 60


def test_decoded_chunks_raises_too_large_and_decoding_errors() -> None:
    with pytest.raises(BodyTooLarge):
        asyncio.run(_collect(_response([gzip.compress(b"x" * 100)], "gzip"), 99))
    with pytest.raises(httpx.DecodingError):
        asyncio.run(_collect(_response([b"junk"], "gzip")))


def test_hx_asks_only_for_the_encodings_it_decodes_unless_told_otherwise() -> None:
    async def accept_encoding(settings: Settings) -> list[str]:
        async with build_client(settings, environ={}) as client:
            return client.headers.get_list("accept-encoding")

    assert asyncio.run(accept_encoding(Settings())) == [ACCEPT_ENCODING]
    given = Settings(headers=(("accept-encoding", "identity"),))
    assert asyncio.run(accept_encoding(given)) == ["identity"]


def test_httpx_raw_bodies_are_async_generators() -> None:
    """decoded_chunks hands an unencoded, unlimited body on as httpx's own aiter_raw(),
    typed (and closed, by its callers) as an async generator."""
    assert inspect.isasyncgenfunction(httpx.Response.aiter_raw)
