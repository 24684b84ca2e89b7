"""``hx fetch --dry-run``: the requests SOURCE would make, as NDJSON, without connecting.

One line per request line: ``id``, ``line``, ``method``, ``url`` (with the
query), ``headers`` as hx would send them (its defaults, ``-H``, the line's,
cookies from ``--cookie-jar``, credentials from ``--auth``, ``--bearer`` or
``--netrc``, the conditions ``--cache`` holds; secrets redacted) and
``body_bytes``. A line that cannot become a request shows its ``error``
instead. The client is built as for a run, so the options are checked the same
way, but no request is sent.
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx

from hx.batch.sources import open_source
from hx.client import build_client
from hx.errors import ErrorKind, ExitCode
from hx.models import BadLine, InputItem
from hx.monitor.cache import ValidatorCache
from hx.redact import redact_headers, redact_url
from hx.request.fetch import build_request
from hx.run.records import RecordWriter
from hx.run.runner import BatchJob, FetchInput, read_fetch_input, run_async
from hx.settings import Settings


def print_requests(job: BatchJob, fetch_input: FetchInput) -> ExitCode:
    """Write a line per request of ``fetch_input`` to stdout (or --output-file)."""
    return run_async(_print_requests(job, fetch_input))


async def _print_requests(job: BatchJob, fetch_input: FetchInput) -> ExitCode:
    cache = ValidatorCache(job.monitor.cache) if job.monitor.cache is not None else None
    stream = open_source(fetch_input.source)
    with contextlib.closing(stream) if fetch_input.source != "-" else contextlib.nullcontext():
        async with build_client(job.settings) as client:
            with RecordWriter(job.output_file) as writer:
                for item in read_fetch_input(stream, fetch_input):
                    if cache is not None and not isinstance(item, BadLine):
                        item = cache.conditional(item, job.settings)
                    writer.write_event(request_record(client, item, job.settings))
    return ExitCode.OK


def request_record(
    client: httpx.AsyncClient, item: InputItem, settings: Settings
) -> dict[str, Any]:
    """What ``item`` would send over ``client``, secrets redacted."""
    identity = {"id": item.record_id, "line": item.line}
    if isinstance(item, BadLine):
        return {**identity, "url": item.url, "error": _invalid(item.message)}
    with contextlib.ExitStack() as files:
        try:
            request = build_request(client, item, files)
        except (OSError, ValueError, httpx.InvalidURL) as exc:
            return {**identity, "url": redact_url(item.url), "error": _invalid(str(exc))}
        if client.auth is not None:
            # The first step of the auth flow: Basic and Bearer set their header there.
            request = next(client.auth.sync_auth_flow(request))
        sent = tuple((name.decode(), value.decode()) for name, value in request.headers.raw)
        headers = redact_headers(sent, settings.secret_headers)
        return {
            **identity,
            "method": request.method,
            "url": redact_url(str(request.url)),
            "headers": [list(pair) for pair in headers],
            "body_bytes": _body_size(request),
        }


def _invalid(message: str) -> dict[str, str]:
    return {"kind": str(ErrorKind.INVALID_INPUT), "message": message}


def _body_size(request: httpx.Request) -> int | None:
    try:
        return len(request.content)
    except httpx.RequestNotRead:  # a multipart upload streams its files
        length = request.headers.get("content-length")
        return int(length) if length is not None else None
