"""--shard K/N slices the input; --workers N runs slices in processes and merges them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hx.models import Result
from hx.run.records import dumps
from hx.run.workers import _blocks, _line_number, _records_in
from support.cli import hx, records, write_lines
from support.process import HX, hx_env, wait_for
from support.server import TestServer


def write_urls(path: Path, urls: list[str]) -> Path:
    return write_lines(path, ["# a comment line counts as a line", *urls])


def hx_process(*args: str | Path, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*HX, *(str(arg) for arg in args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=hx_env(XDG_CONFIG_HOME="/nonexistent"),
        **kwargs,  # type: ignore[arg-type]
    )


def test_shards_split_the_input_into_disjoint_slices(server: TestServer, tmp_path: Path) -> None:
    source = write_urls(tmp_path / "urls.txt", [server.url(f"/status/200?{i}") for i in range(20)])
    seen: list[int] = []
    for index in (1, 2, 3):
        result = hx("fetch", source, "--shard", f"{index}/3", "-q")
        assert result.exit_code == 0, result.stderr
        lines = [rec["line"] for rec in records(result)]
        assert all((line - 1) % 3 == index - 1 for line in lines)
        seen += lines
    assert sorted(seen) == list(range(2, 22))


def test_bad_shard_is_a_usage_error(tmp_path: Path) -> None:
    source = write_urls(tmp_path / "urls.txt", ["http://127.0.0.1:1/"])
    result = hx("fetch", source, "--shard", "4/3")
    assert result.exit_code == 2
    assert result.stderr.startswith("hx: error: Invalid value for '--shard'")
    assert "expected K/N with 1 <= K <= N, got '4/3'" in result.stderr
    assert result.stdout == ""


@pytest.mark.slow
def test_workers_merge_every_record_once_in_order(server: TestServer, tmp_path: Path) -> None:
    urls = [server.url(f"/status/{404 if i % 10 == 0 else 200}?{i}") for i in range(300)]
    source = write_urls(tmp_path / "urls.txt", urls)
    summary = tmp_path / "summary.json"
    process = hx_process(
        "fetch", source, "--workers", "3", "--ordered", "-c", "6", "--summary-json", str(summary)
    )
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 3, stderr
    lines = [rec["line"] for rec in records(stdout)]
    assert lines == list(range(2, 302))
    data = json.loads(summary.read_text())
    assert (data["total"], data["ok"], data["failed"]) == (300, 270, 30)
    assert data["by_status"] == {"2xx": 270, "4xx": 30}
    assert "hx: 300 requests in" in stderr
    assert "Traceback" not in stderr


def test_workers_pass_on_records_longer_than_a_pipe_read(
    server: TestServer, tmp_path: Path
) -> None:
    """The parent reads the workers' pipes 64 KiB at a time: a 300 KB record comes whole."""
    urls = [server.url(f"/text/{300_000 if i % 3 == 0 else 10}?{i}") for i in range(12)]
    process = hx_process(
        "fetch", write_urls(tmp_path / "urls.txt", urls), "--workers", "2", "--body", "-q"
    )
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    got = records(stdout)
    assert sorted(rec["line"] for rec in got) == list(range(2, 14))
    assert sorted(len(rec["body"]) for rec in got) == [10] * 8 + [300_000] * 4


record_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300).map(
    lambda text: json.dumps({"body": text}, ensure_ascii=False) + "\n"
)


@given(
    st.lists(record_text | st.just('{"body":"\u2028 and \u0085 stay inside"}\n'), max_size=30),
    st.lists(st.integers(1, 700), min_size=1, max_size=10),
)
def test_blocks_are_whole_records_however_the_pipe_splits_them(
    written: list[str], cuts: list[int]
) -> None:
    data = "".join(written).encode()
    pieces, at, turn = [], 0, 0
    while at < len(data):  # the worker's writes, cut anywhere (even inside a character)
        pieces.append(data[at : at + cuts[turn % len(cuts)]])
        at, turn = at + cuts[turn % len(cuts)], turn + 1
    blocks = asyncio.run(_read_blocks(pieces))
    assert all(block.endswith("\n") for block in blocks)
    assert [line for block in blocks for line in _records_in(block)] == written


def test_a_record_cut_short_by_a_worker_s_death_is_ended() -> None:
    blocks = asyncio.run(_read_blocks([b'{"line":2}\n{"line":3,"ur']))
    assert [line for block in blocks for line in _records_in(block)] == [
        '{"line":2}\n',
        '{"line":3,"ur\n',
    ]


async def _read_blocks(pieces: list[bytes]) -> list[str]:
    read_fd, write_fd = os.pipe()

    async def write() -> None:
        for piece in pieces:
            await asyncio.to_thread(os.write, write_fd, piece)
        os.close(write_fd)

    writing = asyncio.create_task(write())
    blocks = [block async for block in _blocks(asyncio.get_running_loop(), read_fd)]
    await writing
    return blocks


def test_workers_need_a_file_source() -> None:
    process = hx_process("fetch", "-", "--workers", "2")
    stdout, stderr = process.communicate("http://127.0.0.1:1/\n", timeout=30)
    assert process.returncode == 2
    assert stdout == ""
    assert "--workers needs SOURCE to be a file" in stderr


