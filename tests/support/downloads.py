"""Running ``hx download`` in tests: in-process or as a process, and what it left on disk.

A test module takes the file server as a fixture with ``files = pytest.fixture(serve_files)``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result as CliResult

from support import cli
from support.download_server import DownloadServer
from support.process import HX, wait_for

__all__ = [
    "MiB",
    "hx",
    "hx_process",
    "kill_when",
    "only_record",
    "part_size",
    "plain_env",
    "serve_files",
    "sha256_of",
]

MiB = 1 << 20
# rich and NO_COLOR-style switches that could make stderr look like a terminal's.
_COLOUR_ENV = ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE")


def serve_files() -> Iterator[DownloadServer]:
    """A fresh file server per test: empty logs, every file at version 0, no throttle."""
    with DownloadServer() as srv:
        yield srv
    if srv.errors:
        pytest.fail(f"download server handler raised: {srv.errors!r}")


def hx(*args: str | Path, env: dict[str, str | None] | None = None) -> CliResult:
    """``hx download ARGS`` in-process; never a traceback."""
    return cli.hx("download", *args, env=env)


def only_record(result: CliResult) -> dict[str, Any]:
    recs = cli.records(result)
    assert len(recs) == 1, recs
    return recs[0]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(MiB):
            digest.update(block)
    return digest.hexdigest()


def part_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def plain_env() -> dict[str, str]:
    """The environment of a child hx: nothing that forces colour or a terminal, nor turns
    colour off (``support.process.hx_env`` does), so a test sees what a pipe gets."""
    env = {k: v for k, v in os.environ.items() if k not in _COLOUR_ENV}
    env.pop("HX_BASE_URL", None)
    return env


@contextlib.contextmanager
def hx_process(
    *args: str | Path, log: Path, stdout: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m hx download ARGS`` running, stderr to ``log`` (stdout to ``stdout`` if
    given); killed and reaped on the way out."""
    with contextlib.ExitStack() as files:
        err = files.enter_context(log.open("wb"))
        out = files.enter_context(stdout.open("wb")) if stdout else subprocess.DEVNULL
        proc = subprocess.Popen(
            [*HX, "download", *(str(a) for a in args)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=plain_env(),
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def kill_when(condition: Callable[[], bool], what: str, *args: str | Path, log: Path) -> None:
    """Start hx, SIGKILL it once ``condition`` holds (it must still be running then)."""
    with hx_process(*args, log=log) as proc:
        wait_for(lambda: condition() or proc.poll() is not None, what, timeout=20)
        assert proc.poll() is None, f"hx ended before it was killed: {log.read_text()}"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
