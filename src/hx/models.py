"""The records hx passes around: what to send, how, and what happened.

All of them are frozen: a spec read from line 7 stays the spec of line 7, and a
result, once made, is what gets written. Frozen for the type checker (mypy
refuses an assignment to a field), not at run time: see hx.frozen.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any, Literal

from hx.errors import ErrorKind
from hx.frozen import frozen
from hx.settings import Pairs

if TYPE_CHECKING:
    # Only types here: the records load without httpx or ssl (CLI start-up).
    import httpx

    from hx.net.exchange import TlsInfo

JsonPath = tuple[str | int, ...]
"""Object keys and array indexes, from the top of a JSON document down (hx.monitor.json_path)."""


@frozen
class JsonExpectation:
    """``--expect-json PATH=VALUE``: the value at ``path`` must equal ``value``."""

    text: str
    """The path as written, for messages."""
    path: JsonPath
    value: Any


@frozen
class Expectations:
    """What a response must show besides an OK status; hx.monitor.assertions checks it.

    From ``--expect-*``, ``--max-latency`` and ``--min-cert-days``, and from an
    input line's ``expect`` object, whose keys replace the command line's.
    """

    body: re.Pattern[str] | None = None
    headers: tuple[tuple[str, re.Pattern[str]], ...] = ()
    """(lower-case name, pattern a value must match)."""
    json: tuple[JsonExpectation, ...] = ()
    max_latency_ms: float | None = None
    min_cert_days: int | None = None

    def __bool__(self) -> bool:
        """Whether there is anything to check."""
        limits = (self.max_latency_ms, self.min_cert_days)
        return self.body is not None or bool(self.headers or self.json) or limits != (None, None)


@frozen
class RequestSpec:
    """One request to make, as read from one input line.

    The body is already encoded (JSON and url-encoded forms become ``content``
    with a ``content_type``) except for multipart uploads, whose files are
    opened only when the request is sent.
    """

    line: int
    url: str
    id: str | int | None = None
    method: str = "GET"
    headers: Pairs = ()
    params: Pairs = ()
    content: bytes | None = None
    content_type: str | None = None
    form: Pairs = ()
    files: Pairs = ()
    timeout: float | None = None
    retry: bool = False
    """The line's ``"retry": true``: retry even a non-idempotent method."""
    output: str | None = None
    """Downloads: where to save the file (relative to the target directory)."""
    checksum: tuple[str, str] | None = None
    """Downloads: ``(algorithm, hex digest)`` the file must match."""
    expect: Expectations | None = dataclasses.field(default=None, compare=False)
    """The line's ``expect`` object (``hx fetch``); not part of the spec's identity."""
    parsed_url: httpx.URL | None = dataclasses.field(default=None, compare=False, repr=False)
    """``url`` as parsed when its line was checked, so that it is parsed once."""

    @property
    def record_id(self) -> str | int:
        """The id written in the record: the input's own id, else the line number."""
        return self.line if self.id is None else self.id


@frozen
class BadLine:
    """An input line that could not become a request; it still gets a record."""

    line: int
    message: str
    id: str | int | None = None
    url: str | None = None

    @property
    def record_id(self) -> str | int:
        return self.line if self.id is None else self.id


InputItem = RequestSpec | BadLine


@frozen
class ErrorInfo:
    kind: ErrorKind
    message: str


@frozen
class Timings:
    """Phases of one exchange in milliseconds; None for a phase that did not happen."""

    dns: float | None = None
    connect: float | None = None
    tls: float | None = None
    wait: float | None = None
    transfer: float | None = None
    total: float | None = None


StreamEnd = Literal["eof", "max_events", "max_time", "idle_timeout", "interrupted", "error"]


@frozen
class StreamStats:
    """``hx stream``: what one stream delivered, how fast, and how it ended."""

    end: StreamEnd
    events: int = 0
    bad_events: int = 0
    """Lines or events that could not be read (each one an event record with an error)."""
    first_event_ms: float | None = None
    """From the start of the request to its first event: an LLM's time to first token."""
    gap_p50_ms: float | None = None
    """Median time between consecutive events."""
    gap_p99_ms: float | None = None
    reconnects: int = 0


