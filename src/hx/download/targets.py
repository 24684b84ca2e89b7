"""Where each file of a run goes: a name reserved per download, never shared within the run.

A name from the request URL is reserved at the download's first attempt,
before any response, so downloads whose URLs end in the same name are
numbered in the order they start: ``f.bin``, ``f.bin.1``, ... That is input
order, unless a host's limit (--per-host, a pause it asked for) holds an
earlier download back. A response may still name the file otherwise
(Content-Disposition, a redirect); that name is reserved when it arrives.
Without ``--overwrite`` or ``-C`` a name taken on disk (the file or its
``.part``) is skipped too, as wget does.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from hx.download.failures import DownloadFailed
from hx.download.options import DownloadOptions
from hx.errors import ErrorKind
from hx.filenames import download_name, unique_path
from hx.frozen import frozen
from hx.models import RequestSpec


@frozen
class _Reservation:
    name: str
    """The name asked for; ``path`` may carry a number after it."""
    path: Path


class Targets:
    """The run's reserved targets, by download."""

    def __init__(self, options: DownloadOptions) -> None:
        self._directory = options.directory
        # --overwrite and -C mean to use the name on disk, not to step around it.
        self._disk_counts = not (options.overwrite or options.resume)
        self._reserved: set[str] = set()
        self._by_spec: dict[RequestSpec, _Reservation] = {}

    def explicit(self, spec: RequestSpec) -> Path | None:
        """The path ``spec`` names (-o, or ``output`` in -i), reserved; None if it names none."""
        if spec.output is None:
            return None
        reservation = self._by_spec.get(spec)
        if reservation is not None:
            return reservation.path
        path = Path(spec.output)
        path = path if path.is_absolute() else self._directory / path
        if _key(path) in self._reserved:
            raise DownloadFailed(ErrorKind.EXISTS, f"another download of this run saves to {path}")
        return self._reserve(spec, spec.output, path)

    def from_url(self, spec: RequestSpec) -> Path:
        """The name the request URL suggests, reserved until the response says otherwise."""
        reservation = self._by_spec.get(spec)
        if reservation is not None:
            return reservation.path
        return self._reserve_unique(spec, download_name(None, spec.url))

    def from_response(self, spec: RequestSpec, response: httpx.Response) -> Path:
        """The name the response gives (Content-Disposition, else the final URL), reserved."""
        name = download_name(response.headers.get("content-disposition"), str(response.url))
        reservation = self._by_spec.get(spec)
        if reservation is not None:
            if reservation.name == name:
                return reservation.path
            self._reserved.discard(_key(reservation.path))
        return self._reserve_unique(spec, name)

    def finished(self, spec: RequestSpec) -> None:
        """``spec`` is saved: it needs no reservation of its own, its path stays taken."""
        self._by_spec.pop(spec, None)

    def _reserve_unique(self, spec: RequestSpec, name: str) -> Path:
        return self._reserve(spec, name, unique_path(self._directory, name, exists=self._taken))

    def _reserve(self, spec: RequestSpec, name: str, path: Path) -> Path:
        self._reserved.add(_key(path))
        self._by_spec[spec] = _Reservation(name, path)
        return path

    def _taken(self, candidate: str) -> bool:
        return _key(candidate) in self._reserved or (
            self._disk_counts and os.path.lexists(candidate)
        )


def _key(path: str | Path) -> str:
    """One spelling per file: ``-o dl/f.bin`` and ``-d dl`` with ``f.bin`` are one target."""
    return os.path.abspath(path)
