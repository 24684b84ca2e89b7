"""A download's digests as it is written: its sha256, and the one it must match.

The expected digest is parsed with the other option values (hx.values.parse_checksum)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
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

    async def feed_file(self, path: Path, length: int, start: int = 0) -> None:
        """Feed ``length`` bytes of ``path`` from ``start`` on, in a thread: a GiB takes
        half a second to hash, and the other downloads, the display and Ctrl-C should
        not wait for it."""
        await asyncio.to_thread(self._feed_file, path, length, start)

    def _feed_file(self, path: Path, length: int, start: int) -> None:
        view = memoryview(bytearray(min(length, 1 << 20)))
        with path.open("rb", buffering=0) as stream:
            stream.seek(start)
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


class Following:
    """Hashes a file in order as its bytes reach the disk, beside the download.

    ``on_disk()`` says how many bytes from the start are on disk without a gap;
    ``moved()`` says it may have grown. ``run(size)`` returns once ``size``
    bytes are hashed (and is cancelled with the download if it fails).
    """

    def __init__(self, digests: FileDigests, path: Path, on_disk: Callable[[], int]) -> None:
        self._digests = digests
        self._path = path
        self._on_disk = on_disk
        self._moved = asyncio.Event()
        self.hashed = 0

    def moved(self) -> None:
        self._moved.set()

    async def run(self, size: int) -> None:
        while self.hashed < size:
            end = self._on_disk()
            if end > self.hashed:
                await self._digests.feed_file(self._path, end - self.hashed, self.hashed)
                self.hashed = end
            else:
                self._moved.clear()
                await self._moved.wait()
