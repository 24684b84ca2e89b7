"""The engine's fetcher for ``hx download``: one call is one attempt at one file.

It reserves where each file goes (hx.download.targets), keeps each file's
numbers over its attempts (hx.download.tally) and turns the outcome of a
:class:`~hx.download.transfer.Transfer` into the file's record: ``bytes`` is
the file on disk (the ``.part`` of one not finished), ``received`` what
crossed the wire this run, ``resumed_from`` the offset the run started at.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import httpx

from hx.batch.ratelimit import RateLimiter
from hx.download import existing, responses
from hx.download.failures import DownloadFailed
from hx.download.options import DownloadOptions, Silent, TransferReporter
from hx.download.state import PartFiles
from hx.download.tally import Tally
from hx.download.targets import Targets
from hx.download.to_stdout import stream_to_stdout
from hx.download.transfer import Saved, Transfer
from hx.errors import ErrorKind
from hx.models import ErrorInfo, RequestSpec, Result
from hx.request.closing import close
from hx.request.failures import classify, forget_tracebacks
from hx.request.fetch import result_for
from hx.settings import Settings


class Downloader:
    """The engine's fetcher for downloads: ``await downloader(client, spec, settings)``.

    The engine's retry loop calls it again after a transient failure; the
    attempt then continues from the bytes already on disk.
    """

    def __init__(self, options: DownloadOptions, reporter: TransferReporter | None = None) -> None:
        self.options = options
        self._reporter = reporter or Silent()
        self._bandwidth = RateLimiter(options.limit_rate) if options.limit_rate else None
        self._targets = Targets(options)
        self._tallies: dict[RequestSpec, Tally] = {}
        keeps = options.no_clobber or options.timestamping
        self._existing = existing.ExistingFiles(options) if keeps else None

    async def __call__(
        self, client: httpx.AsyncClient, spec: RequestSpec, settings: Settings
    ) -> Result:
        started = time.perf_counter()
        if self._existing is not None:
            kept = await self._existing.kept(client, spec, settings)
            if kept is not None:
                return kept
        tally = self._tallies.setdefault(spec, Tally())
        status: int | None = None
        try:
            saved = await self._download(client, spec, settings, tally)
        except DownloadFailed as exc:
            error = ErrorInfo(exc.kind, str(exc))
            status = exc.status
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            error = ErrorInfo(ErrorKind.IO, f"{exc.strerror or exc}{where}")
            forget_tracebacks(exc)
        except Exception as exc:  # noqa: BLE001 - classify() re-raises what it does not know
            error = classify(exc)
        else:
            del self._tallies[spec]
            self._targets.finished(spec)
            if self.options.timestamping:
                existing.stamp(saved.path, saved.response)
            return result_for(
                spec,
                saved.response,
                ok=True,
                elapsed_ms=(time.perf_counter() - started) * 1000,
                bytes=saved.size,
                attempts=1,
                path=str(saved.path),
                sha256=saved.sha256,
                resumed_from=tally.resumed_from,
                received=tally.received,
            )
        finally:
            self._reporter.ended(id(spec))
        return result_for(
            spec,
            ok=False,
            status=status,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            error=error,
            attempts=1,
            **_unfinished(tally),
        )

    def left_behind(self, spec: RequestSpec, result: Result) -> Result:
        """An attempt cut short (interrupted, --max-time): what it left on disk, and counts."""
        tally = self._tallies.get(spec)
        return result if tally is None else dataclasses.replace(result, **_unfinished(tally))

    async def _download(
        self, client: httpx.AsyncClient, spec: RequestSpec, settings: Settings, tally: Tally
    ) -> Saved:
        if self.options.to_stdout:
            return await stream_to_stdout(client, spec, settings, self._bandwidth, tally)
        response: httpx.Response | None = None
        if tally.target is None:
            tally.target = self._targets.explicit(spec)
        if tally.target is None:
            # Reserved now, in the order downloads start; the response may rename it.
            self._targets.from_url(spec)
            response = await responses.request(client, spec, settings)
            try:
                tally.target = self._targets.from_response(spec, response)
            except BaseException:
                await close(response)
                raise
        transfer = Transfer(
            client,
            spec,
            settings,
            self.options,
            tally.target,
            tally,
            self._reporter,
            self._bandwidth,
        )
        if (
            response is not None
            and self.options.resume
            and (tally.target.exists() or transfer.parts.resumable(spec.url) is not None)
        ):
            await close(response)  # a ranged request follows instead
            response = None
        try:
            return await transfer.run(response)
        finally:
            if response is not None:
                await close(response)


def _unfinished(tally: Tally) -> dict[str, Any]:
    """The record's fields for a file not saved: its part if this run wrote one, the counts."""
    fields: dict[str, Any] = {"resumed_from": tally.resumed_from, "received": tally.received}
    if tally.target is not None and tally.owns_part:
        parts = PartFiles(tally.target)
        if parts.data_path.exists():
            fields.update(path=str(parts.data_path), bytes=parts.held())
    return fields
