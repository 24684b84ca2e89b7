"""The end-of-run summaries as people read them: at 60, 80 and 120 columns, and in cron mail."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from hx.console import make_console
from hx.console.downloads import file_line
from hx.console.summary import print_download_summary, print_summary
from hx.errors import ErrorKind
from hx.models import ErrorInfo, Result
from hx.run.summary import Summary, SummaryBuilder

HOSTS = ["api.example.org", "cdn.example.net:8443", "a-rather-long-host-name.internal.example.org"]


def mixed_summary() -> Summary:
    """1,000 requests over three hosts: 875 200s, 100 404s, 20 slow 503s, 5 timeouts, in 10 s."""
    clock = iter([0.0, 10.0])
    builder = SummaryBuilder(get_time=lambda: next(clock))
    for n in range(1000):
        status: int | None = 200
        error = None
        ms = 5.0 + n % 40  # 5..44 ms
        if n % 10 == 3:
            status, error = 404, ErrorInfo(ErrorKind.HTTP_STATUS, "HTTP 404 Not Found")
        elif n % 50 == 7:
            status, error = 503, ErrorInfo(ErrorKind.HTTP_STATUS, "HTTP 503")
            ms = 1500.0
        elif n % 200 == 11:
            status, error = None, ErrorInfo(ErrorKind.TIMEOUT, "read timed out")
            ms = 30_000.0
        builder.add(
            Result(
                id=n + 1,
                line=n + 1,
                url=f"https://{HOSTS[n % 3]}/items/{n}?page=2",
                method="GET",
                ok=error is None,
                status=status,
                elapsed_ms=ms,
                bytes=2048,
                error=error,
                attempts=1,
            )
        )
    return builder.build()


def terminal(width: int) -> Console:
    return Console(
        width=width, record=True, file=io.StringIO(), force_terminal=True, color_system=None
    )


def shown(summary: Summary, width: int) -> list[str]:
    console = terminal(width)
    print_summary(console, summary)
    return [line.rstrip() for line in console.export_text().splitlines()]


@pytest.mark.parametrize("width", [60, 80, 120])
def test_terminal_summary_fits_and_says_everything(width: int) -> None:
    lines = shown(mixed_summary(), width)
    text = "\n".join(lines)
    assert all(len(line) <= width for line in lines), [line for line in lines if len(line) > width]
    head = "hx: 1,000 requests in 10.00 s (100.0 req/s): 875 ok, 125 failed"
    assert " ".join(lines[: 2 if width < len(head) else 1]) == head  # wrapped between words
    assert "  status:   2xx 875  4xx 100  5xx 20" in lines
    assert "  codes:    200 875  404 100  503 20" in lines
    assert "  errors:   http_status 120  timeout 5" in lines
    assert "  latency:  p50 25.1  p90 41.2  p99 1,500.0  max 1,500.0 ms" in lines
    assert "  received: 2.0 MiB" in lines
    # The distribution's shape: log-spaced rows, bars scaled to the widest, counts right.
    start = lines.index("  latency histogram")
    rows = lines[start + 1 : lines.index("  slowest requests")]
    assert [row.split()[0] for row in rows] == ["5–10", "10–20", "20–50", "50–100", "100–200",
                                                "200–500", "500–1,000", "1–2"]  # fmt: skip
    counts = [int(row.split()[-1]) for row in rows]
    assert counts == [150, 215, 610, 0, 0, 0, 0, 20]  # every response; timeouts had none
    bars = [len(row.split()[2]) if count else 0 for row, count in zip(rows, counts, strict=True)]
    assert bars[2] == max(bars) and bars[0] < bars[1] < bars[2] and 0 < bars[-1] < bars[0]
    assert len(rows[2]) == width if width < 100 else len(rows[2]) < width  # at most 60 wide
    # The five slowest (all timeouts), URL shortened if the width needs it.
    slowest = lines[lines.index("  slowest requests") + 1 : lines.index("  hosts")]
    assert len(slowest) == 5
    assert [re.match(r"    30\.00 s  timeout  \[(\d+)\] https://", row)[1] for row in slowest] == [
        "12",
        "212",
        "412",
        "612",
        "812",
    ]
    cut = slowest[0].endswith("…")
    assert cut == (width < 100)
    if not cut:
        assert slowest[0].endswith(
            " https://a-rather-long-host-name.internal.example.org/items/11?page=2"
        )
    # Hosts: busiest first, their own percentiles; long names cut, not wrapped.
    hosts = lines[lines.index("  hosts") + 1 :]
    assert re.match(r"    host +requests +ok +failed +p50 +p99$", hosts[0])
    assert len(hosts) == 4
    assert re.fullmatch(r"    api\.example\.org +334 +292 +42 +25\.6 ms +1\.50 s", hosts[1])
    assert re.fullmatch(r"    cdn\.example\.net\S* +333 +291 +42 +25\.6 ms +1\.50 s", hosts[3])
    assert ("    a-rather-long-host-name.internal.example.org  " in text) == (width >= 100)


def test_plain_summary_is_compact_text() -> None:
    out = io.StringIO()
    print_summary(Console(file=out, width=80), mixed_summary())
    assert out.getvalue().splitlines() == [
        "hx: 1,000 requests in 10.00 s (100.0 req/s): 875 ok, 125 failed",
        "  status:   2xx 875  4xx 100  5xx 20",
        "  codes:    200 875  404 100  503 20",
        "  errors:   http_status 120  timeout 5",
        "  latency:  p50 25.1  p90 41.2  p99 1,500.0  max 1,500.0 ms",
        "  received: 2.0 MiB",
        "  slowest:  30.00 s timeout [12] https://a-rather-long-host-name.internal.example.org"
        "/items/11?page=2",
    ]


def test_one_request_is_singular() -> None:
    builder = SummaryBuilder(get_time=iter([0.0, 0.5]).__next__)
    builder.add(Result(id=1, line=1, url="http://h/", method="GET", ok=True, status=200))
    out = io.StringIO()
    print_summary(Console(file=out), builder.build())
    assert out.getvalue().startswith("hx: 1 request in 0.50 s (2.0 req/s): 1 ok, 0 failed\n")


def test_long_lines_are_never_broken_off_a_terminal() -> None:
    summary = mixed_summary()
    out = io.StringIO()
    print_summary(Console(file=out, width=40), summary)
    assert (
        "  slowest:  30.00 s timeout [12] https://a-rather-long-host-name.internal.example.org"
        "/items/11?page=2\n" in out.getvalue()
    )


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_no_color_and_dumb_terminals_get_no_styles_at_all(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    tty = FakeTty()
    monkeypatch.setattr("sys.stderr", tty)
    console = make_console()
    assert console.is_terminal
    print_summary(console, mixed_summary())
    assert "\x1b[" not in tty.getvalue()  # no colour, and no bold or dim either
    assert "latency histogram" in tty.getvalue()


def test_colours_on_an_ordinary_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    tty = FakeTty()
    monkeypatch.setattr("sys.stderr", tty)
    print_summary(make_console(), mixed_summary())
    assert "\x1b[1m" in tty.getvalue()  # the head line is bold


def download(
    path: str, size: int, ms: float, resumed_from: int | None = 0, ok: bool = True
) -> Result:
    return Result(
        id=1,
        line=1,
        url=f"https://mirror.example.org/{path}",
        method="GET",
        ok=ok,
        status=200 if ok else None,
        elapsed_ms=ms,
        bytes=size,
        received=size - (resumed_from or 0),
        path=path,
        resumed_from=resumed_from,
        error=None if ok else ErrorInfo(ErrorKind.CONNECT, "connection refused"),
    )


def test_a_line_per_file_in_binary_units() -> None:
    assert file_line(download("big.iso", 12 * 2**20 + 2**19, 4200.0)) == (
        "hx: saved big.iso (12.5 MiB in 4.20 s, 3.0 MiB/s)",
        None,
    )
    assert file_line(download("rest.bin", 10 * 2**20, 1000.0, resumed_from=4 * 2**20)) == (
        "hx: saved rest.bin (10.0 MiB in 1.00 s, resumed at 4.0 MiB, 6.0 MiB/s)",
        None,
    )
    assert file_line(download("gone.bin", 0, 5.0, ok=False)) == (
        "hx: failed https://mirror.example.org/gone.bin: connect: connection refused",
        "red",
    )


def test_download_summary_is_about_files_and_bytes() -> None:
    clock = iter([0.0, 4.0])
    builder = SummaryBuilder(get_time=lambda: next(clock))
    builder.add(download("a.iso", 8 * 2**20, 3000.0))
    builder.add(download("b.iso", 4 * 2**20, 2000.0, resumed_from=2**20))
    builder.add(download("c.iso", 2**20, 5.0, resumed_from=None, ok=False))  # a .part left
    out = io.StringIO()
    print_download_summary(Console(file=out), builder.build())
    assert out.getvalue().splitlines() == [
        "hx: 3 files in 4.00 s: 2 saved, 1 failed",
        "  saved:    12.0 MiB",
        "  received: 12.0 MiB at 3.0 MiB/s",
        "  resumed:  1 file from an earlier .part",
        "  errors:   connect 1",
    ]
    assert "latency" not in out.getvalue() and "p50" not in out.getvalue()
