"""hx: concurrent HTTP fetcher and streaming downloader.

The engine is a library: build :class:`Settings`, read request specs with
:func:`read_items`, and iterate :func:`run_batch` over one
``httpx.AsyncClient`` from :func:`build_client`.
"""

from hx.client import build_client
from hx.engine import Batch, run_batch
from hx.errors import ErrorKind, ExitCode, HxError, InputError, OutputError, UsageError
from hx.models import BadLine, ErrorInfo, RequestSpec, Result, Settings, StatusSet, Timeouts
from hx.sources import RequestDefaults, read_items
from hx.summary import Summary, SummaryBuilder

__version__ = "0.1.0"

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
