"""Writing result records as NDJSON, to stdout or to a file."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import TracebackType

from hx.errors import ExitCode, OutputError
from hx.models import Result
from hx.storage import PartFile


class OutputClosed(OutputError):
    """The reader of stdout went away (``hx fetch ... | head``)."""

    exit_code = ExitCode.BROKEN_PIPE


def dumps(result: Result) -> str:
    return json.dumps(result.to_record(), ensure_ascii=False, separators=(",", ":"))


class RecordWriter:
    """One NDJSON line per result.

    To stdout (``path`` None) each record is flushed so pipelines see it at
    once; to a file, records go to ``FILE.part``, renamed into place by close().
    """

    def __init__(self, path: Path | None = None) -> None:
        self._part: PartFile | None = None
        if path is not None:
            try:
                self._part = PartFile(path)
            except OSError as exc:
                raise OutputError(f"--output-file {path}: {exc.strerror or exc}") from exc
        self.written = 0

    def write(self, result: Result) -> None:
        self.write_line(dumps(result) + "\n")

    def write_line(self, line: str) -> None:
        """Write one record already serialised (ending in a newline)."""
        try:
            if self._part is not None:
                self._part.write(line.encode())
            else:
                sys.stdout.write(line)
                sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
            raise OutputClosed("stdout was closed by its reader") from None
        except OSError as exc:
            raise OutputError(f"cannot write records: {exc.strerror or exc}") from exc
        self.written += 1

    def flush(self) -> None:
        """Hand every record written so far to the OS (stdout is flushed per record)."""
        if self._part is not None:
            try:
                self._part.flush()
            except OSError as exc:
                raise OutputError(f"cannot write records: {exc.strerror or exc}") from exc

    def close(self) -> None:
        """Put the records file in place; every record written so far is in it.

        No records (an empty input) leave no file, like any other input error.
        """
        if self._part is None or self._part.committed:
            return
        if self.written == 0:
            self._part.__exit__(None, None, None)
            return
        try:
            self._part.commit()
        except OSError as exc:
            raise OutputError(f"cannot write records: {exc.strerror or exc}") from exc

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit-time flush raises nothing more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)
