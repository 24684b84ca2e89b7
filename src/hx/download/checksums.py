"""Digests of downloads: the expected one (``--sha256``, ``--checksum``) and the file's."""

from __future__ import annotations

import hashlib
import string
from pathlib import Path

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


class FileDigests:
    """The sha256 of a file (for its record) and, if one is expected, the digest to check.

    Fed as the bytes are written (``hashers`` go to the writer thread), or
    from the file on disk.
    """

    def __init__(self, expected: tuple[str, str] | None) -> None:
        self._expected = expected
        names = ["sha256"]
        if expected is not None and expected[0] != "sha256":
            names.append(expected[0])
        self.hashers = [hashlib.new(name) for name in names]

    def feed_file(self, path: Path, length: int) -> None:
        """Feed the first ``length`` bytes of ``path``."""
        with path.open("rb") as stream:
            while length > 0 and (block := stream.read(min(length, 1 << 20))):
                length -= len(block)
                for hasher in self.hashers:
                    hasher.update(block)

    @property
    def sha256(self) -> str:
        return self.hashers[0].hexdigest()

    def mismatch(self) -> str | None:
        """What is wrong if the bytes fed do not match the expected digest."""
        if self._expected is None:
            return None
        algorithm, expected = self._expected
        actual = self.hashers[-1].hexdigest()
        if actual == expected:
            return None
        return f"{algorithm} mismatch: expected {expected}, got {actual}"
