"""The checks a response must pass, as the command line and input lines state them.

Command line: ``--expect-body REGEX``, ``--expect-header 'Name: REGEX'``
(repeatable), ``--expect-json 'PATH=VALUE'`` (repeatable; PATH in
hx.monitor.json_path's syntax, VALUE read as JSON when it is JSON, else as a
string), ``--max-latency DURATION``, ``--min-cert-days N``. An NDJSON line's
``expect`` object says the same per request::

    {"url": "...", "expect": {"body": "REGEX", "headers": {"Name": "REGEX"},
     "json": {"PATH": VALUE}, "max_latency": "500ms", "min_cert_days": 14}}

Each key a line gives replaces the command line's check of that kind.
Regular expressions are Python's, searched anywhere in the text.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from hx.errors import LineError
from hx.models import Expectations, JsonExpectation
from hx.monitor import json_path
from hx.values import parse_duration

LINE_KEYS = ("body", "headers", "json", "max_latency", "min_cert_days")


def parse_regex(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as exc:
        raise ValueError(f"not a regular expression ({exc}): {text!r}") from None


def parse_header_check(text: str) -> tuple[str, re.Pattern[str]]:
    """``"Content-Type: json$"`` as ``("content-type", pattern)``."""
    name, sep, pattern = text.partition(":")
    if not sep or not name.strip():
        raise ValueError(f"expected 'Name: REGEX', got {text!r}")
    return name.strip().lower(), parse_regex(pattern.strip())


def parse_json_check(text: str) -> JsonExpectation:
    """``"data.status=ok"``: the value at the path must be ``"ok"`` (``=3`` means 3)."""
    path, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"expected PATH=VALUE, got {text!r}")
    return JsonExpectation(path, json_path.parse_path(path), _json_or_text(value))


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_cert_days(text: str | int) -> int:
    try:
        days = int(text)
    except ValueError:
        raise ValueError(f"expected a whole number of days, got {text!r}") from None
    if days < 0:
        raise ValueError(f"days cannot be negative, got {text!r}")
    return days


def from_line(value: Any) -> Expectations:
    """A line's ``expect`` object; LineError saying what is wrong with it."""
    if not isinstance(value, dict):
        raise LineError("'expect' must be an object")
    unknown = [key for key in value if key not in LINE_KEYS]
    if unknown:
        raise LineError(f"unknown key 'expect.{unknown[0]}' (allowed: {', '.join(LINE_KEYS)})")
    try:
        return Expectations(
            body=_line_regex(value, "body"),
            headers=tuple(
                parse_header_check(f"{name}: {pattern}")
                for name, pattern in _strings(value, "headers").items()
            ),
            json=tuple(
                JsonExpectation(path, json_path.parse_path(path), expected)
                for path, expected in _object(value, "json").items()
            ),
            max_latency_ms=_latency_ms(value.get("max_latency")),
            min_cert_days=_cert_days(value.get("min_cert_days")),
        )
    except ValueError as exc:
        raise LineError(f"'expect': {exc}") from None


def for_request(command_line: Expectations, line: Expectations | None) -> Expectations:
    """The checks for one request: the line's where it gives them, else the command line's."""
    if line is None:
        return command_line
    merged = {}
    for field in dataclasses.fields(Expectations):
        ours = getattr(line, field.name)
        merged[field.name] = getattr(command_line, field.name) if ours in (None, ()) else ours
    return Expectations(**merged)


def _line_regex(value: dict[str, Any], key: str) -> re.Pattern[str] | None:
    pattern = value.get(key)
    if pattern is None:
        return None
    if not isinstance(pattern, str):
        raise ValueError(f"{key!r} must be a string")
    return parse_regex(pattern)


def _object(value: dict[str, Any], key: str) -> dict[str, Any]:
    found = value.get(key, {})
    if not isinstance(found, dict):
        raise ValueError(f"{key!r} must be an object")
    return found


def _strings(value: dict[str, Any], key: str) -> dict[str, str]:
    found = _object(value, key)
    if not all(isinstance(item, str) for item in found.values()):
        raise ValueError(f"{key!r} values must be strings")
    return found


def _latency_ms(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("'max_latency' must be a duration such as \"500ms\" or seconds")
    return parse_duration(value) * 1000


def _cert_days(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("'min_cert_days' must be a whole number")
    return parse_cert_days(value)
