"""hx: concurrent HTTP fetcher and streaming downloader.

The engine is a library: build :class:`Settings`, read request specs with
:func:`read_items`, and iterate :func:`run_batch` over one
``httpx.AsyncClient`` from :func:`build_client`.

Names are imported on first use, so ``hx --version`` does not load httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "BadLine": "hx.models",
    "Batch": "hx.batch.engine",
    "ErrorInfo": "hx.models",
    "ErrorKind": "hx.errors",
    "ExitCode": "hx.errors",
    "HxError": "hx.errors",
    "InputError": "hx.errors",
    "OutputError": "hx.errors",
    "RequestDefaults": "hx.batch.sources",
    "RequestSpec": "hx.models",
    "Result": "hx.models",
    "Settings": "hx.models",
    "StatusSet": "hx.values",
    "Summary": "hx.run.summary",
    "SummaryBuilder": "hx.run.summary",
    "Timeouts": "hx.models",
    "UsageError": "hx.errors",
    "build_client": "hx.client",
    "read_items": "hx.batch.sources",
    "run_batch": "hx.batch.engine",
}

__all__ = [
    "BadLine",
    "Batch",
    "ErrorInfo",
    "ErrorKind",
    "ExitCode",
    "HxError",
    "InputError",
    "OutputError",
    "RequestDefaults",
    "RequestSpec",
    "Result",
    "Settings",
    "StatusSet",
    "Summary",
    "SummaryBuilder",
    "Timeouts",
    "UsageError",
    "__version__",
    "build_client",
    "read_items",
    "run_batch",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hx' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:
    from hx.batch.engine import Batch, run_batch
    from hx.batch.sources import RequestDefaults, read_items
    from hx.client import build_client
    from hx.errors import ErrorKind, ExitCode, HxError, InputError, OutputError, UsageError
    from hx.models import BadLine, ErrorInfo, RequestSpec, Result
    from hx.run.summary import Summary, SummaryBuilder
    from hx.settings import Settings, Timeouts
    from hx.values import StatusSet
