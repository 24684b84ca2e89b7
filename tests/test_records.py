"""hx.run.records and hx.schema: records match their JSON Schema; NDJSON, CSV and TSV."""

from __future__ import annotations

import csv
import datetime
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hx.errors import ErrorKind
from hx.models import ErrorInfo, Result, StreamStats, Timings
from hx.net.exchange import TlsInfo
from hx.run.records import TABLE_FIELDS, RecordFormat, dumps
from hx.schema import known_fields, parse_fields, record_schema
from support.cli import assert_usage_error, hx, records, write_lines
from support.server import TestServer
from support.tls_servers import AsgiServer


def validator() -> jsonschema.protocols.Validator:
    schema = record_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_real_records_match_the_schema(
    server: TestServer, h2_server: AsgiServer, tls_ca_pem: Path, tmp_path: Path
) -> None:
    source = write_lines(
        tmp_path / "urls.txt",
        [
            server.url("/json"),
            server.url("/status/404"),
            server.url("/redirect/2"),
            "http://127.0.0.1:1/refused",
            "not a url",
            h2_server.url("/"),
        ],
    )
    result = hx(
        "fetch", source, "--http2", "--cacert", tls_ca_pem, "--include-headers", "--body", "-q"
    )
    assert result.exit_code == 3, result.stderr
    recs = records(result)
    assert len(recs) == 6
    check = validator()
    for record in recs:
        check.validate(record)


def test_every_schema_field_is_written_by_to_record() -> None:
    """The schema's required fields are exactly what every record has."""
    record = Result(id=1, line=1, url="http://h/", method="GET", ok=True).to_record()
    assert set(record) == set(record_schema()["required"])
    validator().validate(record)


def test_a_full_result_matches_the_schema() -> None:
    result = Result(
        id="a",
        line=3,
        url="http://h/",
        method="GET",
        ok=False,
        status=503,
        started_at="2026-11-27T16:09:04.123Z",
        total_ms=12.0,
        timings=Timings(dns=None, connect=None, tls=None, wait=3.0, transfer=1.0, total=4.0),
        error=ErrorInfo(ErrorKind.HTTP_STATUS, "HTTP 503"),
        headers=(("a", "b"),),
        body="x",
        body_encoding="text",
        path="out/x",
        sha256="0" * 64,
        resumed_from=0,
    )
    validator().validate(result.to_record())


_text = st.text(max_size=12)  # any code point: quotes, controls, U+2028, surrogates
_ms = st.none() | st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
_count = st.integers(min_value=0, max_value=2**63)


