"""How hx writes numbers for people: one style for counts, sizes, durations and rates.

Counts always carry thousands separators, sizes are binary (KiB, MiB, GiB:
what ``ls -h`` and download bars show), and a count's noun agrees with it.
"""

from __future__ import annotations

_SIZE_UNITS = ("KiB", "MiB", "GiB", "TiB")


def count(n: int) -> str:
    return f"{n:,}"


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``1 request``, ``2 requests``, ``1,000 requests``."""
    return f"{n:,} {noun if n == 1 else nouns or noun + 's'}"


def size(n: float) -> str:
    """``512 B``, ``1.5 KiB``, ``12.3 MiB``, ``1,024.0 GiB``... binary units throughout."""
    if n < 1024:
        return f"{n:,.0f} B"
    value = n / 1024
    for unit in _SIZE_UNITS:
        if value < 1024 or unit == _SIZE_UNITS[-1]:
            return f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def bytes_rate(per_second: float) -> str:
    return size(per_second) + "/s"


def ms(value: float) -> str:
    """A latency, short: ``0.42 ms``, ``12.3 ms``, ``340 ms``, then seconds (``1.25 s``)."""
    if value < 1:
        return f"{value:.2f} ms"
    if value < 100:
        return f"{value:.1f} ms"
    if value < 1000:
        return f"{value:.0f} ms"
    return seconds(value / 1000)


def seconds(value: float) -> str:
    """A duration: ``0.25 s``, ``75.20 s``, then ``12 min 5 s``, ``2 h 3 min``."""
    if value < 600:
        return f"{value:.2f} s"
    minutes, secs = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    return f"{minutes // 60:,} h {minutes % 60} min"


def clock(value: float) -> str:
    """Elapsed or remaining time as on a stopwatch: ``0:07``, ``12:30``, ``2:05:09``."""
    minutes, secs = divmod(max(0, round(value)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"
