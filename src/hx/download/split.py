"""``--split``: the segments of one file fetched side by side into its part.

``--split N`` connections each take the lowest segment not yet taken
(hx.download.segments), one ranged GET guarded by If-Range at a time; the
file is hashed in order as its bytes reach the disk. A segment's progress
counts bytes on disk and is saved every few MiB and when the transfer stops,
so a later run continues each segment where it ended.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from hx.download import responses
from hx.download.checksums import FileDigests, Following
from hx.download.content_range import ContentRangeError, parse_content_range
from hx.download.failures import DownloadFailed
from hx.download.segments import Segment, downloaded, on_disk_from_start
from hx.download.state import PartState
from hx.download.writer import writing
from hx.errors import ErrorKind
from hx.request.closing import close

if TYPE_CHECKING:
    import httpx

    from hx.download.transfer import Transfer

_SAVE_EVERY = 2 << 20
"""The segments' progress is saved to the state file every 2 MiB the file advances."""


async def fetch_segments(
    transfer: Transfer, fd: int, state: PartState, digests: FileDigests
) -> None:
    """Fetch every segment of ``state`` not yet complete into the part open as ``fd``,
    feeding the whole file to ``digests`` in order."""
    assert state.segments is not None and state.size is not None
    parts = transfer.parts
    run = _SplitRun(transfer, fd, state, digests)
    try:
        os.ftruncate(fd, state.size)
        parts.save(state)
        transfer.reporter.started(
            transfer.key, transfer.target.name, state.size, downloaded(state.segments)
        )
        # One iterator for all connections: each segment is taken once, lowest first.
        todo = [segment for segment in state.segments if not segment.complete]
        left = iter(todo)
        async with asyncio.TaskGroup() as group:
            for _ in range(min(transfer.options.split, len(todo))):  # a connection a piece
                group.create_task(run.fetch_in_turn(left))
            group.create_task(run.hashing.run(state.size))
    except* Exception as group_error:
        raise group_error.exceptions[0] from None
    finally:
        if not run.forgotten and parts.state_path.exists():
            parts.save(state)  # even when cancelled: the next run resumes each segment


class _SplitRun:
    """The connections of one split transfer, their progress and the file's hashing."""

    def __init__(self, transfer: Transfer, fd: int, state: PartState, digests: FileDigests) -> None:
        assert state.segments is not None
        self.transfer, self.fd, self.state = transfer, fd, state
        self.segments = segments = state.segments
        self.hashing = Following(
            digests, transfer.parts.data_path, lambda: on_disk_from_start(segments)
        )
        # Bytes on disk (what segment.done counts) when the state was last saved: it
        # never overstates.
        self._saved_at = downloaded(segments)
        self.forgotten = False
        """The file changed on the server: its state is gone, and must stay gone."""

    async def fetch_in_turn(self, left: Iterator[Segment]) -> None:
        """One connection's share: the next segment nobody has taken, until none is left."""
        for segment in left:
            await self._fetch(segment)

    def _flushed(self, segment: Segment, count: int) -> None:
        """``count`` more bytes of ``segment`` are on disk."""
        segment.advance(count)
        self.hashing.moved()
        on_disk = downloaded(self.segments)
        if on_disk - self._saved_at >= _SAVE_EVERY and not self.forgotten:
            self.transfer.parts.save(self.state)
            self._saved_at = on_disk

    async def _fetch(self, segment: Segment) -> None:
        transfer, state = self.transfer, self.state
        start, end = segment.start, segment.end
        response = await responses.request(
            transfer.client,
            transfer.spec,
            transfer.settings,
            segment.position,
            end,
            state.validator,
        )
        try:
            if response.status_code == 200 and state.validator:
                # If-Range did not match: the file changed. Forget the segments
                # so the retry starts a fresh download (and the other connections,
                # winding down, must not save them again).
                self.forgotten = True
                transfer.parts.forget()
                raise DownloadFailed(
                    ErrorKind.PROTOCOL, "the file changed on the server; starting over", 200
                )
            if response.status_code != 206 or not _honours(response, segment):
                raise DownloadFailed(
                    ErrorKind.PROTOCOL,
                    f"segment {start}-{end}: the server did not honour the range"
                    f" (HTTP {response.status_code}); the file may have changed",
                    response.status_code,
                )

            def accept(count: int) -> None:
                if writer.position + count > end + 1:
                    raise DownloadFailed(ErrorKind.PROTOCOL, f"segment {start}-{end}: too long")
                transfer.received(count)  # before the writer takes them, as in Transfer

            async with writing(
                self.fd,
                segment.position,
                on_flush=lambda count: self._flushed(segment, count),
                expected=end + 1 - segment.position,
            ) as writer:
                await responses.copy_body(response, writer, transfer.bandwidth, accept)
        finally:
            await close(response)
        if not segment.complete:
            raise DownloadFailed(ErrorKind.PROTOCOL, f"segment {start}-{end}: body ended early")


def _honours(response: httpx.Response, segment: Segment) -> bool:
    """Does the 206 hold exactly the rest of the segment?"""
    try:
        content_range = parse_content_range(response.headers.get("content-range"), segment.position)
    except ContentRangeError:
        return False
    return content_range.last == segment.end
