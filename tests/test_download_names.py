"""Downloads of one run never share a file: each reserves its name, in input order.

Names from the URL are numbered by input line (``f.bin``, ``f.bin.1``, ...) with or
without ``--split``; an explicit output is one download's only; a ``.part`` is only
ever created exclusively, so nothing writes into a part it did not start.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.cli import records
from support.download_server import DownloadServer, file_bytes, file_sha256
from support.downloads import MiB, hx, only_record, serve_files, sha256_of

files = pytest.fixture(serve_files)


def by_line(result_records: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {rec["line"]: rec for rec in result_records}


@pytest.mark.parametrize("split", ["1", "4"])
def test_same_name_is_numbered_in_input_order(
    files: DownloadServer, tmp_path: Path, split: str
) -> None:
    sizes = (8 * MiB + 3, 9 * MiB + 5, 4 * MiB + 7)  # one name, three different files
    urls = [files.file_url("same.bin", size=size) for size in sizes]
    result = hx("--split", split, "-c", "3", "-d", tmp_path, *urls)
    assert result.exit_code == 0, result.stderr
    recs = by_line(records(result))
    names = ["same.bin", "same.bin.1", "same.bin.2"]
    for line, (size, name) in enumerate(zip(sizes, names, strict=True), start=1):
        rec, path = recs[line], tmp_path / name
        assert (rec["ok"], rec["path"], rec["bytes"]) == (True, str(path), size)
        assert rec["sha256"] == sha256_of(path) == file_sha256("same.bin", size)
    assert sorted(p.name for p in tmp_path.iterdir()) == names


def test_same_url_twice_with_split(files: DownloadServer, tmp_path: Path) -> None:
    size = 8 * MiB
    url = files.file_url("twice.bin", size=size)
    result = hx("--split", "4", "-c", "2", "-d", tmp_path, url, url)
    assert result.exit_code == 0, result.stderr
    recs = by_line(records(result))
    assert [recs[1]["path"], recs[2]["path"]] == [
        str(tmp_path / "twice.bin"),
        str(tmp_path / "twice.bin.1"),
    ]
    for rec in recs.values():
        assert rec["sha256"] == sha256_of(Path(str(rec["path"]))) == file_sha256("twice.bin", size)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["twice.bin", "twice.bin.1"]


def test_an_explicit_output_is_one_downloads(files: DownloadServer, tmp_path: Path) -> None:
    entries = [
        {"url": files.file_url("one.bin", size=3000), "output": "x.bin"},
        {"url": files.file_url("two.bin", size=4000), "output": "./x.bin"},
    ]
    ndjson = tmp_path / "files.ndjson"
    ndjson.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    result = hx("-i", ndjson, "-d", tmp_path, "-c", "2")
    assert result.exit_code == 3, result.stderr  # some failed
    recs = by_line(records(result))
    assert (recs[1]["ok"], recs[1]["path"]) == (True, str(tmp_path / "x.bin"))
    assert recs[2]["ok"] is False
    assert recs[2]["error"] == {
        "kind": "exists",
        "message": f"another download of this run saves to {tmp_path / 'x.bin'}",
    }
    assert (tmp_path / "x.bin").read_bytes() == file_bytes("one.bin", 3000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files.ndjson", "x.bin"]


@pytest.mark.parametrize("split", ["1", "4"])
def test_a_part_is_never_written_unless_this_run_created_it(
    files: DownloadServer, tmp_path: Path, split: str
) -> None:
    size, out = 8 * MiB, tmp_path / "x.bin"
    part = tmp_path / "x.bin.part"
    part.write_bytes(b"another download's bytes")
    url = files.file_url("x.bin", size=size)
    result = hx("--split", split, "-o", out, url)
    assert result.exit_code == 4, result.stderr
    rec = only_record(result)
    assert rec["error"]["kind"] == "exists"
    assert rec["error"]["message"].startswith(f"{part} exists: another download is writing it")
    assert (rec["bytes"], rec["received"]) == (0, 0)
    assert "path" not in rec  # the part is not this download's
    assert part.read_bytes() == b"another download's bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bin.part"]

    replaced = hx("--split", split, "--overwrite", "-o", out, url)
    assert replaced.exit_code == 0, replaced.stderr
    assert sha256_of(out) == only_record(replaced)["sha256"] == file_sha256("x.bin", size)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bin"]
