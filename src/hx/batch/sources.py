"""Input: a URL list or NDJSON, from a file or stdin, as a stream of request specs.

Reading is lazy and line by line, so memory stays flat for any input length.
A line that cannot become a request yields a :class:`BadLine` (which becomes
an ``invalid_input`` record) and reading goes on; only a source that cannot be
opened at all raises :class:`InputError`.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal
from urllib.parse import urlencode

import httpx

from hx.errors import InputError, LineError
from hx.frozen import frozen
from hx.models import BadLine, InputItem, RequestSpec
from hx.monitor import expectations
from hx.redact import redact_url
from hx.request.urls import check_target
from hx.settings import Pairs
from hx.values import TOKEN_CHARS, Shard, check_digest, check_header, parse_checksum

InputFormat = Literal["auto", "urls", "ndjson"]

MAX_LINE_BYTES = 1 << 20
"""Longer lines are rejected without ever being held in memory whole."""
_WHITESPACE = re.compile(r"\s")
MAX_JSON_DEPTH = 64
"""Deeper NDJSON lines are invalid_input: no request needs more, and json.loads
would recurse once per level."""

NDJSON_SUFFIXES = (".ndjson", ".jsonl")
NDJSON_KEYS = (
    "url",
    "method",
    "headers",
    "params",
    "json",
    "data",
    "files",
    "id",
    "timeout",
    "retry",
)
FETCH_KEYS = (*NDJSON_KEYS, "expect")
"""``hx fetch`` also takes a line's checks of its response (hx.monitor.expectations)."""
DOWNLOAD_KEYS = ("url", "output", "sha256", "checksum", "headers", "id")


@frozen
class RequestDefaults:
    """What the command line says about requests whose line does not."""

    method: str | None = None
    content: bytes | None = None
    content_type: str | None = None
    base_url: str | None = None


def open_source(source: str) -> IO[bytes]:
    """Open a path, or ``-`` for stdin, for binary reading; raise InputError naming it."""
    if source == "-":
        # A reader of our own, not sys.stdin.buffer: a thread blocked reading
        # it must not hold the lock that interpreter shutdown takes on stdin.
        try:
            return open(sys.stdin.fileno(), "rb", closefd=False)  # noqa: SIM115
        except (OSError, ValueError, AttributeError):  # no descriptor: an in-memory stdin
            return sys.stdin.buffer
    try:
        if stat.S_ISDIR(os.stat(source).st_mode):
            raise InputError(f"{source}: is a directory")
        return open(source, "rb")  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        raise InputError(f"{source}: {exc.strerror or exc}") from exc


def stream_is_blocking(stream: IO[bytes]) -> bool:
    """Whether reads may wait on another process (a pipe, a terminal, a socket)."""
    try:
        return not stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError):
        return True


def detect_format(source: str, requested: InputFormat) -> InputFormat:
    """The format the name implies; ``auto`` means decide from the first line."""
    if requested == "auto" and source.lower().endswith(NDJSON_SUFFIXES):
        return "ndjson"
    return requested


def read_items(
    stream: IO[bytes],
    fmt: InputFormat = "auto",
    defaults: RequestDefaults | None = None,
    ndjson_keys: tuple[str, ...] = NDJSON_KEYS,
) -> Iterator[InputItem]:
    """Yield a RequestSpec or BadLine for every request line of ``stream``.

    Blank lines and lines starting with ``#`` are skipped. ``auto`` becomes
    NDJSON when the first request line starts with ``{``.
    """
    defaults = defaults or RequestDefaults()
    seen_ids: dict[str | int, int] = {}
    for number, text in _numbered_lines(stream):
        if isinstance(text, LineError):
            yield BadLine(number, f"line {number}: {text}")
            continue
        if fmt == "auto":
            fmt = "ndjson" if text.startswith("{") else "urls"
        try:
            if fmt == "ndjson":
                spec = parse_ndjson_line(number, text, defaults, ndjson_keys)
            else:
                spec = parse_url_line(number, text, defaults)
        except LineError as exc:
            yield BadLine(number, f"line {number}: {exc}", url=_url_hint(text, fmt))
            continue
        if spec.id is not None:
            first = seen_ids.setdefault(spec.id, number)
            if first != number:
                yield BadLine(
                    number,
                    f"line {number}: duplicate id {spec.id!r} (first on line {first})",
                    id=spec.id,
                    url=spec.url,
                )
                continue
        yield spec


