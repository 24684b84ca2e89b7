"""Where an unfinished download lives on disk: ``NAME.part`` and ``NAME.part.hx``.

``NAME.part`` holds the bytes so far; ``NAME.part.hx`` beside it remembers
what they are (a hash of the URL, the validator, the size and, for ``--split``,
each segment's progress), so a later ``-C`` can continue them with If-Range.
This is the only module that knows the two suffixes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from hx.download.segments import Segment, downloaded

PART_SUFFIX = ".part"
STATE_SUFFIX = ".part.hx"
# Never through a symlink someone planted where the part goes.
_WRITE_FLAGS = os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0)


def url_hash(url: str) -> str:
    # A hash, so credentials in the URL never reach the state file.
    return hashlib.sha256(url.encode()).hexdigest()[:32]


@dataclasses.dataclass
class PartState:
    """What ``NAME.part.hx`` remembers about ``NAME.part``."""

    url_hash: str
    validator: str | None = None
    """The ETag or Last-Modified the bytes came with (If-Range sends it back)."""
    size: int | None = None
    segments: list[Segment] | None = None

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if self.segments is not None:
            data["segments"] = [segment.to_json() for segment in self.segments]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PartState:
        """The state saved as ``data``; ValueError if its segments do not cover the file,
        in order, each done no further than its end (a state hx did not write)."""
        segments = data.pop("segments", None)
        state = cls(**data)
        if segments is not None:
            state.segments = [Segment.from_json(segment) for segment in segments]
            if not _covers(state.segments, state.size):
                raise ValueError("the segments do not cover the file")
        return state


def _covers(segments: list[Segment], size: int | None) -> bool:
    start = 0
    for segment in segments:
        if segment.start != start or segment.end < start or not 0 <= segment.done:
            return False
        if segment.done > segment.end + 1 - start:
            return False
        start = segment.end + 1
    return bool(segments) and start == size


class PartFiles:
    """The ``.part`` and ``.part.hx`` files of one download target."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.data_path = target.with_name(target.name + PART_SUFFIX)
        self.state_path = target.with_name(target.name + STATE_SUFFIX)

    def load(self) -> PartState | None:
        """The saved state, or None if there is none (or it is unreadable)."""
        try:
            return PartState.from_json(json.loads(self.state_path.read_text()))
        except (OSError, ValueError, TypeError, AttributeError):
            return None

    def save(self, state: PartState) -> None:
        temporary = self.state_path.with_name(self.state_path.name + ".tmp")
        temporary.write_text(json.dumps(state.to_json()))
        os.replace(temporary, self.state_path)

    def resumable(self, url: str) -> PartState | None:
        """The saved state if the part exists and holds bytes of ``url``."""
        state = self.load()
        if state is None or state.url_hash != url_hash(url) or not self.data_path.exists():
            return None
        return state

    def size(self) -> int:
        return self.data_path.stat().st_size

    def held(self) -> int:
        """Bytes of the file the part holds (a split part's segments: it is preallocated)."""
        state = self.load()
        if state is not None and state.segments is not None:
            return downloaded(state.segments)
        try:
            return self.size()
        except FileNotFoundError:
            return 0

    def create(self) -> int:
        """A new part, for writing; FileExistsError if there is one (O_EXCL)."""
        return os.open(self.data_path, _WRITE_FLAGS | os.O_CREAT | os.O_EXCL, 0o644)

    def open(self) -> int:
        """The existing part, for writing."""
        return os.open(self.data_path, _WRITE_FLAGS)

    def commit(self) -> None:
        """Rename the finished part over the target and forget its state."""
        os.replace(self.data_path, self.target)
        self.forget()

    def discard(self) -> None:
        """Remove a part that must not be resumed, and its state."""
        self.data_path.unlink(missing_ok=True)
        self.forget()

    def forget(self) -> None:
        """Drop the state: the part's bytes will not be continued."""
        self.state_path.unlink(missing_ok=True)
