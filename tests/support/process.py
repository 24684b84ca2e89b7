"""Running hx as a real process: the command, its environment, waiting on it.

For what only a process shows: signals, pipes, exit statuses, stdin left open.
Everything else runs in-process through ``support.cli.hx()``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

__all__ = ["HX", "TERMINAL_HINTS", "hx_env", "wait_for"]

#: ``hx`` as a child process of this interpreter (the console script may be absent).
HX = [sys.executable, "-m", "hx"]


# What makes rich take a pipe for a terminal; a CI runner may set any of them.
TERMINAL_HINTS = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE")


def hx_env(**extra: str) -> dict[str, str]:
    """This environment off a terminal with colour off (stderr must read the same under
    any CI), plus ``extra``."""
    env = {name: value for name, value in os.environ.items() if name not in TERMINAL_HINTS}
    env.update(NO_COLOR="1", **extra)
    return env


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.01)
