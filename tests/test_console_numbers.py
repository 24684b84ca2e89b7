"""hx.console.numbers: one way to write counts, sizes, durations and rates."""

from __future__ import annotations

import pytest

from hx.console.numbers import bytes_rate, clock, count, ms, plural, seconds, size


def test_counts_have_thousands_separators() -> None:
    assert [count(n) for n in (0, 999, 1000, 20_000, 1_234_567)] == [
        "0",
        "999",
        "1,000",
        "20,000",
        "1,234,567",
    ]


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 requests"), (1, "1 request"), (2, "2 requests"), (1000, "1,000 requests")],
)
def test_plurals_agree(n: int, text: str) -> None:
    assert plural(n, "request") == text


def test_irregular_plural() -> None:
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(3, "entry", "entries") == "3 entries"


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (1023, "1,023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (10 * 2**20, "10.0 MiB"),
        (1.5 * 2**30, "1.5 GiB"),
        (3 * 2**40, "3.0 TiB"),
        (2048 * 2**40, "2,048.0 TiB"),
    ],
)
def test_sizes_are_binary(n: float, text: str) -> None:
    assert size(n) == text


def test_rates() -> None:
    assert bytes_rate(3 * 2**20) == "3.0 MiB/s"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.42, "0.42 ms"), (12.34, "12.3 ms"), (340.4, "340 ms"), (1250.0, "1.25 s")],
)
def test_latencies(value: float, text: str) -> None:
    assert ms(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.25, "0.25 s"), (75.2, "75.20 s"), (725, "12 min 5 s"), (7380, "2 h 3 min")],
)
def test_durations(value: float, text: str) -> None:
    assert seconds(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(0, "0:00"), (7.4, "0:07"), (750, "12:30"), (7509, "2:05:09"), (-3, "0:00")]
)
def test_stopwatch(value: float, text: str) -> None:
    assert clock(value) == text
