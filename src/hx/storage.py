"""Writing files that are never half-written in place.

Data goes to ``NAME.part`` and is renamed over ``NAME`` only when complete.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


class PartFile:
    """A ``.part`` file beside ``path``; ``commit()`` renames it into place.

    Leaving the ``with`` block without committing removes the part file
    (``keep_on_error=True`` keeps it, for resumable downloads).
    """

    def __init__(self, path: Path, keep_on_error: bool = False) -> None:
        self.path = path
        self.part_path = path.with_name(path.name + ".part")
        self.keep_on_error = keep_on_error
        self.committed = False
        # A stale part from an earlier run is ours to replace; O_EXCL and
        # O_NOFOLLOW then make sure we never write through a planted symlink.
        if self.part_path.is_symlink() or self.part_path.exists():
            self.part_path.unlink()
        self._fd = os.open(self.part_path, _CREATE_FLAGS, 0o644)
        self._file = os.fdopen(self._fd, "wb")

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def flush(self) -> None:
        self._file.flush()

    def commit(self) -> None:
        self._file.close()
        os.replace(self.part_path, self.path)
        self.committed = True

    def __enter__(self) -> PartFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._file.close()
        if not self.committed and not self.keep_on_error:
            self.part_path.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> None:
    """Write a whole small file (a summary, a cookie jar) atomically."""
    with PartFile(path) as part:
        part.write(data)
        part.commit()
