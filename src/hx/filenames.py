"""Safe file names: nothing from a server or an input line may escape its directory."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

MAX_NAME_BYTES = 200
"""Below the 255-byte limit of common file systems, leaving room for suffixes."""

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f/\\]")
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)}
)


def safe_name(name: str, fallback: str = "index") -> str:
    """A single path component made from untrusted text.

    Separators and control characters become ``_``; leading dots and spaces
    go (no hidden files, no ``..``); the result is capped at MAX_NAME_BYTES
    of UTF-8, keeping the extension.
    """
    name = _UNSAFE.sub("_", name).lstrip(". ").rstrip(". ")
    if not name:
        name = fallback
    if name.split(".")[0].upper() in _WINDOWS_RESERVED:
        name = "_" + name
    return _cap(name, MAX_NAME_BYTES)


def _cap(name: str, limit: int) -> str:
    if len(name.encode()) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode()) > 16:
        stem, ext = name, ""
    room = limit - len(ext.encode()) - (1 if ext else 0)
    stem = stem.encode()[:room].decode(errors="ignore")
    return f"{stem}.{ext}" if ext else stem


def unique_path(
    directory: Path, name: str, exists: Callable[[str], bool] = os.path.lexists
) -> Path:
    """``directory/name``, or ``name.1``, ``name.2`` ... if taken (like wget)."""
    candidate = directory / name
    number = 0
    while exists(str(candidate)) or exists(str(candidate) + ".part"):
        number += 1
        candidate = directory / f"{name}.{number}"
    return candidate


# One ``name=value`` parameter of a header, value a token or a quoted string.
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def content_disposition_name(header: str | None) -> str | None:
    """The file name a Content-Disposition header suggests (RFC 6266), unsanitised.

    ``filename*`` (RFC 8187, with its charset) wins over ``filename``.
    """
    if not header:
        return None
    params: dict[str, str] = {}
    for key, raw in _PARAM.findall(";" + header.partition(";")[2]):
        value = raw.strip()
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(key.lower(), value)
    extended = params.get("filename*")
    if extended is not None:
        charset, _, rest = extended.partition("'")
        _language, _, encoded = rest.partition("'")
        try:
            return unquote(encoded, encoding=charset or "utf-8", errors="strict")
        except (LookupError, UnicodeDecodeError):
            pass
    return params.get("filename")


def name_from_url(url: str) -> str:
    """The last path segment of a URL, percent-decoded (may be empty)."""
    path = urlsplit(url).path
    return unquote(path.rsplit("/", 1)[-1])


def download_name(disposition: str | None, final_url: str) -> str:
    """A safe file name: Content-Disposition's, else the final URL's last segment.

    Only the last component of a suggested path is kept, so
    ``../../etc/passwd`` becomes ``passwd``.
    """
    for candidate in (content_disposition_name(disposition), name_from_url(final_url)):
        if candidate:
            base = re.split(r"[/\\]", candidate)[-1]
            if base.strip(". "):
                return safe_name(base)
    return safe_name("", fallback=urlsplit(final_url).hostname or "download")
