"""The plan of a ``--split`` download: byte ranges fetched side by side into one file.

The file is cut into more pieces than there are connections
(PIECES_PER_CONNECTION each), and each connection takes the lowest piece
nobody has taken yet. So the bytes on disk grow from the front of the file,
and the file is hashed while it downloads (hx.download.checksums.Following)
rather than read back and hashed at the end (half a second per GiB).
"""

from __future__ import annotations

import dataclasses

MIN_SEGMENT = 1 << 20
"""Files smaller than this per connection are not worth splitting; no piece is smaller."""
PIECES_PER_CONNECTION = 8


@dataclasses.dataclass(slots=True)
class Segment:
    """Bytes ``start`` to ``end`` (inclusive) of the file; ``done`` of them are on disk."""

    start: int
    end: int
    done: int = 0

    @property
    def position(self) -> int:
        """Where the segment's next byte goes."""
        return self.start + self.done

    @property
    def complete(self) -> bool:
        return self.position > self.end

    def advance(self, count: int) -> None:
        self.done += count

    def to_json(self) -> list[int]:
        return [self.start, self.end, self.done]

    @classmethod
    def from_json(cls, value: list[int]) -> Segment:
        start, end, done = value
        return cls(start, end, done)


def worth_splitting(size: int, count: int) -> bool:
    return count > 1 and size >= count * MIN_SEGMENT


def plan(size: int, connections: int) -> list[Segment]:
    """Pieces of (nearly) equal length covering ``size`` bytes, in order: up to
    PIECES_PER_CONNECTION per connection, none below MIN_SEGMENT bytes (but one)."""
    count = max(1, min(connections * PIECES_PER_CONNECTION, size // MIN_SEGMENT))
    step = -(-size // count)
    return [Segment(start, min(start + step, size) - 1) for start in range(0, size, step)]


def downloaded(segments: list[Segment]) -> int:
    return sum(segment.done for segment in segments)


def on_disk_from_start(segments: list[Segment]) -> int:
    """How many bytes from the start of the file are on disk without a gap (``segments``
    in file order)."""
    total = 0
    for segment in segments:
        total += segment.done
        if not segment.complete:
            break
    return total