@frozen
class Result:
    """What happened to one request: exactly one per input item."""

    id: str | int
    line: int
    url: str | None
    method: str | None
    ok: bool
    status: int | None = None
    http_version: str | None = None
    final_url: str | None = None
    elapsed_ms: float = 0.0
    """The final attempt: from sending the request to the end of its body."""
    started_at: str | None = None
    """When hx took the request up (RFC 3339, UTC, milliseconds)."""
    total_ms: float | None = None
    """From ``started_at`` to the end: queueing, every attempt, backoff and waits."""
    redirects: int = 0
    remote_ip: str | None = None
    remote_port: int | None = None
    reused: bool | None = None
    """Whether the connection that answered had served an earlier request."""
    timings: Timings | None = None
    tls: TlsInfo | None = None
    """https: the connection's TLS facts (hx.net.exchange), shared by its requests."""
    bytes: int = 0
    content_type: str | None = None
    error: ErrorInfo | None = None
    attempts: int = 0
    headers: Pairs | None = None
    body: str | None = None
    body_encoding: str | None = None
    path: str | None = None
    sha256: str | None = None
    skipped: bool = False
    """Not sent: the journal says an earlier run already did it."""
    resumed_from: int | None = None
    """Downloads: the offset this run continued from (0 for a fresh start)."""
    received: int | None = None
    """Downloads: bytes that crossed the wire this run (``bytes`` is the file on disk)."""
    stream: StreamStats | None = None
    """``hx stream``: events, their timing and how the stream ended."""
    round: int | None = None
    """``--every``: the round (1, 2, ...) that made this request."""
    not_modified: bool = False
    """``--cache``: the server answered 304 to a conditional request (ok, no body)."""
    retry_after: float | None = dataclasses.field(default=None, compare=False, repr=False)
    """The response's Retry-After in seconds, for the retry policy; never written."""
    replayable: bool = dataclasses.field(default=True, compare=False, repr=False)
    """False once part of the answer was handed on (hx stream's events): another attempt
    would hand it on again, so none is made; never written."""

    def stamp(self, started_at: str, total_ms: float) -> None:
        """Set ``started_at`` and ``total_ms``: the engine's, once, on the result a fetcher
        has just made and nobody else holds yet.

        A result is frozen for everyone else; a copy with dataclasses.replace
        cost a tenth of hx's own CPU per small request. (object.__setattr__: the
        type checker holds the fields frozen.)
        """
        object.__setattr__(self, "started_at", started_at)
        object.__setattr__(self, "total_ms", total_ms)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Result:
        """The inverse of to_record (for records read back from a worker or a file)."""
        values = {key: value for key, value in record.items() if key in _RESULT_FIELDS}
        error = record.get("error")
        if error is not None:
            values["error"] = ErrorInfo(ErrorKind(error["kind"]), error["message"])
        if record.get("headers") is not None:
            values["headers"] = tuple(tuple(pair) for pair in record["headers"])
        if record.get("timings") is not None:
            values["timings"] = Timings(**record["timings"])
        if record.get("tls") is not None:
            from hx.net.exchange import TlsInfo  # ssl: only when reading https records back

            values["tls"] = TlsInfo(**record["tls"])
        if record.get("stream") is not None:
            values["stream"] = StreamStats(**record["stream"])
        return cls(**values)

    def to_record(self) -> dict[str, Any]:
        """The NDJSON record: fixed fields always, opt-in fields when present."""
        record: dict[str, Any] = {
            "id": self.id,
            "line": self.line,
            "url": self.url,
            "method": self.method,
            "status": self.status,
            "ok": self.ok,
            "http_version": self.http_version,
            "final_url": self.final_url,
            "started_at": self.started_at,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "total_ms": None if self.total_ms is None else round(self.total_ms, 3),
            "bytes": self.bytes,
            "content_type": self.content_type,
            "attempts": self.attempts,
            "redirects": self.redirects,
            "remote_ip": self.remote_ip,
            "remote_port": self.remote_port,
            "reused": self.reused,
            "timings": None if self.timings is None else _timings_record(self.timings),
            "tls": None if self.tls is None else tls_record(self.tls),
            "error": None if self.error is None else error_record(self.error),
        }
        record.update(self.opt_in_record())
        return record

    def opt_in_record(self) -> dict[str, Any]:
        """The record's opt-in fields that this result has, in record order."""
        record: dict[str, Any] = {}
        if self.headers is not None:
            record["headers"] = [list(pair) for pair in self.headers]
        if self.body is not None:
            record["body"] = self.body
            record["body_encoding"] = self.body_encoding
        if self.path is not None:
            record["path"] = self.path
            record["sha256"] = self.sha256
        if self.resumed_from is not None:
            record["resumed_from"] = self.resumed_from
        if self.received is not None:
            record["received"] = self.received
        if self.stream is not None:
            record["stream"] = _stream_record(self.stream)
        if self.skipped:
            record["skipped"] = True
        if self.round is not None:
            record["round"] = self.round
        if self.not_modified:
            record["not_modified"] = True
        return record


_RESULT_FIELDS = frozenset(field.name for field in dataclasses.fields(Result))
"""What from_record takes from a record (a worker's records are read back one by one)."""


def _stream_record(stats: StreamStats) -> dict[str, Any]:
    record = dataclasses.asdict(stats)
    for name in ("first_event_ms", "gap_p50_ms", "gap_p99_ms"):
        if record[name] is not None:
            record[name] = round(record[name], 3)
    return record


def _timings_record(timings: Timings) -> dict[str, float | None]:
    return {
        name: None if value is None else round(value, 3)
        for name, value in (
            ("dns", timings.dns),
            ("connect", timings.connect),
            ("tls", timings.tls),
            ("wait", timings.wait),
            ("transfer", timings.transfer),
            ("total", timings.total),
        )
    }


def error_record(error: ErrorInfo) -> dict[str, str]:
    return {"kind": str(error.kind), "message": error.message}


def tls_record(tls: TlsInfo) -> dict[str, str | int | None]:
    # Spelled out: dataclasses.asdict deep-copies every field, for every https record.
    return {
        "version": tls.version,
        "cipher": tls.cipher,
        "alpn": tls.alpn,
        "not_after": tls.not_after,
        "days_left": tls.days_left,
        "subject_cn": tls.subject_cn,
        "issuer_cn": tls.issuer_cn,
    }
