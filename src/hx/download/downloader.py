"""The engine's fetcher for ``hx download``: one call is one attempt at one file.

It chooses where each file goes and turns the outcome of a
:class:`~hx.download.transfer.Transfer` into the file's record.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from hx.batch.ratelimit import RateLimiter
from hx.download import responses
from hx.download.failures import DownloadFailed
from hx.download.options import DownloadOptions, Silent, TransferReporter
from hx.download.to_stdout import stream_to_stdout
from hx.download.transfer import Saved, Transfer
from hx.errors import ErrorKind
from hx.filenames import download_name, unique_path
from hx.models import ErrorInfo, RequestSpec, Result
from hx.request.failures import classify
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
        # Targets this run has started: a retry continues them even without -C.
        self._started: dict[RequestSpec, Path] = {}

    async def __call__(
        self, client: httpx.AsyncClient, spec: RequestSpec, settings: Settings
    ) -> Result:
        started = time.perf_counter()
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
            self._reporter.ended(id(spec))
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
    ) -> Saved:
        if self.options.to_stdout:
            return await stream_to_stdout(client, spec, settings, self._bandwidth)
        target = self._started.get(spec) or self._explicit_target(spec)
        response: httpx.Response | None = None
        if target is None:
            # The name comes from the response (Content-Disposition, final URL).
            response = await responses.request(client, spec, settings)
            try:
                target = self._derived_target(response)
            except BaseException:
                await response.aclose()
                raise
        transfer = Transfer(
            client, spec, settings, self.options, target, self._reporter, self._bandwidth
        )
        if (
            response is not None
            and self.options.resume
            and (target.exists() or transfer.parts.resumable(spec.url) is not None)
        ):
            await response.aclose()  # a ranged request follows instead
            response = None
        self._started[spec] = target
        try:
            return await transfer.run(response)
        finally:
            if response is not None:
                await response.aclose()

    def _explicit_target(self, spec: RequestSpec) -> Path | None:
        if spec.output is None:
            return None
        path = Path(spec.output)
        return path if path.is_absolute() else self.options.directory / path

    def _derived_target(self, response: httpx.Response) -> Path:
        name = download_name(response.headers.get("content-disposition"), str(response.url))
        if self.options.overwrite or self.options.resume:
            return self.options.directory / name
        return unique_path(self.options.directory, name)
