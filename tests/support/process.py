"""Running hx as a real process: the command, its environment, waiting on it.

For what only a process shows: signals, pipes, exit statuses, stdin left open.
Everything else runs in-process through ``support.cli.hx()``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

__all__ = ["HX", "hx_env", "wait_for"]

#: ``hx`` as a child process of this interpreter (the console script may be absent).
HX = [sys.executable, "-m", "hx"]


def hx_env(**extra: str) -> dict[str, str]:
    """This environment with colour off (stderr must read the same under any CI), plus ``extra``."""
    env = dict(os.environ, NO_COLOR="1", **extra)
    env.pop("FORCE_COLOR", None)
    return env


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.01)
