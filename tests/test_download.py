"""End-to-end tests of ``hx download`` against the loopback file server (support.download_server).

The CLI runs in-process (typer's CliRunner) unless a process has to be killed mid-download;
then it is a real ``python -m hx`` process, killed with SIGKILL. Every file lives under
tmp_path; every test checks the exit code, the records on stdout and the files on disk.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from hx.download.segments import plan
from hx.download.state import PartFiles, PartState
from support.cli import records
from support.download_server import DownloadServer, Served, file_bytes, file_sha256, last_modified
from support.downloads import (
    MiB,
    hx,
    kill_when,
    only_record,
    part_size,
    plain_env,
    serve_files,
    sha256_of,
)
from support.process import HX

SAVED_LINE = re.compile(r"hx: saved (?P<path>.+) \([\d.,]+ (B|KiB|MiB|GiB) in [\d.]+ s, .+/s\)")

files = pytest.fixture(serve_files)


# -- helpers -------------------------------------------------------------------


def tree(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def ranged(served: list[Served]) -> list[Served]:
    return [entry for entry in served if entry.method == "GET" and entry.range is not None]


# -- the server itself -----------------------------------------------------------


def test_server_ranges_validators_and_gzip(files: DownloadServer) -> None:
    url = files.file_url("h.bin", size=1000)
    whole = file_bytes("h.bin", 1000)
    with httpx.Client() as client:
        full = client.get(url)
        assert (full.status_code, full.content) == (200, whole)
        assert full.headers["accept-ranges"] == "bytes"
        tag = full.headers["etag"]
        part = client.get(url, headers={"Range": "bytes=990-", "If-Range": tag})
        assert part.status_code == 206
        assert (part.headers["content-range"], part.content) == ("bytes 990-999/1000", whole[990:])
        beyond = client.get(url, headers={"Range": "bytes=1000-"})
        assert (beyond.status_code, beyond.headers["content-range"]) == (416, "bytes */1000")
        files.bump("h.bin")
        changed = client.get(url, headers={"Range": "bytes=10-", "If-Range": tag})
        assert changed.status_code == 200
        assert changed.content == file_bytes("h.bin", 1000, version=1) != whole
        gzipped = client.get(files.file_url("h.bin", size=1000, gzip=1))
        assert gzipped.headers["content-encoding"] == "gzip"
        assert gzipped.content == file_bytes("h.bin", 1000, version=1)
    assert [(s.range, s.status) for s in files.served_for("h.bin")] == [
        (None, 200),
        ("bytes=990-", 206),
        ("bytes=1000-", 416),
        ("bytes=10-", 200),
        (None, 200),
    ]


# -- resume after the process was killed (Done when #1) ----------------------------


def test_killed_download_resumes_with_continue(files: DownloadServer, tmp_path: Path) -> None:
    size, name = 50 * MiB, "big.bin"
    url, dest = files.file_url(name, size=size), tmp_path / "dl"
    part, run1 = dest / f"{name}.part", tmp_path / "run1.log"
    files.set_rate(name, 16 * MiB)
    kill_when(lambda: part_size(part) >= 4 * MiB, "4 MiB in .part", "-d", dest, url, log=run1)
    killed_at = part_size(part)
    assert 4 * MiB <= killed_at < size
    assert not (dest / name).exists()

    files.set_rate(name, None)
    files.clear_log()
    result = hx("-C", "-d", dest, url)
    assert result.exit_code == 0, result.stderr
    rec = only_record(result)
    assert rec["ok"] is True
    assert (rec["bytes"], rec["resumed_from"]) == (size, killed_at)
    assert rec["received"] == size - killed_at
    assert rec["sha256"] == sha256_of(dest / name) == file_sha256(name, size)
    resumes = ranged(files.served_for(name))
    assert [(s.range, s.if_range, s.status) for s in resumes] == [
        (f"bytes={killed_at}-", files.etag(name), 206)
    ]
    assert sorted(p.name for p in dest.iterdir()) == [name]


def test_resume_when_server_ignores_range(files: DownloadServer, tmp_path: Path) -> None:
    size, name = 50 * MiB, "norange.bin"
    url, dest = files.file_url(name, size=size, ranges=0), tmp_path / "dl"
    part, run1 = dest / f"{name}.part", tmp_path / "run1.log"
    files.set_rate(name, 16 * MiB)
    kill_when(lambda: part_size(part) >= 4 * MiB, "4 MiB in .part", "-d", dest, url, log=run1)
    assert part_size(part) >= 4 * MiB

    files.set_rate(name, None)
    files.clear_log()
    result = hx("-C", "-d", dest, url)
    assert result.exit_code == 0, result.stderr
    rec = only_record(result)
    assert (rec["ok"], rec["bytes"], rec["resumed_from"], rec["received"]) == (True, size, 0, size)
    assert sha256_of(dest / name) == rec["sha256"] == file_sha256(name, size)
    # It asked for the rest, got the whole file (200) and started over.
    assert [s.status for s in ranged(files.served_for(name))] == [200]
    assert sorted(p.name for p in dest.iterdir()) == [name]


def test_resume_after_the_file_changed(files: DownloadServer, tmp_path: Path) -> None:
    size, name = 50 * MiB, "changing.bin"
    url, dest = files.file_url(name, size=size), tmp_path / "dl"
    part, run1 = dest / f"{name}.part", tmp_path / "run1.log"
    old_tag = files.etag(name)
    files.set_rate(name, 16 * MiB)
    kill_when(lambda: part_size(part) >= 4 * MiB, "4 MiB in .part", "-d", dest, url, log=run1)

    files.bump(name)  # new content, new ETag
    files.set_rate(name, None)
    files.clear_log()
    result = hx("-C", "-d", dest, url)
    assert result.exit_code == 0, result.stderr
    rec = only_record(result)
    assert (rec["ok"], rec["bytes"], rec["resumed_from"], rec["received"]) == (True, size, 0, size)
    assert sha256_of(dest / name) == file_sha256(name, size, version=1) != file_sha256(name, size)
    assert [(s.if_range, s.status) for s in ranged(files.served_for(name))] == [(old_tag, 200)]
    assert sorted(p.name for p in dest.iterdir()) == [name]


# -- --split and 416 (Done when #2) ------------------------------------------------


def test_split_gives_the_same_bytes_as_one_stream(files: DownloadServer, tmp_path: Path) -> None:
    size, name = 8 * MiB + 12345, "split.bin"
    url = files.file_url(name, size=size)
    single = hx("-o", tmp_path / "single.bin", url)
    assert single.exit_code == 0, single.stderr
    files.clear_log()
    split = hx("--split", "4", "-o", tmp_path / "split.bin", url)
    assert split.exit_code == 0, split.stderr

    assert (tmp_path / "split.bin").read_bytes() == (tmp_path / "single.bin").read_bytes()
    assert only_record(split)["sha256"] == only_record(single)["sha256"] == file_sha256(name, size)
    segments = ranged(files.served_for(name))
    assert len(segments) == len(plan(size, 4)) == 8 and {s.status for s in segments} == {206}
    spans = sorted(
        tuple(int(n) for n in str(s.range).removeprefix("bytes=").split("-")) for s in segments
    )
    assert spans[0][0] == 0 and spans[-1][1] == size - 1
    assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(spans))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["single.bin", "split.bin"]


def test_killed_split_download_resumes(files: DownloadServer, tmp_path: Path) -> None:
    size, name = 64 * MiB, "segments.bin"  # 2 connections: 16 segments of 4 MiB
    url, out = files.file_url(name, size=size), tmp_path / "segments.bin"
    state, run1 = tmp_path / "segments.bin.part.hx", tmp_path / "run1.log"

    def two_segments_saved_midway() -> bool:
        try:
            segments = json.loads(state.read_text())["segments"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return sum(0 < done < end + 1 - start for start, end, done in segments) == 2

    files.set_rate(name, 6 * MiB)  # per connection
    kill_when(
        two_segments_saved_midway,
        "two segments' progress",
        "--split",
        "2",
        "-o",
        out,
        url,
        log=run1,
    )
    saved = json.loads(state.read_text())["segments"]
    done_before = sum(done for _start, _end, done in saved)
    assert 0 < done_before < size

    files.set_rate(name, None)
    files.clear_log()
    result = hx("-C", "--split", "4", "-o", out, url)
    assert result.exit_code == 0, result.stderr
    rec = only_record(result)
    assert (rec["ok"], rec["bytes"], rec["resumed_from"]) == (True, size, done_before)
    assert sha256_of(out) == rec["sha256"] == file_sha256(name, size)
    # Each segment continued where its saved progress ended, guarded by If-Range.
    asked = sorted((s.range, s.if_range, s.status) for s in ranged(files.served_for(name)))
    expected = sorted(
        (f"bytes={start + done}-{end}", files.etag(name), 206)
        for start, end, done in saved
        if start + done <= end
    )
    assert asked == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run1.log", "segments.bin"]


def test_killed_split_download_of_a_changed_file_starts_over(
    files: DownloadServer, tmp_path: Path
) -> None:
    size, name = 16 * MiB, "moving.bin"
    url, out = files.file_url(name, size=size), tmp_path / name
    state, run1 = tmp_path / f"{name}.part.hx", tmp_path / "run1.log"
    old_tag = files.etag(name)
    files.set_rate(name, 4 * MiB)
    kill_when(state.exists, "the state file", "--split", "4", "-o", out, url, log=run1)

    files.bump(name)
    files.set_rate(name, None)
    files.clear_log()
    result = hx("-C", "--split", "4", "--retry-delay", "0", "-o", out, url)
    assert result.exit_code == 0, result.stderr
    rec = only_record(result)
    assert (rec["ok"], rec["attempts"], rec["bytes"], rec["resumed_from"]) == (True, 2, size, 0)
    assert sha256_of(out) == rec["sha256"] == file_sha256(name, size, version=1)
    # The old segments were refused (If-Range mismatch: 200), then a fresh split.
    asked = ranged(files.served_for(name))
    assert {s.status for s in asked if s.if_range == old_tag} == {200}
    fresh = [s.status for s in asked if s.if_range == files.etag(name)]
    assert fresh == [206] * len(plan(size, 4))
    assert sorted(p.name for p in tmp_path.iterdir()) == [name, "run1.log"]


def test_a_file_changing_during_a_split_download_leaves_no_state_behind(
    files: DownloadServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A piece answered 200 (If-Range: the file changed) forgets the state; the other
    connections, winding down, must not save it again, or the retry would resume the
    old file's pieces (and be refused once more)."""
    events: list[str | None] = []  # "forget", or the validator of a state saved
    save, forget = PartFiles.save, PartFiles.forget

    def recording_save(parts: PartFiles, state: PartState) -> None:
        events.append(state.validator)
        save(parts, state)

    def recording_forget(parts: PartFiles) -> None:
        events.append("forget")
        forget(parts)

    monkeypatch.setattr(PartFiles, "save", recording_save)
    monkeypatch.setattr(PartFiles, "forget", recording_forget)
    size, name = 64 * MiB, "changing.bin"
    url, out = files.file_url(name, size=size), tmp_path / name
    files.set_rate(name, 12 * MiB)  # per connection: 16 pieces of 4 MiB over 2.7 s
    bump = threading.Timer(1.2, lambda: files.bump(name))
    bump.start()
    try:
        result = hx("--split", "2", "--retry-delay", "0", "-o", out, url)
    finally:
        bump.cancel()
    assert result.exit_code == 0, result.stderr
    rec = only_record(result)
    assert (rec["ok"], rec["attempts"], rec["resumed_from"]) == (True, 2, 0)
    assert sha256_of(out) == rec["sha256"] == file_sha256(name, size, version=1)
    # After the forget, only the second attempt's fresh state (the new file's) is saved.
    saved_after = [e for e in events[events.index("forget") + 1 :] if e != "forget"]
    assert saved_after and set(saved_after) == {files.etag(name)}
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("switch", ["ranges", "gzip"])
def test_split_falls_back_to_one_stream(files: DownloadServer, tmp_path: Path, switch: str) -> None:
    size, name = 8 * MiB, "one.bin"
    query = {"ranges": 0} if switch == "ranges" else {"gzip": 1}
    result = hx("--split", "4", "-o", tmp_path / name, files.file_url(name, size=size, **query))
    assert result.exit_code == 0, result.stderr
    assert sha256_of(tmp_path / name) == only_record(result)["sha256"] == file_sha256(name, size)
    assert [(s.range, s.status) for s in files.served_for(name)] == [(None, 200)]


