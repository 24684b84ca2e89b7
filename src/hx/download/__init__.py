"""``hx download``: files streamed to disk, atomically, resumably, verified.

One :class:`Downloader` call is one attempt at one file; the engine's retry
loop calls it again after a transient failure, and it then continues from the
bytes already on disk. Data goes to ``NAME.part``; a small ``NAME.part.hx``
beside it remembers the URL, the validator (ETag or Last-Modified) and, for
segmented downloads, each segment's progress, so ``-C`` can resume with an
If-Range request in a later run. Only a complete, verified file is renamed to
``NAME``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import re
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Protocol

import httpx

from hx.batch.ratelimit import RateLimiter
from hx.filenames import download_name, unique_path
from hx.errors import ErrorKind
from hx.models import ErrorInfo, RequestSpec, Result
from hx.request import redirects
from hx.request.failures import classify
from hx.request.fetch import result_for
from hx.settings import Settings

_CONTENT_RANGE = re.compile(r"^bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)$")
_MIN_SEGMENT = 1 << 20
"""Files smaller than this per segment are not worth splitting."""
_SAVE_EVERY = 2 << 20
"""A segment's progress is saved to the state file every 2 MiB it advances."""


class TransferReporter(Protocol):
    """Byte-level progress of the files being downloaded (console.DownloadProgress)."""

    def started(self, key: int, name: str, total: int | None, done: int) -> None: ...
    def transferred(self, key: int, count: int) -> None: ...
    def ended(self, key: int) -> None: ...


class _Silent:
    def started(self, key: int, name: str, total: int | None, done: int) -> None:
        pass

    def transferred(self, key: int, count: int) -> None:
        pass

    def ended(self, key: int) -> None:
        pass


@dataclasses.dataclass(frozen=True)
class DownloadOptions:
    directory: Path = Path(".")
    overwrite: bool = False
    resume: bool = False
    """-C: continue a ``.part`` left by an earlier run."""
    split: int = 1
    limit_rate: float | None = None
    """Bytes per second across all downloads."""
    to_stdout: bool = False
    """-o -: stream the body to stdout (no file, no resume, no split)."""