def take_shard(items: Iterable[InputItem], shard: Shard) -> Iterator[InputItem]:
    """Items whose line number is ``shard.index`` modulo ``shard.count``.

    A deterministic slice: N machines (or workers) given K = 1..N together
    take every line exactly once.
    """
    return (item for item in items if (item.line - 1) % shard.count == shard.index - 1)


def _numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, str | LineError]]:
    """Yield ``(line number, text)`` for non-blank, non-comment lines.

    The text is decoded and trimmed; a UTF-8 BOM on the first line and CRLF
    endings are tolerated. Undecodable or overlong lines come as LineError.
    """
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
            yield number, LineError(f"line is longer than {MAX_LINE_BYTES} bytes")
            continue
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            yield number, LineError(f"not valid UTF-8 (byte {exc.start + 1})")
            continue
        if text and not text.startswith("#"):
            yield number, text


def parse_url_line(number: int, text: str, defaults: RequestDefaults) -> RequestSpec:
    """A URL-list line: one URL, with the command line's method and body."""
    if _WHITESPACE.search(text):
        raise LineError(f"not a URL (contains whitespace): {_excerpt(text)}")
    url = parse_url(text, defaults.base_url)
    return RequestSpec(
        line=number,
        url=_url_text(text, url, defaults.base_url),
        parsed_url=url,
        method=defaults.method or ("POST" if defaults.content is not None else "GET"),
        content=defaults.content,
        content_type=defaults.content_type,
    )


