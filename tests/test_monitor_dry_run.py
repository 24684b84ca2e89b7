"""``hx fetch --dry-run``: each request as hx would send it, secrets redacted, no connection."""

from __future__ import annotations

from pathlib import Path

from support.cli import hx, records, write_ndjson
from support.server import TestServer


def test_requests_as_they_would_be_sent(fresh_server: TestServer, tmp_path: Path) -> None:
    source = write_ndjson(
        tmp_path / "requests.ndjson",
        [
            {"url": fresh_server.url("/a"), "params": {"q": "1"}},
            {"url": fresh_server.url("/b"), "json": {"k": "v"}, "headers": {"X-Api-Key": "k3y"}},
            {"url": "ftp://example.invalid/"},
        ],
    )
    result = hx("fetch", source, "--dry-run", "-H", "X-Trace: 7", "--auth", "me:s3cret")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    first, second, third = records(result)
    host = ["Host", fresh_server.url("").split("//")[1].rstrip("/")]
    assert first == {
        "id": 1,
        "line": 1,
        "method": "GET",
        "url": fresh_server.url("/a?q=1"),
        "headers": [
            host,
            ["Accept", "*/*"],
            ["Connection", "keep-alive"],
            ["User-Agent", first["headers"][3][1]],
            ["Accept-Encoding", "gzip, deflate"],
            ["X-Trace", "7"],
            ["Authorization", "***"],
        ],
        "body_bytes": 0,
    }
    assert first["headers"][3][1].startswith("hx/")
    assert second["method"] == "POST"
    assert ["X-Api-Key", "***"] in second["headers"]
    assert ["Content-Type", "application/json"] in second["headers"]
    assert second["body_bytes"] == len(b'{"k":"v"}')
    assert third["error"]["kind"] == "invalid_input"
    assert "s3cret" not in result.stdout and "k3y" not in result.stdout
    assert fresh_server.connections == 0