def test_sigterm_reaches_every_worker(fresh_server: TestServer, tmp_path: Path) -> None:
    source = write_urls(tmp_path / "urls.txt", [fresh_server.url("/slow?delay=1")] * 40)
    process = hx_process("fetch", source, "--workers", "2", "-c", "4", "--grace", "0.2")
    # Both workers are running once both have filled their four slots.
    wait_for(lambda: len(fresh_server.requests) == 8, "eight requests in flight")
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 143, stderr
    recs = records(stdout)
    assert sorted(rec["line"] for rec in recs) == list(range(2, 42))
    kinds = {rec["error"]["kind"] for rec in recs if rec["error"]}
    assert kinds == {"interrupted"}
    assert "Traceback" not in stderr


def test_a_batch_level_failure_in_the_workers_is_the_exit_code(tmp_path: Path) -> None:
    source = write_urls(tmp_path / "urls.txt", ["http://127.0.0.1:1/a", "http://127.0.0.1:1/b"])
    journal = tmp_path / "missing-dir" / "journal"
    process = hx_process("fetch", source, "--workers", "2", "--journal", str(journal), "-q")
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 5  # the journal cannot be written: as without --workers
    assert stdout == ""
    lines = stderr.splitlines()
    assert sorted(lines) == [
        f"hx: error: worker {k}/2: --journal {journal}: No such file or directory" for k in (1, 2)
    ]


def test_auto_forks_one_worker_per_core_for_a_big_file_only(tmp_path: Path) -> None:
    from hx.run.workers import AUTO_MIN_BYTES, auto_worker_count

    small = write_lines(tmp_path / "small.txt", ["http://h/x"])
    big = tmp_path / "big.txt"
    big.write_bytes(b"http://h/x\n" * (AUTO_MIN_BYTES // 11 + 1))
    assert auto_worker_count(str(big), cores=4) == 4
    assert auto_worker_count(str(big), cores=1) == 1
    assert auto_worker_count(str(small), cores=4) == 1
    assert auto_worker_count("-", cores=4) == 1
    assert auto_worker_count(str(tmp_path / "missing"), cores=4) == 1


@pytest.mark.parametrize("args", [[], ["--ordered"]])
def test_auto_on_a_big_input_gives_every_record_once(
    server: TestServer, tmp_path: Path, args: list[str]
) -> None:
    from hx.run.workers import AUTO_MIN_BYTES

    url = server.url("/status/200?padding=" + "x" * 200)
    count = AUTO_MIN_BYTES // len(url) + 10
    source = write_lines(tmp_path / "urls.txt", [url] * count)
    assert source.stat().st_size >= AUTO_MIN_BYTES
    process = hx_process("fetch", source, "--workers", "auto", "-c", "50", "-q", *args)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    lines = [rec["line"] for rec in records(stdout)]
    assert sorted(lines) == list(range(1, count + 1))
    if args:
        assert lines == sorted(lines)


@pytest.mark.parametrize("value", ["0", "-1", "many", "1.5"])
def test_bad_workers_values_are_usage_errors(tmp_path: Path, value: str) -> None:
    from support.cli import assert_usage_error

    source = write_lines(tmp_path / "urls.txt", ["http://h/x"])
    assert_usage_error(hx("fetch", source, "--workers", value), "--workers")


@pytest.mark.slow
def test_rate_holds_for_the_whole_run_across_workers(server: TestServer, tmp_path: Path) -> None:
    """--rate 20/s with two workers: 20 requests take about a second, not half of one."""
    source = write_urls(tmp_path / "urls.txt", [server.url(f"/status/200?{i}") for i in range(21)])
    process = hx_process("fetch", source, "--workers", "2", "--rate", "20/s", "-q")
    started = time.monotonic()
    stdout, stderr = process.communicate(timeout=60)
    elapsed = time.monotonic() - started
    assert process.returncode == 0, stderr
    assert len(stdout.splitlines()) == 21
    # Each worker books 10 or 11 slots 0.1 s apart: ~1 s; without the share, ~0.5 s.
    assert elapsed >= 0.9


@given(st.one_of(st.integers(), st.text()), st.integers(min_value=1, max_value=10**9))
def test_the_parent_reads_a_record_s_line_whatever_its_id(record_id: int | str, line: int) -> None:
    """--ordered merges by line without parsing the record: an id that spells out
    ',"line":' (quotes escaped in it) does not fool it."""
    record = dumps(Result(id=record_id, line=line, url="http://h/", method="GET", ok=True)) + "\n"
    assert _line_number(record) == line


def test_the_parent_reads_an_id_that_imitates_the_line_key() -> None:
    tricky = '1,"line":7,'
    record = dumps(Result(id=tricky, line=3, url=None, method=None, ok=False))
    assert _line_number(record) == 3


def test_workers_write_csv_in_line_order(server: TestServer, tmp_path: Path) -> None:
    """Workers hand the parent NDJSON; the parent writes the table, one header row."""
    source = write_urls(tmp_path / "urls.txt", [server.url(f"/status/200?{i}") for i in range(40)])
    process = hx_process(
        "fetch", source, "--workers", "2", "--ordered", "--format", "csv", "--fields", "line,status"
    )
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    rows = list(csv.reader(io.StringIO(stdout, newline="")))
    assert rows == [["line", "status"], *([str(n), "200"] for n in range(2, 42))]
