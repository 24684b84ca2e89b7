"""Batch resume: a crash-safe log of finished requests, read back on the next run.

Each finished request appends one line ``{"key", "ok", "status", "url"}`` and
flushes it, so a killed run loses at most the line being written; a torn last
line is ignored when the journal is read. A request whose key has an ``ok``
entry is not sent again: it gets a record with ``"skipped": true``.

A request's identity is its input ``id`` when the line gives one, else its
line number and URL. The key is a hash of that identity, so the journal holds
no credentials; the ``url`` beside it is redacted, for people to read.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

from hx.errors import InputError, OutputError
from hx.models import RequestSpec, Result
from hx.redact import redact_url
from hx.request.fetch import result_for


def identity_key(spec: RequestSpec) -> str:
    identity = f"id:{spec.id!r}" if spec.id is not None else f"line:{spec.line}:{spec.url}"
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


class FileJournal:
    """The journal at ``path``: what earlier runs finished, and an append handle."""

    def __init__(self, path: Path, before_write: Callable[[], None] | None = None) -> None:
        """``before_write`` runs before each entry is written: the records writer's
        flush, so that no entry is ever on disk before its record."""
        self.path = path
        self._before_write = before_write
        self._done: dict[str, int | None] = {}
        self.torn_lines = 0
        needs_newline = self._load()
        try:
            self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115
            if needs_newline:
                self._file.write("\n")
        except OSError as exc:
            raise OutputError(f"--journal {path}: {exc.strerror or exc}") from exc

    def _load(self) -> bool:
        """Read earlier entries; True if the file ends mid-line (a torn write)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise InputError(f"--journal {self.path}: {exc.strerror or exc}") from exc
        for raw in data.splitlines():
            try:
                entry = json.loads(raw)
                key, ok, status = entry["key"], entry["ok"], entry.get("status")
            except (ValueError, TypeError, KeyError):
                self.torn_lines += 1
                continue
            if ok is True and isinstance(key, str):
                self._done[key] = status if isinstance(status, int) else None
        return bool(data) and not data.endswith(b"\n")

    @property
    def done_count(self) -> int:
        return len(self._done)

    def previous(self, spec: RequestSpec) -> Result | None:
        """A skipped record if an earlier run finished ``spec`` successfully."""
        key = identity_key(spec)
        if key not in self._done:
            return None
        return result_for(spec, ok=True, status=self._done[key], skipped=True)

    def record(self, spec: RequestSpec, result: Result) -> None:
        entry = {
            "key": identity_key(spec),
            "ok": result.ok,
            "status": result.status,
            "url": redact_url(spec.url),
        }
        if self._before_write is not None:
            self._before_write()
        try:
            self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")
            self._file.flush()
        except OSError as exc:
            raise OutputError(f"--journal {self.path}: {exc.strerror or exc}") from exc

    def close(self) -> None:
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except (OSError, ValueError):
            pass
        finally:
            self._file.close()
