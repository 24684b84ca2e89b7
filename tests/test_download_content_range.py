"""hx.download.content_range: Content-Range of 206 and 416 responses, as untrusted input.

Examples, then properties: every valid header round-trips, and on any text the parser
agrees with an independent oracle written from RFC 9110 section 14.4.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hx.download.content_range import (
    ContentRange,
    ContentRangeError,
    parse_content_range,
    parse_unsatisfied_range,
)

LIMIT = (1 << 63) - 1


@pytest.mark.parametrize(
    ("header", "resumed_from", "expected"),
    [
        ("bytes 100-199/1000", 100, ContentRange(100, 199, 1000)),
        ("bytes 0-0/1", 0, ContentRange(0, 0, 1)),
        ("bytes 5-9/*", 5, ContentRange(5, 9, None)),
        ("Bytes\t7-7/8", 7, ContentRange(7, 7, 8)),
        ("  bytes 1-2/3  ", 1, ContentRange(1, 2, 3)),
        (f"bytes 0-{LIMIT - 1}/{LIMIT}", 0, ContentRange(0, LIMIT - 1, LIMIT)),
    ],
)
def test_valid(header: str, resumed_from: int, expected: ContentRange) -> None:
    assert parse_content_range(header, resumed_from) == expected


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "without Content-Range"),
        ("", "malformed"),
        ("bytes */1000", "malformed"),  # a 416's form
        ("bytes 100-199", "malformed"),
        ("bytes100-199/1000", "malformed"),
        ("items 100-199/1000", "malformed"),
        ("bytes 100-199/1000, 300-399/1000", "malformed"),
        ("bytes -100-199/1000", "malformed"),
        ("bytes 1e2-199/1000", "malformed"),
        ("bytes ١٠٠-199/1000", "malformed"),  # Arabic-Indic digits: int() would take them
        ("bytes 100-" + "9" * 4400 + "/*", "malformed"),  # int() refuses > 4300 digits
        ("bytes 100-99/1000", "invalid"),
        ("bytes 100-1000/1000", "invalid"),
        (f"bytes 100-{LIMIT + 1}/*", "invalid"),
        ("bytes 0-1/*", "asked for bytes from 100, got from 0"),
    ],
)
def test_invalid(header: str | None, message: str) -> None:
    with pytest.raises(ContentRangeError, match=message):
        parse_content_range(header, 100)


@pytest.mark.parametrize(
    ("header", "expected"), [("bytes */1000", 1000), ("BYTES */0", 0), (" bytes  */7 ", 7)]
)
def test_unsatisfied(header: str, expected: int) -> None:
    assert parse_unsatisfied_range(header) == expected


@pytest.mark.parametrize(
    "header", [None, "", "bytes */*", "bytes 0-1/1000", "bytes */-1", f"bytes */{LIMIT + 1}"]
)
def test_unsatisfied_invalid(header: str | None) -> None:
    with pytest.raises(ContentRangeError):
        parse_unsatisfied_range(header)


# -- properties -------------------------------------------------------------------------


def _number(text: str) -> int | None:
    """ASCII digits (at most 19) as an int; None otherwise."""
    if not text or len(text) > 19 or not all("0" <= c <= "9" for c in text):
        return None
    return int(text)


def _after_unit(text: str) -> str | None:
    """What follows ``bytes`` and the whitespace after it, or None."""
    text = text.strip()
    if text[:5].lower() != "bytes" or text[5:6] not in (" ", "\t"):
        return None
    return text[5:].lstrip(" \t")


def oracle(header: str, resumed_from: int) -> ContentRange | None:
    """RFC 9110: ``bytes first-last/(length|*)`` with first <= last < length; None if not."""
    rest = _after_unit(header)
    if rest is None:
        return None
    span, _, length_text = rest.partition("/")
    first_text, dash, last_text = span.partition("-")
    first, last = _number(first_text), _number(last_text)
    length = None if length_text == "*" else _number(length_text)
    if not dash or first is None or last is None or (length is None and length_text != "*"):
        return None
    if first > last or max(last, length or 0) > LIMIT:
        return None
    if (length is not None and last >= length) or first != resumed_from:
        return None
    return ContentRange(first, last, length)


def unsatisfied_oracle(header: str) -> int | None:
    rest = _after_unit(header)
    if rest is None or not rest.startswith("*/"):
        return None
    length = _number(rest[2:])
    return None if length is None or length > LIMIT else length


def _outcome(parse: Callable[..., object], *args: object) -> object:
    try:
        return parse(*args)
    except ContentRangeError:
        return None


offsets = st.one_of(st.integers(0, 20), st.integers(0, 2**64))
header_text = st.one_of(
    st.text(alphabet="bytesBYTES */-0123456789\t,", max_size=40),
    st.text(max_size=40),
    st.builds(
        "{} {}-{}/{}".format,
        st.sampled_from(["bytes", "BYTES", "byte", "bytes "]),
        offsets,
        offsets,
        st.one_of(offsets.map(str), st.just("*")),
    ),
)


@given(header_text, st.one_of(offsets, st.none()))
def test_agrees_with_the_oracle(header: str, resumed_from: int | None) -> None:
    if resumed_from is None:  # often the offset the header states, so that it can be valid
        first = re.search(r"[0-9]+", header)
        resumed_from = int(first[0][:19]) if first else 0
    assert _outcome(parse_content_range, header, resumed_from) == oracle(header, resumed_from)


@given(header_text)
def test_unsatisfied_agrees_with_the_oracle(header: str) -> None:
    assert _outcome(parse_unsatisfied_range, header) == unsatisfied_oracle(header)


@given(st.data())
def test_every_valid_range_round_trips(data: st.DataObject) -> None:
    length = data.draw(st.integers(1, LIMIT))
    first = data.draw(st.integers(0, length - 1))
    last = data.draw(st.integers(first, length - 1))
    shown = data.draw(st.sampled_from([str(length), "*"]))
    parsed = parse_content_range(f"bytes {first}-{last}/{shown}", first)
    assert parsed == ContentRange(first, last, None if shown == "*" else length)
    with pytest.raises(ContentRangeError, match="asked for bytes from"):
        parse_content_range(f"bytes {first}-{last}/{shown}", first + 1)
