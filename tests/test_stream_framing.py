"""hx.stream's parsers: line splitting, SSE events and framings; oracle: httpx-sse."""

from __future__ import annotations

import json

import pytest
from httpx_sse._decoders import SSEDecoder, SSELineDecoder
from hypothesis import given, settings
from hypothesis import strategies as st

from hx.stream.framing import BadEvent, LinesFramer, NdjsonFramer, SseFramer, resolve
from hx.stream.lines import LineSplitter, LineTooLong, Piece
from hx.stream.sse import EventTooLong, SseEvent, SseParser


def split(chunks: list[bytes], max_line: int = 1 << 20) -> list[Piece]:
    splitter = LineSplitter(max_line)
    pieces = [piece for chunk in chunks for piece in splitter.feed(chunk)]
    return pieces + list(splitter.finish())


# -- lines ------------------------------------------------------------------


def test_the_three_line_endings_and_a_last_unended_line() -> None:
    assert split([b"a\r\nb\nc\rd"]) == [b"a", b"b", b"c", b"d"]


def test_crlf_split_across_chunks_is_one_ending() -> None:
    assert split([b"a\r", b"\nb\r", b"\r\n"]) == [b"a", b"b", b""]


def test_a_cr_at_a_chunk_end_ends_the_line_at_once() -> None:
    splitter = LineSplitter(100)
    assert list(splitter.feed(b"event\r")) == [b"event"]  # no waiting for the next chunk
    assert list(splitter.feed(b"more\n")) == [b"more"]


def test_a_long_line_is_reported_once_and_skipped_to_its_end() -> None:
    assert split([b"ok\n", b"x" * 6, b"y" * 10, b"z\nnext\n"], max_line=8) == [
        b"ok",
        LineTooLong(8),
        b"next",
    ]


def test_a_line_of_exactly_max_line_bytes_is_kept() -> None:
    assert split([b"1234", b"5678\n123456789\n"], max_line=8) == [b"12345678", LineTooLong(8)]


def test_a_long_line_is_reported_before_it_ends() -> None:
    splitter = LineSplitter(4)
    assert list(splitter.feed(b"abcde")) == [LineTooLong(4)]
    assert list(splitter.feed(b"f" * 100)) == []
    assert list(splitter.feed(b"\nok\n")) == [b"ok"]


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab\r\n\xe9"), max_size=60),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=8),
)
def test_lines_match_httpx_sse_line_decoder(text: str, cuts: list[int]) -> None:
    """Any chunking of any text gives the lines httpx-sse's decoder gives (ASCII endings)."""
    data = text.encode()
    bounds = sorted({0, len(data), *(min(cut, len(data)) for cut in cuts)})
    chunks = [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    oracle = SSELineDecoder()
    # The oracle decodes text: cut the same text at the same places (ASCII cuts only).
    expected = [line for chunk in chunks for line in oracle.decode(chunk.decode("latin-1"))]
    expected += oracle.flush()
    assert [piece.decode("latin-1") for piece in split(chunks)] == expected  # type: ignore[union-attr]


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=200).map(lambda b: b.replace(b"\x00", b"\n")),
    size=st.integers(min_value=1, max_value=20),
    max_line=st.integers(min_value=1, max_value=30),
)
def test_no_line_is_longer_than_max_line(data: bytes, size: int, max_line: int) -> None:
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    pieces = split(chunks, max_line)
    unbounded = split([data])
    assert all(isinstance(p, LineTooLong) or len(p) <= max_line for p in pieces)
    # Exactly the long lines are replaced, each by one LineTooLong.
    assert pieces == [LineTooLong(max_line) if len(p) > max_line else p for p in unbounded]  # type: ignore[arg-type]


# -- SSE ---------------------------------------------------------------------


def events(lines: list[str], max_data: int = 1000) -> list[SseEvent | EventTooLong]:
    parser = SseParser(max_data)
    return [event for line in lines if (event := parser.line(line)) is not None]


def test_sse_fields_comments_and_multi_line_data() -> None:
    lines = [": hello", "event: tick", "id: 7", "data: one", "data:two", "data", "", "data: x", ""]
    assert events(lines) == [
        SseEvent("tick", "one\ntwo\n", "7"),
        SseEvent("message", "x", "7"),  # the id persists, the type does not
    ]


def test_an_event_without_data_dispatches_nothing_but_sets_the_id() -> None:
    parser = SseParser(100)
    for line in ("event: ping", "id: 42", ""):
        assert parser.line(line) is None
    assert parser.last_event_id == "42"


def test_an_empty_id_resets_it_and_an_id_with_nul_is_ignored() -> None:
    lines = ["id: 1", "data: a", "", "id: 2\0", "data: b", "", "id", "data: c", ""]
    assert [event.id for event in events(lines)] == ["1", "1", None]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3000", 3000),
        (" 0", 0),
        ("  5", None),
        ("+5", None),
        ("1.5", None),
        ("٣", None),
        ("", None),
    ],
)
def test_retry_takes_ascii_digits_only(value: str, expected: int | None) -> None:
    parser = SseParser(100)
    parser.line(f"retry:{value}")
    assert parser.retry_ms == expected


