"""Everything hx shows to people, on stderr: messages, live progress and the summary.

stdout is for records only. Live displays run only on an interactive
terminal, so cron mail and pipelines never see animation. NO_COLOR (any
non-empty value) and TERM=dumb turn off every style, bold included.

messages    the console; error, warning and notice lines; -v trace lines
numbers     one way to write counts, sizes, durations and rates
display     what live displays share: drawn for a ``with`` block, erased after it
live        hx fetch's status lines while a batch runs
downloads   hx download's bars and its line per file
summary     the end-of-run summary, for a terminal and for plain text
"""

from hx.console.downloads import DownloadProgress
from hx.console.live import BatchProgress
from hx.console.messages import enable_tracing, error, make_console, notice, warning
from hx.console.summary import print_download_summary, print_summary

__all__ = [
    "BatchProgress",
    "DownloadProgress",
    "enable_tracing",
    "error",
    "make_console",
    "notice",
    "print_download_summary",
    "print_summary",
    "warning",
]
