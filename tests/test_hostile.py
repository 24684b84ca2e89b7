"""hx against a server that attacks it (tests/support/hostile_server.py).

Every case runs ``hx fetch`` as a child process on a batch in which each
hostile URL stands between two normal ones, and checks the exit status, that
every record is there (the normal ones ok), the hostile record's error kind,
and that stderr holds no traceback. Bombs and endless bodies also bound the
child's peak RSS: decoding streams through in bounded pieces, so hx stays near
its resting size whatever the body expands to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from support.hostile_server import HostileServer

GIB = 1 << 30
MIB = 1 << 20
PEAK_RSS_MB = 150

# Runs hx (argv[2:]) as its child and writes the child's peak RSS in KiB to argv[1].
_MEASURED = """\
import resource, subprocess, sys
code = subprocess.run(sys.argv[2:]).returncode
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server
    assert not server.errors, server.errors


@dataclass
class Batch:
    """What one ``hx fetch`` run did with the hostile URLs of its input."""

    exit_code: int
    hostile: list[dict[str, Any]]
    """The records of the hostile URLs, in input order."""
    peak_rss_mb: float
    seconds: float


def fetch(
    server: HostileServer, paths: list[str], *options: str, tmp_path: Path, timeout: float = 60
) -> Batch:
    """``hx fetch`` on /ok, paths[0], /ok, paths[1], ..., /ok (no retries, no config)."""
    urls = [server.url("/ok?first")]
    for path in paths:
        urls += [server.url(path), server.url("/ok")]
    peak_file = tmp_path / "peak"
    config_home = tmp_path / "config"
    config_home.mkdir(exist_ok=True)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("HX_") and not name.lower().endswith("_proxy")
    }
    command = [sys.executable, "-c", _MEASURED, str(peak_file), sys.executable, "-m", "hx"]
    options = ("--retries", "0", *options)
    started = time.monotonic()
    proc = subprocess.run(
        [*command, "fetch", "-", "--ordered", "-q", *options],
        input="".join(url + "\n" for url in urls).encode(),
        capture_output=True,
        env={**env, "XDG_CONFIG_HOME": str(config_home), "NO_COLOR": "1"},
        timeout=timeout,
        check=False,
    )
    seconds = time.monotonic() - started
    stderr = proc.stderr.decode()
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    records = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [record["line"] for record in records] == list(range(1, len(urls) + 1)), records
    normal = records[::2]
    assert all(record["ok"] for record in normal), normal
    return Batch(proc.returncode, records[1::2], int(peak_file.read_text()) / 1024, seconds)


def one_failure(batch: Batch, kind: str) -> dict[str, Any]:
    """The single hostile record, which failed with ``kind``."""
    assert batch.exit_code == 3
    [record] = batch.hostile
    assert record["ok"] is False
    assert record["error"]["kind"] == kind, record
    return record


# -- decompression bombs -------------------------------------------------------


def test_stacked_gzip_bomb_fails_at_max_size_in_flat_memory(
    hostile: HostileServer, tmp_path: Path
) -> None:
    batch = fetch(
        hostile, [f"/stacked-bomb?size={4 * GIB}"], "--max-size", "10M", tmp_path=tmp_path
    )
    record = one_failure(batch, "too_large")
    assert record["error"]["message"] == "body exceeds --max-size 10485760 bytes"
    assert batch.peak_rss_mb < PEAK_RSS_MB


def test_single_gzip_bomb_of_10_gib_fails_at_max_size_in_flat_memory(
    hostile: HostileServer, tmp_path: Path
) -> None:
    batch = fetch(hostile, [f"/bomb?size={10 * GIB}"], "--max-size", "10M", tmp_path=tmp_path)
    one_failure(batch, "too_large")
    assert batch.peak_rss_mb < PEAK_RSS_MB


def _decoded_in_flat_memory(hostile: HostileServer, path: str, size: int, tmp_path: Path) -> None:
    batch = fetch(hostile, [path], tmp_path=tmp_path, timeout=300)
    assert batch.exit_code == 0
    [record] = batch.hostile
    assert (record["ok"], record["bytes"]) == (True, size), record
    assert batch.peak_rss_mb < PEAK_RSS_MB


@pytest.mark.parametrize("route", ["bomb", "stacked-bomb"])
def test_bombs_without_max_size_decode_to_the_end_in_flat_memory(
    hostile: HostileServer, tmp_path: Path, route: str
) -> None:
    size = 256 * MIB
    _decoded_in_flat_memory(hostile, f"/{route}?size={size}", size, tmp_path)