def parse_ndjson_line(
    number: int, text: str, defaults: RequestDefaults, keys: tuple[str, ...] = NDJSON_KEYS
) -> RequestSpec:
    """An NDJSON line: an object with ``url`` and optional fields among ``keys``."""
    if nested_too_deep(text):
        raise LineError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineError(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise LineError(f"expected a JSON object, got {_json_type(obj)}")
    unknown = [key for key in obj if key not in keys]
    if unknown:
        raise LineError(f"unknown key {unknown[0]!r} (allowed: {', '.join(keys)})")
    if "url" not in obj:
        raise LineError("missing required key 'url'")

    text = _expect(obj, "url", str)
    url = parse_url(text, defaults.base_url)
    record_id = obj.get("id")
    if record_id is not None and (
        isinstance(record_id, bool) or not isinstance(record_id, str | int)
    ):
        raise LineError(f"'id' must be a string or an integer, got {_json_type(record_id)}")
    timeout = obj.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise LineError("'timeout' must be a positive number of seconds")

    retry = obj.get("retry")
    if retry is None:
        retry = False
    elif not isinstance(retry, bool):
        raise LineError(f"'retry' must be true or false, got {_json_type(retry)}")

    content, content_type, form, files = _ndjson_body(obj, defaults)
    method = obj.get("method")
    if method is not None:
        method = check_method(_expect(obj, "method", str))
    else:
        has_body = content is not None or bool(form) or bool(files)
        method = defaults.method or ("POST" if has_body else "GET")

    return RequestSpec(
        line=number,
        url=_url_text(text, url, defaults.base_url),
        parsed_url=url,
        id=record_id,
        method=method,
        headers=_headers(obj.get("headers")),
        params=_params(obj.get("params")),
        content=content,
        content_type=content_type,
        form=form,
        files=files,
        timeout=float(timeout) if timeout is not None else None,
        retry=retry,
        output=_output(obj),
        checksum=_checksum(obj),
        expect=expectations.from_line(obj["expect"]) if "expect" in obj else None,
    )


def nested_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in the JSON ``text`` nest more than ``limit`` levels.

    json.loads recurses once per level and ends in RecursionError near 1,000;
    a line checked here first is refused cheaply instead. Brackets inside
    strings do not count. Lines with few brackets (nearly all) take two counts.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _ndjson_body(
    obj: dict[str, Any], defaults: RequestDefaults
) -> tuple[bytes | None, str | None, Pairs, Pairs]:
    """``(content, content_type, multipart form fields, multipart files)``."""
    present = [key for key in ("json", "data") if key in obj]
    if len(present) > 1:
        raise LineError("'json' and 'data' cannot both be given")
    files: Pairs = ()
    if "files" in obj:
        if "json" in obj or isinstance(obj.get("data"), str):
            raise LineError("'files' can only be combined with a 'data' object")
        files = _string_map(obj["files"], "files")
        if not files:
            raise LineError("'files' must not be empty")
        form = _string_map(obj.get("data", {}), "data")
        return None, None, form, files
    if "json" in obj:
        body = json.dumps(obj["json"], separators=(",", ":"), ensure_ascii=False)
        return body.encode(), "application/json", (), ()
    if "data" in obj:
        data = obj["data"]
        if isinstance(data, str):
            return data.encode(), None, (), ()
        pairs = _string_map(data, "data")
        return urlencode(pairs).encode(), "application/x-www-form-urlencoded", (), ()
    return defaults.content, defaults.content_type, (), ()


def _output(obj: dict[str, Any]) -> str | None:
    """A download's ``output``: a relative path that stays inside the target directory."""
    if "output" not in obj:
        return None
    output = _expect(obj, "output", str)
    parts = PurePosixPath(output.replace("\\", "/")).parts
    if not parts or output.startswith(("/", "\\")) or ".." in parts:
        raise LineError(f"'output' must be a relative path inside --dir, got {_excerpt(output)!r}")
    return output


def _checksum(obj: dict[str, Any]) -> tuple[str, str] | None:
    if "sha256" in obj and "checksum" in obj:
        raise LineError("'sha256' and 'checksum' cannot both be given")
    try:
        if "sha256" in obj:
            return check_digest("sha256", _expect(obj, "sha256", str))
        if "checksum" in obj:
            return parse_checksum(_expect(obj, "checksum", str))
    except ValueError as exc:
        raise LineError(str(exc)) from None
    return None


def check_url(text: str, base_url: str | None = None) -> str:
    """Return the absolute http(s) URL for ``text``, or raise LineError saying why not."""
    return _url_text(text, parse_url(text, base_url), base_url)


def _url_text(text: str, url: httpx.URL, base_url: str | None) -> str:
    """The URL as records show it: as written, or joined to ``--base-url``."""
    return str(url) if base_url is not None else text


def parse_url(text: str, base_url: str | None = None) -> httpx.URL:
    """The absolute http(s) URL for ``text``, parsed; LineError saying why if it is not one."""
    try:
        url = httpx.URL(text)
        if base_url is not None and not url.is_absolute_url:
            url = httpx.URL(base_url).join(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise LineError(f"not a valid URL ({exc}): {_excerpt(text)}") from None
    if not url.scheme:
        hint = "; did you mean https://" + text + "?" if "." in text.split("/")[0] else ""
        raise LineError(f"not an absolute URL (no scheme){hint}: {_excerpt(text)}")
    try:
        check_target(url)
    except ValueError as exc:
        raise LineError(f"{exc}: {_excerpt(text)}") from None
    return url


def check_method(method: str) -> str:
    if not method or not set(method) <= TOKEN_CHARS:
        raise LineError(f"invalid method {_excerpt(method)!r}")
    return method.upper()


def _headers(value: Any) -> Pairs:
    if value is None:
        return ()
    return tuple(check_header(name, v) for name, v in _string_map(value, "headers"))


def _params(value: Any) -> Pairs:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise LineError(f"'params' must be an object, got {_json_type(value)}")
    pairs: list[tuple[str, str]] = []
    for key, item in value.items():
        for one in item if isinstance(item, list) else [item]:
            if isinstance(one, bool) or not isinstance(one, str | int | float):
                raise LineError(f"'params.{key}' must be a string, number or a list of them")
            pairs.append((key, str(one)))
    return tuple(pairs)


def _string_map(value: Any, key: str) -> Pairs:
    """An object whose values are all strings, as pairs."""
    if not isinstance(value, dict):
        raise LineError(f"'{key}' must be an object, got {_json_type(value)}")
    for name, item in value.items():
        if not isinstance(item, str):
            raise LineError(f"'{key}.{name}' must be a string, got {_json_type(item)}")
    return tuple(value.items())


def _expect(obj: dict[str, Any], key: str, kind: type[str]) -> str:
    value = obj[key]
    if not isinstance(value, kind):
        raise LineError(f"'{key}' must be a string, got {_json_type(value)}")
    return value


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _excerpt(text: str, limit: int = 80) -> str:
    """A short, redacted quote of input for messages: input may hold credentials."""
    text = redact_url(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _url_hint(text: str, fmt: InputFormat) -> str | None:
    """What to show as the ``url`` of a bad line: the line itself for URL lists."""
    return _excerpt(text, 200) if fmt == "urls" else None


def count_request_lines(path: Path) -> int:
    """How many request lines a file holds (non-blank, non-comment), for progress totals."""
    with path.open("rb") as stream:
        return sum(
            1
            for number, raw in enumerate(stream)
            if (line := (raw.removeprefix(b"\xef\xbb\xbf") if number == 0 else raw).strip())
            and not line.startswith(b"#")
        )
