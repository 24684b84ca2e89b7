"""``--cache FILE``: each request's ETag and Last-Modified, sent back as conditions next time.

A request with an entry is sent with ``If-None-Match`` (the ETag) and
``If-Modified-Since`` (the Last-Modified, verbatim), unless its line or
``-H`` sets either header, or ``-O DIR`` should hold its body and does not (a 304
would leave no body anywhere). A 304 answer is ok, whatever ``--ok-status``
says, and its record has ``"not_modified": true``; a body saved with ``-O``
stays as it is. A 2xx answer updates the entry (or drops it if it carries
neither header); failures leave it alone.

The file is JSON, ``{"hx_cache": 1, "entries": {KEY: {"etag", "last_modified"}}}``,
keyed by the journal's request identity (hx.batch.journal.identity_key: the
line's id, else its line number and URL, hashed), so it holds no URL or
credential. It is read when the run starts and written atomically after each
run or round; entries of requests not in this run are kept.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import httpx

from hx.batch.engine import Fetcher
from hx.batch.journal import identity_key
from hx.errors import InputError, OutputError
from hx.models import RequestSpec, Result
from hx.monitor.kept import Keeping, dropped, header_values
from hx.request.fetch import body_path
from hx.settings import Settings
from hx.storage import write_atomically

_FORMAT = 1
_CONDITIONS = {"etag": "If-None-Match", "last_modified": "If-Modified-Since"}


def _is_entry(entry: Any) -> bool:
    """A cache entry as hx writes it: validators as header values that cannot split a
    request (the file may have been edited, or damaged)."""
    return isinstance(entry, dict) and all(
        field in _CONDITIONS
        and isinstance(value, str)
        and value.isascii()
        and not any(ch in value for ch in "\r\n\0")
        for field, value in entry.items()
    )


class ValidatorCache:
    """The validators of ``path``: read now, changed by :meth:`learn`, written by :meth:`save`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, dict[str, str]] = self._load()
        self._changed = False

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            data: Any = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise InputError(
                f"--cache {self.path}: {getattr(exc, 'strerror', None) or exc}"
            ) from exc
        entries = data.get("entries", {}) if isinstance(data, dict) else None
        if (
            not isinstance(data, dict)
            or data.get("hx_cache") != _FORMAT
            or not isinstance(entries, dict)
            or not all(_is_entry(entry) for entry in entries.values())
        ):
            raise InputError(f"--cache {self.path}: not a cache file hx wrote")
        return entries

    def conditions(self, spec: RequestSpec, settings: Settings) -> tuple[tuple[str, str], ...]:
        """The conditional headers ``spec`` is sent with; none if nothing is known of it,
        if the line or ``-H`` sets conditions of its own, or if ``-O DIR`` lacks its body
        (a 304 would leave it nowhere)."""
        entry = self._entries.get(identity_key(spec))
        if entry is None:
            return ()
        own = {name.lower() for name, _ in (*spec.headers, *settings.headers)}
        if own & {"if-none-match", "if-modified-since"}:
            return ()
        if settings.output_dir is not None and not os.path.exists(
            body_path(settings.output_dir, spec)
        ):
            return ()
        return tuple(
            (header, entry[field]) for field, header in _CONDITIONS.items() if field in entry
        )

    def conditional(self, spec: RequestSpec, settings: Settings) -> RequestSpec:
        """``spec`` with the conditions it is sent with."""
        conditions = self.conditions(spec, settings)
        return dataclasses.replace(spec, headers=spec.headers + conditions) if conditions else spec

    def learn(self, spec: RequestSpec, result: Result) -> None:
        """Keep what an ok answer says of its resource's version."""
        if not result.ok or result.status is None or not (200 <= result.status < 300):
            return
        entry = {
            field: values[-1]
            for field, name in (("etag", "etag"), ("last_modified", "last-modified"))
            if (values := header_values(result, name))
        }
        key = identity_key(spec)
        if entry:
            self._changed |= self._entries.get(key) != entry
            self._entries[key] = entry
        elif self._entries.pop(key, None) is not None:
            self._changed = True

    def save(self) -> None:
        """Write the file if anything changed since it was read or last written."""
        if not self._changed:
            return
        data = json.dumps({"hx_cache": _FORMAT, "entries": self._entries}, separators=(",", ":"))
        try:
            write_atomically(self.path, data.encode() + b"\n")
        except OSError as exc:
            raise OutputError(f"--cache {self.path}: {exc.strerror or exc}") from exc
        self._changed = False


class Conditional:
    """A fetcher that makes requests conditional on what ``cache`` knows of them."""

    def __init__(self, fetcher: Fetcher, cache: ValidatorCache) -> None:
        self._fetcher = fetcher
        self._cache = cache
        self._keeping = Keeping()

    async def __call__(
        self, client: httpx.AsyncClient, spec: RequestSpec, settings: Settings
    ) -> Result:
        sent = self._cache.conditional(spec, settings)
        keeping = self._keeping.settings(settings, headers=True, body=False)
        result = await self._fetcher(client, sent, keeping)
        if sent is not spec and result.status == 304:
            result = dataclasses.replace(result, ok=True, error=None, not_modified=True)
        else:
            self._cache.learn(spec, result)
        return dropped(result, settings)
