"""``hx fetch`` as a real process: pipes, signals, exit statuses, the console script."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from hx import __version__
from support.cli import records, write_lines
from support.process import HX, hx_env, wait_for
from support.server import TestServer

SUMMARY_HEAD = re.compile(
    r"hx: (?P<total>[\d,]+) requests in \d+\.\d\d s \([\d,.]+ req/s\): "
    r"(?P<ok>[\d,]+) ok, (?P<failed>[\d,]+) failed"
)


def assert_clean_stderr(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert "Exception ignored" not in stderr
    assert "\x1b" not in stderr  # stderr is not a terminal: no colour, no cursor moves


def run_hx(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*HX, *(str(a) for a in args)],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        env=hx_env(),
        timeout=60,
        check=False,
    )


def test_normal_run(server: TestServer, tmp_path: Path) -> None:
    urls = [server.url("/status/200"), server.url("/json"), server.url("/status/404")]
    proc = run_hx("fetch", write_lines(tmp_path / "urls.txt", urls))
    assert proc.returncode == 3
    recs = records(proc.stdout)
    assert sorted((rec["line"], rec["status"]) for rec in recs) == [(1, 200), (2, 200), (3, 404)]
    stderr = proc.stderr.decode()
    assert_clean_stderr(stderr)
    head = SUMMARY_HEAD.fullmatch(stderr.splitlines()[0])
    assert head is not None, stderr
    assert (head["total"], head["ok"], head["failed"]) == ("3", "2", "1")


def test_stdin_pipe(server: TestServer) -> None:
    stdin = f"{server.url('/status/200')}\n{server.url('/bytes/10')}\n".encode()
    proc = run_hx("fetch", "-", "-q", stdin=stdin)
    assert proc.returncode == 0
    assert proc.stderr == b""
    recs = records(proc.stdout)
    assert sorted((rec["line"], rec["bytes"]) for rec in recs) == [(1, 11), (2, 10)]


def test_reader_closing_stdout_exits_141(server: TestServer, tmp_path: Path) -> None:
    """``hx fetch urls | head -1``: the reader leaves; hx stops quietly with 128 + SIGPIPE."""
    source = write_lines(tmp_path / "urls.txt", [server.url("/slow?delay=0.05")] * 200)
    err_path = tmp_path / "stderr"
    with err_path.open("wb") as err:
        proc = subprocess.Popen(
            [*HX, "fetch", str(source)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            env=hx_env(),
        )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        proc.stdout.close()
        returncode = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert json.loads(first)["status"] == 200
    assert returncode == 141
    stderr = err_path.read_text()
    assert_clean_stderr(stderr)
    assert "BrokenPipe" not in stderr


@pytest.mark.parametrize(
    ("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"]
)
def test_signal_mid_batch(
    fresh_server: TestServer, tmp_path: Path, signum: signal.Signals, exit_code: int
) -> None:
    # Five quick requests, then requests the server never answers: after the signal,
    # hx must give those in flight exactly its grace, then cut them.
    quick = [fresh_server.url("/status/200")] * 5
    hanging = [fresh_server.url("/hang")] * 45
    source = write_lines(tmp_path / "urls.txt", quick + hanging)
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    summary_path = tmp_path / "summary.json"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [*HX, "fetch", str(source), "-c", "5", "--grace", "0.5"]
            + ["--summary-json", str(summary_path)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=hx_env(),
        )
    try:

        def hanging_wave_in_flight() -> bool:
            return sum(req.path == "/hang" for req in fresh_server.requests) == 5

        wait_for(lambda: hanging_wave_in_flight() or proc.poll() is not None, "hanging wave")
        assert proc.poll() is None, err_path.read_text()
        signalled = time.monotonic()
        proc.send_signal(signum)
        returncode = proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert returncode == exit_code
    # Timed where hx cuts the requests (the server sees their connections close), not
    # at process exit, which a loaded machine can delay by a second.
    wait_for(lambda: len(fresh_server.hangups) == 5, "hang-up of the hanging wave")
    cut_after = [when - signalled for when in fresh_server.hangups]
    assert all(0.5 <= after < 0.9 for after in cut_after), cut_after
    recs = records(out_path.read_bytes())
    assert Counter(rec["line"] for rec in recs) == Counter(range(1, 51))
    finished = [rec for rec in recs if rec["ok"]]
    cut = [rec for rec in recs if not rec["ok"]]
    assert sorted(rec["line"] for rec in finished) == [1, 2, 3, 4, 5]
    assert all(rec["error"]["kind"] == "interrupted" for rec in cut), cut
    assert all(signum.name in rec["error"]["message"] for rec in cut)
    started = [rec for rec in cut if "before the request started" not in rec["error"]["message"]]
    assert len(started) == 5

    stderr = err_path.read_text()
    assert_clean_stderr(stderr)
    assert f"hx: {signum.name}: stopping" in stderr
    head = next(m for line in stderr.splitlines() if (m := SUMMARY_HEAD.fullmatch(line)))
    assert (head["total"], head["ok"], head["failed"]) == ("50", "5", "45")
    summary = json.loads(summary_path.read_text())
    assert (summary["total"], summary["interrupted"]) == (50, True)
    assert summary["by_error"] == {"interrupted": 45}


def test_console_script(server: TestServer, tmp_path: Path) -> None:
    script = shutil.which("hx")
    if script is None:
        pytest.skip("the hx console script is not on PATH")
    version = subprocess.run(
        [script, "--version"], capture_output=True, env=hx_env(), timeout=60, check=False
    )
    assert (version.returncode, version.stdout, version.stderr) == (
        0,
        f"hx {__version__}\n".encode(),
        b"",
    )
    source = write_lines(tmp_path / "urls.txt", [server.url("/json")])
    proc = subprocess.run(
        [script, "fetch", str(source), "-q"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=hx_env(),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stderr == b""
    [rec] = records(proc.stdout)
    assert (rec["status"], rec["ok"]) == (200, True)


@contextlib.contextmanager
def hx_on_open_stdin(server: TestServer) -> Iterator[subprocess.Popen[bytes]]:
    """``hx fetch -`` fed three URLs through a pipe that stays open; first record read."""
    proc = subprocess.Popen(
        [*HX, "fetch", "-", "-c", "2", "--grace", "0.5"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=hx_env(),
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(f"{server.url('/status/200')}\n".encode() * 3)
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["status"] == 200
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()  # waits, and closes stdin, stdout and stderr


def wait_with_stdin_open(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    returncode = proc.wait(timeout=15)
    assert proc.stderr is not None
    return returncode, proc.stderr.read().decode()


def test_sigint_with_stdin_still_open(server: TestServer) -> None:
    # `producer | hx fetch -` with the producer still running: the input reader is
    # blocked on the pipe when hx exits, which must not abort the interpreter.
    with hx_on_open_stdin(server) as proc:
        proc.send_signal(signal.SIGINT)
        returncode, stderr = wait_with_stdin_open(proc)
    assert "Fatal Python error" not in stderr
    assert returncode == 130


def test_reader_leaving_with_stdin_still_open(server: TestServer) -> None:
    # `producer | hx fetch - | head -1`
    with hx_on_open_stdin(server) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdout.close()
        # hx learns that its reader left when it next writes: the records of the first
        # three URLs may all be in the pipe already, so one more URL makes sure it writes.
        proc.stdin.write(f"{server.url('/status/200')}\n".encode())
        proc.stdin.flush()
        returncode, stderr = wait_with_stdin_open(proc)
    assert "Fatal Python error" not in stderr
    assert returncode == 141