@pytest.mark.huge
@pytest.mark.parametrize(("route", "size"), [("bomb", 10 * GIB), ("stacked-bomb", 4 * GIB)])
def test_full_size_bombs_without_max_size_decode_in_flat_memory(
    hostile: HostileServer, tmp_path: Path, route: str, size: int
) -> None:
    _decoded_in_flat_memory(hostile, f"/{route}?size={size}", size, tmp_path)


# -- endless and slow bodies -----------------------------------------------------


def test_endless_body_stops_at_max_size(hostile: HostileServer, tmp_path: Path) -> None:
    batch = fetch(hostile, ["/endless"], "--max-size", "5M", tmp_path=tmp_path)
    one_failure(batch, "too_large")
    assert batch.peak_rss_mb < PEAK_RSS_MB


@pytest.mark.parametrize("option", ["--body", "--expect-body=.*"])
def test_an_endless_kept_body_stops_at_16_mib_without_max_size(
    hostile: HostileServer, tmp_path: Path, option: str
) -> None:
    """--body and body checks hold the body in memory: 16 MiB at most, or a body
    sent without end would take all of it."""
    batch = fetch(hostile, ["/endless"], option, tmp_path=tmp_path)
    record = one_failure(batch, "too_large")
    assert "16777216 bytes, the most hx keeps of a body" in record["error"]["message"]
    assert batch.peak_rss_mb < PEAK_RSS_MB + 40  # the 16 MiB it keeps, and its copies


def test_endless_body_streams_through_until_max_time(
    hostile: HostileServer, tmp_path: Path
) -> None:
    batch = fetch(hostile, ["/endless"], "--max-time", "1", tmp_path=tmp_path)
    one_failure(batch, "timeout")
    assert batch.peak_rss_mb < PEAK_RSS_MB
    assert batch.seconds < 10


@pytest.mark.parametrize("route", ["/drip-head?delay=0.05", "/drip-body?delay=0.05"])
def test_slow_drip_is_cut_at_max_time(hostile: HostileServer, tmp_path: Path, route: str) -> None:
    batch = fetch(hostile, [route], "--max-time", "1", tmp_path=tmp_path)
    one_failure(batch, "timeout")
    assert batch.seconds < 10  # the read timeout (30 s) never trips: a byte keeps coming


def test_server_that_never_answers_is_a_read_timeout(
    hostile: HostileServer, tmp_path: Path
) -> None:
    batch = fetch(hostile, ["/silent"], "--read-timeout", "0.5", tmp_path=tmp_path)
    record = one_failure(batch, "timeout")
    assert record["error"]["message"] == "read timeout"


# -- heads -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "route", ["/huge-head?size=100000", "/huge-reason?size=100000", "/cookies?count=10000"]
)
def test_heads_past_the_limit_are_protocol_failures(
    hostile: HostileServer, tmp_path: Path, route: str
) -> None:
    batch = fetch(hostile, [route], tmp_path=tmp_path)
    record = one_failure(batch, "protocol")
    assert "head larger than 65536 bytes" in record["error"]["message"]


def test_set_cookie_flood_within_the_head_limit_is_a_response(
    hostile: HostileServer, tmp_path: Path
) -> None:
    batch = fetch(hostile, ["/cookies?count=2000"], tmp_path=tmp_path)
    assert batch.exit_code == 0
    assert batch.hostile[0]["status"] == 200


# -- redirects -------------------------------------------------------------------


def redirect(location: str, body: str = "short") -> str:
    return f"/redirect?to={quote(location, safe='')}&body={body}"


@pytest.mark.parametrize(
    ("body", "connections"),
    [("short", 1), ("bomb", 1), ("endless", 2), ("broken", 2)],
)
def test_redirect_bodies_are_drained_raw_when_short_else_cost_their_connection(
    hostile: HostileServer, tmp_path: Path, body: str, connections: int
) -> None:
    """ok, redirect, ok, ok with one connection at a time: a drained redirect body
    (the ~5 KB bomb too, undecoded) leaves it reusable; an endless or broken one
    does not, and the redirect is followed all the same."""
    before = hostile.connections
    batch = fetch(hostile, [redirect("/ok", body)], "-c", "1", tmp_path=tmp_path)
    assert batch.exit_code == 0
    assert batch.hostile[0]["final_url"] == hostile.url("/ok")
    assert hostile.connections - before == connections
    assert batch.peak_rss_mb < PEAK_RSS_MB


def test_redirect_loop_stops_at_max_redirects(hostile: HostileServer, tmp_path: Path) -> None:
    batch = fetch(hostile, ["/loop"], "--max-redirects", "5", tmp_path=tmp_path)
    record = one_failure(batch, "too_many_redirects")
    assert "more than 5 redirects" in record["error"]["message"]


