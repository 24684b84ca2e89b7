"""Loopback servers for hx.monitor's tests: one slow only for a while, one that honours
conditional requests.

``PacedServer``        ``/paced/{n}`` answers 200 ``"ok"``; hits number ``slow_hits``
                       (counted from 1 across all /paced paths) first sleep ``slow_for``
                       seconds: one round of ``--every`` made slow; ``on_hit(n)`` runs
                       for each hit before the answer
``ConditionalServer``  ``/etag/{name}`` (ETag only) and ``/lastmod/{name}``
                       (Last-Modified only): the resource's current version, 304 to a
                       matching If-None-Match or If-Modified-Since; ``change(name)`` makes a
                       new version; ``bodies`` counts the bodies sent, ``not_modified``
                       the 304s
"""

from __future__ import annotations

import email.utils
import threading
from collections.abc import Callable
from typing import ClassVar

from support.server import TestServer, _Handler

__all__ = ["ConditionalServer", "PacedServer"]


class _PacedHandler(_Handler):
    def _route(self, path: str, headers: dict[str, str], body: bytes) -> None:
        owner = self.owner
        if not (isinstance(owner, PacedServer) and path.startswith("/paced/")):
            super()._route(path, headers, body)
            return
        hit = owner.hit()
        if owner.on_hit is not None:
            owner.on_hit(hit)
        if hit in owner.slow_hits:
            owner._stopping.wait(owner.slow_for)
        self._send(200, b"ok")


class PacedServer(TestServer):
    handler_class: ClassVar[type[_Handler]] = _PacedHandler

    def __init__(
        self,
        slow_hits: range = range(0),
        slow_for: float = 0.0,
        on_hit: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        self.slow_hits = slow_hits
        self.slow_for = slow_for
        self.on_hit = on_hit
        self._hits = 0
        self._counter = threading.Lock()

    def hit(self) -> int:
        with self._counter:
            self._hits += 1
            return self._hits


class _ConditionalHandler(_Handler):
    def _route(self, path: str, headers: dict[str, str], body: bytes) -> None:
        owner = self.owner
        kind, _, name = path.lstrip("/").partition("/")
        if not isinstance(owner, ConditionalServer) or kind not in ("etag", "lastmod") or not name:
            super()._route(path, headers, body)
            return
        version = owner.version(name)
        if kind == "etag":
            validator = ("ETag", f'"{name}-v{version}"')
            unchanged = headers.get("if-none-match") == validator[1]
        else:
            validator = ("Last-Modified", _http_date(version))
            unchanged = headers.get("if-modified-since") == validator[1]
        if unchanged:
            owner.count("not_modified")
            self._send(304, headers=[validator])
            return
        owner.count("bodies")
        self._send(200, f"{name} version {version}\n".encode(), headers=[validator])


def _http_date(version: int) -> str:
    # Version n was last modified n days after a fixed day: a Last-Modified per version.
    return email.utils.formatdate(1_700_000_000 + version * 86400, usegmt=True)


class ConditionalServer(TestServer):
    handler_class: ClassVar[type[_Handler]] = _ConditionalHandler

    def __init__(self) -> None:
        super().__init__()
        self.bodies = 0
        self.not_modified = 0
        self._versions: dict[str, int] = {}
        self._counts = threading.Lock()

    def version(self, name: str) -> int:
        with self._counts:
            return self._versions.get(name, 1)

    def change(self, name: str) -> None:
        with self._counts:
            self._versions[name] = self._versions.get(name, 1) + 1

    def count(self, what: str) -> None:
        with self._counts:
            setattr(self, what, getattr(self, what) + 1)
