"""hx.request.retry_after: Retry-After in both of RFC 9110's forms, bounded; no clock."""

from __future__ import annotations

import time

import pytest

from hx.request.retry_after import MAX_RETRY_AFTER, parse_http_date, parse_retry_after

# 1994-11-06 08:49:37 UTC, the example date of RFC 9110.
RFC_NOW = 784111777.0


@pytest.mark.parametrize(
    ("value", "seconds"), [("0", 0.0), ("7", 7.0), (" 120 ", 120.0), ("86400", 86400.0)]
)
def test_retry_after_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=lambda: RFC_NOW) == seconds


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:50:07 GMT",  # IMF-fixdate, the preferred form
        "Sunday, 06-Nov-94 08:50:07 GMT",  # obsolete RFC 850 form
        "Sun Nov  6 08:50:07 1994",  # obsolete asctime() form, GMT by definition
    ],
)
def test_retry_after_http_date(value: str) -> None:
    assert parse_retry_after(value, now=lambda: RFC_NOW) == pytest.approx(30.0)


def test_retry_after_date_in_the_past_is_zero() -> None:
    assert parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now=lambda: RFC_NOW) == 0.0


def test_retry_after_date_uses_the_injected_clock() -> None:
    value = "Sun, 06 Nov 1994 08:50:07 GMT"
    assert parse_retry_after(value, now=lambda: RFC_NOW - 60) == pytest.approx(90.0)


@pytest.mark.parametrize(
    "value", [None, "", "   ", "soon", "1.5", "-1", "5s", "0x10", "Sun, 32 Nov 1994 08:49:37 GMT"]
)
def test_retry_after_junk_is_none(value: str | None) -> None:
    assert parse_retry_after(value, now=lambda: RFC_NOW) is None


@pytest.mark.parametrize("value", ["9" * 400, "31536001", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_a_wait_beyond_a_year_is_read_as_a_year(value: str) -> None:
    assert parse_retry_after(value, now=lambda: RFC_NOW) == MAX_RETRY_AFTER


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # RFC 850
        "Sun Nov  6 08:49:37 1994",  # asctime: GMT, whatever the local zone
    ],
)
def test_http_dates_in_all_three_forms(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert parse_http_date(value) == 784111777.0
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    "value", ["Mon, 01 Jan 99999999999999999999 00:00:00 GMT", "yesterday", "", "Sun, 31 Feb"]
)
def test_a_date_no_clock_can_hold_is_none(value: str) -> None:
    assert parse_http_date(value) is None
