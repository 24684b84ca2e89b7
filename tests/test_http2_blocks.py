"""hx.net.http2_blocks against hpack's own Decoder, the oracle.

The same blocks, in the same order, through a plain ``hpack.Decoder`` and a
``RememberingDecoder``: every block must decode to the same headers (or fail
alike), and leave the same dynamic table behind. Blocks are drawn from a
small pool, so most come again and are answered from memory.
"""

from __future__ import annotations

import hpack
import hpack.hpack
import pytest
from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from hypothesis import given, settings
from hypothesis import strategies as st

from hx.net.http2_blocks import GIVE_UP, RememberingDecoder, table_additions

_HUFFMAN = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH)


def integer(value: int, prefix: int, flags: int) -> bytes:
    encoded = bytearray(hpack.hpack.encode_integer(value, prefix))
    encoded[0] |= flags
    return bytes(encoded)


def string(text: bytes, huffman: bool) -> bytes:
    if huffman:
        coded = _HUFFMAN.encode(text)
        return integer(len(coded), 7, 0x80) + coded
    return integer(len(text), 7, 0) + text


names = st.sampled_from([b"server", b"date", b"content-type", b"x-a", b"set-cookie"])
values = st.one_of(st.sampled_from([b"nginx", b"200", b"", b"text/plain"]), st.binary(max_size=8))
field = st.one_of(
    # an indexed field: static (1-61) or, rarely, dynamic (62+)
    st.integers(min_value=1, max_value=66).map(lambda index: integer(index, 7, 0x80)),
    # a literal, indexed (0x40), not indexed (0x00) or never indexed (0x10), its name
    # from the static table, the dynamic one, or written out
    st.builds(
        lambda kind, index, name, value, huffman: (
            integer(index, 6 if kind == 0x40 else 4, kind)
            + (b"" if index else string(name, huffman))
            + string(value, huffman)
        ),
        st.sampled_from([0x40, 0x00, 0x10]),
        st.one_of(st.just(0), st.integers(min_value=1, max_value=64)),
        names,
        values,
        st.booleans(),
    ),
    # a table size update
    st.integers(min_value=0, max_value=4096).map(lambda size: integer(size, 5, 0x20)),
)
blocks = st.lists(field, min_size=1, max_size=6).map(b"".join)
garbage = st.binary(min_size=1, max_size=12)


def outcome(decoder: hpack.Decoder, block: bytes) -> object:
    try:
        headers = decoder.decode(block, raw=True)
    except Exception as exc:  # noqa: BLE001 - the oracle fails too, alike
        return type(exc)
    return [(type(header), tuple(header)) for header in headers]


def state(decoder: hpack.Decoder) -> object:
    table = decoder.header_table
    return (
        [(bytes(name), bytes(value)) for name, value in table.dynamic_entries],
        decoder.header_table_size,
    )


@settings(max_examples=400, deadline=None)
@given(
    pool=st.lists(st.one_of(blocks, garbage), min_size=1, max_size=5),
    order=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=25),
    table_size=st.sampled_from([4096, 100, 0]),
)
def test_the_same_headers_and_table_as_hpack(
    pool: list[bytes], order: list[int], table_size: int
) -> None:
    oracle = hpack.Decoder(max_header_list_size=1000)
    oracle.max_allowed_table_size = table_size
    ours = RememberingDecoder(max_header_list_size=1000, max_allowed_table_size=table_size)
    for index in order:
        block = pool[index % len(pool)]
        assert outcome(ours, block) == outcome(oracle, block)
        assert state(ours) == state(oracle)


def test_nginx_blocks_are_remembered() -> None:
    """What nginx sends: fields indexed into the table, never read back from it."""
    block = bytes.fromhex(
        "887689aa6355e580ae212e1f6196dc34fd282794d27eea080271400ae361b80754c5a3"
        "7f5f87497ca58ae819aa5c023637"
    )
    assert table_additions(block) == (False, True, True, True, True)
    oracle, ours = hpack.Decoder(), RememberingDecoder(65536, 4096)
    for _ in range(3):
        assert outcome(ours, block) == outcome(oracle, block)
        assert state(ours) == state(oracle)
    assert len(ours._remembered) == 1


@pytest.mark.parametrize(
    "block",
    [
        integer(62, 7, 0x80),  # reads the dynamic table
        integer(62, 6, 0x40) + string(b"v", False),  # its name from the dynamic table
        integer(100, 5, 0x20),  # resizes the table
        integer(0, 5, 0x20) + string(b"a", False) + string(b"b", False),  # to 0
        integer(0, 4, 0) + integer(5, 7, 0) + b"ab",  # cut short
        bytes([0x8F, 0xFF]),  # an integer cut short
    ],
    ids=[
        "dynamic-index",
        "dynamic-name",
        "size-update",
        "size-update-to-0",
        "short-string",
        "short-integer",
    ],
)
def test_blocks_that_cannot_be_remembered(block: bytes) -> None:
    assert table_additions(block) is None


def test_a_block_over_the_header_list_limit_fails_again() -> None:
    block = integer(0, 4, 0) + string(b"x-big", False) + string(b"v" * 100, False)
    ours = RememberingDecoder(max_header_list_size=1000, max_allowed_table_size=4096)
    assert outcome(ours, block) != hpack.OversizedHeaderListError
    ours.max_header_list_size = 50
    assert outcome(ours, block) == hpack.OversizedHeaderListError


def test_a_block_of_many_fields_is_not_remembered() -> None:
    """A kilobyte of one-byte static references decodes to a thousand fields: kept for
    each of 64 blocks, that would be megabytes a connection."""
    block = integer(0, 4, 0) + string(b"x-n", False) + string(b"", False) + b"\x94" * 1000
    ours = RememberingDecoder(max_header_list_size=65536, max_allowed_table_size=4096)
    oracle = hpack.Decoder(max_header_list_size=65536)
    assert outcome(ours, block) == outcome(oracle, block)
    assert table_additions(block) is not None
    assert not ours._remembered


def with_request_id(number: int) -> bytes:
    """What a server adding a request id sends: a block unlike any before it."""
    return (
        integer(8, 7, 0x80)  # :status 200
        + integer(0, 4, 0)
        + string(b"x-request-id", False)
        + string(b"%032x" % number, False)
    )


def test_a_connection_whose_blocks_never_come_again_stops_remembering() -> None:
    oracle, ours = hpack.Decoder(), RememberingDecoder(65536, 4096)
    for number in range(GIVE_UP):
        assert outcome(ours, with_request_id(number)) == outcome(oracle, with_request_id(number))
    assert not ours._remembered  # given up: nothing kept, nothing looked up
    nginx_like = integer(8, 7, 0x80) + integer(54, 4, 0) + string(b"nginx", False)
    for _ in range(3):
        assert outcome(ours, nginx_like) == outcome(oracle, nginx_like)
        assert state(ours) == state(oracle)
    assert not ours._remembered


def test_a_block_that_comes_again_keeps_the_connection_remembering() -> None:
    """nginx's blocks change with the Date each second, and come again meanwhile."""
    ours = RememberingDecoder(65536, 4096)
    repeated = with_request_id(0)
    for number in range(1, 3 * GIVE_UP):
        ours.decode(with_request_id(number), raw=True)
        if number % 16 == 0:
            ours.decode(repeated, raw=True)  # a hit (after the first time)
    ours.decode(repeated, raw=True)
    assert repeated in ours._remembered
