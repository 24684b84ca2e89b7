"""The ``hx`` console script: answers ``hx --version`` before importing anything else.

Everything else goes to :func:`hx.cli.main`, whose imports (typer, hx's
options, the command named) cost more than the whole answer to ``--version``.
"""

import sys


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        from hx import __version__

        print(f"hx {__version__}")
        return
    from hx.cli import main as cli_main

    cli_main()
