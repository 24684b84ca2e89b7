"""``hx stream`` against real streaming servers on loopback: SSE (sse-starlette under
hypercorn), NDJSON, and raw hostile streams."""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hx.batch import retry
from hx.errors import ErrorKind
from hx.models import ErrorInfo, Result
from hx.schema import record_schema
from hx.settings import RetryPolicy
from hx.stream.options import StreamOptions
from support.cli import assert_usage_error, hx, records, write_lines
from support.process import HX, hx_env, wait_for
from support.stream_servers import RawStreamServer, StreamServer


@pytest.fixture(scope="module")
def streams() -> Iterator[StreamServer]:
    with StreamServer() as srv:
        yield srv
    assert not srv.errors, srv.errors


@pytest.fixture(scope="module")
def raw() -> Iterator[RawStreamServer]:
    with RawStreamServer() as srv:
        yield srv
    assert not srv.errors, srv.errors


def validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def event_schema() -> dict[str, Any]:
    text = importlib.resources.files("hx").joinpath("schema/event.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def split(recs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(event records, final records), each checked against its schema."""
    events = [rec for rec in recs if "seq" in rec]
    finals = [rec for rec in recs if "seq" not in rec]
    check_event, check_final = validator(event_schema()), validator(record_schema())
    for event in events:
        check_event.validate(event)
    for final in finals:
        check_final.validate(final)
    return events, finals


def stream(tmp_path: Path, *urls: str, args: tuple[str, ...] = ()) -> Any:
    source = write_lines(tmp_path / "urls.txt", urls)
    return hx("stream", source, "-q", *args)


def test_sse_events_are_records_then_one_final_record(
    streams: StreamServer, tmp_path: Path
) -> None:
    result = stream(tmp_path, streams.url("/sse?n=3&gap=0.01&retry=100"))
    assert result.exit_code == 0, result.stderr
    events, (final,) = split(records(result))
    assert [(e["seq"], e["event"], e["data"], e["event_id"]) for e in events] == [
        (i, "tick", f"{i}\nline two", str(i)) for i in (1, 2, 3)
    ]
    assert all(e["id"] == 1 for e in events)
    assert events[0]["t_ms"] <= events[1]["t_ms"] <= events[2]["t_ms"] <= final["elapsed_ms"]
    assert final["ok"] is True and final["status"] == 200
    stats = final["stream"]
    assert stats["end"] == "eof" and stats["events"] == 3 and stats["bad_events"] == 0
    assert stats["first_event_ms"] == events[0]["t_ms"]
    assert 5 <= stats["gap_p50_ms"] <= stats["gap_p99_ms"]


def test_ndjson_and_lines_framings(streams: StreamServer, tmp_path: Path) -> None:
    url = streams.url("/ndjson?n=2")
    auto = stream(tmp_path, url)
    assert [e["data"] for e in split(records(auto))[0]] == [{"n": 1}, {"n": 2}]
    lines = stream(tmp_path, url, args=("--framing", "lines"))
    assert [e["data"] for e in split(records(lines))[0]] == ['{"n": 1}', '{"n": 2}']


def test_max_events_ends_a_stream_ok(streams: StreamServer, tmp_path: Path) -> None:
    result = stream(tmp_path, streams.url("/sse?n=50&gap=0.01"), args=("--max-events", "2"))
    assert result.exit_code == 0, result.stderr
    events, (final,) = split(records(result))
    assert [e["seq"] for e in events] == [1, 2]
    assert final["ok"] is True and final["stream"]["end"] == "max_events"


def test_max_time_ends_a_stream_ok_with_its_stats(streams: StreamServer, tmp_path: Path) -> None:
    result = stream(tmp_path, streams.url("/sse?n=100&gap=0.05"), args=("--max-time", "0.4"))
    assert result.exit_code == 0, result.stderr
    events, (final,) = split(records(result))
    assert 3 <= len(events) <= 9
    assert final["ok"] is True and final["error"] is None
    assert final["stream"]["end"] == "max_time" and final["stream"]["events"] == len(events)


def test_idle_timeout_fails_a_stalled_stream(raw: RawStreamServer, tmp_path: Path) -> None:
    url = raw.url("/raw?case=stall&type=text/event-stream")
    result = stream(tmp_path, url, args=("--idle-timeout", "0.3"))
    assert result.exit_code == 4, result.stderr
    events, (final,) = split(records(result))
    assert [e["data"] for e in events] == ["one"]
    assert final["ok"] is False and final["attempts"] == 1  # bytes came: never retried
    assert final["stream"]["end"] == "idle_timeout"
    assert final["error"] == {"kind": "timeout", "message": "no bytes for 0.3 s (--idle-timeout)"}


def test_a_dropped_sse_stream_resumes_from_last_event_id(
    streams: StreamServer, tmp_path: Path
) -> None:
    streams.last_event_ids.clear()
    url = streams.url("/resume?n=7&drop=3&retry=20")
    result = stream(tmp_path, url, args=("--reconnect", "2"))
    assert result.exit_code == 0, result.stderr
    events, (final,) = split(records(result))
    assert [(e["seq"], e["data"]) for e in events] == [(i, f"event {i}") for i in range(1, 8)]
    assert streams.last_event_ids == [None, "3", "6"]
    assert final["ok"] is True
    assert final["stream"]["reconnects"] == 2 and final["stream"]["end"] == "eof"


def test_a_drop_after_events_is_not_retried(streams: StreamServer, tmp_path: Path) -> None:
    """The engine retries protocol errors of a GET, but not once events were written."""
    result = stream(tmp_path, streams.url("/resume?n=5&drop=2"), args=("--retries", "3"))
    assert result.exit_code == 4, result.stderr
    events, (final,) = split(records(result))
    assert [e["data"] for e in events] == ["event 1", "event 2"]
    assert final["attempts"] == 1 and final["error"]["kind"] == "protocol"
    assert final["stream"]["end"] == "error"


def test_a_failure_before_the_first_byte_is_retried(streams: StreamServer, tmp_path: Path) -> None:
    result = stream(
        tmp_path, streams.url("/status/503"), args=("--retries", "2", "--retry-delay", "0")
    )
    assert result.exit_code == 4, result.stderr
    (final,) = records(result)
    assert final["attempts"] == 3 and final["status"] == 503
    assert final["error"]["kind"] == "http_status" and final["stream"]["events"] == 0


def test_retry_policy_refuses_a_result_that_was_handed_on() -> None:
    policy = RetryPolicy()
    error = ErrorInfo(ErrorKind.PROTOCOL, "reset")
    failed = Result(id=1, line=1, url="http://h/", method="GET", ok=False, error=error)
    assert retry.retryable(policy, failed, "GET", retry_forced=True)
    handed_on = dataclasses.replace(failed, replayable=False)
    assert not retry.retryable(policy, handed_on, "GET", retry_forced=True)
    assert handed_on.to_record() == failed.to_record()  # never written


def test_a_long_line_is_one_error_event_and_the_stream_goes_on(
    raw: RawStreamServer, tmp_path: Path
) -> None:
    url = raw.url("/raw?case=long-line&size=100000&type=text/event-stream")
    result = stream(tmp_path, url, args=("--max-line", "1K"))
    assert result.exit_code == 0, result.stderr
    events, (final,) = split(records(result))
    assert [e.get("data") for e in events] == ["before", None, "after"]
    assert events[1]["error"] == {
        "kind": "too_long",
        "message": "an event longer than --max-line 1024 bytes; dropped",
    }
    assert final["stream"]["bad_events"] == 1 and final["stream"]["events"] == 2


def test_a_line_that_never_ends_costs_one_error_event(raw: RawStreamServer, tmp_path: Path) -> None:
    url = raw.url("/raw?case=endless-line")
    result = stream(tmp_path, url, args=("--max-line", "64K", "--max-time", "0.5"))
    assert result.exit_code == 0, result.stderr
    events, (final,) = split(records(result))
    assert [e["error"]["kind"] for e in events] == ["too_long"]
    assert final["stream"]["end"] == "max_time" and final["bytes"] > 65536


def test_invalid_utf8(raw: RawStreamServer, tmp_path: Path) -> None:
    url = raw.url("/raw?case=bad-utf8&type=application/x-ndjson")
    ndjson = split(records(stream(tmp_path, url)))[0]
    assert [e.get("data", e.get("error", {}).get("kind")) for e in ndjson] == [
        "invalid_json",
        "invalid_json",
        "invalid_json",
        {"ok": 1},
    ]
    lines = split(records(stream(tmp_path, url, args=("--framing", "lines"))))[0]
    assert [e["data"] for e in lines] == ['{"a": "\ufffd"}', "café", "\ufffd", '{"ok": 1}']


def test_cr_only_line_ends(raw: RawStreamServer, tmp_path: Path) -> None:
    result = stream(tmp_path, raw.url("/raw?case=cr-only"), args=("--framing", "sse"))
    assert [e["data"] for e in split(records(result))[0]] == ["a\nb", "c"]


def test_a_gzip_stream_is_decoded_as_it_arrives(raw: RawStreamServer, tmp_path: Path) -> None:
    result = stream(tmp_path, raw.url("/raw?case=gzip&type=text/event-stream"))
    events, (final,) = split(records(result))
    assert [e["data"] for e in events] == ["a", "b"]
    assert final["bytes"] == len(b"data: a\n\ndata: b\n\n")


def test_streams_over_http2(streams: StreamServer, tmp_path: Path) -> None:
    url = streams.h2c_url("/sse?n=3")
    result = stream(tmp_path, url, url, args=("--http2-prior-knowledge",))
    assert result.exit_code == 0, result.stderr
    events, finals = split(records(result))
    assert len(events) == 6 and {final["http_version"] for final in finals} == {"HTTP/2"}


def test_events_only_and_no_events(streams: StreamServer, tmp_path: Path) -> None:
    url = streams.url("/ndjson?n=2")
    only = records(stream(tmp_path, url, args=("--events-only",)))
    assert [rec["seq"] for rec in only] == [1, 2]
    finals = records(stream(tmp_path, url, args=("--no-events",)))
    assert len(finals) == 1 and finals[0]["stream"]["events"] == 2


def test_output_dir_appends_each_stream_to_its_file(streams: StreamServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    url = streams.url("/ndjson?n=2")
    for _ in range(2):
        result = stream(tmp_path, url, args=("-O", str(out), "--no-events"))
        assert result.exit_code == 0, result.stderr
    (final,) = records(result)
    assert Path(final["path"]).read_bytes() == b'{"n": 1}\n{"n": 2}\n' * 2


def test_summary_on_stderr(streams: StreamServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [streams.url("/ndjson?n=3&gap=0.01")])
    result = hx("stream", source, env={"NO_COLOR": "1"})
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert lines[0].startswith("hx: 1 stream in ") and lines[0].endswith(": 1 ok, 0 failed")
    labels = [line.split(":")[0].strip() for line in lines[1:]]
    assert labels == ["events", "first event", "gaps", "received", "ended"]
    assert lines[1].split() == ["events:", "3,", "0", "unreadable"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--format", "csv"), ("NDJSON only",)),
        (("--fields", "url"), ("NDJSON only",)),
        (("--events-only", "--no-events"), ("--events-only", "--no-events")),
        (("--max-line", "0"), ("--max-line",)),
    ],
)
def test_usage_errors(tmp_path: Path, args: tuple[str, ...], words: tuple[str, ...]) -> None:
    source = write_lines(tmp_path / "urls.txt", ["http://127.0.0.1:1/"])
    assert_usage_error(hx("stream", source, *args), *words)


def test_cli_defaults_are_the_library_defaults() -> None:
    from hx.cli.stream import STREAM_DEFAULTS

    assert STREAM_DEFAULTS == StreamOptions()


def test_ctrl_c_ends_every_stream_with_its_final_record(
    streams: StreamServer, tmp_path: Path
) -> None:
    urls = [streams.url("/sse?n=1000&gap=0.02")] * 3 + [streams.url("/sse?n=1")]
    source = write_lines(tmp_path / "urls.txt", urls)
    out_path = tmp_path / "stdout"
    with out_path.open("wb") as out:
        proc = subprocess.Popen(
            [*HX, "stream", str(source), "--grace", "0"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.PIPE,
            env=hx_env(),
        )
    try:
        wait_for(lambda: out_path.read_bytes().count(b'"seq":5,') >= 3, "five events per stream")
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr
    events, finals = split(records(out_path.read_bytes()))
    assert len(finals) == 4
    ends = sorted(final["stream"]["end"] for final in finals)
    assert ends == ["eof", "interrupted", "interrupted", "interrupted"]
    for final in finals:
        written = [e for e in events if e["id"] == final["id"]]
        assert final["stream"]["events"] == len(written) >= 1
        assert [e["seq"] for e in written] == list(range(1, len(written) + 1))
    assert b"3 failed" in stderr
