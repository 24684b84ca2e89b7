"""The ``hx`` command line: the only package that uses typer (and, via hx.console, rich).

Options become Settings in :mod:`hx.cli.options`; each command lives in its
own module (hx.cli.fetch, hx.cli.download, hx.cli.stream), loaded only when
it is named; :func:`hx.cli.common.exit_code_of` is the one place where
errors become exit codes.
"""

from hx.cli.app import app, main

__all__ = ["app", "main"]
