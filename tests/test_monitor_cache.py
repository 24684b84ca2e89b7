"""``--cache``: conditional re-fetch against servers that honour ETag or only Last-Modified."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cli import assert_usage_error, hx, records, write_lines
from support.monitor_servers import ConditionalServer
from test_records import validator


@pytest.fixture
def conditional_server() -> Iterator[ConditionalServer]:
    with ConditionalServer() as server:
        yield server
    assert not server.errors


def test_a_second_run_transfers_no_bodies(
    conditional_server: ConditionalServer, tmp_path: Path
) -> None:
    server = conditional_server
    source = write_lines(tmp_path / "urls.txt", [server.url("/etag/a"), server.url("/lastmod/b")])
    cache, saved = tmp_path / "validators.json", tmp_path / "bodies"
    run = ("fetch", source, "--cache", cache, "-O", saved, "--ordered", "-q")

    first = hx(*run)
    assert first.exit_code == 0, first.stderr
    assert [rec.get("not_modified") for rec in records(first)] == [None, None]
    assert server.bodies == 2
    files = {path.name: path.read_text() for path in saved.iterdir()}
    assert files == {"1-a": "a version 1\n", "2-b": "b version 1\n"}
    assert "127.0.0.1" not in cache.read_text()  # keyed by identity hashes, not URLs

    second = hx(*run)
    assert second.exit_code == 0, second.stderr
    recs = records(second)
    assert [(rec["status"], rec["ok"], rec["not_modified"], rec["bytes"]) for rec in recs] == [
        (304, True, True, 0),
        (304, True, True, 0),
    ]
    assert (server.bodies, server.not_modified) == (2, 2)
    assert {path.name: path.read_text() for path in saved.iterdir()} == files
    check = validator()
    for rec in recs:
        check.validate(rec)

    server.change("a")
    third = hx(*run)
    assert [rec.get("not_modified") for rec in records(third)] == [None, True]
    assert (server.bodies, server.not_modified) == (3, 3)
    assert (saved / "1-a").read_text() == "a version 2\n"


def test_a_missing_saved_body_is_fetched_again(
    conditional_server: ConditionalServer, tmp_path: Path
) -> None:
    source = write_lines(tmp_path / "urls.txt", [conditional_server.url("/etag/a")])
    run = ("fetch", source, "--cache", tmp_path / "cache.json", "-O", tmp_path / "out", "-q")
    hx(*run)
    (tmp_path / "out" / "1-a").unlink()
    (record,) = records(hx(*run))
    assert (record["status"], record["path"]) == (200, str(tmp_path / "out" / "1-a"))
    assert conditional_server.bodies == 2


def test_rounds_share_the_cache(conditional_server: ConditionalServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [conditional_server.url("/lastmod/x")])
    result = hx(
        "fetch", source, "--cache", tmp_path / "cache.json", "--every", "100ms", "--rounds", "3",
        "--ok-status", "2xx", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert [(rec["round"], rec["status"]) for rec in records(result)] == [
        (1, 200),
        (2, 304),
        (3, 304),
    ]
    assert conditional_server.bodies == 1


def test_a_lines_own_conditions_win(conditional_server: ConditionalServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache.json"
    url = conditional_server.url("/etag/a")
    hx("fetch", write_lines(tmp_path / "urls.txt", [url]), "--cache", cache, "-q")
    result = hx(
        "fetch", "-", "--cache", cache, "-H", 'If-None-Match: "other"', "-q", input=url + "\n"
    )
    (record,) = records(result)
    assert record["status"] == 200
    assert conditional_server.requests[-1].headers["if-none-match"] == '"other"'


def test_a_cache_file_hx_did_not_write(tmp_path: Path) -> None:
    cache = tmp_path / "cache.json"
    cache.write_text('{"something": "else"}')
    source = write_lines(tmp_path / "urls.txt", ["http://127.0.0.1:9/"])
    assert_usage_error(hx("fetch", source, "--cache", cache), "not a cache file hx wrote")


@pytest.mark.parametrize(
    "entries",
    [
        '{"k": {"etag": 5}}',
        '{"k": ["etag"]}',
        '{"k": {"etag": "a\\nb"}}',
        '{"k": {"x": "1"}}',
        "[]",
    ],
    ids=["number", "list", "newline", "unknown-field", "not-an-object"],
)
def test_a_damaged_cache_entry_is_a_usage_error(tmp_path: Path, entries: str) -> None:
    cache = tmp_path / "cache.json"
    cache.write_text(f'{{"hx_cache": 1, "entries": {entries}}}')
    source = write_lines(tmp_path / "urls.txt", ["http://127.0.0.1:9/"])
    assert_usage_error(hx("fetch", source, "--cache", cache), "not a cache file hx wrote")


def test_a_dry_run_shows_the_conditions_it_would_send(
    conditional_server: ConditionalServer, tmp_path: Path
) -> None:
    server = conditional_server
    urls = [server.url("/etag/a"), server.url("/lastmod/b"), server.url("/etag/new")]
    known = write_lines(tmp_path / "known.txt", urls[:2])
    cache = tmp_path / "cache.json"
    assert hx("fetch", known, "--cache", cache, "-q").exit_code == 0
    requests_before = server.bodies + server.not_modified

    dry = hx("fetch", write_lines(tmp_path / "all.txt", urls), "--cache", cache, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    conditions = [
        [pair for pair in rec["headers"] if pair[0].startswith("If-")] for rec in records(dry)
    ]
    assert conditions[0] == [["If-None-Match", conditions[0][0][1]]]
    assert conditions[0][0][1].startswith('"')  # the ETag, verbatim
    assert [name for name, _ in conditions[1]] == ["If-Modified-Since"]
    assert conditions[2] == []  # nothing known of it
    assert server.bodies + server.not_modified == requests_before  # nothing was sent

    own = hx("fetch", known, "--cache", cache, "--dry-run", "-H", 'If-None-Match: "x"')
    assert [
        [pair for pair in rec["headers"] if pair[0].lower().startswith("if-")]
        for rec in records(own)
    ] == [[["If-None-Match", '"x"']]] * 2


def test_a_dry_run_with_a_cache_file_hx_did_not_write(tmp_path: Path) -> None:
    cache = tmp_path / "cache.json"
    cache.write_text("[]")
    source = write_lines(tmp_path / "urls.txt", ["http://127.0.0.1:9/"])
    result = hx("fetch", source, "--cache", cache, "--dry-run")
    assert_usage_error(result, "not a cache file hx wrote")
