"""hx.values: the values options, HX_* variables and config files share (statuses, rates, -H)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hx.errors import LineError
from hx.values import (
    Header,
    StatusSet,
    parse_duration,
    parse_header,
    parse_rate,
    parse_seconds,
)

# -- StatusSet -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("200-399", ((200, 399),)),
        ("2xx,304", ((200, 299), (304, 304))),
        ("200", ((200, 200),)),
        ("200,201", ((200, 200), (201, 201))),
        (" 2XX , 404 ", ((200, 299), (404, 404))),
        ("1xx,5xx", ((100, 199), (500, 599))),
        ("100-599", ((100, 599),)),
        ("301-301", ((301, 301),)),
    ],
)
def test_status_set_parse(text: str, ranges: tuple[tuple[int, int], ...]) -> None:
    assert StatusSet.parse(text).ranges == ranges


statuses = st.integers(min_value=100, max_value=599)


@given(
    ranges=st.lists(st.tuples(statuses, statuses).map(sorted).map(tuple), max_size=4),
    status=st.one_of(st.integers(min_value=0, max_value=700), st.none(), st.floats()),
)
def test_status_set_membership_is_that_of_its_ranges(
    ranges: list[tuple[int, int]], status: object
) -> None:
    expected = isinstance(status, int) and any(lo <= status <= hi for lo, hi in ranges)
    assert (status in StatusSet(ranges)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "not a status or range: 'abc'"),
        ("", "not a status or range: ''"),
        ("200-", "not a status or range: '200-'"),
        ("-200", "not a status or range: '-200'"),
        ("2xx-3xx", "not a status or range: '2xx-3xx'"),
        ("6xx", "not a status or range: '6xx'"),
        ("200,,201", "not a status or range: ''"),
        ("600", "status out of range 100-599: '600'"),
        ("99", "status out of range 100-599: '99'"),
        ("300-200", "status out of range 100-599: '300-200'"),
        ("200-600", "status out of range 100-599: '200-600'"),
    ],
)
def test_status_set_parse_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        StatusSet.parse(text)


def test_membership_of_a_range() -> None:
    statuses = StatusSet.parse("200-399")
    assert [code in statuses for code in (199, 200, 302, 399, 400)] == [
        False,
        True,
        True,
        True,
        False,
    ]


def test_membership_of_a_class_and_a_single_status() -> None:
    statuses = StatusSet.parse("2xx,304")
    assert [code in statuses for code in (200, 299, 300, 303, 304, 305)] == [
        True,
        True,
        False,
        False,
        True,
        False,
    ]


@pytest.mark.parametrize("value", ["200", 200.0, None])
def test_only_ints_are_members(value: object) -> None:
    assert value not in StatusSet.parse("2xx")


def test_equality_hash_and_repr() -> None:
    assert StatusSet.parse("2xx") == StatusSet.parse("200-299")
    assert hash(StatusSet.parse("2xx")) == hash(StatusSet.parse("200-299"))
    assert StatusSet.parse("2xx") != StatusSet.parse("200-298")
    assert repr(StatusSet.parse("2xx,304")) == "StatusSet('200-299,304')"


# -- parse_rate --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "per_second"),
    [
        ("50/s", 50.0),
        ("20", 20.0),
        ("600/m", 10.0),
        ("3600/h", 1.0),
        ("2.5/s", 2.5),
        ("30/m", 0.5),
        (" 50 / s ", 50.0),
    ],
)
def test_parse_rate(text: str, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["", "fast", "0/s", "0", "-5/s", "50/d", "50/", "/s", "1e3/s"])
def test_parse_rate_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rate(text)


# -- durations: --timeout, --grace, --every, --max-latency ... --------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2.5", 2.5),
        ("30", 30.0),
        ("1e-3", 0.001),
        (" 7 ", 7.0),
        ("500ms", 0.5),
        ("30s", 30.0),
        ("1.5s", 1.5),
        (".5s", 0.5),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("2d", 172800.0),
        (" 2 m ", 120.0),
        (3, 3.0),
        (0.25, 0.25),
    ],
)
def test_durations_in_seconds_or_with_a_unit(text: str | float, seconds: float) -> None:
    assert parse_seconds(text) == pytest.approx(seconds)
    assert parse_duration(text) == pytest.approx(seconds)


@given(st.integers(0, 10**6), st.sampled_from([("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]))
def test_a_unit_multiplies_the_number(number: int, unit: tuple[str, float]) -> None:
    suffix, factor = unit
    assert parse_seconds(f"{number}{suffix}") == pytest.approx(number * factor)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected seconds or a duration"),
        ("soon", "expected seconds or a duration"),
        ("5 minutes", "expected seconds or a duration"),
        ("5M", "expected seconds or a duration"),  # M is not m: no guessing at a unit
        ("-1s", "expected seconds or a duration"),
        ("1s2", "expected seconds or a duration"),
        ("inf", "finite"),
        ("nan", "finite"),
        ("1e999", "finite"),
        ("-1", "cannot be negative"),
    ],
)
def test_durations_rejected(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_seconds(text)


@pytest.mark.parametrize("text", ["0", "0s", "0ms", "0.0h"])
def test_a_time_limit_must_be_more_than_zero(text: str) -> None:
    assert parse_seconds(text) == 0
    with pytest.raises(ValueError, match="more than 0"):
        parse_duration(text)


# -- -H ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("X-Token: abc", ("X-Token", "abc")),
        ("Accept:text/html", ("Accept", "text/html")),
        ("  X-A  :  v w  ", ("X-A", "v w")),
        ("X-Empty:", ("X-Empty", "")),
        ("X-Time: 12:30:00", ("X-Time", "12:30:00")),
    ],
)
def test_parse_header_option(text: str, expected: tuple[str, str]) -> None:
    assert parse_header(text) == Header(*expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NoColon", "expected 'Name: value' (no ':' found)"),
        ("Bad Name: v", "invalid header name 'Bad Name'"),
        (": v", "invalid header name ''"),
        ("X-A: a\nb", "header 'X-A' value contains CR, LF or NUL"),
        ("X-A: a\rb", "header 'X-A' value contains CR, LF or NUL"),
    ],
)
def test_parse_header_option_rejects(text: str, message: str) -> None:
    with pytest.raises(LineError) as info:
        parse_header(text)
    assert str(info.value) == message
