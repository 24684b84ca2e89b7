"""How ``hx stream`` reads its streams: framing, limits, reconnection and output."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hx.frozen import frozen

if TYPE_CHECKING:
    from hx.stream.framing import FramingChoice


@frozen
class StreamOptions:
    framing: FramingChoice = "auto"
    max_events: int | None = None
    """End a stream after this many events (error events do not count)."""
    idle_timeout: float | None = None
    """End a stream when no bytes come for this long; it is the stream's read timeout
    (the response head included): None waits for ever, as a quiet feed may."""
    max_line: int = 1024 * 1024
    """Longest line, and longest SSE event data, in bytes: memory stays within it."""
    reconnect: int = 0
    """Times an SSE stream that ended or dropped is reconnected with Last-Event-ID."""
    write_events: bool = True
    """False with --no-events: only the final records."""
    output_dir: Path | None = None
    """-O DIR: each stream's body appended to its own file as it arrives."""

    def __post_init__(self) -> None:
        if self.max_line < 1:
            raise ValueError("max_line must be at least 1")
