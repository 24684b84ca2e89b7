"""``--metrics-file``: the file parses with prometheus-client's parser and matches the records."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from hx.errors import ErrorKind
from hx.models import ErrorInfo, Result
from hx.monitor.metrics import Metrics
from support.cli import hx, records, write_lines
from support.server import TestServer


def samples(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` of a metrics file."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(path.read_text())
        for sample in family.samples
    }


def by_code_and_error(recs: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    return Counter(
        ("" if rec["status"] is None else str(rec["status"]), (rec["error"] or {}).get("kind", ""))
        for rec in recs
    )


def test_counters_match_the_records(server: TestServer, refused_url: str, tmp_path: Path) -> None:
    urls = [server.url("/json")] * 3 + [server.url("/status/404"), refused_url + "/x", "nope"]
    metrics = tmp_path / "hx.prom"
    result = hx(
        "fetch", write_lines(tmp_path / "urls.txt", urls), "--metrics-file", metrics,
        "--retries", "0", "--every", "50ms", "--rounds", "2", "-q",
    )  # fmt: skip
    assert result.exit_code == 3, result.stderr
    recs = records(result)
    found = samples(metrics)
    requests = {
        (labels[0][1], labels[1][1]): value
        for (name, labels), value in found.items()
        if name == "hx_requests_total"
    }
    assert requests == {key: float(n) for key, n in by_code_and_error(recs).items()}
    assert sum(requests.values()) == len(recs) == 12
    answered = [rec for rec in recs if rec["status"] is not None]
    assert found["hx_request_duration_seconds_count", ()] == len(answered)
    seconds = sum(rec["elapsed_ms"] for rec in answered) / 1000
    assert abs(found["hx_request_duration_seconds_sum", ()] - seconds) < 0.001
    assert found["hx_request_duration_seconds_bucket", (("le", "+Inf"),)] == len(answered)
    host = server.url("").split("//")[1].rstrip("/")
    refused_host = refused_url.split("//")[1]
    assert found["hx_host_up", (("host", host),)] == 1.0
    assert found["hx_host_up", (("host", refused_host),)] == 0.0
    assert ("hx_host_last_success_timestamp_seconds", (("host", host),)) in found
    assert ("hx_host_last_success_timestamp_seconds", (("host", refused_host),)) not in found
    assert found["hx_last_run_timestamp_seconds", ()] > 1.7e9
    assert not list(tmp_path.glob("*.part"))


def result_for(url: str, ok: bool, round: int) -> Result:
    error = None if ok else ErrorInfo(ErrorKind.CONNECT, "refused")
    return Result(id=1, line=1, url=url, method="GET", ok=ok, round=round, error=error)


def test_a_host_is_up_as_its_latest_round_says(tmp_path: Path) -> None:
    metrics = Metrics(tmp_path / "hx.prom", get_time=lambda: 1_800_000_000.0)
    metrics.add(result_for("http://a:80/", ok=True, round=1))
    metrics.add(result_for("http://a:80/", ok=False, round=2))
    metrics.add(result_for("http://b:80/x", ok=False, round=1))
    metrics.add(result_for("http://b:80/y", ok=True, round=1))
    metrics.write()
    found = samples(metrics.path)
    assert found["hx_host_up", (("host", "a:80"),)] == 0.0
    assert found["hx_host_up", (("host", "b:80"),)] == 1.0
    assert found["hx_host_last_success_timestamp_seconds", (("host", "a:80"),)] == 1.8e9


def test_prometheus_client_is_loaded_only_for_metrics() -> None:
    code = "import sys, hx.run.runner; print('prometheus_client' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"
