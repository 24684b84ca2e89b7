"""The plan of a ``--split`` download: byte ranges fetched side by side into one file."""

from __future__ import annotations

import dataclasses

MIN_SEGMENT = 1 << 20
"""Files smaller than this per segment are not worth splitting."""


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


def plan(size: int, count: int) -> list[Segment]:
    """``count`` segments of (nearly) equal length covering ``size`` bytes."""
    step = -(-size // count)
    return [Segment(start, min(start + step, size) - 1) for start in range(0, size, step)]


def downloaded(segments: list[Segment]) -> int:
    return sum(segment.done for segment in segments)
