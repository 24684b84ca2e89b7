"""The ``hx`` console script: answers ``hx --version`` before importing anything else.

Everything else goes to :func:`hx.cli.main`, whose imports (typer, hx's
options, the command named) cost more than the whole answer to ``--version``.
"""

import gc
import sys


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        from hx import __version__

        print(f"hx {__version__}")
        return
    from hx.cli import main as cli_main

    try:
        cli_main()
    finally:
        # Python's exit runs full garbage collections over every object still alive,
        # some 30,000 for a one-URL fetch (the modules hx and its dependencies load):
        # about 20 ms of a 170 ms run. Frozen objects are left out of those passes.
        # They are still freed, files flushed, as the modules are torn down; only
        # garbage in reference cycles is not collected, and hx closes its own files.
        gc.freeze()
