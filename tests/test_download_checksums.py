"""hx.download.checksums: a file hashed in order while its pieces land out of order."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from hx.download.checksums import FileDigests, Following

MiB = 1 << 20


def test_following_hashes_only_bytes_on_disk_from_the_start(tmp_path: Path) -> None:
    data = os.urandom(3 * MiB + 5)
    path = tmp_path / "f.part"
    path.write_bytes(bytes(len(data)))  # preallocated, as a split part is

    async def main() -> FileDigests:
        digests, on_disk = FileDigests(None), 0
        following = Following(digests, path, lambda: on_disk)
        hashing = asyncio.create_task(following.run(len(data)))

        async def land(start: int, end: int, reach: int) -> None:
            nonlocal on_disk
            with path.open("r+b") as stream:
                stream.seek(start)
                stream.write(data[start:end])
            on_disk = reach
            following.moved()
            for _ in range(50):  # let the hashing thread catch up
                if following.hashed == reach:
                    break
                await asyncio.sleep(0.01)

        await land(MiB, 2 * MiB, 0)  # the second MiB first: a gap before it
        assert following.hashed == 0
        await land(0, MiB, 2 * MiB)
        assert following.hashed == 2 * MiB
        await land(2 * MiB, len(data), len(data))
        await asyncio.wait_for(hashing, 5)
        return digests

    digests = asyncio.run(main())
    assert digests.sha256 == hashlib.sha256(data).hexdigest()


def test_following_is_cancelled_with_the_download(tmp_path: Path) -> None:
    path = tmp_path / "f.part"
    path.write_bytes(bytes(10))

    async def main() -> None:
        following = Following(FileDigests(None), path, lambda: 0)
        hashing = asyncio.create_task(following.run(10))
        await asyncio.sleep(0.01)
        hashing.cancel()
        await asyncio.gather(hashing, return_exceptions=True)
        assert hashing.cancelled()

    asyncio.run(main())