def test_a_huge_retry_is_read_as_a_very_long_time() -> None:
    parser = SseParser(100)
    parser.line("retry: " + "9" * 5000)
    assert parser.retry_ms is not None and parser.retry_ms > 10**14


def test_data_past_the_bound_becomes_one_error_and_the_stream_goes_on() -> None:
    lines = ["data: 12345", "data: 67890", "data: more", "", "data: ok", ""]
    assert events(lines, max_data=10) == [EventTooLong(10), SseEvent("message", "ok", None)]


def test_a_dropped_line_spoils_its_event_only() -> None:
    parser = SseParser(100)
    parser.line("data: a")
    parser.line_dropped()
    assert parser.line("") == EventTooLong(100)
    parser.line("data: b")
    assert parser.line("") == SseEvent("message", "b", None)


_SSE_LINE = st.one_of(
    st.just(""),
    st.builds(lambda v: ":" + v, st.text(alphabet="ab :", max_size=4)),
    st.builds(
        lambda name, space, value: f"{name}:{space}{value}",
        st.sampled_from(["data", "event", "id", "retry", "other", "Data"]),
        st.sampled_from(["", " ", "  "]),
        st.text(alphabet="ab1:\0", max_size=4),
    ),
    st.sampled_from(["data", "event", "id", "retry", "retry: 12", "id: 9"]),
)


@settings(max_examples=400, deadline=None)
@given(lines=st.lists(_SSE_LINE, max_size=30))
def test_sse_events_match_httpx_sse(lines: list[str]) -> None:
    """Same events as httpx-sse, which also dispatches events without data (the spec does not)."""
    oracle = SSEDecoder()
    parser = SseParser(10_000)
    has_data = False
    for line in lines:
        expected = oracle.decode(line)
        got = parser.line(line)
        has_data = has_data or line.partition(":")[0] == "data"
        if expected is None or not has_data:
            assert got is None
        else:
            assert got == SseEvent(expected.event, expected.data, expected.id or None)
            if expected.retry is not None and _spec_retry(lines):
                assert parser.retry_ms == expected.retry
        if line == "":
            has_data = False


def _spec_retry(lines: list[str]) -> bool:
    """Whether every retry line so far is one the spec takes: ASCII digits after at most one
    space. httpx-sse's int() also takes "retry:  1" (two spaces); the spec ignores it."""
    values = (line.partition(":")[2] for line in lines if line.partition(":")[0] == "retry")
    return all(value.removeprefix(" ").isdigit() and value.isascii() for value in values)


# -- framings ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "framing"),
    [
        ("text/event-stream", "sse"),
        ("Text/Event-Stream; charset=utf-8", "sse"),
        ("application/x-ndjson", "ndjson"),
        ("application/jsonl", "ndjson"),
        ("application/json", "lines"),
        (None, "lines"),
    ],
)
def test_auto_framing_follows_the_content_type(content_type: str | None, framing: str) -> None:
    assert resolve("auto", content_type) == framing
    assert resolve("lines", "text/event-stream") == "lines"


def test_ndjson_bad_lines_are_error_events() -> None:
    framer = NdjsonFramer()
    assert framer.line(b'{"a": [1, 2]}') == {"data": {"a": [1, 2]}}
    assert framer.line(b"  ") is None
    bad = [b"{oops", b"NaN", b"\xff{}", b"[" * 100_000, b"1" * 5000]
    for line in bad:
        item = framer.line(line)
        assert isinstance(item, BadEvent) and item.kind == "invalid_json", (line[:10], item)
    assert framer.line_too_long(5) == BadEvent(
        "too_long", "a line longer than --max-line 5 bytes; skipped"
    )


def test_ndjson_data_can_be_written_as_json_again() -> None:
    """Values that JSON cannot write back (NaN, an overflowing float) are refused."""
    framer = NdjsonFramer()
    item = framer.line(b'{"t": "h\\u00e9", "n": 1.5e300}')
    assert item == {"data": {"t": "h\u00e9", "n": 1.5e300}}
    json.dumps(item, allow_nan=False)
    assert framer.line(b'{"n": 1e400}') == BadEvent(
        "invalid_json", "not JSON: 1e400 is out of range"
    )
    assert framer.line(b"[-Infinity]") == BadEvent(
        "invalid_json", "not JSON: -Infinity is not a JSON value"
    )


def test_lines_replace_bytes_that_are_not_utf8() -> None:
    assert LinesFramer().line(b"caf\xc3\xa9 \xff") == {"data": "café \ufffd"}


def test_sse_framer_drops_a_leading_bom_and_replaces_bad_bytes() -> None:
    framer = SseFramer(100)
    assert framer.line("\ufeffdata: x".encode()) is None
    assert framer.line(b"data: \xff") is None
    assert framer.line(b"") == {"event": "message", "data": "x\n\ufffd", "event_id": None}
