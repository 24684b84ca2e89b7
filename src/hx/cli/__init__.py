"""The ``hx`` command line: the only package that uses typer (and, via hx.console, rich).

Options become Settings in :mod:`hx.cli.options`; each command lives in its
own module; :func:`hx.cli.app.exit_code_of` is the one place where errors
become exit codes.
"""

from hx.cli import download as _download  # noqa: F401 - registers the command
from hx.cli import fetch as _fetch  # noqa: F401 - registers the command
from hx.cli import stream as _stream  # noqa: F401 - registers the command
from hx.cli.app import app, main

__all__ = ["app", "main"]
