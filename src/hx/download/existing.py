"""``--no-clobber`` and ``-N/--timestamping``: a file already on disk, kept as wget keeps it.

The file looked at is the one the request names: ``-o``, the line's
``output``, else the last segment of its URL, in ``--dir``.

``--no-clobber``: if it exists, nothing is sent; the record says
``"skipped": true``.

``-N``: if it exists, a HEAD request asks for the server's Last-Modified and
Content-Length. Unless the server's copy is newer or of another size, the
file is kept (``"skipped": true``); else it is downloaded again and replaced,
like a file without Last-Modified or a HEAD that fails. A file downloaded
under ``-N`` takes the server's Last-Modified as its modification time, so
the next run can compare.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from hx.download.options import DownloadOptions
from hx.download.responses import file_length
from hx.filenames import download_name
from hx.models import RequestSpec, Result
from hx.request import redirects
from hx.request.closing import close
from hx.request.fetch import result_for
from hx.request.retry_after import parse_http_date
from hx.settings import Settings


class ExistingFiles:
    """Decides, before a download starts, whether the file on disk is kept."""

    def __init__(self, options: DownloadOptions) -> None:
        self._options = options

    async def kept(
        self, client: httpx.AsyncClient, spec: RequestSpec, settings: Settings
    ) -> Result | None:
        """A skipped record if the file ``spec`` names is kept; None to download it."""
        path = self._path(spec)
        try:
            local = path.stat()
        except OSError:
            return None
        if self._options.timestamping and not await _unchanged(client, spec, settings, local):
            return None
        return result_for(spec, ok=True, skipped=True, path=str(path), bytes=local.st_size)

    def _path(self, spec: RequestSpec) -> Path:
        # As hx.download.targets names it, before any response could rename it.
        name = Path(spec.output) if spec.output is not None else Path(download_name(None, spec.url))
        return name if name.is_absolute() else self._options.directory / name


async def _unchanged(
    client: httpx.AsyncClient, spec: RequestSpec, settings: Settings, local: os.stat_result
) -> bool:
    """Whether the server's copy is no newer than ``local`` and of its size (a HEAD)."""
    request = client.build_request("HEAD", spec.url, headers=spec.headers)
    try:
        response = await redirects.send(client, request, settings)
        await close(response)
    except (httpx.HTTPError, OSError, redirects.RedirectRefused):
        return False  # the download itself will meet the problem and report it
    modified = last_modified(response)
    length = file_length(response)
    return (
        response.is_success
        and modified is not None
        and modified <= int(local.st_mtime)
        and (length is None or length == local.st_size)
    )


def last_modified(response: httpx.Response) -> int | None:
    """The response's Last-Modified as Unix time, None without a readable one."""
    value = response.headers.get("last-modified")
    when = None if value is None else parse_http_date(value)
    return None if when is None else int(when)


def stamp(path: Path, response: httpx.Response | None) -> None:
    """Give a file just downloaded under ``-N`` the server's Last-Modified as its mtime."""
    modified = last_modified(response) if response is not None else None
    if modified is not None:
        os.utime(path, (modified, modified))
