"""How a download attempt fails: one exception, turned into the record's error."""

from __future__ import annotations

from hx.errors import ErrorKind


class DownloadFailed(Exception):
    """The attempt failed for a reason of the download's own (not the network's)."""

    def __init__(self, kind: ErrorKind, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
