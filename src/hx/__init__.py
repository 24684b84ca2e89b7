"""hx: concurrent HTTP fetcher and streaming downloader.

The engine is a library: build :class:`Settings`, read request specs with
:func:`read_items`, and iterate :func:`run_batch` over one
``httpx.AsyncClient`` from :func:`build_client`::

    async with hx.build_client(settings) as client:
        async for result in hx.run_batch(client, settings, hx.read_items(stream)):
            print(result.to_record())

:class:`Batch` with an :class:`ItemSource` gives control over stopping,
journaling and the fetcher (a :class:`Downloader` saves files instead; a
:class:`StreamFetcher` follows streams, an event record per event).

Names are imported on first use, so ``hx --version`` does not load httpx.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# httpx's __init__ imports its command-line client (httpx._main: click, rich, pygments,
# about 45 ms) whenever click is installed, which hx cannot control; hx never runs it.
# None in sys.modules makes that import fail, and httpx falls back to a stub main().
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

_EXPORTS = {
    "AuthOptions": "hx.settings",
    "BadLine": "hx.models",
    "Batch": "hx.batch.engine",
    "DownloadOptions": "hx.download",
    "Downloader": "hx.download",
    "ErrorInfo": "hx.models",
    "ErrorKind": "hx.errors",
    "ExitCode": "hx.errors",
    "HxError": "hx.errors",
    "InputError": "hx.errors",
    "ItemSource": "hx.batch.feed",
    "OutputError": "hx.errors",
    "ProxyOptions": "hx.settings",
    "RedirectPolicy": "hx.settings",
    "RequestDefaults": "hx.batch.sources",
    "RequestSpec": "hx.models",
    "Result": "hx.models",
    "RetryPolicy": "hx.settings",
    "Settings": "hx.settings",
    "StatusSet": "hx.values",
    "StreamFetcher": "hx.stream.fetcher",
    "StreamOptions": "hx.stream.options",
    "Summary": "hx.run.summary",
    "SummaryBuilder": "hx.run.summary",
    "Timeouts": "hx.settings",
    "TlsOptions": "hx.settings",
    "UsageError": "hx.errors",
    "build_client": "hx.client",
    "fetch": "hx.request.fetch",
    "read_items": "hx.batch.sources",
    "run_batch": "hx.batch.engine",
}

__all__ = [
    "AuthOptions",
    "BadLine",
    "Batch",
    "DownloadOptions",
    "Downloader",
    "ErrorInfo",
    "ErrorKind",
    "ExitCode",
    "HxError",
    "InputError",
    "ItemSource",
    "OutputError",
    "ProxyOptions",
    "RedirectPolicy",
    "RequestDefaults",
    "RequestSpec",
    "Result",
    "RetryPolicy",
    "Settings",
    "StatusSet",
    "StreamFetcher",
    "StreamOptions",
    "Summary",
    "SummaryBuilder",
    "Timeouts",
    "TlsOptions",
    "UsageError",
    "__version__",
    "build_client",
    "fetch",
    "read_items",
    "run_batch",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hx' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from hx.batch.engine import Batch, run_batch
    from hx.batch.feed import ItemSource
    from hx.batch.sources import RequestDefaults, read_items
    from hx.client import build_client
    from hx.download import Downloader, DownloadOptions
    from hx.errors import ErrorKind, ExitCode, HxError, InputError, OutputError, UsageError
    from hx.models import BadLine, ErrorInfo, RequestSpec, Result
    from hx.request.fetch import fetch
    from hx.run.summary import Summary, SummaryBuilder
    from hx.settings import (
        AuthOptions,
        ProxyOptions,
        RedirectPolicy,
        RetryPolicy,
        Settings,
        Timeouts,
        TlsOptions,
    )
    from hx.stream.fetcher import StreamFetcher
    from hx.stream.options import StreamOptions
    from hx.values import StatusSet
