"""Run one command as a child and measure it: wall time, CPU seconds, peak RSS.

Wall time is taken around spawn and ``os.wait4``; CPU seconds (user + system) come from
``os.wait4``'s resource usage, so they cover the child and every descendant it waited for.

Peak RSS: Linux carries the high-water mark of the address space that ``exec`` replaces
into the child's ``ru_maxrss``, so a child forked from this Python process never reports
less than the bench's own peak (~20 MiB, more after big allocations). The command is
therefore started through GNU time (``/usr/bin/time``, Debian package ``time``), which
forks it from a ~2 MiB process and reports its ``ru_maxrss`` (%M): the largest single
process of the tree, not a sum. Without GNU time, ``os.wait4``'s ``ru_maxrss`` is used
and the figures carry that floor (see ``RSS_NOTE``).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Sample:
    wall: float  # seconds
    cpu: float  # user + system seconds
    rss_mb: float  # peak resident set, MiB
    error: str | None = None  # why the run does not count; None when it succeeded


def child_env() -> dict[str, str]:
    """This environment without proxies or HX_* settings, so every tool talks to nginx
    directly; and without PYTHONDONTWRITEBYTECODE, so that hx run from a checkout keeps
    its bytecode as an installed hx does (pip compiles it): otherwise every run compiles
    hx's sources again, tens of ms of S5's start-up that no user pays."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy")
        and not k.startswith("HX_")
        and k != "PYTHONDONTWRITEBYTECODE"
    }


ENV = child_env()


def _gnu_time() -> str | None:
    path = shutil.which("time") or "/usr/bin/time"
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if "GNU" in done.stdout + done.stderr else None


GNU_TIME = _gnu_time()
RSS_NOTE = (
    "peak RSS via GNU time (%M) of the command itself"
    if GNU_TIME
    else "GNU time missing (apt-get install -y time): peak RSS includes the bench's own "
    "~20 MiB floor"
)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def measure(argv: list[str], stdout: Path | None = None, timeout: float = 3600) -> Sample:
    """Run argv to completion (stdout to a file or /dev/null) and return its costs."""
    out_path = stdout or Path(os.devnull)
    with (
        tempfile.TemporaryFile() as err,
        out_path.open("wb") as out,
        tempfile.NamedTemporaryFile("r", prefix="hx-bench-rss-") as rss,
    ):
        wrapped = [GNU_TIME, "-f", "%M", "-o", rss.name, *argv] if GNU_TIME else argv
        start = time.perf_counter()
        proc = subprocess.Popen(
            wrapped,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=ENV,
            start_new_session=True,
        )
        timer = threading.Timer(timeout, _kill_group, (proc.pid,))
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-600:].decode(errors="replace").strip()
        reported = rss.read().split()
    peak = usage.ru_maxrss
    if GNU_TIME and reported and reported[-1].isdigit():
        peak = int(reported[-1])
    if GNU_TIME and code == 128 + signal.SIGKILL:
        code = -signal.SIGKILL
    error = None
    if code != 0:
        why = f"killed after {timeout:.0f} s timeout" if code == -signal.SIGKILL else f"exit {code}"
        error = f"{why}: {tail}" if tail else why
    return Sample(wall, usage.ru_utime + usage.ru_stime, peak / 1024, error)


def startup(argv: list[str], runs: int, hyperfine: str | None) -> Sample:
    """Median start-up of a short command: hyperfine when installed, else our own loop.

    CPU is the mean user+system per run (hyperfine reports means); RSS is from one more
    measured run.
    """
    single = measure(argv, timeout=60)
    if single.error:
        return single
    if hyperfine:
        with tempfile.NamedTemporaryFile(suffix=".json") as report:
            done = subprocess.run(
                [
                    hyperfine,
                    "-N",
                    "--style",
                    "none",
                    "--warmup",
                    "3",
                    "--runs",
                    str(runs),
                    "--export-json",
                    report.name,
                    shlex.join(argv),
                ],
                capture_output=True,
                text=True,
                env=ENV,
            )
            if done.returncode != 0:
                return Sample(0, 0, 0, f"hyperfine exit {done.returncode}: {done.stderr[-400:]}")
            result = json.loads(Path(report.name).read_text())["results"][0]
        return Sample(result["median"], result["user"] + result["system"], single.rss_mb)
    samples = [measure(argv, timeout=60) for _ in range(max(runs, 10))]
    failed = next((s for s in samples if s.error), None)
    if failed:
        return failed
    return Sample(
        statistics.median(s.wall for s in samples),
        statistics.mean(s.cpu for s in samples),
        single.rss_mb,
    )
