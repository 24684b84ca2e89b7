"""``-o -``: the body streamed to stdout (no file, so no resume and no split)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import httpx

from hx.batch.ratelimit import RateLimiter
from hx.download import responses
from hx.download.failures import DownloadFailed
from hx.download.tally import Tally
from hx.download.transfer import Saved
from hx.errors import ErrorKind
from hx.models import RequestSpec
from hx.request.closing import close
from hx.settings import Settings


async def stream_to_stdout(
    client: httpx.AsyncClient,
    spec: RequestSpec,
    settings: Settings,
    bandwidth: RateLimiter | None,
    tally: Tally,
) -> Saved:
    """Write the body to stdout; the result's path is ``-``."""
    response = await responses.request(client, spec, settings)
    try:
        if not 200 <= response.status_code < 300:
            raise responses.status_failure(response)
        digest = hashlib.sha256()
        size = 0
        out = sys.stdout.buffer
        tally.starts_at(0)
        async for chunk in responses.body(response, bandwidth):
            size += len(chunk)
            tally.received += len(chunk)
            if settings.max_size is not None and size > settings.max_size:
                raise DownloadFailed(ErrorKind.TOO_LARGE, "body exceeds --max-size")
            out.write(chunk)
            digest.update(chunk)
        out.flush()
    finally:
        await close(response)
    return Saved(Path("-"), size, digest.hexdigest(), response)
