"""A download's digests as it is written: its sha256, and the one it must match.

The expected digest is parsed with the other option values (hx.values.parse_checksum)."""

from __future__ import annotations

import hashlib
from pathlib import Path


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
