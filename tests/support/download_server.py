"""A file server for download tests: generated files of any size, ranges, validators, faults.

``DownloadServer`` is a ``FaultServer`` (tests/fault_server.py), so a ``TestServer``
(tests/server.py) with the same API (``url()``, ``requests``, ``errors``, ``stop()``),
plus the routes below.  A file's content is a pseudo-random pattern keyed by its name
and its *version* (``bump(name)`` makes a new version: new bytes, new validators).  It is
streamed in 64 KiB writes and never held whole in memory; ``file_sha256()`` and
``file_bytes()`` say what a download must contain.

Routes (``GET`` and ``HEAD``):

``/f/{name}?size=N``        the file: ``Accept-Ranges: bytes``, ``ETag: "name-vV"``,
                            ``Last-Modified``; one ``Range: bytes=a-b``, ``a-`` or ``-n``
                            answers 206 with ``Content-Range``; a start at/after the end 416
                            with ``Content-Range: bytes */N``; ``If-Range`` (ETag or
                            Last-Modified, exact match) that does not match: the whole
                            file, 200.  Several ranges or a malformed Range: 200.
``/redirect/{alias}?to=NAME&...``   302 to ``/f/NAME`` with the other query parameters

Query switches on ``/f/{name}`` (the file's size defaults to 256 KiB):

``ranges=0``     Range and If-Range ignored, no Accept-Ranges: always 200
``etag=0``       no ETag: Last-Modified is the only validator
``cd=VALUE``     ``Content-Disposition: VALUE``, verbatim
``gzip=1``       the body gzip-compressed as it is sent, chunked, ``Content-Encoding:
                 gzip`` (no Content-Length, ranges ignored)
``rate=B``       at most B body bytes per second (also ``set_rate(name, B)``, which a
                 test can change between two runs of the same URL)
``reset=N``      the first ``resets`` (default 1) GETs of the file are cut after N body
                 bytes with a TCP RST (later ones are served normally); with
                 ``reset_ranged=1`` only 206 answers count and are cut

``served`` logs each ``/f/`` request as a ``Served`` (method, path, Range, If-Range,
status); ``sent(name)`` counts the body bytes written for a file.  Any other path is
handled by ``FaultServer``.
"""

from __future__ import annotations

import dataclasses
import email.utils
import functools
import hashlib
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import ClassVar, cast
from urllib.parse import urlencode

from support.fault_server import FaultServer, _FaultHandler
from support.server import CHUNK_SIZE, _parse_nonneg_int

__all__ = [
    "DEFAULT_SIZE",
    "DownloadServer",
    "Served",
    "etag",
    "file_bytes",
    "file_sha256",
    "iter_file",
    "last_modified",
]

DEFAULT_SIZE = 256 * 1024
# A prime longer than one write, so a write is one slice of the doubled pattern and
# the content does not repeat at any power-of-two offset (a misplaced segment shows).
_PATTERN_LENGTH = 65537
_BASE_TIME = 1_700_000_000  # Last-Modified of version 0; each version is a day later


@functools.lru_cache(maxsize=32)
def _doubled_pattern(name: str, version: int) -> bytes:
    seed = hashlib.sha256(f"{name}\0{version}".encode()).digest()
    count = -(-_PATTERN_LENGTH // 32)
    pattern = b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(count))
    pattern = pattern[:_PATTERN_LENGTH]
    return pattern + pattern


def iter_file(
    name: str, size: int, version: int = 0, start: int = 0, end: int | None = None
) -> Iterator[bytes]:
    """Bytes ``start..end`` (inclusive; default: to the end) of the file, in 64 KiB pieces."""
    doubled = _doubled_pattern(name, version)
    position, stop = start, size if end is None else end + 1
    while position < stop:
        length = min(CHUNK_SIZE, stop - position)
        offset = position % _PATTERN_LENGTH
        yield doubled[offset : offset + length]
        position += length


def file_bytes(name: str, size: int, version: int = 0) -> bytes:
    """The whole file (for small files in assertions)."""
    return b"".join(iter_file(name, size, version))


