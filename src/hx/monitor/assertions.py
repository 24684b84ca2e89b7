"""Checking each response against its expectations (hx.monitor.expectations).

A response that fails a check becomes a failed record of kind ``assertion``
whose message says, for each failed check, what was expected and what came.
Only successful responses are checked: a request that failed already keeps
its own error. A 304 to a ``--cache`` request has no body: its body and JSON
checks are skipped. Header values are matched as records show them (secret
ones redacted), so no message can quote a secret.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Awaitable
from typing import Any

import httpx

from hx.batch.engine import Fetcher
from hx.errors import ErrorKind
from hx.models import ErrorInfo, Expectations, JsonExpectation, RequestSpec, Result
from hx.monitor import json_path
from hx.monitor.expectations import for_request
from hx.monitor.kept import Keeping, dropped, header_values
from hx.settings import Settings

_EXCERPT = 60
"""Characters of a body or header value quoted in a message."""


class Checked:
    """A fetcher whose responses are then checked against their request's expectations."""

    def __init__(self, fetcher: Fetcher, command_line: Expectations) -> None:
        self._fetcher = fetcher
        self._command_line = command_line
        self._keeping = Keeping()

    def __call__(
        self, client: httpx.AsyncClient, spec: RequestSpec, settings: Settings
    ) -> Awaitable[Result]:
        expect = for_request(self._command_line, spec.expect)
        if not expect:
            return self._fetcher(client, spec, settings)  # nothing to check: no detour
        return self._checked(client, spec, settings, expect)

    async def _checked(
        self, client: httpx.AsyncClient, spec: RequestSpec, settings: Settings, expect: Expectations
    ) -> Result:
        needs_body = expect.body is not None or bool(expect.json)
        keeping = self._keeping.settings(settings, headers=bool(expect.headers), body=needs_body)
        result = await self._fetcher(client, spec, keeping)
        return dropped(check(result, expect), settings)


def check(result: Result, expect: Expectations) -> Result:
    """``result``, failed with kind ``assertion`` if it does not meet ``expect``."""
    if not result.ok:
        return result
    problems = failures(result, expect)
    if not problems:
        return result
    return dataclasses.replace(
        result, ok=False, error=ErrorInfo(ErrorKind.ASSERTION, "; ".join(problems))
    )


def failures(result: Result, expect: Expectations) -> list[str]:
    """What ``result`` fails of ``expect``: one sentence per failed check."""
    problems = [_header_failure(result, name, pattern) for name, pattern in expect.headers]
    if not result.not_modified and (expect.body is not None or expect.json):
        text = _body_text(result)
        if expect.body is not None and not expect.body.search(text):
            problems.append(
                f"expected the body to match {expect.body.pattern!r};"
                f" got {len(text)} characters: {_excerpt(text)}"
            )
        problems.extend(_json_failures(text, expect.json))
    limit = expect.max_latency_ms
    if limit is not None and result.elapsed_ms > limit:
        problems.append(
            f"expected a response within {limit:g} ms; it took {result.elapsed_ms:.0f} ms"
        )
    if expect.min_cert_days is not None:
        problems.append(_certificate_failure(result, expect.min_cert_days))
    return [problem for problem in problems if problem]


def _header_failure(result: Result, name: str, pattern: re.Pattern[str]) -> str:
    values = header_values(result, name)
    if any(pattern.search(value) for value in values):
        return ""
    got = ", ".join(_excerpt(value) for value in values) if values else f"no {name} header"
    return f"expected header {name} to match {pattern.pattern!r}; got {got}"


def _json_failures(text: str, checks: tuple[JsonExpectation, ...]) -> list[str]:
    if not checks:
        return []
    try:
        document = json.loads(text)
    except ValueError:
        wanted = ", ".join(f"{check.text}={_json(check.value)}" for check in checks)
        return [f"expected JSON with {wanted}; the body is not JSON: {_excerpt(text)}"]
    problems = []
    for check in checks:
        expected = f"expected {check.text} = {_json(check.value)}"
        try:
            actual = json_path.look_up(document, check.path)
        except json_path.Missing as exc:
            problems.append(f"{expected}; got nothing there ({exc})")
            continue
        if not same_json(actual, check.value):
            problems.append(f"{expected}; got {_shortened(_json(actual))}")
    return problems


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: ``true`` is not ``1`` (as it is in Python), ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same_json, a, b))
    if {type(a), type(b)} <= {int, float}:
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)


def _certificate_failure(result: Result, min_days: int) -> str:
    url = result.final_url or result.url or ""
    if not url.startswith("https:"):
        return ""  # no certificate to check on plain http
    expected = f"expected a certificate valid for at least {min_days} more days"
    tls = result.tls
    if tls is None or tls.days_left is None:
        return f"{expected}; got no certificate facts"
    if tls.days_left >= min_days:
        return ""
    return f"{expected}; it expires in {tls.days_left} days ({tls.not_after})"


def _body_text(result: Result) -> str:
    if result.body is None:
        return ""
    if result.body_encoding == "base64":
        return base64.b64decode(result.body).decode("utf-8", "replace")
    return result.body


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _excerpt(text: str) -> str:
    """A short quote of ``text``, as a JSON string (control characters escaped)."""
    return _json(_shortened(text))


def _shortened(text: str) -> str:
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."