def test_continue_on_a_finished_file_is_a_success(files: DownloadServer, tmp_path: Path) -> None:
    size, name = 300_000, "done.bin"
    url, dest = files.file_url(name, size=size), tmp_path / "dl"
    assert hx("-d", dest, url).exit_code == 0
    before = (dest / name).stat()
    files.clear_log()

    result = hx("-C", "-d", dest, url)
    assert result.exit_code == 0, result.stderr
    rec = only_record(result)
    assert rec["ok"] is True and rec["error"] is None
    # Nothing crossed the wire: the summary and the file's line show no made-up rate.
    assert (rec["bytes"], rec["resumed_from"], rec["received"]) == (size, size, 0)
    assert rec["sha256"] == file_sha256(name, size)
    assert (dest / name).read_bytes() == file_bytes(name, size)
    assert (dest / name).stat().st_mtime_ns == before.st_mtime_ns
    assert [(s.range, s.status) for s in ranged(files.served_for(name))] == [
        (f"bytes={size}-", 416)
    ]
    assert sorted(p.name for p in dest.iterdir()) == [name]


# -- file names from the server (Done when #3) -------------------------------------


@pytest.mark.parametrize(
    "disposition",
    [
        'attachment; filename="../../etc/passwd"',
        "attachment; filename*=UTF-8''..%2F..%2Fx",
        'attachment; filename="/etc/passwd"',
        "attachment; filename=..",
    ],
)
def test_content_disposition_cannot_escape_the_directory(
    files: DownloadServer, tmp_path: Path, disposition: str
) -> None:
    dest = tmp_path / "a" / "b" / "dl"
    dest.mkdir(parents=True)
    before = tree(tmp_path)
    url = files.file_url("cd", size=1000, cd=disposition)
    result = hx("-d", dest, url)
    assert result.exit_code == 0, result.stderr
    saved = Path(only_record(result)["path"]).resolve()
    assert saved.parent == dest.resolve()
    assert not saved.name.startswith(".") and saved.name
    assert saved.read_bytes() == file_bytes("cd", 1000)
    assert tree(tmp_path) - before == {dest / saved.name}


