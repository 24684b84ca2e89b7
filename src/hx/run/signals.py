"""What happens on Ctrl-C and SIGTERM, and the exit code a run ends with.

One signal context and one exit-code decision serve both the single-process
run (hx.run.runner) and ``--workers`` (hx.run.workers):

* the first SIGINT or SIGTERM stops reading input and gives requests in
  flight ``--grace`` seconds; a second one stops them now;
* the exit code is the first signal's (130 or 143) if one came, else a
  worker's batch-level failure, else what the records say (hx.run.summary).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterable, Iterator

from hx.errors import ExitCode
from hx.run.summary import Summary

SIGNAL_EXIT = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED}
_BATCH_LEVEL = (ExitCode.USAGE, ExitCode.OUTPUT, ExitCode.INTERNAL)


@contextlib.contextmanager
def handle_stop_signals(
    on_signal: Callable[[signal.Signals, bool], None],
) -> Iterator[list[signal.Signals]]:
    """Route SIGINT and SIGTERM to ``on_signal(signum, first)`` while the block runs.

    Yields the list of signals received, in order, for :func:`exit_code`.
    """
    loop = asyncio.get_running_loop()
    received: list[signal.Signals] = []

    def handler(signum: signal.Signals) -> None:
        received.append(signum)
        on_signal(signum, len(received) == 1)

    for signum in SIGNAL_EXIT:
        loop.add_signal_handler(signum, handler, signum)
    try:
        yield received
    finally:
        for signum in SIGNAL_EXIT:
            loop.remove_signal_handler(signum)


def exit_code(
    summary: Summary, received: list[signal.Signals], worker_codes: Iterable[int] = ()
) -> ExitCode:
    """The run's exit code: a signal, else a worker's batch-level failure, else the records."""
    if received:
        return SIGNAL_EXIT[received[0]]
    for code in worker_codes:  # a worker's batch-level failure decides, as it would alone
        if code in _BATCH_LEVEL:
            return ExitCode(code)
    return summary.exit_code()
