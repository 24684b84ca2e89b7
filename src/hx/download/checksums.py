"""A download's digests as it is written: its sha256, and the one it must match.

The expected digest is parsed with the other option values (hx.values.parse_checksum)."""

from __future__ import annotations

import asyncio
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

    async def feed_file(self, path: Path, length: int) -> None:
        """Feed the first ``length`` bytes of ``path``, in a thread: a GiB takes half a
        second to hash, and the other downloads, the display and Ctrl-C should not
        wait for it."""
        await asyncio.to_thread(self._feed_file, path, length)

    def _feed_file(self, path: Path, length: int) -> None:
        view = memoryview(bytearray(1 << 20))
        with path.open("rb", buffering=0) as stream:
            while length > 0 and (count := stream.readinto(view[: min(length, len(view))])):
                length -= count
                for hasher in self.hashers:
                    hasher.update(view[:count])

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
