"""hx fetch on a real (pseudo-)terminal 60 columns wide: the live display, then Ctrl-C.

The terminal is a pty whose line discipline turns the ^C typed into SIGINT
for hx and echoes ``^C`` at the cursor, as a user's terminal does. The
output is replayed on a model screen (support.screen) to see what is left.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from support.cli import isolate, write_lines
from support.screen import Screen
from support.server import TestServer

WIDTH = 60
# The child takes the pty as its controlling terminal, so that ^C reaches it as SIGINT.
_LAUNCH = (
    "import fcntl, os, sys, termios;"
    "os.setsid(); fcntl.ioctl(0, termios.TIOCSCTTY, 0);"
    "os.execv(sys.executable, [sys.executable, '-m', 'hx', *sys.argv[1:]])"
)


def read_until(master: int, output: bytearray, done: object, timeout: float) -> None:
    """Read the terminal into ``output`` until ``done()`` or the child hangs up."""
    deadline = time.monotonic() + timeout
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, output.decode(errors="replace")[-2000:]
        ready, _, _ = select.select([master], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every process holding the terminal has gone
            return
        if not chunk:
            return
        output += chunk


@pytest.mark.skipif(sys.platform != "linux", reason="needs a Linux pty")
def test_ctrl_c_leaves_the_summary_and_no_stale_progress(
    server: TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate(monkeypatch, tmp_path)
    source = write_lines(
        tmp_path / "urls.txt", [server.url(f"/slow?delay=5&n={n}") for n in range(40)]
    )
    env = {**os.environ, "TERM": "xterm-256color"}
    for name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR"):
        env.pop(name, None)
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, WIDTH, 0, 0))
    args = ["fetch", str(source), "-c", "4", "--grace", "0.2", "--output-file", "out.ndjson"]
    process = subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=tmp_path,
        env=env,
    )
    os.close(slave)
    output = bytearray()
    try:
        # The live display is up once it shows the requests in flight.
        read_until(master, output, lambda: b"4 in flight" in output, timeout=20)
        during = Screen(WIDTH)
        during.feed(output.decode())
        os.write(master, b"\x03")  # Ctrl-C, typed
        read_until(master, output, lambda: False, timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        os.close(master)

    assert process.returncode == 130
    # While it ran: two lines within the width, less the room for the ^C echo.
    live = [line for line in during.text() if line]
    assert len(live) == 2, live
    assert all(len(line) <= WIDTH - 3 for line in live), live
    assert "0/40" in live[0] and "4 in flight" in live[0]
    assert live[1].startswith("0 ok  0 failed")

    screen = Screen(WIDTH)
    screen.feed(output.decode())
    lines = screen.text()
    text = "\n".join(lines)
    assert "hx: SIGINT: stopping" in text
    head = next(i for i, line in enumerate(lines) if line.startswith("hx: 40 requests in "))
    assert "40 failed" in " ".join(lines[head : head + 2])
    assert lines[-1].startswith("  received:")  # the summary is the last thing on the screen
    # Nothing of the live display is left, above the summary or below it.
    for line in lines:
        assert "in flight" not in line and "ETA" not in line, text
        assert "━" not in line and "─" not in line, text
    assert (tmp_path / "out.ndjson").read_text().count("\n") == 40
