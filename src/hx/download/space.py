"""Disk space for a download, allocated a step ahead of its writes (Linux ``fallocate``).

On this machine's ext4, writing 1 GiB into a file that grows write by write cost
0.2-2.1 s of kernel time, varying from run to run; into blocks allocated first,
0.14-0.17 s. So the writing thread allocates ahead of a download whose length
it knows before writing there. Allocation keeps the file's size
(FALLOC_FL_KEEP_SIZE): the size of a part is still the bytes written, which is
what ``-C`` resumes from, even after a SIGKILL.

A download earns its space: the step ahead is as many bytes as it has written
(at least ``MIN_STEP``, at most ``STEP``), so a server that announces a
terabyte and trickles holds at most twice what it sent, and what a download
did not write is given back when it ends. ext4 keeps what it allocated before
a failure (ENOSPC halfway through a step): that is given back too, and the
write that needed less than the step is tried with just what it needs.
Elsewhere (another OS, a filesystem that cannot allocate ahead) blocks are
allocated as bytes are written, as before.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import sys
from collections.abc import Callable

MIN_STEP = 1 << 20
STEP = 64 << 20
"""At most one fallocate per 64 MiB written, once a download is 64 MiB in."""

_KEEP_SIZE = 0x01
_PUNCH_HOLE = 0x02
_CANNOT = {errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL, errno.ENODEV, errno.ESPIPE, errno.ENOMEM}
"""What fallocate says where it cannot allocate ahead (ENOMEM: tmpfs under memory
pressure): blocks come as bytes are written."""

_Fallocate = Callable[[int, int, int, int], int]


class Reservation:
    """Blocks allocated ahead of the writes to ``[start, end)`` of the file ``fd``.

    Writes go in order, from one thread at a time: :meth:`cover` before each,
    :meth:`release` when no more will come.
    """

    def __init__(self, fd: int, start: int, end: int) -> None:
        self._fd = fd
        self._start = start
        self._reserved = start
        """Every byte before this is written or allocated."""
        self._end = end if _fallocate() is not None else start

    def cover(self, until: int) -> None:
        """Have the bytes up to ``until`` allocated, and a step past them."""
        if until <= self._reserved or self._reserved >= self._end:
            return
        step = min(STEP, max(MIN_STEP, until - self._start))
        frontier = min(self._end, until + step)
        code = self._allocate(frontier)
        if code == errno.ENOSPC and frontier > until:
            code = self._allocate(until)  # the step did not fit; the write may
        if code in _CANNOT:
            self._end = self._reserved  # allocate as bytes are written, from now on
        elif code:
            message = f"cannot allocate disk space for the download: {os.strerror(code)}"
            raise OSError(code, message)

    def release(self, written_to: int) -> None:
        """Give back what was allocated past ``written_to`` (a download that ended early)."""
        if self._reserved > written_to:
            self._give_back(written_to, self._reserved)
            self._reserved = min(self._reserved, written_to)

    def _allocate(self, frontier: int) -> int:
        """Allocate up to ``frontier``; 0, or the error (with nothing left allocated)."""
        fallocate = _fallocate()
        assert fallocate is not None
        while True:
            if fallocate(self._fd, _KEEP_SIZE, self._reserved, frontier - self._reserved) == 0:
                self._reserved = frontier
                return 0
            code = _errno()
            if code != errno.EINTR:
                self._give_back(self._reserved, frontier)
                return code

    def _give_back(self, start: int, stop: int) -> None:
        fallocate = _fallocate()
        assert fallocate is not None
        # Inside the file (a --split part, sized beforehand) a hole is punched; past
        # its end, where ext4 punches nothing, truncating to its size frees them:
        # all of them, so nothing past the end counts as allocated any more.
        # Best effort: the download's own outcome is what gets reported.
        fallocate(self._fd, _PUNCH_HOLE | _KEEP_SIZE, start, stop - start)
        with contextlib.suppress(OSError):
            size = os.fstat(self._fd).st_size
            os.ftruncate(self._fd, size)
            self._reserved = min(self._reserved, max(size, self._start))


def _errno() -> int:
    import ctypes

    return ctypes.get_errno()


@functools.cache
def _fallocate() -> _Fallocate | None:
    """The C library's fallocate with 64-bit offsets, or None (not Linux, no ctypes)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes  # here: a Python built without _ctypes still downloads

        libc = ctypes.CDLL(None, use_errno=True)
        # glibc's fallocate64 on every platform; musl has only fallocate, whose
        # offsets are 64-bit on 64-bit platforms (and always, on musl).
        if hasattr(libc, "fallocate64"):
            function = libc.fallocate64
        elif ctypes.sizeof(ctypes.c_void_p) == 8:
            function = libc.fallocate
        else:
            return None
    except (ImportError, OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)
    function.restype = ctypes.c_int
    return function
