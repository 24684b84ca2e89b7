"""Errors, error kinds and exit codes.

Two kinds of failure exist in hx, and they travel differently:

* A request that fails is a *result*, not an exception. Its record carries an
  ``error`` object whose ``kind`` is one of :class:`ErrorKind`.
* A problem with the whole batch (bad option, unreadable input, unwritable
  output) is an exception from this tree, turned into an exit code in one
  place, ``hx.cli``::

      HxError                 exit code 2 unless a subclass says otherwise
      ├── UsageError          a bad option value or combination
      ├── InputError          the input file cannot be read as a whole
      └── OutputError         results or bodies cannot be written (exit 5)

Third-party and OS errors are mapped at the boundary with
``raise InputError(...) from exc``.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit status; documented in the README and the man page."""

    OK = 0
    """Every request succeeded."""
    INTERNAL = 1
    """A bug in hx: an unexpected exception."""
    USAGE = 2
    """A bad option, an unreadable input file or an input with no requests."""
    SOME_FAILED = 3
    """At least one request failed and at least one succeeded."""
    ALL_FAILED = 4
    """Every request failed."""
    OUTPUT = 5
    """Results or bodies could not be written (disk full, permission denied)."""
    BROKEN_PIPE = 141
    """The reader of stdout went away (128 + SIGPIPE, as for C tools)."""
    INTERRUPTED = 130
    """Stopped by SIGINT (Ctrl-C)."""
    TERMINATED = 143
    """Stopped by SIGTERM."""


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "every request succeeded",
    ExitCode.SOME_FAILED: "some requests failed",
    ExitCode.ALL_FAILED: "every request failed",
    ExitCode.USAGE: "usage error: a bad option or config, an unreadable or empty input",
    ExitCode.OUTPUT: "records, bodies, files or the journal could not be written",
    ExitCode.INTERRUPTED: "interrupted by SIGINT (Ctrl-C)",
    ExitCode.TERMINATED: "terminated by SIGTERM",
    ExitCode.BROKEN_PIPE: "stdout was closed by its reader (hx ... | head)",
    ExitCode.INTERNAL: "internal error: a bug in hx (please report it)",
}
"""The one description of the exit codes: --help, the man page and the README use it."""


class ErrorKind(enum.StrEnum):
    """Why a request failed; the ``error.kind`` field of a record."""

    CONNECT = "connect"
    """The TCP connection could not be made (refused, unreachable, DNS)."""
    TIMEOUT = "timeout"
    """A connect, read, write, pool or total deadline passed."""
    TLS = "tls"
    """The TLS handshake failed (unknown CA, wrong host, expired, ...)."""
    PROTOCOL = "protocol"
    """The server broke HTTP: reset mid-response, short body, bad framing."""
    PROXY = "proxy"
    """The proxy refused or failed the request."""
    TOO_MANY_REDIRECTS = "too_many_redirects"
    """More redirects than ``--max-redirects``."""
    REDIRECT = "redirect"
    """A redirect hx refuses: to a scheme other than http(s), or https to http."""
    HTTP_STATUS = "http_status"
    """The response arrived but its status is not in ``--ok-status``."""
    INVALID_INPUT = "invalid_input"
    """The input line could not be turned into a request."""
    IO = "io"
    """The response body could not be saved (disk full, permission denied)."""
    EXISTS = "exists"
    """The output file exists and neither --overwrite nor -C was given."""
    CHECKSUM = "checksum"
    """The downloaded file does not match the expected digest."""
    TOO_LARGE = "too_large"
    """The body grew past --max-size."""
    INTERRUPTED = "interrupted"
    """hx was stopped before this request finished."""
    NOT_STARTED = "not_started"
    """Never sent: ``--fail-fast`` had seen enough failures before its turn came."""
    ASSERTION = "assertion"
    """The response came but fails an ``--expect-*``, ``--max-latency`` or
    ``--min-cert-days`` check (or the line's ``expect``)."""
    INTERNAL = "internal"
    """hx failed while handling this request (a bug, or memory ran out); the batch went on."""


class HxError(Exception):
    """A batch-level problem: reported as one line, no traceback."""

    exit_code: ExitCode = ExitCode.USAGE


class UsageError(HxError):
    """A bad option value or combination of options."""


class InputError(HxError):
    """The input as a whole cannot be read."""


class OutputError(HxError):
    """Results or response bodies cannot be written."""

    exit_code = ExitCode.OUTPUT


class LineError(ValueError):
    """One input line cannot become a request; becomes an ``invalid_input`` record."""


def internal_error_message(exc: BaseException) -> str:
    """How an exception hx did not expect is reported: the same words everywhere."""
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return f"internal error: {reason} (a bug in hx: please report it)"
