"""Sizes and rates written the way people write them: ``500K``, ``10M``, ``1.5G``."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_FACTORS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes from ``"1048576"``, ``"512K"``, ``"10M"``, ``"1.5G"`` (binary multiples)."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"expected a size like 500K, 10M or 2G, got {text!r}")
    number, unit = float(match.group(1)), match.group(2).lower()
    size = int(number * _FACTORS[unit])
    if size <= 0:
        raise ValueError(f"size must be positive, got {text!r}")
    return size
