"""``--split``: the segments of one file fetched side by side into its part.

Each segment is a ranged GET guarded by If-Range; its progress counts bytes
on disk and is saved every few MiB and when the transfer stops, so a later
run continues each segment where it ended.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

from hx.download import responses
from hx.download.content_range import ContentRangeError, parse_content_range
from hx.download.failures import DownloadFailed
from hx.download.segments import Segment, downloaded
from hx.download.state import PartState
from hx.download.writer import writing
from hx.errors import ErrorKind

if TYPE_CHECKING:
    import httpx

    from hx.download.transfer import Transfer

_SAVE_EVERY = 2 << 20
"""A segment's progress is saved to the state file every 2 MiB it advances."""


async def fetch_segments(transfer: Transfer, fd: int, state: PartState) -> None:
    """Fetch every segment of ``state`` not yet complete into the part open as ``fd``."""
    assert state.segments is not None and state.size is not None
    parts = transfer.parts
    try:
        os.ftruncate(fd, state.size)
        parts.save(state)
        transfer.reporter.started(
            transfer.key, transfer.target.name, state.size, downloaded(state.segments)
        )
        async with asyncio.TaskGroup() as group:
            for segment in state.segments:
                if not segment.complete:
                    group.create_task(_fetch_segment(transfer, fd, segment, state))
    except* Exception as group_error:
        raise group_error.exceptions[0] from None
    finally:
        if parts.state_path.exists():
            parts.save(state)  # even when cancelled: the next run resumes each segment


async def _fetch_segment(transfer: Transfer, fd: int, segment: Segment, state: PartState) -> None:
    start, end = segment.start, segment.end
    response = await responses.request(
        transfer.client, transfer.spec, transfer.settings, segment.position, end, state.validator
    )
    try:
        if response.status_code == 200 and state.validator:
            # If-Range did not match: the file changed. Forget the segments
            # so the retry starts a fresh download.
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
        # segment.done counts bytes on disk, so the saved state never overstates.
        saved_at = segment.done

        def accept(count: int) -> None:
            nonlocal saved_at
            if writer.position + count > end + 1:
                raise DownloadFailed(ErrorKind.PROTOCOL, f"segment {start}-{end}: too long")
            transfer.received(count)  # before the writer takes them, as in Transfer
            if segment.done - saved_at >= _SAVE_EVERY:
                transfer.parts.save(state)
                saved_at = segment.done

        async with writing(
            fd, segment.position, on_flush=segment.advance, expected=end + 1 - segment.position
        ) as writer:
            await responses.copy_body(response, writer, transfer.bandwidth, accept)
    finally:
        await response.aclose()
    if not segment.complete:
        raise DownloadFailed(ErrorKind.PROTOCOL, f"segment {start}-{end}: body ended early")


def _honours(response: httpx.Response, segment: Segment) -> bool:
    """Does the 206 hold exactly the rest of the segment?"""
    try:
        content_range = parse_content_range(response.headers.get("content-range"), segment.position)
    except ContentRangeError:
        return False
    return content_range.last == segment.end
