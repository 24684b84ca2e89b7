"""Option values written the way people write them: sizes, rates, statuses, shards.

Every parser takes the text from the command line, the environment or the
config file (where TOML may give a number) and raises ValueError saying
what it expected.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterable

from hx.errors import LineError
from hx.frozen import frozen

# RFC 9110 token characters, for methods and header names.
TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits)

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_FACTORS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str | int) -> int:
    """Bytes from ``"1048576"``, ``"512K"``, ``"10M"``, ``"1.5G"`` (binary multiples)."""
    match = _SIZE.match(str(text))
    if match is None:
        raise ValueError(f"expected a size like 500K, 10M or 2G, got {text!r}")
    number, unit = float(match.group(1)), match.group(2).lower()
    size = int(number * _FACTORS[unit])
    if size <= 0:
        raise ValueError(f"size must be positive, got {text!r}")
    return size


_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_seconds(text: str | int | float) -> float:
    """A duration in seconds, zero or more: a number of seconds (``"2.5"``) or a number
    with a unit (``"500ms"``, ``"30s"``, ``"5m"``, ``"1h"``, ``"1d"``); never inf or nan."""
    try:
        seconds = float(text)
    except ValueError:
        match = _DURATION.match(str(text))
        if match is None:
            message = f"expected seconds or a duration such as 500ms, 30s, 5m or 1h, got {text!r}"
            raise ValueError(message) from None
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not math.isfinite(seconds):
        raise ValueError(f"expected a finite duration, got {text!r}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {text!r}")
    return seconds


def parse_duration(text: str | int | float) -> float:
    """A duration of more than zero, written as for :func:`parse_seconds`: a time limit
    (a zero limit would fail every request) or an interval."""
    seconds = parse_seconds(text)
    if seconds <= 0:
        raise ValueError(f"a duration must be more than 0, got {text!r}")
    return seconds


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*([smh]))?\s*$")
_PER = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_rate(text: str | int | float) -> float:
    """Requests per second from ``"50/s"``, ``"600/m"``, ``"1000/h"`` or ``"20"``."""
    match = _RATE.match(str(text))
    if match is None:
        raise ValueError(f"expected N/s, N/m or N/h, got {text!r}")
    count = float(match.group(1))
    if count <= 0:
        raise ValueError(f"rate must be positive, got {text!r}")
    return count / _PER[match.group(2) or "s"]


AUTO_WORKERS = 0
"""``--workers auto``: hx.run.workers.auto_worker_count decides."""


def parse_workers(text: str | int) -> int:
    """``"4"`` as 4, ``"auto"`` as AUTO_WORKERS; ValueError for anything else."""
    if str(text).strip().lower() == "auto":
        return AUTO_WORKERS
    try:
        count = int(text)
    except ValueError:
        raise ValueError(f"expected a number of processes or 'auto', got {text!r}") from None
    if count < 1:
        raise ValueError(f"expected at least 1 process, got {text!r}")
    return count


@frozen
class Shard:
    """Slice ``index`` of ``count`` (1 <= index <= count), written ``K/N``."""

    index: int
    count: int


def parse_shard(text: str) -> Shard:
    """``"2/4"`` as ``Shard(2, 4)``."""
    index, sep, count = text.partition("/")
    try:
        pair = int(index), int(count)
    except ValueError:
        raise ValueError(f"expected K/N, e.g. 1/4, got {text!r}") from None
    if not sep or not 1 <= pair[0] <= pair[1]:
        raise ValueError(f"expected K/N with 1 <= K <= N, got {text!r}")
    return Shard(*pair)


class StatusSet:
    """A set of HTTP statuses written as ``200-299,304``; ``in`` tests membership."""

    def __init__(self, ranges: Iterable[tuple[int, int]]) -> None:
        self.ranges = tuple(ranges)
        self._members = self.members()  # ``in`` runs for every response

    @classmethod
    def parse(cls, text: str | int) -> StatusSet:
        """Parse ``"200-399"``, ``"2xx,304"`` or ``"200,201"``; raise ValueError if malformed."""
        ranges = []
        for part in (p.strip() for p in str(text).split(",")):
            if len(part) == 3 and part[0] in "12345" and part[1:].lower() == "xx":
                low = int(part[0]) * 100
                ranges.append((low, low + 99))
                continue
            first, sep, last = part.partition("-")
            try:
                low, high = int(first), int(last if sep else first)
            except ValueError:
                raise ValueError(f"not a status or range: {part!r}") from None
            if not 100 <= low <= high <= 599:
                raise ValueError(f"status out of range 100-599: {part!r}")
            ranges.append((low, high))
        return cls(ranges)

    def members(self) -> frozenset[int]:
        return frozenset(n for lo, hi in self.ranges for n in range(lo, hi + 1))

    def __contains__(self, status: object) -> bool:
        return isinstance(status, int) and status in self._members

    def __str__(self) -> str:
        return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ranges)

    def __repr__(self) -> str:
        return f"StatusSet({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StatusSet) and self.ranges == other.ranges

    def __hash__(self) -> int:
        return hash(self.ranges)


def check_header(name: str, value: str) -> tuple[str, str]:
    """Reject header names that are not tokens and values that could inject lines."""
    if not name or not set(name) <= TOKEN_CHARS:
        raise LineError(f"invalid header name {name[:80]!r}")
    if any(ch in value for ch in "\r\n\0"):
        raise LineError(f"header {name!r} value contains CR, LF or NUL")
    if not value.isascii():
        raise LineError(f"header {name!r} value is not ASCII (percent-encode it)")
    return name, value


@frozen
class Header:
    """One ``-H 'Name: value'``."""

    name: str
    value: str


def parse_header(text: str) -> Header:
    """``"Name: value"`` as a Header; LineError (a ValueError) says what is wrong."""
    name, sep, value = str(text).partition(":")
    if not sep:
        # Not quoting the text: a malformed "Cookie sid=..." is still a secret.
        raise LineError("expected 'Name: value' (no ':' found)")
    return Header(*check_header(name.strip(), value.strip()))


DIGEST_ALGORITHMS = {"sha256": 64, "sha512": 128, "sha1": 40, "md5": 32}
"""Hex digits in each algorithm's digest (downloads' --sha256, --checksum, "sha256")."""


def parse_checksum(text: str) -> tuple[str, str]:
    """``"sha256=ab12..."`` as ``("sha256", "ab12...")``; ValueError says what is wrong."""
    algorithm, sep, digest = text.partition("=")
    if not sep:
        raise ValueError(f"expected ALGO=HEX, got {text!r}")
    return check_digest(algorithm.strip().lower(), digest.strip())


def check_digest(algorithm: str, digest: str) -> tuple[str, str]:
    """``(algorithm, lower-case hex digest)`` once both are valid; ValueError says why not."""
    if algorithm not in DIGEST_ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r} (use {', '.join(DIGEST_ALGORITHMS)})")
    digest = digest.lower()
    if len(digest) != DIGEST_ALGORITHMS[algorithm] or not set(digest) <= set(string.hexdigits):
        raise ValueError(f"a {algorithm} digest is {DIGEST_ALGORITHMS[algorithm]} hex digits")
    return algorithm, digest
