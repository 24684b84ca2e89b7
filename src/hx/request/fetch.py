"""One request, start to finish: build it, send it, read (and maybe save) the body.

Whatever happens, the answer is a :class:`Result`; exceptions from the network
are classified, never raised.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from hx.errors import ErrorKind
from hx.filenames import safe_name
from hx.models import BadLine, ErrorInfo, RequestSpec, Result, Timings
from hx.net.exchange import EXCHANGE, Exchange
from hx.redact import redact_headers, redact_url
from hx.request import redirects
from hx.request.closing import close
from hx.request.decoding import BodyTooLarge, decoded_chunks
from hx.request.failures import classify
from hx.request.retry_after import parse_retry_after
from hx.settings import Settings
from hx.storage import PartFile

MAX_KEPT_BODY = 16 * 1024 * 1024
"""The most of a body hx holds in memory (for --body or a body check) when --max-size
does not say: a body sent without end would otherwise take all of it."""

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def bad_line_result(item: BadLine) -> Result:
    return Result(
        id=item.record_id,
        line=item.line,
        url=redact_url(item.url) if item.url else None,
        method=None,
        ok=False,
        error=ErrorInfo(ErrorKind.INVALID_INPUT, item.message),
    )


def interrupted_result(spec: RequestSpec, message: str = "hx was stopped first") -> Result:
    return failed_result(spec, ErrorInfo(ErrorKind.INTERRUPTED, message), attempts=0)


def result_for(spec: RequestSpec, response: httpx.Response | None = None, **fields: Any) -> Result:
    """A result for ``spec``: its identity, what ``response`` says, then ``fields``.

    URLs are redacted here, so no caller can forget it.
    """
    url = redact_url(spec.url)
    if response is None:
        return Result(id=spec.record_id, line=spec.line, url=url, method=spec.method, **fields)
    # What hx's transport measured of the final exchange; nothing through a proxy.
    exchange: Exchange | None = response.extensions.get(EXCHANGE)
    # One call, no merged dicts: this runs for every request.
    return Result(
        id=spec.record_id,
        line=spec.line,
        url=url,
        method=spec.method,
        status=response.status_code,
        http_version=response.http_version,
        final_url=redact_url(str(response.url)),
        content_type=response.headers.get("content-type"),
        redirects=response.extensions.get(redirects.REDIRECTS, 0),
        remote_ip=None if exchange is None else exchange.remote_ip,
        remote_port=None if exchange is None else exchange.remote_port,
        reused=None if exchange is None else exchange.reused,
        timings=None if exchange is None else _timings(exchange),
        tls=None if exchange is None else exchange.tls_info,
        **fields,
    )


def _timings(exchange: Exchange) -> Timings:
    total = (time.perf_counter() - exchange.started) * 1000
    return Timings(
        exchange.dns, exchange.connect, exchange.tls, exchange.wait, exchange.transfer, total
    )


def failed_result(
    spec: RequestSpec, error: ErrorInfo, attempts: int = 1, elapsed_ms: float = 0.0
) -> Result:
    return result_for(spec, ok=False, error=error, attempts=attempts, elapsed_ms=elapsed_ms)


def body_path(output_dir: Path, spec: RequestSpec) -> Path:
    """Where ``-O DIR`` saves a body: unique per line, the same on every run.

    The line number makes it unique; the last URL path segment (or the host)
    makes it readable; ``safe_name`` keeps it inside DIR.
    """
    parts = urlsplit(spec.url)
    segment = unquote(parts.path.rsplit("/", 1)[-1]) or parts.hostname or ""
    return output_dir / safe_name(f"{spec.line}-{segment}", fallback=str(spec.line))


async def fetch(client: httpx.AsyncClient, spec: RequestSpec, settings: Settings) -> Result:
    """Send ``spec`` once over ``client`` and describe what happened."""
    started = time.perf_counter()
    with contextlib.ExitStack() as files:
        try:
            request = build_request(client, spec, files)
        except OSError as exc:
            message = f"cannot read upload file {exc.filename}: {exc.strerror}"
            return failed_result(spec, ErrorInfo(ErrorKind.INVALID_INPUT, message), attempts=0)
        except (ValueError, httpx.InvalidURL) as exc:
            message = f"cannot build the request: {exc}"
            return failed_result(spec, ErrorInfo(ErrorKind.INVALID_INPUT, message), attempts=0)
        response: httpx.Response | None = None
        try:
            response = await redirects.send(client, request, settings)
            body = await _read_body(response, spec, settings)
        except Exception as exc:  # noqa: BLE001 - classify() re-raises what it does not know
            failure = classify(exc)
            if response is None:
                return failed_result(
                    spec, failure, elapsed_ms=(time.perf_counter() - started) * 1000
                )
            body = _Body(error=failure)
        finally:
            if response is not None:
                await close(response)

    status = response.status_code
    ok = body.error is None and status in settings.ok_status
    error: ErrorInfo | None = body.error
    if error is None and not ok:
        error = ErrorInfo(ErrorKind.HTTP_STATUS, f"HTTP {status} {response.reason_phrase}".strip())
    return result_for(
        spec,
        response,
        ok=ok,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        bytes=body.size,
        error=error,
        attempts=1,
        headers=(
            redact_headers(tuple(response.headers.multi_items()), settings.secret_headers)
            if settings.include_headers
            else None
        ),
        body=body.text,
        body_encoding=body.encoding,
        path=body.path,
        sha256=body.sha256,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


def build_request(
    client: httpx.AsyncClient, spec: RequestSpec, files: contextlib.ExitStack
) -> httpx.Request:
    """The request ``spec`` asks for; multipart upload files are opened into ``files``."""
    headers = list(spec.headers)
    if spec.content_type and not _has_content_type(headers, client):
        headers.append(("Content-Type", spec.content_type))
    upload = None
    if spec.files:
        upload = [
            (field, (Path(path).name, files.enter_context(open(path, "rb"))))
            for field, path in spec.files
        ]
    return client.build_request(
        spec.method,
        spec.parsed_url if spec.parsed_url is not None else spec.url,
        headers=headers,
        params=spec.params or None,
        content=spec.content,
        data=dict(spec.form) if spec.form else None,
        files=upload,
        timeout=spec.timeout if spec.timeout is not None else httpx.USE_CLIENT_DEFAULT,
    )


def _has_content_type(headers: list[tuple[str, str]], client: httpx.AsyncClient) -> bool:
    return "content-type" in client.headers or any(
        name.lower() == "content-type" for name, _ in headers
    )


@dataclasses.dataclass(slots=True)
class _Body:
    """What reading a response body produced."""

    size: int = 0
    text: str | None = None
    encoding: str | None = None
    path: str | None = None
    sha256: str | None = None
    error: ErrorInfo | None = None


async def _read_body(response: httpx.Response, spec: RequestSpec, settings: Settings) -> _Body:
    """Read the body once, decoded in bounded pieces: count it, stop it at --max-size,
    keep or save it if asked. Unkept, it streams through in bounded memory; kept (for
    the record or a body check), it stops at :data:`MAX_KEPT_BODY` unless --max-size
    says otherwise."""
    path = body_path(settings.output_dir, spec) if settings.output_dir is not None else None
    if response.status_code == 304:
        path = None  # no body: what an earlier run saved stays (hx fetch --cache)
    kept: list[bytes] | None = [] if settings.include_body else None
    limit = settings.max_size
    if kept is not None and limit is None:
        limit = MAX_KEPT_BODY  # a server may send without end: memory must not
    digest = hashlib.sha256() if path is not None else None
    size = 0
    try:
        with PartFile(path) if path is not None else contextlib.nullcontext() as part:
            async with contextlib.aclosing(decoded_chunks(response, limit)) as chunks:
                async for chunk in chunks:
                    size += len(chunk)
                    if part is not None and digest is not None:
                        part.write(chunk)
                        digest.update(chunk)
                    if kept is not None:
                        kept.append(chunk)
            if part is not None:
                part.commit()
    except BodyTooLarge as exc:
        message = str(exc)
        if settings.max_size is None:
            message = (
                f"body exceeds {MAX_KEPT_BODY} bytes, the most hx keeps of a body"
                " without --max-size"
            )
        return _Body(size=exc.size, error=ErrorInfo(ErrorKind.TOO_LARGE, message))
    except OSError as exc:
        message = f"cannot save body to {path}: {exc.strerror or exc}"
        return _Body(size=size, error=ErrorInfo(ErrorKind.IO, message))
    body = _Body(size=size)
    if kept is not None:
        body.text, body.encoding = _body_text(response, b"".join(kept))
    if path is not None and digest is not None:
        body.path, body.sha256 = str(path), digest.hexdigest()
    return body


def _body_text(response: httpx.Response, content: bytes) -> tuple[str, str]:
    """The body as text when it is text, else as base64: ``(body, body_encoding)``."""
    content_type = response.headers.get("content-type", "").lower()
    if content_type.startswith(_TEXT_TYPES) or content_type.endswith(("+json", "+xml")):
        try:
            return content.decode(response.charset_encoding or "utf-8"), "text"
        except (UnicodeDecodeError, LookupError):
            pass
    return base64.b64encode(content).decode("ascii"), "base64"
