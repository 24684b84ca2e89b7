"""Running the CLI in tests, and the files and output around a run.

``hx()`` runs the CLI in-process and refuses any traceback; ``records()`` reads
NDJSON output into dicts; ``write_lines()`` and ``write_ndjson()`` write input
files; ``assert_usage_error()`` checks the one-line usage error; ``isolate()``
gives a test an environment with no HX_* variables, no proxies and an empty
``$XDG_CONFIG_HOME``; ``RouteServer`` is the loopback TestServer plus the
routes the configuration, tracing and security tests need:

``/inflight?delay=S``   sleep S seconds (default 0.2), then 200 ``"ok"``; the server
                        counts requests in the handler and keeps the maximum seen
                        at once in ``max_in_flight``
``/login``              200 ``"ok"`` with ``Set-Cookie: sid=<RouteServer.cookie_value>``,
                        so a cookie secret never has to be part of a URL
``/secrets``            200 ``"ok"`` with the response headers in ``SECRET_RESPONSE_HEADERS``,
                        each value holding ``RouteServer.cookie_value``
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner
from typer.testing import Result as CliResult

from hx.cli import app
from support.server import TestServer, _Handler

__all__ = [
    "SECRET_RESPONSE_HEADERS",
    "RouteServer",
    "assert_usage_error",
    "hx",
    "isolate",
    "records",
    "write_lines",
    "write_ndjson",
]

#: Response headers of ``/secrets``: name -> value template.
SECRET_RESPONSE_HEADERS = {
    "Authorization": "Bearer {}",
    "Proxy-Authorization": "Basic {}",
    "Cookie": "sid={}",
    "Set-Cookie": "sid={}; Path=/",
    "X-Token": "{}",
}

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No HX_* or proxy variables; ``$XDG_CONFIG_HOME`` an empty directory, returned."""
    for name in list(os.environ):
        if name.startswith("HX_") or name.lower() in _PROXY_VARIABLES:
            monkeypatch.delenv(name)
    config_home = tmp_path / "xdg-config"
    config_home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    return config_home


def hx(
    *args: str | Path,
    env: dict[str, str | None] | None = None,
    input: str | bytes | None = None,
    terminal_width: int | None = None,
) -> CliResult:
    """Run ``hx ARGS`` in-process with ``env`` added; no run may show a traceback."""
    result = CliRunner().invoke(
        app, [str(a) for a in args], env=env, input=input, terminal_width=terminal_width
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def records(output: CliResult | str | bytes) -> list[dict[str, Any]]:
    """NDJSON (a run's stdout, or text read from a process or file): every line one object."""
    if isinstance(output, bytes):
        text = output.decode()
    elif isinstance(output, str):
        text = output
    else:
        text = output.stdout
    lines = text.splitlines()
    assert all(line.startswith("{") for line in lines), text[:500]
    return [json.loads(line) for line in lines]


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    """``lines`` as a UTF-8 text file, each ended by a newline; returns ``path``."""
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def write_ndjson(path: Path, objects: Iterable[dict[str, Any]]) -> Path:
    """One JSON object a line; returns ``path``."""
    return write_lines(path, (json.dumps(obj) for obj in objects))


def assert_usage_error(result: CliResult, *words: str) -> None:
    """Exit 2, nothing on stdout, one ``hx: error:`` line on stderr naming ``words``."""
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("hx: error: "), result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


class _RouteHandler(_Handler):
    def _route(self, path: str, headers: dict[str, str], body: bytes) -> None:
        owner = self.owner
        assert isinstance(owner, RouteServer)
        if path == "/inflight":
            owner._enter()
            try:
                delay = self._float_param("delay", 0.2)
                owner._stopping.wait(delay or 0.0)
            finally:
                owner._leave()
            self._send(200, b"ok")
        elif path == "/login":
            self._send(200, b"ok", headers=[("Set-Cookie", f"sid={owner.cookie_value}; Path=/")])
        elif path == "/secrets":
            secret = owner.cookie_value
            headers_out = [(k, v.format(secret)) for k, v in SECRET_RESPONSE_HEADERS.items()]
            self._send(200, b"ok", headers=headers_out)
        else:
            super()._route(path, headers, body)


class RouteServer(TestServer):
    """TestServer with ``/inflight`` (concurrency gauge) and ``/login`` (a secret cookie)."""

    handler_class: ClassVar[type[_Handler]] = _RouteHandler
    cookie_value = "cookie-value"

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.max_in_flight = 0
        self._gauge = threading.Lock()

    def _enter(self) -> None:
        with self._gauge:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._gauge:
            self.in_flight -= 1
