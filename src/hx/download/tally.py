"""What one file's download did in this run, over all its attempts: its record's numbers."""

from __future__ import annotations

import dataclasses
from pathlib import Path


@dataclasses.dataclass
class Tally:
    target: Path | None = None
    """Where the file goes, once chosen (hx.download.targets)."""
    owns_part: bool = False
    """The part is this run's (created, or continued with -C): a retry continues it."""
    resumed_from: int | None = None
    """Bytes kept from before this run; None until an attempt starts writing."""
    received: int = 0
    """Bytes that crossed the wire this run, every attempt's."""

    def starts_at(self, offset: int) -> None:
        """An attempt writes from ``offset`` on, keeping the bytes before it."""
        if self.resumed_from is None or offset < self.resumed_from:
            self.resumed_from = offset
