"""``--expect-json``'s paths: ``data.items[0].id`` picks a value out of a JSON document.

The syntax, small on purpose: object keys separated by ``.``, array indexes in
brackets (``[-1]`` is the last item). A key holding ``.``, ``[``, ``]`` or
``=`` cannot be named; an empty path is not a path.

    status                  {"status": "ok"}                 -> "ok"
    data.items[0].id        {"data": {"items": [{"id": 7}]}} -> 7
    [1]                     [10, 20]                         -> 20
"""

from __future__ import annotations

import re
from typing import Any

from hx.models import JsonPath

_STEP = re.compile(r"\.?([^.\[\]=]+)|\[(-?\d+)\]")


class Missing(LookupError):
    """The document has no value at the path; the message says where it stops."""


def parse_path(text: str) -> JsonPath:
    """``"a.b[0]"`` as ``("a", "b", 0)``; ValueError if it is not a path."""
    steps: list[str | int] = []
    position = 0
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None or (match.group(1) is not None and _dotted(match) != bool(steps)):
            raise ValueError(f"not a JSON path at {text[position:]!r} (expected key.key[0])")
        key, index = match.groups()
        steps.append(int(index) if index is not None else key)
        position = match.end()
    if not steps:
        raise ValueError("empty JSON path")
    return tuple(steps)


def _dotted(match: re.Match[str]) -> bool:
    """Whether a key step has its dot: every key but the first needs one."""
    return match.group(0).startswith(".")


def look_up(document: Any, path: JsonPath) -> Any:
    """The value at ``path`` in ``document``; Missing says which step found nothing."""
    value = document
    for depth, step in enumerate(path):
        where = format_path(path[:depth]) or "the top"
        if isinstance(step, int):
            if not isinstance(value, list):
                raise Missing(f"{where} is not an array")
            if not -len(value) <= step < len(value):
                raise Missing(f"{where} has {len(value)} items, no [{step}]")
        elif not isinstance(value, dict):
            raise Missing(f"{where} is not an object")
        elif step not in value:
            raise Missing(f"{where} has no key {step!r}")
        value = value[step]
    return value


def format_path(path: JsonPath) -> str:
    """The path as written: ``a.b[0]``."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else step
    return text
