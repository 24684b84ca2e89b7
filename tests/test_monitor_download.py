"""``hx download -N/--timestamping`` and ``--no-clobber``: re-runs keep what is already there."""

from __future__ import annotations

import email.utils
from pathlib import Path

import pytest

from support.cli import assert_usage_error, records
from support.download_server import DownloadServer, file_bytes, last_modified
from support.downloads import hx, only_record, serve_files

files = pytest.fixture(serve_files)


def mtime_of(version: int) -> int:
    return int(email.utils.parsedate_to_datetime(last_modified(version)).timestamp())


def test_timestamping_keeps_an_unchanged_file(files: DownloadServer, tmp_path: Path) -> None:
    url = files.url("/f/a.bin?size=1000")
    run = (url, "-N", "-d", tmp_path, "-q")
    first = only_record(hx(*run))
    saved = tmp_path / "a.bin"
    assert (first["path"], first["bytes"]) == (str(saved), 1000)
    assert int(saved.stat().st_mtime) == mtime_of(0)  # the server's Last-Modified

    result = hx(*run)
    assert result.exit_code == 0, result.stderr
    second = only_record(result)
    assert (second["ok"], second["skipped"], second["path"], second["bytes"]) == (
        True, True, str(saved), 1000,
    )  # fmt: skip
    assert [served.method for served in files.served] == ["GET", "HEAD"]
    assert files.sent("a.bin") == 1000

    files.bump("a.bin")
    third = only_record(hx(*run))
    assert "skipped" not in third and third["path"] == str(saved)  # replaced, not a.bin.1
    assert saved.read_bytes() == file_bytes("a.bin", 1000, version=1)
    assert int(saved.stat().st_mtime) == mtime_of(1)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.bin"]


def test_timestamping_fetches_a_file_of_another_size(files: DownloadServer, tmp_path: Path) -> None:
    run = (files.url("/f/b.bin?size=500"), "-N", "-d", tmp_path, "-q")
    hx(*run)
    with (tmp_path / "b.bin").open("ab") as local:
        local.write(b"local edit")
    record = only_record(hx(*run))
    assert "skipped" not in record and record["bytes"] == 500
    assert files.sent("b.bin") == 1000


def test_no_clobber_sends_nothing_for_a_file_that_exists(
    files: DownloadServer, tmp_path: Path
) -> None:
    (tmp_path / "there.bin").write_bytes(b"mine")
    result = hx(
        files.url("/f/there.bin"), files.url("/f/new.bin?size=10"), "--no-clobber", "-d", tmp_path
    )
    assert result.exit_code == 0, result.stderr
    recs = {rec["path"]: rec for rec in records(result)}
    kept, new = recs[str(tmp_path / "there.bin")], recs[str(tmp_path / "new.bin")]
    assert (kept["skipped"], kept["bytes"], kept["attempts"]) == (True, 4, 0)
    assert "skipped" not in new
    assert (tmp_path / "there.bin").read_bytes() == b"mine"
    assert [served.path.split("?")[0] for served in files.served] == ["/f/new.bin"]
    assert f"hx: kept {tmp_path / 'there.bin'} (already there)" in result.stderr


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--no-clobber", "--overwrite"], "--no-clobber cannot be combined with --overwrite"),
        (["-N", "-C"], "-N/--timestamping cannot be combined with -C"),
        (["-N", "-o", "-"], "-N/--timestamping cannot be combined with -o -"),
        (["-N", "--no-clobber"], "--no-clobber and -N/--timestamping cannot be combined"),
    ],
)
def test_keeping_options_that_cannot_work(
    files: DownloadServer, options: list[str], words: str
) -> None:
    assert_usage_error(hx(files.url("/f/x"), *options), words)


def test_metrics_and_fail_fast(files: DownloadServer, tmp_path: Path) -> None:
    metrics = tmp_path / "hx.prom"
    urls = [files.url("/503"), *(files.url(f"/f/{n}.bin?size=10") for n in range(300))]
    result = hx(
        *urls, "-d", tmp_path, "-c", "1", "--retries", "0", "--fail-fast", "1",
        "--metrics-file", metrics,
    )  # fmt: skip
    recs = records(result)
    assert len(recs) == 301
    kinds = [rec["error"]["kind"] for rec in recs if rec["error"]]
    assert kinds[0] == "http_status" and kinds.count("not_started") >= 298
    text = metrics.read_text()
    assert 'hx_requests_total{code="503",error="http_status"} 1.0' in text
    assert (
        f'hx_requests_total{{code="",error="not_started"}} {kinds.count("not_started")}.0' in text
    )
