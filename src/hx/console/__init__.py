"""Everything hx shows to people, on stderr: messages, live progress and the summary.

stdout is for records only. Live displays run only on an interactive
terminal, so cron mail and pipelines never see animation. NO_COLOR (any
non-empty value) and TERM=dumb turn off every style, bold included.

messages        the console (rich's on a terminal only); error, warning, notice, -v lines
numbers         one way to write counts, sizes, durations and rates
display         what live displays share: drawn for a ``with`` block, erased after it
live            hx fetch's status lines while a batch runs
downloads       hx download's line per file, and its bars while on a terminal
download_bars   those bars (rich's Progress, loaded only to draw them)
summary         the end-of-run summary, for a terminal and for plain text

Only the messages are re-exported here: a command imports the display it
shows from its module, so no command loads another's.
"""

from hx.console.messages import Stderr, enable_tracing, error, make_console, notice, warning

__all__ = ["Stderr", "enable_tracing", "error", "make_console", "notice", "warning"]