def _optional(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | values


_results = st.builds(
    Result,
    id=st.integers(min_value=-(2**63), max_value=2**63) | _text,
    line=st.integers(min_value=0, max_value=10**9),
    url=_optional(_text),
    method=_optional(_text),
    ok=st.booleans(),
    status=_optional(st.integers(100, 599)),
    http_version=_optional(_text),
    final_url=_optional(_text),
    elapsed_ms=st.floats(0, 1e9, allow_nan=False, allow_infinity=False) | st.just(0),
    started_at=_optional(_text),
    total_ms=_ms,
    redirects=_count,
    remote_ip=_optional(_text),
    remote_port=_optional(st.integers(0, 65535)),
    reused=_optional(st.booleans()),
    timings=_optional(st.builds(Timings, _ms, _ms, _ms, _ms, _ms, _ms)),
    tls=_optional(st.builds(TlsInfo, _optional(_text), _optional(_text), _optional(_text))),
    bytes=_count,
    content_type=_optional(_text),
    error=_optional(st.builds(ErrorInfo, st.sampled_from(ErrorKind), _text)),
    attempts=_count,
    headers=_optional(st.lists(st.tuples(_text, _text), max_size=3).map(tuple)),
    body=_optional(_text),
    body_encoding=_optional(st.sampled_from(["text", "base64"])),
    path=_optional(_text),
    sha256=_optional(_text),
    skipped=st.booleans(),
    resumed_from=_optional(_count),
    received=_optional(_count),
    stream=_optional(st.builds(StreamStats, st.just("eof"), _count, _count, _ms, _ms, _ms)),
    round=_optional(_count),
    not_modified=st.booleans(),
)


@given(_results)
def test_an_ndjson_line_is_the_record_json_would_write(result: Result) -> None:
    """dumps() writes the common fields by hand: the same text as json, for any result."""
    expected = json.dumps(result.to_record(), ensure_ascii=False, separators=(",", ":"))
    assert dumps(result) == expected


def table(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_csv_with_chosen_fields_opens_as_a_table(server: TestServer, tmp_path: Path) -> None:
    urls = [server.url("/json"), server.url("/status/404"), "http://127.0.0.1:1/x"]
    source = write_lines(tmp_path / "urls.txt", urls)
    fields = "url,status,timings.wait,remote_ip,error.kind"
    result = hx("fetch", source, "--format", "csv", "--fields", fields, "--ordered", "-q")
    assert result.exit_code == 3, result.stderr
    assert result.stdout_bytes.count(b"\r\n") == 4  # RFC 4180: CRLF after every row
    header, *rows = table(result.stdout)
    assert header == fields.split(",")
    assert [row[0] for row in rows] == urls
    assert [row[1] for row in rows] == ["200", "404", ""]
    assert [row[4] for row in rows] == ["", "http_status", "connect"]


def test_csv_without_fields_has_the_default_columns(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/json")])
    result = hx("fetch", source, "--format", "csv", "-q")
    header, row = table(result.stdout)
    assert tuple(header) == TABLE_FIELDS
    assert dict(zip(header, row, strict=True))["ok"] == "true"


def test_tsv_to_a_file(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/json")] * 3)
    out = tmp_path / "out.tsv"
    result = hx("fetch", source, "--format", "tsv", "--fields", "line,status", "--output-file", out)
    assert result.exit_code == 0, result.stderr
    header, *rows = table(out.read_text(), delimiter="\t")
    assert header == ["line", "status"]
    assert sorted(rows) == [["1", "200"], ["2", "200"], ["3", "200"]]


def test_ndjson_with_fields_keeps_only_those(server: TestServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/json")])
    result = hx("fetch", source, "--fields", "status,error.kind", "-q")
    assert records(result) == [{"status": 200, "error.kind": None}]


@pytest.mark.parametrize("fields", ["status,nope", "timings.nope", ",", "url.host"])
def test_bad_field_names_are_a_usage_error_naming_them(
    server: TestServer, tmp_path: Path, fields: str
) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/json")])
    result = hx("fetch", source, "--format", "csv", "--fields", fields)
    bad = [name for name in fields.split(",") if name and name not in known_fields()]
    assert_usage_error(result, "--fields", *bad)


def test_cells_quote_what_needs_quoting() -> None:
    fmt = RecordFormat("csv", parse_fields("url,error.message,ok,headers"))
    record: dict[str, Any] = {
        "url": "http://h/a,b",
        "error": {"kind": "protocol", "message": 'said "no"\nthen left'},
        "ok": False,
        "headers": [["a", "b"]],
    }
    [row] = table(fmt.line(record))
    assert row == ["http://h/a,b", 'said "no"\nthen left', "false", '[["a","b"]]']


def test_the_readme_describes_every_record_field() -> None:
    """The schema is the source; the README must not fall behind it."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    missing = [name for name in known_fields() if f"`{name.split('.')[-1]}`" not in readme]
    assert not missing, f"README.md does not mention these record fields: {missing}"


def test_timings_are_measured_on_new_connections_and_null_on_reused_ones(
    server: TestServer, tmp_path: Path
) -> None:
    source = write_lines(tmp_path / "urls.txt", [server.url("/json"), server.url("/json?2")])
    first, second = records(hx("fetch", source, "-c", "1", "--ordered", "-q"))
    port = int(server.url("/").rsplit(":", 1)[1].split("/")[0])
    for record in (first, second):
        assert (record["remote_ip"], record["remote_port"]) == ("127.0.0.1", port)
        assert record["tls"] is None
    assert first["reused"] is False and second["reused"] is True
    fresh, reused = first["timings"], second["timings"]
    assert fresh["dns"] is not None and fresh["connect"] is not None and fresh["tls"] is None
    assert reused["dns"] is reused["connect"] is reused["tls"] is None
    for timings in (fresh, reused):
        assert timings["wait"] is not None and timings["transfer"] is not None
        assert timings["total"] >= timings["wait"] + timings["transfer"]


def test_wait_and_transfer_match_the_server_s_delays(server: TestServer, tmp_path: Path) -> None:
    # /slow answers after 0.2 s; /drip sends its head at once, then 3 bytes 0.1 s apart.
    urls = [server.url("/slow?delay=0.2"), server.url("/drip?bytes=3&delay=0.1")]
    slow, drip = records(hx("fetch", write_lines(tmp_path / "urls.txt", urls), "--ordered", "-q"))
    assert slow["timings"]["wait"] == pytest.approx(200, abs=20)
    assert drip["timings"]["transfer"] == pytest.approx(300, abs=30)


def test_https_records_carry_the_tls_facts(
    h2_server: AsgiServer, tls_ca_pem: Path, tmp_path: Path
) -> None:
    source = write_lines(tmp_path / "urls.txt", [h2_server.url("/")])
    [record] = records(hx("fetch", source, "--http2", "--cacert", tls_ca_pem, "-q"))
    assert record["http_version"] == "HTTP/2"
    assert record["timings"]["tls"] is not None
    tls = record["tls"]
    assert tls["alpn"] == "h2" and tls["version"] in ("TLSv1.2", "TLSv1.3")
    assert tls["cipher"]
    # trustme's certificates: valid until the year 3000, no common names.
    assert tls["not_after"] == "3000-01-01T00:00:00Z"
    expires = datetime.datetime(3000, 1, 1, tzinfo=datetime.UTC)
    days_left = (expires - datetime.datetime.now(datetime.UTC)).days
    assert tls["days_left"] in (days_left, days_left + 1)
    assert (tls["subject_cn"], tls["issuer_cn"]) == (None, None)
