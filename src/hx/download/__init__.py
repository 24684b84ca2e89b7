"""``hx download``: files streamed to disk, atomically, resumably, verified.

Where things happen:

``downloader``      the engine's fetcher: one call per attempt, one record per file
``targets``         where each file goes: names reserved per run, in input order
``tally``           a file's numbers over its attempts (resumed_from, received)
``transfer``        one attempt at one file: fresh, continued or complete, then verified
``split``           ``--split``: segments fetched side by side into one part
``segments``        the plan of segments (byte ranges) of a split file
``state``           ``NAME.part`` and ``NAME.part.hx``: an unfinished file on disk
``responses``       ranged requests (Range, If-Range) and what a response says
``content_range``   parsing the Content-Range header
``writer``          the writer thread: bytes to disk and hashed, off the event loop
``checksums``       expected digests and checking them
``existing``        ``--no-clobber`` and ``-N``: whether a file already on disk is kept
``to_stdout``       ``-o -``: the body to stdout
``options``         DownloadOptions, and the TransferReporter that hears of progress
"""

from hx.download.downloader import Downloader
from hx.download.options import DownloadOptions, TransferReporter

__all__ = ["DownloadOptions", "Downloader", "TransferReporter"]
