"""Disk space for a download, allocated a step ahead of its writes (Linux ``fallocate``).

On this machine's ext4, writing 1 GiB into a file that grows write by write cost
0.2-2.1 s of kernel time, varying from run to run; into blocks allocated first,
0.14-0.17 s. So the writing thread allocates the next ``STEP`` of a download
whose length it knows before writing there. Allocation keeps the file's size
(FALLOC_FL_KEEP_SIZE): the size of a part is still the bytes written, which is
what ``-C`` resumes from, even after a SIGKILL.

Never more than one step ahead: a server that announces a terabyte and sends a
kilobyte gets one step of disk, and what a download did not write is given back
when it ends. ext4 keeps what it allocated before a failure (ENOSPC halfway
through a step): that is given back too. Elsewhere (another OS, a filesystem
that cannot allocate ahead) blocks are allocated as bytes are written.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import sys
from collections.abc import Callable

STEP = 64 << 20
"""Bytes allocated at a time: one fallocate per 64 writes of the writer's 1 MiB."""

_KEEP_SIZE = 0x01
_PUNCH_HOLE = 0x02
_CANNOT = {errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL, errno.ENODEV, errno.ESPIPE}
"""What fallocate says where it cannot allocate ahead: blocks come as bytes are written."""


class Reservation:
    """Blocks allocated ahead of the writes to ``[start, end)`` of the file ``fd``.

    Writes go in order, from one thread at a time: :meth:`cover` before each,
    :meth:`release` when no more will come.
    """

    def __init__(self, fd: int, start: int, end: int) -> None:
        self._fd = fd
        self._reserved = start
        """Every byte before this is written or allocated."""
        self._end = end if _fallocate() is not None else start

    def cover(self, until: int) -> None:
        """Have the bytes up to ``until`` allocated, and those up to a step further."""
        if until <= self._reserved or self._reserved >= self._end:
            return
        frontier = min(self._end, max(until, self._reserved + STEP))
        fallocate = _fallocate()
        assert fallocate is not None
        if fallocate(self._fd, _KEEP_SIZE, self._reserved, frontier - self._reserved) == 0:
            self._reserved = frontier
            return
        code = ctypes.get_errno()
        if code in _CANNOT:
            self._end = self._reserved  # allocate as bytes are written, from now on
            return
        self._give_back(self._reserved, frontier)
        raise OSError(code, f"cannot allocate disk space for the download: {os.strerror(code)}")

    def release(self, written_to: int) -> None:
        """Give back what was allocated past ``written_to`` (a download that ended early)."""
        if self._reserved > written_to:
            self._give_back(written_to, self._reserved)
            self._reserved = written_to

    def _give_back(self, start: int, stop: int) -> None:
        fallocate = _fallocate()
        assert fallocate is not None
        # Inside the file (a --split part, sized beforehand) a hole is punched; past
        # its end, where ext4 punches nothing, truncating to its size frees them.
        # Best effort: the download's own outcome is what gets reported.
        fallocate(self._fd, _PUNCH_HOLE | _KEEP_SIZE, start, stop - start)
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, os.fstat(self._fd).st_size)


@functools.cache
def _fallocate() -> Callable[[int, int, int, int], int] | None:
    """glibc's fallocate64 (64-bit offsets on every platform), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).fallocate64
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)
    function.restype = ctypes.c_int
    return function
