"""One attempt at one file: fresh, continued, split or already complete, then verified.

The bytes go to ``NAME.part`` (hx.download.state) and only a complete file
whose digest matches is renamed to ``NAME``. A part this run did not start is
created exclusively (O_EXCL): no two downloads ever write one part.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import httpx

from hx.batch.ratelimit import RateLimiter
from hx.download import responses, split
from hx.download.checksums import FileDigests
from hx.download.content_range import (
    ContentRangeError,
    parse_content_range,
    parse_unsatisfied_range,
)
from hx.download.failures import DownloadFailed
from hx.download.options import DownloadOptions, TransferReporter
from hx.download.segments import downloaded, plan, worth_splitting
from hx.download.state import PartFiles, PartState, url_hash
from hx.download.tally import Tally
from hx.download.writer import writing
from hx.errors import ErrorKind
from hx.frozen import frozen
from hx.models import RequestSpec
from hx.request.closing import close
from hx.settings import Settings


@frozen
class Saved:
    """A file in place: where, how large, and its sha256."""

    path: Path
    size: int
    sha256: str
    response: httpx.Response | None


@dataclasses.dataclass
class Transfer:
    """One attempt at saving ``spec``'s file as ``target``: ``await transfer.run()``."""

    client: httpx.AsyncClient
    spec: RequestSpec
    settings: Settings
    options: DownloadOptions
    target: Path
    tally: Tally
    """The file's numbers over this run's attempts; this attempt adds to them."""
    reporter: TransferReporter
    bandwidth: RateLimiter | None

    def __post_init__(self) -> None:
        self.parts = PartFiles(self.target)

    @property
    def key(self) -> int:
        """The file's key for the reporter: stable while the spec's download runs."""
        return id(self.spec)

    async def run(self, response: httpx.Response | None = None) -> Saved:
        """Save the file; ``response`` is the answer to a plain GET if one was sent already."""
        if self.target.exists() and not self.target.is_dir():
            if self.options.resume:
                return await self._confirm_complete()
            if not self.options.overwrite:
                raise DownloadFailed(
                    ErrorKind.EXISTS,
                    f"{self.target} exists (--overwrite replaces it, -C resumes it)",
                )
        state = self._resumable()
        if state is not None and state.segments is not None:
            return await self._split(state, continuing=True)
        offset = self.parts.size() if state is not None else 0
        if response is not None:
            return await self._from_response(response, offset)
        validator = state.validator if state is not None else None
        response = await responses.request(
            self.client, self.spec, self.settings, offset, validator=validator
        )
        try:
            return await self._from_response(response, offset)
        finally:
            await close(response)

    async def _from_response(self, response: httpx.Response, offset: int) -> Saved:
        status = response.status_code
        if status == 416 and offset > 0:
            if _unsatisfied_length(response) == offset:  # the part already holds everything
                self.tally.starts_at(offset)
                return await self._finish(offset, response)
            raise DownloadFailed(ErrorKind.HTTP_STATUS, "416 Range Not Satisfiable", status)
        if status == 206:
            try:
                total = parse_content_range(response.headers.get("content-range"), offset).length
            except ContentRangeError as exc:
                raise DownloadFailed(ErrorKind.PROTOCOL, str(exc), status) from None
        elif 200 <= status < 300:
            offset = 0  # the server ignored Range, or the file changed: start over
            total = responses.file_length(response)
        else:
            raise responses.status_failure(response)
        responses.check_size(total, self.settings)
        validator = responses.validator(response)
        if (
            offset == 0
            and total is not None
            and worth_splitting(total, self.options.split)
            and responses.splittable(response)
        ):
            await close(response)
            segments = plan(total, self.options.split)
            state = PartState(url_hash(self.spec.url), validator, total, segments)
            return await self._split(state, continuing=False, first=response)
        digests = FileDigests(self.spec.checksum)
        if offset:
            await digests.feed_file(self.parts.data_path, offset)
        fd = self._open_part(continuing=offset > 0)
        try:
            self.parts.save(PartState(url_hash(self.spec.url), validator, total))
            self.reporter.started(self.key, self.target.name, total, offset)
            self.tally.starts_at(offset)
            await self._stream(fd, response, offset, total, digests)
        finally:
            os.close(fd)
        return await self._finish(total, response, digests)

    def received(self, count: int) -> None:
        """``count`` more bytes of the body came in."""
        self.tally.received += count
        self.reporter.transferred(self.key, count)

    async def _stream(
        self,
        fd: int,
        response: httpx.Response,
        offset: int,
        total: int | None,
        digests: FileDigests,
    ) -> None:
        """Write the body into the part from ``offset`` on (``total``: the file's length)."""
        limit = self.settings.max_size

        def accept(count: int) -> None:
            if limit is not None and writer.position + count > limit:
                raise DownloadFailed(ErrorKind.TOO_LARGE, f"body exceeds --max-size {limit} bytes")
            # Counted before the writer takes them: once taken, bytes are written even
            # if the download is cancelled while the writer waits.
            self.received(count)

        os.ftruncate(fd, offset)
        expected = None if total is None else total - offset
        try:
            async with writing(
                fd, offset, digests.hashers, expected=expected, direct=True
            ) as writer:
                await responses.copy_body(response, writer, self.bandwidth, accept)
        except DownloadFailed as failure:
            if failure.kind is ErrorKind.TOO_LARGE:
                self.parts.discard()
            raise

    async def _split(
        self, state: PartState, continuing: bool, first: httpx.Response | None = None
    ) -> Saved:
        assert state.segments is not None and state.size is not None
        digests = FileDigests(self.spec.checksum)
        fd = self._open_part(continuing)
        try:
            self.tally.starts_at(downloaded(state.segments))
            await split.fetch_segments(self, fd, state, digests)
        finally:
            os.close(fd)
        return await self._finish(state.size, first, digests)

    def _resumable(self) -> PartState | None:
        """The part's state if this attempt continues the part: -C, or a retry of this run."""
        if not (self.options.resume or self.tally.owns_part):
            return None
        return self.parts.resumable(self.spec.url)

    def _open_part(self, continuing: bool) -> int:
        """The part, for writing: one this run owns or continues, else a new one, exclusively.

        A part left by an earlier run is replaced with -C (its bytes do not
        fit) or --overwrite; without them it is not ours to touch.
        """
        if continuing or self.tally.owns_part:
            fd = self.parts.open()
        else:
            if self.options.resume or self.options.overwrite:
                self.parts.discard()
            try:
                fd = self.parts.create()
            except FileExistsError:
                raise DownloadFailed(
                    ErrorKind.EXISTS,
                    f"{self.parts.data_path} exists: another download is writing it, or"
                    " an earlier one left it (-C resumes it, --overwrite replaces it)",
                ) from None
        self.tally.owns_part = True
        return fd

    async def _confirm_complete(self) -> Saved:
        """-C on a finished file: the server's 416 (or same length) says it is complete."""
        size = self.target.stat().st_size
        response = await responses.request(self.client, self.spec, self.settings, size)
        try:
            if (response.status_code == 416 and _unsatisfied_length(response) in (size, None)) or (
                response.status_code == 200 and responses.file_length(response) == size
            ):
                digests = FileDigests(self.spec.checksum)
                await digests.feed_file(self.target, size)
                _check(digests)
                self.tally.starts_at(size)
                return Saved(self.target, size, digests.sha256, response)
        finally:
            await close(response)
        raise DownloadFailed(
            ErrorKind.EXISTS,
            f"{self.target} exists and differs from the server's file (--overwrite replaces it)",
            response.status_code,
        )

    async def _finish(
        self,
        expected_size: int | None,
        response: httpx.Response | None,
        digests: FileDigests | None = None,
    ) -> Saved:
        """Verify the part, then rename it into place and drop its state.

        ``digests`` (fed while streaming) saves reading the part again.
        """
        actual = self.parts.size()
        if expected_size is not None and actual != expected_size:
            raise DownloadFailed(ErrorKind.PROTOCOL, f"got {actual} of {expected_size} bytes")
        if digests is None:
            digests = FileDigests(self.spec.checksum)
            await digests.feed_file(self.parts.data_path, actual)
        try:
            _check(digests)
        except DownloadFailed:
            self.parts.discard()
            raise
        if self.target.exists() and not self.options.overwrite and not self.options.resume:
            raise DownloadFailed(ErrorKind.EXISTS, f"{self.target} appeared while downloading")
        self.parts.commit()
        return Saved(self.target, actual, digests.sha256, response)


def _unsatisfied_length(response: httpx.Response) -> int | None:
    """The file length a 416 response states, None if it states none we can read."""
    try:
        return parse_unsatisfied_range(response.headers.get("content-range"))
    except ContentRangeError:
        return None


def _check(digests: FileDigests) -> None:
    if (problem := digests.mismatch()) is not None:
        raise DownloadFailed(ErrorKind.CHECKSUM, problem)