# -- checksums (Done when #4) ------------------------------------------------------


@pytest.mark.parametrize(
    "option",
    [["--sha256", "0" * 64], ["--checksum", "md5=" + "f" * 32]],
    ids=["sha256", "md5"],
)
def test_checksum_mismatch_leaves_no_file(
    files: DownloadServer, tmp_path: Path, option: list[str]
) -> None:
    dest = tmp_path / "dl"
    url = files.file_url("sum.bin", size=200_000)
    result = hx(*option, "-d", dest, url)
    assert result.exit_code == 4, result.stderr
    rec = only_record(result)
    assert rec["ok"] is False
    assert rec["error"]["kind"] == "checksum"
    assert "mismatch" in rec["error"]["message"]
    # The whole file came in and was thrown away: none of it is on disk.
    assert (rec["received"], rec["bytes"], "path" in rec) == (200_000, 0, False)
    assert "checksum" in result.stderr
    assert list(dest.iterdir()) == []


def test_matching_sha512_passes(files: DownloadServer, tmp_path: Path) -> None:
    dest, data = tmp_path / "dl", file_bytes("sum.bin", 200_000)
    url = files.file_url("sum.bin", size=200_000)
    result = hx("--checksum", "sha512=" + hashlib.sha512(data).hexdigest().upper(), "-d", dest, url)
    assert result.exit_code == 0, result.stderr
    assert only_record(result)["sha256"] == hashlib.sha256(data).hexdigest()
    assert (dest / "sum.bin").read_bytes() == data


