"""Writing result records, to stdout or to a file: NDJSON, or CSV/TSV for spreadsheets.

The record's fields are written down once, in ``hx/schema/record.schema.json``;
``--fields`` names them by dotted path (``timings.wait``, ``error.kind``) and
is checked against that schema.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import sys
from json.encoder import encode_basestring as _string  # json's own, ensure_ascii=False
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from hx.errors import ExitCode, OutputError
from hx.frozen import frozen
from hx.models import Result, error_record, tls_record
from hx.schema import Fields
from hx.storage import PartFile

if TYPE_CHECKING:
    from hx.net.exchange import TlsInfo


class OutputClosed(OutputError):
    """The reader of stdout went away (``hx fetch ... | head``)."""

    exit_code = ExitCode.BROKEN_PIPE


FormatName = Literal["ndjson", "csv", "tsv"]

# One encoder for every line: json.dumps with options builds a new one per call,
# a tenth of the cost of a record.
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

TABLE_FIELDS = (
    "id",
    "line",
    "url",
    "method",
    "status",
    "ok",
    "http_version",
    "final_url",
    "started_at",
    "elapsed_ms",
    "total_ms",
    "bytes",
    "content_type",
    "attempts",
    "error.kind",
    "error.message",
)
"""The columns of CSV and TSV when --fields does not choose them."""


@frozen
class RecordFormat:
    """How records are written: ``--format`` and ``--fields``."""

    name: FormatName = "ndjson"
    fields: Fields | None = None
    """Fields to write, in order; None: every field (NDJSON) or TABLE_FIELDS."""

    @property
    def is_plain(self) -> bool:
        """Whole NDJSON records, as the engine and workers produce them."""
        return self.name == "ndjson" and self.fields is None

    def header(self) -> str | None:
        """The CSV/TSV header row; None for NDJSON."""
        if self.name == "ndjson":
            return None
        return self._row(self._columns())

    def line(self, record: dict[str, Any]) -> str:
        """One record, serialised, ending in a newline."""
        if self.name == "ndjson":
            if self.fields is not None:
                record = {name: _field(record, name) for name in self.fields.names}
            return _json(record) + "\n"
        return self._row([_cell(_field(record, name)) for name in self._columns()])

    def _columns(self) -> tuple[str, ...]:
        return TABLE_FIELDS if self.fields is None else self.fields.names

    def _row(self, cells: Any) -> str:
        out = io.StringIO()
        # RFC 4180: CRLF line ends, quotes only where needed, quotes doubled.
        delimiter = "," if self.name == "csv" else "\t"
        csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerow(cells)
        return out.getvalue()


def _field(record: dict[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return _json(value)
    return str(value)


def dumps(result: Result) -> str:
    """``result``'s NDJSON record: the text json makes of ``result.to_record()``.

    Written out for the fields every record has: json would build and walk a
    dict of 21 keys, and one of 6 timings, for every request, the largest
    share of hx's own work per small request. TLS facts, the error and the
    opt-in fields go through json. tests/test_records.py checks that the two
    agree for any result.
    """
    r, t, error = result, result.timings, result.error
    timings = (
        "null"
        if t is None
        else f'{{"dns":{_ms(t.dns)},"connect":{_ms(t.connect)},"tls":{_ms(t.tls)},'
        f'"wait":{_ms(t.wait)},"transfer":{_ms(t.transfer)},"total":{_ms(t.total)}}}'
    )
    line = (
        f'{{"id":{_string(r.id) if isinstance(r.id, str) else _int(r.id)},'
        f'"line":{_int(r.line)},"url":{_text(r.url)},"method":{_text(r.method)},'
        f'"status":{_int(r.status)},"ok":{_bool(r.ok)},'
        f'"http_version":{_text(r.http_version)},"final_url":{_text(r.final_url)},'
        f'"started_at":{_text(r.started_at)},'
        f'"elapsed_ms":{_ms(r.elapsed_ms)},"total_ms":{_ms(r.total_ms)},'
        f'"bytes":{_int(r.bytes)},"content_type":{_text(r.content_type)},'
        f'"attempts":{_int(r.attempts)},"redirects":{_int(r.redirects)},'
        f'"remote_ip":{_text(r.remote_ip)},"remote_port":{_int(r.remote_port)},'
        f'"reused":{_bool(r.reused)},"timings":{timings},'
        f'"tls":{"null" if r.tls is None else _tls_json(r.tls)},'
        f'"error":{"null" if error is None else _json(error_record(error))}'
    )
    opt_in = r.opt_in_record()
    # The opt-in fields' members, after a comma: "{...}" without its braces.
    return f"{line},{_json(opt_in)[1:]}" if opt_in else line + "}"


@functools.lru_cache(maxsize=64)
def _tls_json(tls: TlsInfo) -> str:
    # One TlsInfo per connection, shared by all its requests: its JSON is made once.
    return _json(tls_record(tls))


def _text(value: str | None) -> str:
    return "null" if value is None else _string(value)


def _int(value: int | None) -> str:
    # int's own repr, as json writes an int (an IntEnum's str() is its name).
    return "null" if value is None else int.__repr__(value)


def _bool(value: bool | None) -> str:
    return "null" if value is None else "true" if value else "false"


def _ms(value: float | None) -> str:
    # float's repr, as json writes a (finite) float; durations are never NaN or infinite.
    return "null" if value is None else repr(round(value, 3))


class RecordWriter:
    """One line per result: an NDJSON record, or a CSV/TSV row after a header row.

    To stdout (``path`` None) each record is flushed so pipelines see it at
    once; to a file, records go to ``FILE.part``, renamed into place by close().
    """

    def __init__(self, path: Path | None = None, fmt: RecordFormat | None = None) -> None:
        self._format = RecordFormat() if fmt is None else fmt
        self._part: PartFile | None = None
        if path is not None:
            try:
                self._part = PartFile(path)
            except OSError as exc:
                raise OutputError(f"--output-file {path}: {exc.strerror or exc}") from exc
        self.written = 0

    def write(self, result: Result) -> None:
        if self._format.is_plain:
            self._write_text(dumps(result) + "\n")
        else:
            self._write_text(self._format.line(result.to_record()))

    def write_event(self, record: dict[str, Any]) -> None:
        """A line that is not a result (``hx stream``'s events): NDJSON, flushed like one."""
        self._write_text(_json(record) + "\n")

    def write_serialised(self, line: str, result: Result | None = None) -> None:
        """Write records a worker already serialised as NDJSON (``line``: one or more whole
        lines); ``result``, the one line parsed, is needed for any other format."""
        if self._format.is_plain:
            self._write_text(line)
        else:
            assert result is not None, "a table format needs the parsed record"
            self.write(result)

    def _write_text(self, line: str) -> None:
        if self.written == 0 and (header := self._format.header()) is not None:
            line = header + line
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