class DownloadFailed(Exception):
    def __init__(self, kind: ErrorKind, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


@dataclasses.dataclass
class _Saved:
    path: Path
    size: int
    sha256: str
    resumed_from: int
    response: httpx.Response | None


@dataclasses.dataclass
class _State:
    """What ``NAME.part.hx`` remembers about ``NAME.part``."""

    url_hash: str
    validator: str | None = None
    size: int | None = None
    segments: list[list[int]] | None = None
    """``[start, end, done]`` per segment, ``end`` inclusive."""

    @staticmethod
    def path_for(target: Path) -> Path:
        return target.with_name(target.name + ".part.hx")

    @classmethod
    def load(cls, target: Path) -> _State | None:
        try:
            data = json.loads(cls.path_for(target).read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def save(self, target: Path) -> None:
        path = self.path_for(target)
        part = path.with_name(path.name + ".tmp")
        part.write_text(json.dumps(dataclasses.asdict(self)))
        os.replace(part, path)


def _url_hash(url: str) -> str:
    # A hash, so credentials in the URL never reach the state file.
    return hashlib.sha256(url.encode()).hexdigest()[:32]


def _part(target: Path) -> Path:
    return target.with_name(target.name + ".part")


class Downloader:
    """The engine's fetcher for downloads: ``await downloader(client, spec, settings)``."""

    def __init__(self, options: DownloadOptions, reporter: TransferReporter | None = None) -> None:
        self.options = options
        self._reporter = reporter or _Silent()
        self._bandwidth = RateLimiter(options.limit_rate) if options.limit_rate else None
        # Targets this run has started: a retry continues them even without -C.
        self._started: dict[RequestSpec, Path] = {}

    async def __call__(
        self, client: httpx.AsyncClient, spec: RequestSpec, settings: Settings
    ) -> Result:
        started = time.perf_counter()
        key = id(spec)  # stable while the spec's download runs
        status: int | None = None
        try:
            saved = await self._download(client, spec, settings)
        except DownloadFailed as exc:
            error = ErrorInfo(exc.kind, str(exc))
            status = exc.status
        except OSError as exc:
            error = ErrorInfo(ErrorKind.IO, f"{exc.strerror or exc}: {exc.filename or ''}".strip())
        except Exception as exc:  # noqa: BLE001 - classify() re-raises what it does not know
            error = classify(exc)
        else:
            return result_for(
                spec,
                saved.response,
                ok=True,
                elapsed_ms=(time.perf_counter() - started) * 1000,
                bytes=saved.size,
                attempts=1,
                path=str(saved.path),
                sha256=saved.sha256,
                resumed_from=saved.resumed_from,
            )
        finally:
            self._reporter.ended(key)
        return result_for(
            spec,
            ok=False,
            status=status,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            error=error,
            attempts=1,
        )

    async def _download(
        self, client: httpx.AsyncClient, spec: RequestSpec, settings: Settings
    ) -> _Saved:
        if self.options.to_stdout:
            return await self._to_stdout(client, spec, settings)
        target = self._started.get(spec) or self._explicit_target(spec)
        response: httpx.Response | None = None
        if target is None:
            # The name comes from the response (Content-Disposition, final URL).
            response = await _open(client, spec, settings, offset=0, validator=None)
            try:
                target = self._derived_target(response, spec)
            except BaseException:
                await response.aclose()
                raise
            if self._continuable(spec, target) or (target.exists() and self.options.resume):
                await response.aclose()  # a ranged request follows instead
                response = None
        self._started[spec] = target
        try:
            return await self._into(target, client, spec, settings, response)
        finally:
            if response is not None:
                await response.aclose()

    def _explicit_target(self, spec: RequestSpec) -> Path | None:
        if spec.output is None:
            return None
        path = Path(spec.output)
        return path if path.is_absolute() else self.options.directory / path

    def _derived_target(self, response: httpx.Response, spec: RequestSpec) -> Path:
        name = download_name(response.headers.get("content-disposition"), str(response.url))
        target = self.options.directory / name
        if self.options.overwrite or self.options.resume:
            return target
        return unique_path(self.options.directory, name)

    def _continuable(self, spec: RequestSpec, target: Path) -> bool:
        """May this attempt continue ``target``'s part file?"""
        if not (self.options.resume or self._started.get(spec) == target):
            return False
        state = _State.load(target)
        return (
            state is not None and state.url_hash == _url_hash(spec.url) and _part(target).exists()
        )

    async def _into(
        self,
        target: Path,
        client: httpx.AsyncClient,
        spec: RequestSpec,
        settings: Settings,
        response: httpx.Response | None,
    ) -> _Saved:
        if target.exists() and not target.is_dir():
            if self.options.resume:
                return await self._confirm_complete(target, client, spec, settings)
            if not self.options.overwrite:
                raise DownloadFailed(
                    ErrorKind.EXISTS, f"{target} exists (--overwrite replaces it, -C resumes it)"
                )
        state = _State.load(target) if self._continuable(spec, target) else None
        if state is not None and state.segments is not None:
            return await self._segmented(target, client, spec, settings, state)
        offset = _part(target).stat().st_size if state is not None else 0
        if response is None:
            response = await _open(
                client, spec, settings, offset, state.validator if state else None
            )
            try:
                return await self._from_response(target, client, spec, settings, response, offset)
            finally:
                await response.aclose()
        return await self._from_response(target, client, spec, settings, response, offset)

    async def _from_response(
        self,
        target: Path,
        client: httpx.AsyncClient,
        spec: RequestSpec,
        settings: Settings,
        response: httpx.Response,
        offset: int,
    ) -> _Saved:
        status = response.status_code
        if status == 416 and offset > 0:
            total = _content_range(response)[2]
            if total == offset:  # the part already holds everything
                return self._finish(target, spec, offset, response, resumed_from=offset)
            raise DownloadFailed(ErrorKind.HTTP_STATUS, "416 Range Not Satisfiable", status)
        if status == 206:
            start, _end, total = _content_range(response)
            if start != offset:
                raise DownloadFailed(
                    ErrorKind.PROTOCOL, f"asked for bytes from {offset}, got from {start}", status
                )
        elif 200 <= status < 300:
            offset = 0  # the server ignored Range, or the file changed: start over
            total = _length(response)
        else:
            raise DownloadFailed(
                ErrorKind.HTTP_STATUS, f"HTTP {status} {response.reason_phrase}".strip(), status
            )
        _check_size(total, settings)
        validator = response.headers.get("etag") or response.headers.get("last-modified")
        if (
            self.options.split > 1
            and offset == 0
            and total is not None
            and total >= self.options.split * _MIN_SEGMENT
            and response.headers.get("accept-ranges", "").lower() == "bytes"
            and not response.headers.get("content-encoding")
        ):
            await response.aclose()
            state = _State(_url_hash(spec.url), validator, total, _plan(total, self.options.split))
            return await self._segmented(target, client, spec, settings, state, response)
        _State(_url_hash(spec.url), validator, total).save(target)
        self._reporter.started(id(spec), target.name, total, offset)
        hashers = _hashers(spec, _part(target) if offset else None, offset)
        await self._stream(_part(target), response, offset, settings, id(spec), hashers)
        return self._finish(target, spec, total, response, offset, hashers)

    async def _stream(
        self,
        part: Path,
        response: httpx.Response,
        offset: int,
        settings: Settings,
        key: int,
        hashers: list[hashlib._Hash],
    ) -> None:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        too_large = False
        try:
            os.ftruncate(fd, offset)
            async with _writing(fd, offset, hashers) as writer:
                limit = settings.max_size
                async for chunk in _body(response, self._bandwidth):
                    if limit is not None and writer.position + len(chunk) > limit:
                        too_large = True
                        break
                    await writer.write(chunk)
                    self._reporter.transferred(key, len(chunk))
        finally:
            os.close(fd)
        if too_large:
            _discard(part)
            raise DownloadFailed(
                ErrorKind.TOO_LARGE, f"body exceeds --max-size {settings.max_size} bytes"
            )

    async def _segmented(
        self,
        target: Path,
        client: httpx.AsyncClient,
        spec: RequestSpec,
        settings: Settings,
        state: _State,
        first: httpx.Response | None = None,
    ) -> _Saved:
        assert state.segments is not None and state.size is not None
        part = _part(target)
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        done_before = sum(done for _start, _end, done in state.segments)
        try:
            os.ftruncate(fd, state.size)
            state.save(target)
            self._reporter.started(id(spec), target.name, state.size, done_before)
            async with asyncio.TaskGroup() as group:
                for segment in state.segments:
                    if segment[0] + segment[2] <= segment[1]:
                        group.create_task(
                            self._segment(fd, segment, target, client, spec, settings, state)
                        )
        except* Exception as group_error:
            raise group_error.exceptions[0] from None
        finally:
            os.close(fd)
            if _State.path_for(target).exists():
                state.save(target)  # even when cancelled: the next run resumes each segment
        return self._finish(target, spec, state.size, first, resumed_from=done_before)

    async def _segment(
        self,
        fd: int,
        segment: list[int],
        target: Path,
        client: httpx.AsyncClient,
        spec: RequestSpec,
        settings: Settings,
        state: _State,
    ) -> None:
        start, end, done = segment
        request = client.build_request(
            spec.method,
            spec.url,
            headers=[*spec.headers, *_range_headers(start + done, state.validator, end)],
        )
        response = await redirects.send(client, request, settings)
        try:
            if response.status_code == 200 and state.validator:
                # If-Range did not match: the file changed. Forget the segments
                # so the retry starts a fresh download.
                _State.path_for(target).unlink(missing_ok=True)
                raise DownloadFailed(
                    ErrorKind.PROTOCOL, "the file changed on the server; starting over", 200
                )
            if response.status_code != 206 or _content_range(response)[:2] != (start + done, end):
                raise DownloadFailed(
                    ErrorKind.PROTOCOL,
                    f"segment {start}-{end}: the server did not honour the range"
                    f" (HTTP {response.status_code}); the file may have changed",
                    response.status_code,
                )
            # segment[2] counts bytes on disk, so the saved state never overstates.
            saved_at = done
            on_flush = functools.partial(_advance, segment)
            async with _writing(fd, start + done, on_flush=on_flush) as writer:
                async for chunk in _body(response, self._bandwidth):
                    if writer.position + len(chunk) > end + 1:
                        raise DownloadFailed(ErrorKind.PROTOCOL, f"segment {start}-{end}: too long")
                    await writer.write(chunk)
                    self._reporter.transferred(id(spec), len(chunk))
                    if segment[2] - saved_at >= _SAVE_EVERY:
                        state.save(target)
                        saved_at = segment[2]
        finally:
            await response.aclose()
        if start + segment[2] != end + 1:
            raise DownloadFailed(ErrorKind.PROTOCOL, f"segment {start}-{end}: body ended early")

    async def _confirm_complete(
        self, target: Path, client: httpx.AsyncClient, spec: RequestSpec, settings: Settings
    ) -> _Saved:
        """-C on a finished file: the server's 416 (or same length) says it is complete."""
        size = target.stat().st_size
        response = await _open(client, spec, settings, size, None)
        try:
            if response.status_code == 416 and _content_range(response)[2] in (size, None):
                return self._finish_existing(target, spec, response)
            if response.status_code == 200 and _length(response) == size:
                return self._finish_existing(target, spec, response)
        finally:
            await response.aclose()
        raise DownloadFailed(
            ErrorKind.EXISTS,
            f"{target} exists and differs from the server's file (--overwrite replaces it)",
            response.status_code,
        )

    def _finish_existing(self, target: Path, spec: RequestSpec, response: httpx.Response) -> _Saved:
        size = target.stat().st_size
        digest = _verify(target, spec, None)
        return _Saved(target, size, digest, size, response)

    def _finish(
        self,
        target: Path,
        spec: RequestSpec,
        expected_size: int | None,
        response: httpx.Response | None,
        resumed_from: int,
        hashers: list[hashlib._Hash] | None = None,
    ) -> _Saved:
        """Verify the part file, then rename it into place and drop its state."""
        part = _part(target)
        actual = part.stat().st_size
        if expected_size is not None and actual != expected_size:
            raise DownloadFailed(ErrorKind.PROTOCOL, f"got {actual} of {expected_size} bytes")
        try:
            digest = _verify(part, spec, hashers)
        except DownloadFailed:
            _discard(part)
            raise
        if target.exists() and not self.options.overwrite and not self.options.resume:
            raise DownloadFailed(ErrorKind.EXISTS, f"{target} appeared while downloading")
        os.replace(part, target)
        _State.path_for(target).unlink(missing_ok=True)
        return _Saved(target, actual, digest, resumed_from, response)

    async def _to_stdout(
        self, client: httpx.AsyncClient, spec: RequestSpec, settings: Settings
    ) -> _Saved:
        response = await _open(client, spec, settings, 0, None)
        try:
            if not 200 <= response.status_code < 300:
                raise DownloadFailed(
                    ErrorKind.HTTP_STATUS, f"HTTP {response.status_code}", response.status_code
                )
            digest = hashlib.sha256()
            size = 0
            out = sys.stdout.buffer
            async for chunk in _body(response, self._bandwidth):
                size += len(chunk)
                if settings.max_size is not None and size > settings.max_size:
                    raise DownloadFailed(ErrorKind.TOO_LARGE, "body exceeds --max-size")
                out.write(chunk)
                digest.update(chunk)
            out.flush()
        finally:
            await response.aclose()
        return _Saved(Path("-"), size, digest.hexdigest(), 0, response)


async def _open(
    client: httpx.AsyncClient,
    spec: RequestSpec,
    settings: Settings,
    offset: int,
    validator: str | None,
) -> httpx.Response:
    extra = _range_headers(offset, validator) if offset > 0 else []
    request = client.build_request(spec.method, spec.url, headers=[*spec.headers, *extra])
    return await redirects.send(client, request, settings)


def _range_headers(
    start: int, validator: str | None, end: int | None = None
) -> list[tuple[str, str]]:
    headers = [("Range", f"bytes={start}-{'' if end is None else end}")]
    if validator:
        # If-Range: the range only if the file is unchanged, else the whole file.
        headers.append(("If-Range", validator))
    return headers


async def _body(response: httpx.Response, bandwidth: RateLimiter | None) -> AsyncIterator[bytes]:
    async for chunk in response.aiter_bytes():
        if bandwidth is not None:
            await bandwidth.acquire(len(chunk))
        yield chunk


def _content_range(response: httpx.Response) -> tuple[int | None, int | None, int | None]:
    match = _CONTENT_RANGE.match(response.headers.get("content-range", "").strip())
    if match is None:
        return None, None, None
    start, end, total = match.groups()
    return (
        int(start) if start is not None else None,
        int(end) if end is not None else None,
        int(total) if total != "*" else None,
    )


def _length(response: httpx.Response) -> int | None:
    if response.headers.get("content-encoding"):
        return None  # the length on the wire, not of the file
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def _check_size(total: int | None, settings: Settings) -> None:
    if total is not None and settings.max_size is not None and total > settings.max_size:
        raise DownloadFailed(
            ErrorKind.TOO_LARGE, f"{total} bytes exceeds --max-size {settings.max_size}"
        )


def _plan(size: int, count: int) -> list[list[int]]:
    step = -(-size // count)
    return [[start, min(start + step, size) - 1, 0] for start in range(0, size, step)]


def _hashers(spec: RequestSpec, existing: Path | None, length: int) -> list[hashlib._Hash]:
    """sha256 (for the record) and the expected digest's algorithm, fed what is on disk."""
    names = ["sha256"]
    if spec.checksum is not None and spec.checksum[0] != "sha256":
        names.append(spec.checksum[0])
    hashers = [hashlib.new(name) for name in names]
    if existing is not None:
        with existing.open("rb") as stream:
            while length > 0 and (block := stream.read(min(length, 1 << 20))):
                length -= len(block)
                for hasher in hashers:
                    hasher.update(block)
    return hashers


def _verify(path: Path, spec: RequestSpec, hashers: list[hashlib._Hash] | None) -> str:
    """The file's sha256; DownloadFailed if it does not match the expected digest.

    ``hashers`` (from _hashers, fed while streaming) saves reading the file again.
    """
    if hashers is None:
        hashers = _hashers(spec, path, path.stat().st_size)
    digests = {hasher.name: hasher.hexdigest() for hasher in hashers}
    sha256 = digests["sha256"]
    if spec.checksum is not None:
        algorithm, expected = spec.checksum
        actual = digests[algorithm]
        if actual != expected:
            raise DownloadFailed(
                ErrorKind.CHECKSUM, f"{algorithm} mismatch: expected {expected}, got {actual}"
            )
    return sha256


_MAX_IOVECS = 512
"""Below IOV_MAX (1024 on Linux) for one pwritev."""


class _FileWriter:
    """Writes a stream at a position in ``fd`` from a thread of its own, hashing as it goes.

    Chunks are gathered into 1 MiB batches (Python's per-call cost makes
    64 KiB writes several times slower); each batch is written and hashed in
    the writer's thread, which runs beside the event loop because pwrite and
    hashlib release the GIL. At most a few batches wait, so memory stays
    flat. ``on_flush`` hears how many bytes reached the file, in order.
    """

    _BATCH = 1 << 20
    _IN_FLIGHT = 4

    def __init__(
        self,
        fd: int,
        position: int,
        hashers: Sequence[hashlib._Hash] = (),
        on_flush: Callable[[int], None] | None = None,
    ) -> None:
        self._fd = fd
        self._next_position = position
        self._hashers = hashers
        self._on_flush = on_flush
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._in_flight: deque[tuple[asyncio.Future[None], int]] = deque()
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="hx-writer")

    @property
    def position(self) -> int:
        """Where the next byte goes (bytes not yet written included)."""
        return self._next_position + self._pending_size

    async def write(self, chunk: bytes) -> None:
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        if self._pending_size >= self._BATCH:
            await self._submit()

    async def close(self) -> None:
        """Write what is left and wait for it (on success)."""
        await self._submit()
        while self._in_flight:
            await self._settle()

    def finish(self) -> None:
        """Write everything received, blocking if need be; ends the thread.

        Also after a failure or a cancellation: bytes that arrived before a
        reset are good bytes, and a resumed download should not fetch them again.
        """
        self._thread.shutdown(wait=True)
        while self._in_flight:
            future, count = self._in_flight.popleft()
            if future.done() and not future.cancelled() and future.exception() is None:
                self._report(count)
        if self._pending:
            chunks, size = self._pending, self._pending_size
            self._pending, self._pending_size = [], 0
            self._write(chunks, self._next_position)
            self._next_position += size
            self._report(size)

    def _report(self, count: int) -> None:
        if self._on_flush is not None:
            self._on_flush(count)

    async def _submit(self) -> None:
        if not self._pending:
            return
        # The chunks go as they are: the thread writes them with one pwritev,
        # so the event loop never copies them into one buffer.
        chunks, size = self._pending, self._pending_size
        self._pending, self._pending_size = [], 0
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._thread, self._write, chunks, self._next_position)
        self._next_position += size
        self._in_flight.append((future, size))
        while len(self._in_flight) > self._IN_FLIGHT:
            await self._settle()

    async def _settle(self) -> None:
        future, count = self._in_flight[0]
        await future
        self._in_flight.popleft()
        self._report(count)

    def _write(self, chunks: list[bytes], position: int) -> None:
        if len(chunks) > _MAX_IOVECS:  # many tiny chunks (a chunked, dripping body)
            chunks = [b"".join(chunks)]
        size = sum(len(chunk) for chunk in chunks)
        written = os.pwritev(self._fd, chunks, position)
        if written < size:  # rare for a regular file; finish with plain writes
            rest = memoryview(b"".join(chunks))[written:]
            while rest:
                count = os.pwrite(self._fd, rest, position + written)
                rest, written = rest[count:], written + count
        for chunk in chunks:
            for hasher in self._hashers:
                hasher.update(chunk)


@contextlib.asynccontextmanager
async def _writing(
    fd: int,
    position: int,
    hashers: Sequence[hashlib._Hash] = (),
    on_flush: Callable[[int], None] | None = None,
) -> AsyncIterator[_FileWriter]:
    """A _FileWriter that has written everything it was given when the block ends."""
    writer = _FileWriter(fd, position, hashers, on_flush)
    try:
        yield writer
        await writer.close()
    finally:
        writer.finish()


def _advance(segment: list[int], count: int) -> None:
    segment[2] += count


def _discard(part: Path) -> None:
    """Remove a part file that must not be resumed, and its state."""
    part.unlink(missing_ok=True)
    part.with_name(part.name + ".hx").unlink(missing_ok=True)
