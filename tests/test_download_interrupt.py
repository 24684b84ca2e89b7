"""``hx download`` stopped: by Ctrl-C or SIGTERM (a real process), or by --max-time.

Transfers stop within --grace, the ``.part`` keeps what arrived and stays resumable,
and the record says so honestly: ``bytes`` is the part on disk, ``received`` what
crossed the wire this run, ``resumed_from`` where the run started; a later ``-C``
fetches only the rest.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from support.download_server import DownloadServer, file_sha256
from support.downloads import (
    MiB,
    hx,
    hx_process,
    only_record,
    part_size,
    serve_files,
    sha256_of,
)
from support.process import wait_for

files = pytest.fixture(serve_files)

GRACE = 1.0
EXIT_WITHIN = GRACE + 3.0
"""The grace, plus the time a loaded machine needs to end a Python process."""


def segments_done(state: Path) -> int:
    try:
        segments = json.loads(state.read_text())["segments"]
    except (OSError, ValueError, KeyError, TypeError):
        return 0
    return sum(done for _start, _end, done in segments or ())


@pytest.mark.parametrize(
    ("signum", "exit_code", "split"),
    [(signal.SIGINT, 130, "1"), (signal.SIGTERM, 143, "1"), (signal.SIGINT, 130, "4")],
    ids=["INT", "TERM", "INT-split"],
)
def test_signal_stops_within_grace_and_the_part_resumes(
    files: DownloadServer, tmp_path: Path, signum: signal.Signals, exit_code: int, split: str
) -> None:
    size, name, dest = 48 * MiB, "big.bin", tmp_path / "dl"
    url = files.file_url(name, size=size)
    part, state = dest / f"{name}.part", dest / f"{name}.part.hx"
    on_disk = (lambda: segments_done(state)) if split == "4" else (lambda: part_size(part))
    files.set_rate(name, 4 * MiB)  # per connection: far from done when the signal comes
    out, log = tmp_path / "run1.ndjson", tmp_path / "run1.log"
    args = ("--grace", str(GRACE), "--split", split, "-d", dest, url)
    with hx_process(*args, log=log, stdout=out) as proc:
        wait_for(lambda: on_disk() >= 2 * MiB or proc.poll() is not None, "2 MiB on disk", 20)
        signalled = time.monotonic()
        proc.send_signal(signum)
        assert proc.wait(timeout=30) == exit_code, log.read_text()
        assert time.monotonic() - signalled < EXIT_WITHIN

    (rec,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert (rec["ok"], rec["error"]["kind"]) == (False, "interrupted")
    held = on_disk()
    assert 2 * MiB <= held < size
    assert (rec["path"], rec["bytes"], rec["received"], rec["resumed_from"]) == (
        str(part),
        held,
        held,
        0,
    )
    assert json.loads(state.read_text())["validator"] == files.etag(name)
    assert sorted(p.name for p in dest.iterdir()) == [f"{name}.part", f"{name}.part.hx"]

    files.set_rate(name, None)
    result = hx("-C", "--split", split, "-d", dest, url)
    assert result.exit_code == 0, result.stderr
    done = only_record(result)
    assert (done["ok"], done["bytes"], done["resumed_from"]) == (True, size, held)
    assert done["received"] == size - held
    assert done["sha256"] == sha256_of(dest / name) == file_sha256(name, size)
    assert sorted(p.name for p in dest.iterdir()) == [name]


def test_max_time_keeps_the_part_and_says_how_much(files: DownloadServer, tmp_path: Path) -> None:
    size, name = 8 * MiB, "slow.bin"
    url = files.file_url(name, size=size, rate=2 * MiB)
    result = hx("--max-time", "1", "--retries", "0", "-d", tmp_path, url)
    assert result.exit_code == 4, result.stderr
    rec = only_record(result)
    part = tmp_path / f"{name}.part"
    held = part_size(part)
    assert rec["error"]["kind"] == "timeout"
    assert (rec["path"], rec["bytes"], rec["received"]) == (str(part), held, held)
    assert 0 < held < size
