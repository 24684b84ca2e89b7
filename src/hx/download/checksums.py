"""Expected digests of downloads: ``--sha256 HEX`` and ``--checksum ALGO=HEX``."""

from __future__ import annotations

import string

# Hex digits in each algorithm's digest.
ALGORITHMS = {"sha256": 64, "sha512": 128, "sha1": 40, "md5": 32}


def parse_checksum(text: str) -> tuple[str, str]:
    """``"sha256=ab12..."`` as ``("sha256", "ab12...")``; ValueError says what is wrong."""
    algorithm, sep, digest = text.partition("=")
    if not sep:
        raise ValueError(f"expected ALGO=HEX, got {text!r}")
    return check_digest(algorithm.strip().lower(), digest.strip())


def check_digest(algorithm: str, digest: str) -> tuple[str, str]:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r} (use {', '.join(ALGORITHMS)})")
    digest = digest.lower()
    if len(digest) != ALGORITHMS[algorithm] or not set(digest) <= set(string.hexdigits):
        raise ValueError(f"a {algorithm} digest is {ALGORITHMS[algorithm]} hex digits")
    return algorithm, digest
