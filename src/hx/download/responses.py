"""A download's side of HTTP: ranged requests guarded by If-Range, and what a response says."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import httpx

from hx.batch.ratelimit import RateLimiter
from hx.download.failures import DownloadFailed
from hx.download.writer import FileWriter
from hx.errors import ErrorKind
from hx.models import RequestSpec
from hx.net.body import body_reader
from hx.request import redirects
from hx.request.decoding import decoded_chunks
from hx.settings import Settings


async def request(
    client: httpx.AsyncClient,
    spec: RequestSpec,
    settings: Settings,
    start: int = 0,
    end: int | None = None,
    validator: str | None = None,
) -> httpx.Response:
    """The streamed response to ``spec``, asking for bytes ``start``-``end`` unless that
    is the whole file."""
    headers = list(spec.headers)
    if start > 0 or end is not None:
        headers.append(("Range", f"bytes={start}-{'' if end is None else end}"))
        if validator:
            # If-Range: the range only if the file is unchanged, else the whole file.
            headers.append(("If-Range", validator))
    request = client.build_request(spec.method, spec.url, headers=headers)
    return await redirects.send(client, request, settings)


async def body(response: httpx.Response, bandwidth: RateLimiter | None) -> AsyncIterator[bytes]:
    """The decoded body, at most as fast as ``bandwidth`` allows.

    Decoded in bounded steps (hx.request.decoding): a compressed file that
    expands a thousandfold streams to disk like any other; the callers check
    --max-size against what is on disk.
    """
    async with contextlib.aclosing(decoded_chunks(response)) as chunks:
        async for chunk in chunks:
            if bandwidth is not None:
                await bandwidth.acquire(len(chunk))
            yield chunk


async def copy_body(
    response: httpx.Response,
    writer: FileWriter,
    bandwidth: RateLimiter | None,
    accept: Callable[[int], None],
) -> None:
    """Put the body into ``writer``; ``accept(count)`` hears of each piece before the
    writer takes it, and raises to refuse it (a limit passed).

    A body with no Content-Encoding and no --limit-rate is read from the socket
    straight into the writer's buffers where the transport allows it
    (hx.net.body): no bytes object, copy or wake-up per piece. (Under
    --limit-rate the pieces stay small, so the rate holds from second to second.)
    """
    reader = body_reader(response)
    if reader is None or bandwidth is not None or "content-encoding" in response.headers:
        async for chunk in body(response, bandwidth):
            accept(len(chunk))
            await writer.write(chunk)
        return
    while count := await reader.readinto(await writer.space()):
        accept(count)
        writer.advance(count)


def file_length(response: httpx.Response) -> int | None:
    """The length of the file a 200 response carries, if the headers say."""
    if response.headers.get("content-encoding"):
        return None  # the length on the wire, not of the file
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def validator(response: httpx.Response) -> str | None:
    """What identifies this version of the file: its ETag, else its Last-Modified."""
    value: str | None = response.headers.get("etag") or response.headers.get("last-modified")
    return value


def splittable(response: httpx.Response) -> bool:
    """May the file be fetched in ranges? (Not if it is encoded on the fly.)"""
    return response.headers.get(
        "accept-ranges", ""
    ).lower() == "bytes" and not response.headers.get("content-encoding")


def check_size(total: int | None, settings: Settings) -> None:
    if total is not None and settings.max_size is not None and total > settings.max_size:
        raise DownloadFailed(
            ErrorKind.TOO_LARGE, f"{total} bytes exceeds --max-size {settings.max_size}"
        )


def status_failure(response: httpx.Response) -> DownloadFailed:
    status = response.status_code
    return DownloadFailed(
        ErrorKind.HTTP_STATUS, f"HTTP {status} {response.reason_phrase}".strip(), status
    )
