"""Response header blocks that decode the same every time, decoded once.

hpack decodes every header block in Python, Huffman coding included: a tenth
of hx's CPU per small HTTP/2 request. A server sends the same block for the
same response head (nginx does, for each second's Date), and a block that
reads nothing from HPACK's dynamic table and does not resize it decodes alike
whatever the connection's state; all it does to the state is add the fields
it marks for indexing. :class:`RememberingDecoder` keeps the last such blocks
of a connection with what they decoded to, and adds those fields again.
"""

from __future__ import annotations

from collections.abc import Iterable

import hpack
from hpack.table import table_entry_size

STATIC_ENTRIES = 61
"""Entries of HPACK's static table (RFC 7541 appendix A)."""

MAX_BLOCK = 1024
"""Larger blocks are decoded each time: what is remembered stays small."""

MAX_REMEMBERED = 64
"""Blocks remembered per connection (a new Date each second makes a new block)."""

GIVE_UP = 128
"""Blocks missed in a row after which a connection stops remembering: a server that
puts a new value in every head (a request id) sends no block twice, and walking and
keeping each for nothing cost 2.5-5% of hx's CPU per request (10,000 GETs over TLS +
HTTP/2 at -c 20 from nginx adding X-Request-Id, interleaved medians of 6: 4.16 s
before this limit, 3.95 s with it). nginx's Date makes a new block once a second,
then hits."""

MAX_HEADER_LIST = 4096
"""Larger header lists (RFC 7541 4.1 sizes: 32 bytes a field and more) are decoded each
time: a kilobyte of one-byte references would otherwise be kept as a thousand fields."""

_Remembered = tuple[list[hpack.HeaderTuple], tuple[bool, ...], int]
"""A block's headers, which of them it adds to the dynamic table, their list size."""


class RememberingDecoder(hpack.Decoder):
    """hpack's Decoder, which remembers blocks that read nothing from its dynamic table
    (h2 asks for raw bytes; anything else is hpack's own)."""

    def __init__(self, max_header_list_size: int, max_allowed_table_size: int) -> None:
        super().__init__(max_header_list_size)
        self.max_allowed_table_size = max_allowed_table_size
        self._remembered: dict[bytes, _Remembered] = {}
        self._misses = 0
        """Blocks decoded since the last one answered from memory (GIVE_UP)."""

    def decode(self, data: bytes, raw: bool = False) -> Iterable[hpack.HeaderTuple]:
        if not raw or len(data) > MAX_BLOCK or self._misses >= GIVE_UP:
            return super().decode(data, raw)
        remembered = self._remembered.get(data)
        if remembered is not None and remembered[2] <= self.max_header_list_size:
            self._misses = 0
            headers, additions, _ = remembered
            for (name, value), added in zip(headers, additions, strict=True):
                if added:
                    self.header_table.add(name, value)
            self._assert_valid_table_size()  # what hpack checks after every block
            return list(headers)
        headers = list(super().decode(data, raw))
        self._misses += 1
        if self._misses >= GIVE_UP:
            self._remembered.clear()
            return headers
        found = table_additions(data)
        if found is not None and len(found) == len(headers):
            size = sum(table_entry_size(name, value) for name, value in headers)
            if size <= MAX_HEADER_LIST:
                if len(self._remembered) >= MAX_REMEMBERED:
                    self._remembered.clear()
                self._remembered[bytes(data)] = (headers, found, size)
        return list(headers)


def table_additions(block: bytes) -> tuple[bool, ...] | None:
    """For a block that reads nothing from the dynamic table and does not resize it:
    whether each of its fields is added to the table (RFC 7541 6.2.1). None for any
    other block, or one cut short."""
    additions: list[bool] = []
    at, end = 0, len(block)
    while at < end:
        first = block[at]
        if first & 0x80:  # an indexed field: from the static table only
            parsed = _integer(block, at, 7)
            if parsed is None or not 1 <= parsed[0] <= STATIC_ENTRIES:
                return None
            at = parsed[1]
            additions.append(False)
            continue
        if first & 0xE0 == 0x20:  # a table size update
            return None
        indexing = bool(first & 0x40)
        parsed = _integer(block, at, 6 if indexing else 4)
        if parsed is None or parsed[0] > STATIC_ENTRIES:
            return None
        name_index, at = parsed
        for _ in range(1 if name_index else 2):  # the value (after the name, if literal)
            parsed = _integer(block, at, 7) if at < end else None
            if parsed is None:
                return None
            length, at = parsed
            at += length
            if at > end:
                return None
        additions.append(indexing)
    return tuple(additions)


def _integer(data: bytes, at: int, prefix: int) -> tuple[int, int] | None:
    """The integer at ``data[at]`` with a ``prefix``-bit prefix (RFC 7541 5.1) and where
    what follows it starts; None if cut short or over five continuation bytes (hpack's
    own limit)."""
    mask = (1 << prefix) - 1
    value = data[at] & mask
    at += 1
    if value < mask:
        return value, at
    shift = 0
    while at < len(data) and shift <= 28:
        byte = data[at]
        at += 1
        value += (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
    return None
