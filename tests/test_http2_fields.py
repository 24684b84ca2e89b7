"""hx.net.http2_fields against h2's own inbound validation, the oracle.

For any header block, hx's check must call it malformed exactly when h2's
``validate_headers`` (what ``validate_inbound_headers`` runs) raises.
"""

from __future__ import annotations

import h2.exceptions
import h2.utilities
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hx.net.http2_fields import malformed

NAMES = [
    b":status",
    b":path",
    b":method",
    b":authority",
    b":scheme",
    b":protocol",
    b":custom",
    b":",
    b"::status",
    b"",
    b"content-type",
    b"x-ok",
    b"X-Upper",
    b"a b",
    b"a\tb",
    b"a:b",
    b"a\x7fb",
    b"a\x80b",
    b"a\x00",
    b"te",
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"transfer-encoding",
    b"upgrade",
    b"cookie",
    b"!#$%&'*+-.^_`|~09",
]
VALUES = [
    b"",
    b"ok",
    b"200",
    b"trailers",
    b"TRAILERS",
    b"gzip",
    b" lead",
    b"trail ",
    b"\t",
    b"in side",
    b"a\rb",
    b"a\nb",
    b"a\x00b",
    b"\x80\xff",
    b"a\x7f",
    b"\x0b",
]

# Names and values from the lists above, or any bytes at all.
names = st.one_of(st.sampled_from(NAMES), st.binary(max_size=6))
values = st.one_of(st.sampled_from(VALUES), st.binary(max_size=6))
blocks = st.lists(st.tuples(names, values), max_size=6)


def h2_rejects(headers: list[tuple[bytes, bytes]], trailers: bool) -> bool:
    flags = h2.utilities.HeaderValidationFlags(
        is_client=True, is_trailer=trailers, is_response_header=not trailers, is_push_promise=False
    )
    try:
        list(h2.utilities.validate_headers(headers, flags))
    except h2.exceptions.ProtocolError:
        return True
    return False


@settings(max_examples=3000, deadline=None)
@given(headers=blocks, trailers=st.booleans())
@example(headers=[(b":status", b"200"), (b"content-type", b"text/plain")], trailers=False)
@example(headers=[(b"x-checksum", b"abc")], trailers=True)
@example(headers=[(b"te", b"Trailers"), (b":status", b"204")], trailers=False)
@example(headers=[(b":status", b"200"), (b"te", b"trailers ")], trailers=False)
@example(headers=[(b":status", b"2\r0")], trailers=False)
@example(headers=[(b":status", b"")], trailers=False)
@example(headers=[(b":status", b"200"), (b"\xffname", b"1")], trailers=False)
@example(headers=[(b":status", b"200"), (b"name\xff", b"1")], trailers=False)
@example(headers=[(b":status", b"200"), (b"x", b" ")], trailers=False)
@example(headers=[(b"cookie", b"a"), (b":status", b"200")], trailers=False)
def test_malformed_exactly_when_h2_rejects(
    headers: list[tuple[bytes, bytes]], trailers: bool
) -> None:
    assert (malformed(headers, trailers) is not None) == h2_rejects(headers, trailers)


@settings(max_examples=1000, deadline=None)
@given(rest=blocks)
def test_well_formed_responses_after_status(rest: list[tuple[bytes, bytes]]) -> None:
    """Blocks that start with :status, the shape of nearly every real response."""
    headers = [(b":status", b"200"), *rest]
    assert (malformed(headers) is not None) == h2_rejects(headers, trailers=False)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ([(b":status", b"200"), (b"X-Up", b"1")], "invalid field name b'X-Up'"),
        ([(b":status", b"200"), (b"x", b"a\r\nb")], "invalid value in field b'x'"),
        ([(b"x", b"1"), (b":status", b"200")], "misplaced pseudo-header b':status'"),
        ([(b":status", b"200"), (b"connection", b"close")], "connection-specific field"),
        ([(b"x", b"1")], "a response needs :status and no other pseudo-header"),
    ],
)
def test_the_reason_names_the_field(headers: list[tuple[bytes, bytes]], reason: str) -> None:
    assert (malformed(headers) or "").startswith(reason)


def test_pseudo_headers_in_trailers() -> None:
    assert malformed([(b":status", b"200")], trailers=True) == "pseudo-header in trailers"
    assert malformed([(b"x-sum", b"1")], trailers=True) is None
