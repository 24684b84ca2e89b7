"""Bad input and odd files: a usage error naming the option or file, or an invalid_input
record naming the line; never a traceback, never a hang, never a lost batch."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.cli import assert_usage_error, hx, isolate, records
from support.server import TestServer

BINARY = bytes(range(256)) * 8 + b"\xff\xfe\x00\xc2garbage\n"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


@pytest.fixture
def urls(tmp_path: Path, server: TestServer) -> Path:
    path = tmp_path / "urls.txt"
    path.write_text(server.url("/status/200") + "\n")
    return path


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--timeout", "inf"),
        ("--timeout", "nan"),
        ("--timeout", "-inf"),
        ("--timeout", "1e999"),
        ("--timeout", "0"),
        ("--connect-timeout", "inf"),
        ("--read-timeout", "nan"),
        ("--max-time", "inf"),
        ("--retry-delay", "inf"),
        ("--retry-max-delay", "nan"),
        ("--retry-max-time", "inf"),
        ("--grace", "inf"),
        ("--grace", "-1"),
    ],
)
def test_durations_must_be_finite(urls: Path, option: str, value: str) -> None:
    assert_usage_error(hx("fetch", urls, f"{option}={value}"), option)


def test_a_duration_from_the_environment_is_checked_too(urls: Path) -> None:
    assert_usage_error(hx("fetch", urls, env={"HX_RETRY_DELAY": "inf"}), "--retry-delay")


@pytest.mark.parametrize("option", ["--cookie-jar", "--netrc-file"])
def test_a_binary_credentials_file_is_a_usage_error_naming_it(
    urls: Path, tmp_path: Path, option: str
) -> None:
    path = tmp_path / "binary"
    path.write_bytes(BINARY)
    assert_usage_error(hx("fetch", urls, option, path), str(path), "not a text file")


def test_a_binary_config_file_is_a_usage_error_naming_it(urls: Path, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(BINARY)
    assert_usage_error(hx("--config", path, "fetch", urls), str(path), "not a text file in utf-8")


def test_a_deeply_nested_ndjson_line_is_invalid_input_and_the_batch_goes_on(
    tmp_path: Path, server: TestServer
) -> None:
    deep = {"url": server.url("/status/200"), "json": None}
    line = json.dumps(deep).replace("null", "[" * 1000 + "]" * 1000)
    path = tmp_path / "requests.ndjson"
    path.write_text(line + "\n" + json.dumps({"url": server.url("/status/200")}) + "\n")
    result = hx("fetch", path)
    assert result.exit_code == 3, result.stderr
    first, second = sorted(records(result), key=lambda r: r["line"])
    assert first["error"] == {
        "kind": "invalid_input",
        "message": "line 1: JSON nested deeper than 64 levels",
    }
    assert second["ok"] is True


def test_a_deeply_nested_line_on_stdin_ends_the_run(server: TestServer) -> None:
    """Read by the input thread (a pipe): it used to swallow the RecursionError and hang."""
    line = '{"url": "' + server.url("/status/200") + '", "json": ' + "[" * 5000 + "]" * 5000
    stdin = line + "}\n" + json.dumps({"url": server.url("/status/200")}) + "\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HX_")}
    done = subprocess.run(
        [sys.executable, "-m", "hx", "--no-config", "fetch", "-"],
        input=stdin.encode(),
        capture_output=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 3, done.stderr
    lines = sorted(json.loads(line)["line"] for line in done.stdout.splitlines())
    assert lines == [1, 2]
    assert b"Traceback" not in done.stderr


def test_an_unreadable_default_config_directory_is_no_config(
    urls: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HOME may be another user's (sudo -u): a config hx cannot even see is no config."""
    real_exists = Path.exists

    def exists(self: Path) -> bool:
        if self.name == "config.toml":
            # As root, chmod cannot hide a directory: refuse the look instead.
            raise PermissionError(13, "Permission denied", str(self))
        return real_exists(self)

    monkeypatch.setattr(Path, "exists", exists)
    result = hx("fetch", urls)
    assert result.exit_code == 0, result.stderr


def test_an_unexpected_error_before_the_command_is_one_line_not_a_traceback(
    urls: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_module = importlib.import_module("hx.cli.app")  # hx.cli.app is also the typer app

    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app_module, "config_defaults", broken)
    result = hx("fetch", urls)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "hx: error: internal error: RuntimeError: a bug (a bug in hx: please report it)\n"
    )