# -- names, existing files, outputs ------------------------------------------------


def test_default_name_is_the_final_urls_last_segment(files: DownloadServer, tmp_path: Path) -> None:
    url = files.url("/redirect/start.iso?to=final.bin&size=5000")
    result = hx("-d", tmp_path, url)
    assert result.exit_code == 0, result.stderr
    rec = only_record(result)
    assert rec["final_url"] == files.file_url("final.bin", size=5000)
    assert Path(rec["path"]) == tmp_path / "final.bin"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final.bin"]
    assert (tmp_path / "final.bin").read_bytes() == file_bytes("final.bin", 5000)


def test_existing_file_gets_a_suffix_unless_overwrite(
    files: DownloadServer, tmp_path: Path
) -> None:
    (tmp_path / "file.bin").write_bytes(b"old")
    url = files.file_url("file.bin", size=4000)
    first = hx("-d", tmp_path, url)
    assert first.exit_code == 0, first.stderr
    assert Path(only_record(first)["path"]) == tmp_path / "file.bin.1"
    assert (tmp_path / "file.bin").read_bytes() == b"old"
    assert (tmp_path / "file.bin.1").read_bytes() == file_bytes("file.bin", 4000)

    again = hx("--overwrite", "-d", tmp_path, url)
    assert again.exit_code == 0, again.stderr
    assert Path(only_record(again)["path"]) == tmp_path / "file.bin"
    assert (tmp_path / "file.bin").read_bytes() == file_bytes("file.bin", 4000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.bin", "file.bin.1"]


def test_concurrent_downloads_of_one_name_get_distinct_files(
    files: DownloadServer, tmp_path: Path
) -> None:
    sizes = (100_000, 200_000, 300_000)
    urls = [files.url(f"/redirect/r{size}?to=same.bin&size={size}") for size in sizes]
    result = hx("-c", "3", "-d", tmp_path, *urls)
    assert result.exit_code == 0, result.stderr
    paths = sorted(Path(rec["path"]).name for rec in records(result))
    assert paths == ["same.bin", "same.bin.1", "same.bin.2"]
    for rec in records(result):
        size = int(rec["final_url"].rpartition("=")[2])
        assert Path(rec["path"]).read_bytes() == file_bytes("same.bin", size)


def test_output_path_that_exists(files: DownloadServer, tmp_path: Path) -> None:
    out = tmp_path / "mine.bin"
    out.write_bytes(b"precious")
    url = files.file_url("x.bin", size=4000)
    result = hx("-o", out, url)
    assert result.exit_code == 4, result.stderr
    rec = only_record(result)
    assert (rec["ok"], rec["error"]["kind"]) == (False, "exists")
    assert out.read_bytes() == b"precious"

    replaced = hx("-o", out, "--overwrite", url)
    assert replaced.exit_code == 0, replaced.stderr
    assert out.read_bytes() == file_bytes("x.bin", 4000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.bin"]


def test_stream_is_accepted_and_changes_nothing(files: DownloadServer, tmp_path: Path) -> None:
    # Downloads always stream to disk; --stream stays for the people who type it.
    url = files.file_url("s.bin", size=3 * MiB)
    plain = hx("-d", tmp_path / "plain", url)
    streamed = hx("--stream", "-d", tmp_path / "streamed", url)
    assert (plain.exit_code, streamed.exit_code) == (0, 0), streamed.stderr
    timing = {"started_at", "elapsed_ms", "total_ms", "timings", "remote_port", "reused", "path"}
    records_of = [
        {k: v for k, v in only_record(result).items() if k not in timing}
        for result in (plain, streamed)
    ]
    assert records_of[0] == records_of[1]
    assert records_of[0]["bytes"] == records_of[0]["received"] == 3 * MiB
    assert (tmp_path / "plain" / "s.bin").read_bytes() == file_bytes("s.bin", 3 * MiB)
    assert (tmp_path / "streamed" / "s.bin").read_bytes() == file_bytes("s.bin", 3 * MiB)


def test_output_dash_writes_the_body_to_stdout(files: DownloadServer, tmp_path: Path) -> None:
    url = files.file_url("stream.bin", size=300_000)
    result = hx("-o", "-", url)
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == file_bytes("stream.bin", 300_000)  # the body, no record
    assert list(tmp_path.iterdir()) == []


def test_input_file_ndjson_and_url_list(files: DownloadServer, tmp_path: Path) -> None:
    dest = tmp_path / "dl"
    one, two = file_bytes("one.bin", 3000), file_bytes("two.bin", 4000)
    entries = [
        {
            "url": files.file_url("one.bin", size=3000),
            "output": "renamed.bin",
            "sha256": hashlib.sha256(one).hexdigest(),
            "headers": {"X-Ticket": "t-1"},
        },
        {"url": files.file_url("two.bin", size=4000), "id": "second"},
        {"url": files.file_url("three.bin", size=5000), "sha256": "1" * 64},
    ]
    ndjson = tmp_path / "files.ndjson"
    ndjson.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    result = hx("-i", ndjson, "-d", dest, "-c", "3")
    assert result.exit_code == 3, result.stderr  # some failed
    by_id = {rec["id"]: rec for rec in records(result)}
    assert sorted(by_id, key=str) == [1, 3, "second"]
    assert Path(by_id[1]["path"]) == dest / "renamed.bin"
    assert Path(by_id["second"]["path"]) == dest / "two.bin"
    assert by_id[3]["error"]["kind"] == "checksum"
    assert (dest / "renamed.bin").read_bytes() == one
    assert (dest / "two.bin").read_bytes() == two
    assert sorted(p.name for p in dest.iterdir()) == ["renamed.bin", "two.bin"]
    tickets = [r.headers.get("x-ticket") for r in files.requests if "one.bin" in r.path]
    assert tickets and set(tickets) == {"t-1"}

    url_list = tmp_path / "urls.txt"
    url_list.write_text(
        f"# two files\n{files.file_url('a.bin', size=100)}\n\n{files.file_url('b.bin', size=200)}\n"
    )
    listed = hx("-i", url_list, "-d", tmp_path / "list")
    assert listed.exit_code == 0, listed.stderr
    assert sorted(rec["line"] for rec in records(listed)) == [2, 4]
    assert (tmp_path / "list" / "a.bin").read_bytes() == file_bytes("a.bin", 100)
    assert (tmp_path / "list" / "b.bin").read_bytes() == file_bytes("b.bin", 200)


def test_ndjson_output_cannot_escape_the_directory(files: DownloadServer, tmp_path: Path) -> None:
    dest = tmp_path / "a" / "dl"
    dest.mkdir(parents=True)
    ndjson = tmp_path / "files.ndjson"
    url = files.file_url("esc.bin", size=100)
    ndjson.write_text(json.dumps({"url": url, "output": "../escaped.bin"}) + "\n")
    before = tree(tmp_path)
    hx("-i", ndjson, "-d", dest)
    assert {p for p in tree(tmp_path) - before if dest not in p.parents} == set()


@pytest.mark.parametrize("via", ["option", "environment"])
def test_bare_name_resolves_against_base_url(
    files: DownloadServer, tmp_path: Path, via: str
) -> None:
    base = files.url("/f/")
    if via == "option":
        result = hx("--base-url", base, "-d", tmp_path, "base.bin", env={"HX_BASE_URL": None})
    else:
        result = hx("-d", tmp_path, "base.bin", env={"HX_BASE_URL": base})
    assert result.exit_code == 0, result.stderr
    rec = only_record(result)
    assert rec["url"] == files.url("/f/base.bin")
    assert (tmp_path / "base.bin").read_bytes() == file_bytes("base.bin", 256 * 1024)


# -- limits ----------------------------------------------------------------------


def test_max_size_fails_a_large_file(files: DownloadServer, tmp_path: Path) -> None:
    url = files.file_url("huge.bin", size=MiB)
    result = hx("--max-size", "100K", "-d", tmp_path, url)
    assert result.exit_code == 4, result.stderr
    assert only_record(result)["error"]["kind"] == "too_large"
    assert list(tmp_path.iterdir()) == []


def test_max_size_counts_decoded_bytes_and_leaves_no_file(
    files: DownloadServer, tmp_path: Path
) -> None:
    # gzip: no Content-Length; the compressed body is smaller than the limit, the file is not.
    url = files.file_url("zipped.bin", size=MiB, gzip=1)
    result = hx("--max-size", "500K", "-d", tmp_path, url)
    assert result.exit_code == 4, result.stderr
    assert only_record(result)["error"]["kind"] == "too_large"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("validator", ["etag", "last-modified"])
def test_transient_reset_resumes_within_the_run(
    files: DownloadServer, tmp_path: Path, validator: str
) -> None:
    size, name = 4 * MiB, "flaky.bin"
    switches = {"etag": 0} if validator == "last-modified" else {}
    url = files.file_url(name, size=size, reset=MiB, **switches)
    result = hx("--retry-delay", "0", "-d", tmp_path, url)
    assert result.exit_code == 0, result.stderr
    rec = only_record(result)
    # The run started from nothing and got every byte once: the retry asked for the rest.
    assert (rec["ok"], rec["attempts"], rec["bytes"]) == (True, 2, size)
    assert (rec["resumed_from"], rec["received"]) == (0, size)
    assert sha256_of(tmp_path / name) == rec["sha256"] == file_sha256(name, size)
    if_range = files.etag(name) if validator == "etag" else last_modified(0)
    first, retry = files.served_for(name)
    assert (first.range, first.if_range, first.status) == (None, None, 200)
    assert (retry.if_range, retry.status) == (if_range, 206)
    assert 0 < int(str(retry.range).removeprefix("bytes=").removesuffix("-")) <= MiB
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_transient_reset_in_a_segment_resumes_it(files: DownloadServer, tmp_path: Path) -> None:
    size, name = 8 * MiB, "flaky-split.bin"
    # One reset, in one segment's GET. The first GET, which only tells hx the size, is
    # not cut: its RST could reach hx before hx had read its head (on a loaded machine),
    # and fail an attempt of its own.
    url = files.file_url(name, size=size, reset=MiB // 2, resets=1, reset_ranged=1)
    result = hx("--retry-delay", "0", "--split", "4", "-o", tmp_path / name, url)
    assert result.exit_code == 0, result.stderr
    rec = only_record(result)
    assert (rec["ok"], rec["attempts"], rec["bytes"]) == (True, 2, size)
    assert (rec["resumed_from"], rec["received"]) == (0, size)
    assert sha256_of(tmp_path / name) == rec["sha256"] == file_sha256(name, size)
    retried = ranged(files.served_for(name))[4:]  # after the first four segment GETs
    assert retried and all(s.if_range == files.etag(name) for s in retried)
    assert {s.status for s in retried} == {206}
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_limit_rate(files: DownloadServer, tmp_path: Path) -> None:
    url = files.file_url("slow.bin", size=2 * MiB)
    started = time.monotonic()
    result = hx("--limit-rate", "1M", "-d", tmp_path, url)
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.stderr
    assert 1.5 <= elapsed < 10, elapsed
    assert (tmp_path / "slow.bin").stat().st_size == 2 * MiB


# -- what people see -------------------------------------------------------------


def test_without_a_terminal_one_plain_line_per_file(files: DownloadServer, tmp_path: Path) -> None:
    urls = [files.file_url(f"p{n}.bin", size=100_000 * n) for n in (1, 2, 3)]
    proc = subprocess.run(
        [*HX, "download", "-c", "3", "-d", tmp_path, *urls],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=plain_env(),
        timeout=60,
        check=False,
    )
    stderr = proc.stderr.decode()
    assert proc.returncode == 0, stderr
    assert "\x1b" not in stderr and "\r" not in stderr
    saved = [m["path"] for line in stderr.splitlines() if (m := SAVED_LINE.fullmatch(line))]
    assert sorted(saved) == [str(tmp_path / f"p{n}.bin") for n in (1, 2, 3)]
    assert sum(line.startswith("hx: saved") for line in stderr.splitlines()) == 3
    assert len(proc.stdout.decode().splitlines()) == 3


def test_read_only_directory_is_an_io_error(files: DownloadServer, tmp_path: Path) -> None:
    dest = tmp_path / "ro"
    dest.mkdir()
    dest.chmod(0o555)
    try:
        if os.access(dest, os.W_OK):
            pytest.skip("chmod does not stop this user (root) from writing")
        result = hx("-d", dest, files.file_url("ro.bin", size=1000))
        assert result.exit_code == 5, result.stderr
        rec = only_record(result)
        assert rec["error"]["kind"] == "io"
        assert "permission denied" in rec["error"]["message"].lower()
        assert list(dest.iterdir()) == []
    finally:
        dest.chmod(0o755)


def test_unwritable_output_path_is_an_io_error(files: DownloadServer, tmp_path: Path) -> None:
    # Runs as root too: nobody can create a file under a regular file.
    (tmp_path / "plain").write_bytes(b"not a directory")
    result = hx("-o", tmp_path / "plain" / "x.bin", files.file_url("io.bin", size=1000))
    assert result.exit_code == 5, result.stderr
    rec = only_record(result)
    assert rec["error"]["kind"] == "io"
    assert "not a directory" in rec["error"]["message"].lower()
    assert "hx: failed" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain"]