def test_odd_locations_are_refused_by_name(hostile: HostileServer, tmp_path: Path) -> None:
    port = hostile.port
    refused = {
        "data:text/plain,hi": "unsupported scheme 'data'",
        "javascript:alert(1)": "unsupported scheme 'javascript'",
        "ftp://127.0.0.1/x": "unsupported scheme 'ftp'",
        "http://127.0.0.1:0/ok": "port 0 is outside 1-65535",
        "http://127.0.0.1:83616/ok": "port 83616 is outside 1-65535",
        "http://127.0.0.1:65536/ok": "port 65536 is outside 1-65535",
        "http:///ok": "URL has no host",
        "https://": "URL has no host",
        "//:80/ok": "URL has no host",
        "http://[bad/": "invalid host",
        "/ok\x7f": "non-printable",
        f"http://user:secret@127.0.0.1:{port}:99/ok": "",
    }
    batch = fetch(hostile, [redirect(location) for location in refused], tmp_path=tmp_path)
    assert batch.exit_code == 3
    for (location, reason), record in zip(refused.items(), batch.hostile, strict=True):
        assert record["error"]["kind"] == "redirect", (location, record)
        message = record["error"]["message"]
        assert message.startswith("redirect refused, "), message
        assert reason in message
        if "secret" in location:
            assert "secret" not in message and "user:***@" in message, message
        else:
            assert message.endswith(": " + location), message


def test_relative_garbage_locations_resolve_against_the_request(
    hostile: HostileServer, tmp_path: Path
) -> None:
    locations = ["../../../../ok", "/%zz/..//nowhere", "  "]
    batch = fetch(hostile, [redirect(location) for location in locations], tmp_path=tmp_path)
    followed, missing, itself = batch.hostile
    assert followed["ok"] and followed["final_url"] == hostile.url("/ok"), followed
    assert (missing["status"], missing["error"]["kind"]) == (404, "http_status"), missing
    # An empty Location (the spaces are trimmed) names the request itself: a loop.
    assert itself["error"]["kind"] == "too_many_redirects", itself


def test_without_following_an_odd_location_is_just_a_response(
    hostile: HostileServer, tmp_path: Path
) -> None:
    batch = fetch(
        hostile, [redirect("data:text/plain,hi")], "--no-follow-redirects", tmp_path=tmp_path
    )
    assert batch.exit_code == 0
    assert batch.hostile[0]["status"] == 302


# -- Retry-After -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["86400", "Fri, 31 Dec 9999 23:59:59 GMT", "9" * 400], ids=["day", "9999", "digits"]
)
def test_retry_after_beyond_retry_max_time_fails_at_once(
    hostile: HostileServer, tmp_path: Path, value: str
) -> None:
    route = f"/retry-after?value={quote(value)}"
    batch = fetch(hostile, [route], "--retries", "3", "--retry-max-time", "30", tmp_path=tmp_path)
    record = one_failure(batch, "http_status")
    assert record["status"] == 503
    assert "--retry-max-time" in record["error"]["message"], record
    assert batch.seconds < 10


# -- downloads: the same bounded decoding ----------------------------------------------


def download(
    server: HostileServer, path: str, *options: str, tmp_path: Path
) -> tuple[subprocess.CompletedProcess[bytes], float]:
    """``hx download`` of one hostile URL into tmp_path/dl; (the process, its peak RSS MiB)."""
    peak_file = tmp_path / "peak"
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("HX_") and not name.lower().endswith("_proxy")
    }
    command = [sys.executable, "-c", _MEASURED, str(peak_file), sys.executable, "-m", "hx"]
    proc = subprocess.run(
        [*command, "--no-config", "download", server.url(path), "-d", str(tmp_path / "dl")]
        + ["-q", "--retries", "0", *options],
        capture_output=True,
        env={**env, "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )
    assert b"Traceback" not in proc.stderr, proc.stderr
    return proc, int(peak_file.read_text()) / 1024


@pytest.mark.parametrize("route", [f"/stacked-bomb?size={4 * GIB}", f"/bomb?size={10 * GIB}"])
def test_a_download_of_a_bomb_stops_at_max_size_in_flat_memory(
    hostile: HostileServer, tmp_path: Path, route: str
) -> None:
    proc, peak_mb = download(hostile, route, "--max-size", "10M", tmp_path=tmp_path)
    assert proc.returncode == 4, proc.stderr
    [record] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert record["error"]["kind"] == "too_large", record
    assert peak_mb < PEAK_RSS_MB


def test_a_compressed_download_is_saved_decoded_in_flat_memory(
    hostile: HostileServer, tmp_path: Path
) -> None:
    size = 256 * MIB
    proc, peak_mb = download(hostile, f"/stacked-bomb?size={size}", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    [record] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert (record["ok"], record["bytes"]) == (True, size), record
    saved = Path(record["path"])
    assert saved.stat().st_size == size
    assert peak_mb < PEAK_RSS_MB
