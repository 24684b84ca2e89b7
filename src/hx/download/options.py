"""How ``hx download`` saves files, and who hears of the bytes as they arrive."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from hx.frozen import frozen


@frozen
class DownloadOptions:
    directory: Path = Path(".")
    overwrite: bool = False
    resume: bool = False
    """-C: continue a ``.part`` left by an earlier run."""
    split: int = 1
    limit_rate: float | None = None
    """Bytes per second across all downloads."""
    to_stdout: bool = False
    """-o -: stream the body to stdout (no file, no resume, no split)."""
    no_clobber: bool = False
    """Keep a file that exists; send nothing for it (hx.download.existing)."""
    timestamping: bool = False
    """-N: keep a file unless the server's copy is newer or of another size."""


class TransferReporter(Protocol):
    """Byte-level progress of the files being downloaded (console.DownloadProgress)."""

    def started(self, key: int, name: str, total: int | None, done: int) -> None: ...
    def transferred(self, key: int, count: int) -> None: ...
    def ended(self, key: int) -> None: ...


class Silent:
    """A TransferReporter that tells nobody."""

    def started(self, key: int, name: str, total: int | None, done: int) -> None:
        pass

    def transferred(self, key: int, count: int) -> None:
        pass

    def ended(self, key: int) -> None:
        pass