@functools.lru_cache(maxsize=32)
def file_sha256(name: str, size: int, version: int = 0) -> str:
    digest = hashlib.sha256()
    for piece in iter_file(name, size, version):
        digest.update(piece)
    return digest.hexdigest()


def etag(name: str, version: int) -> str:
    return f'"{name}-v{version}"'


def last_modified(version: int) -> str:
    return email.utils.formatdate(_BASE_TIME + version * 86400, usegmt=True)


@dataclasses.dataclass(frozen=True)
class Served:
    """One request for ``/f/{name}`` and the status it got."""

    method: str
    path: str
    range: str | None
    if_range: str | None
    status: int


class _FileHandler(_FaultHandler):
    @property
    def files(self) -> DownloadServer:
        return cast(DownloadServer, self.owner)

    def _route(self, path: str, headers: dict[str, str], body: bytes) -> None:
        match path.split("/")[1:]:
            case ["f", name] if name:
                self._file(name, headers)
            case ["redirect", _alias] if self._q("to"):
                query = [(k, v) for k, values in self._query.items() for v in values if k != "to"]
                location = f"/f/{self._q('to')}" + (f"?{urlencode(query)}" if query else "")
                self._send(302, b"redirecting\n", headers=[("Location", location)])
            case _:
                super()._route(path, headers, body)

    def _file(self, name: str, headers: dict[str, str]) -> None:
        values: list[int] = []
        # -1 and 0: the switch is absent (``reset=0`` cuts before the first body byte).
        for key, default in (("size", DEFAULT_SIZE), ("resets", 1), ("reset", -1), ("rate", 0)):
            value = self._int_param(key, default)
            if value is None:
                return  # answered 400
            values.append(value)
        size, resets, reset_after, rate = values
        version = self.files.version(name)
        tag, modified = etag(name, version), last_modified(version)
        ranges = self._q("ranges") != "0"
        gzipped = self._q("gzip") == "1"
        head = [("Last-Modified", modified)]
        validators = {modified}
        if self._q("etag") != "0":
            head.append(("ETag", tag))
            validators.add(tag)
        if ranges and not gzipped:
            head.append(("Accept-Ranges", "bytes"))
        if (disposition := self._q("cd")) is not None:
            head.append(("Content-Disposition", disposition))

        status, start, end = 200, 0, size - 1
        asked = headers.get("range")
        if ranges and not gzipped and asked is not None:
            validator = headers.get("if-range")
            if validator is None or validator in validators:
                span = _parse_range(asked, size)
                if span == "unsatisfiable":
                    self._record(headers, 416)
                    self._send(416, b"", None, [*head, ("Content-Range", f"bytes */{size}")])
                    return
                if span is not None:
                    status, (start, end) = 206, span
        self._record(headers, status)

        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        for header in head:
            self.send_header(*header)
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(end - start + 1))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if self.command == "HEAD":
            return
        pieces = iter_file(name, size, version, start, end)
        only_ranged = self._q("reset_ranged") == "1"
        if (
            reset_after >= 0
            and (status == 206 or not only_ranged)
            and self.files._hit(f"reset:{name}") <= resets
        ):
            self._write(name, _truncated(pieces, reset_after), rate)
            self._drain(timeout=0.5)  # a client that hung up never acknowledges the rest
            self._reset()
        elif gzipped:
            self._write(name, _chunked(_gzip(pieces)), rate)
        else:
            self._write(name, pieces, rate)

    def _record(self, headers: dict[str, str], status: int) -> None:
        entry = Served(
            self.command, self.path, headers.get("range"), headers.get("if-range"), status
        )
        self.files._served(entry)

    def _write(self, name: str, pieces: Iterator[bytes], rate: int) -> None:
        """Send ``pieces``; at most ``rate`` bytes per second if set (query, else set_rate)."""
        rate = rate or self.files.rate(name) or 0
        if not rate:
            for piece in pieces:
                self.wfile.write(piece)
                self.files._count(name, len(piece))
            return
        step = max(1024, rate // 50)
        started, sent = time.monotonic(), 0
        for piece in pieces:
            for offset in range(0, len(piece), step):
                part = piece[offset : offset + step]
                self.wfile.write(part)
                self.files._count(name, len(part))
                sent += len(part)
                ahead = started + sent / rate - time.monotonic()
                if ahead > 0 and self.files._stopping.wait(ahead):
                    self.close_connection = True
                    return


def _parse_range(value: str, size: int) -> tuple[int, int] | str | None:
    """``(start, end)`` of one ``bytes=`` range, "unsatisfiable", or None to ignore it."""
    unit, _, spec = value.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    if first == "":  # bytes=-n: the last n bytes
        count = _parse_nonneg_int(last)
        if count is None:
            return None
        return (max(0, size - count), size - 1) if count and size else "unsatisfiable"
    start = _parse_nonneg_int(first)
    end = _parse_nonneg_int(last) if last else size - 1
    if start is None or end is None or (last and end < start):
        return None
    if start >= size:
        return "unsatisfiable"
    return start, min(end, size - 1)


def _truncated(pieces: Iterator[bytes], limit: int) -> Iterator[bytes]:
    for piece in pieces:
        if limit <= 0:
            return
        yield piece[:limit]
        limit -= len(piece)


def _gzip(pieces: Iterator[bytes]) -> Iterator[bytes]:
    compressor = zlib.compressobj(wbits=31)  # 31: a gzip header and trailer
    for piece in pieces:
        if out := compressor.compress(piece):
            yield out
    yield compressor.flush()


def _chunked(pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        if piece:
            yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"


class DownloadServer(FaultServer):
    """A ``FaultServer`` that also serves generated files (see the module docstring).

    ``version(name)`` / ``bump(name)``   the file's current version / a new one
    ``set_rate(name, bytes_per_s)``      throttle the file's bodies (None: full speed)
    ``served`` / ``served_for(name)``    the ``/f/`` requests, all or for one file
    ``sent(name)``                       body bytes written for the file so far
    """

    __test__ = False
    handler_class: ClassVar[type[BaseHTTPRequestHandler]] = _FileHandler

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host=host)
        self.served: list[Served] = []
        self._versions: dict[str, int] = {}
        self._rates: dict[str, int] = {}
        self._sent: dict[str, int] = {}

    def file_url(self, name: str, **query: str | int) -> str:
        """The URL of ``/f/{name}`` with the query switches given."""
        suffix = f"?{urlencode(query)}" if query else ""
        return self.url(f"/f/{name}{suffix}")

    def version(self, name: str) -> int:
        with self._lock:
            return self._versions.get(name, 0)

    def bump(self, name: str) -> int:
        """Change the file: new content, new ETag and Last-Modified; returns the version."""
        with self._lock:
            self._versions[name] = self._versions.get(name, 0) + 1
            return self._versions[name]

    def etag(self, name: str) -> str:
        return etag(name, self.version(name))

    def set_rate(self, name: str, bytes_per_second: int | None) -> None:
        with self._lock:
            if bytes_per_second is None:
                self._rates.pop(name, None)
            else:
                self._rates[name] = bytes_per_second

    def rate(self, name: str) -> int | None:
        with self._lock:
            return self._rates.get(name)

    def sent(self, name: str) -> int:
        with self._lock:
            return self._sent.get(name, 0)

    def served_for(self, name: str) -> list[Served]:
        with self._lock:
            return [s for s in self.served if s.path.split("?")[0] == f"/f/{name}"]

    def clear_log(self) -> None:
        super().clear_log()
        with self._lock:
            self.served.clear()

    def _served(self, entry: Served) -> None:
        with self._lock:
            self.served.append(entry)

    def _count(self, name: str, count: int) -> None:
        with self._lock:
            self._sent[name] = self._sent.get(name, 0) + count

    def start(self) -> DownloadServer:
        super().start()
        return self

    def __enter__(self) -> DownloadServer:
        return self.start()
