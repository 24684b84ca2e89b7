"""Safe file names: nothing from a server or an input line may escape its directory."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

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
