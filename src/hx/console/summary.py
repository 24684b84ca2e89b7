"""The end-of-run summary on stderr.

Every run gets the same few ``label: values`` lines, which read the same in
cron mail as on a terminal. A terminal also gets the shape of the latency
distribution, the slowest requests and the busiest hosts, drawn to its width.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hx.console.messages import Stderr, on_terminal, say, unicode_ok
from hx.console.numbers import bytes_rate, count, ms, plural, seconds, size
from hx.run.summary import HistogramBucket, HostStats, SlowRequest, Summary

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

HOST_ROWS = 10
"""Hosts listed on a terminal (the rest are in --summary-json)."""
_INDENT = "  "
_BAR_MAX = 60
_BLOCKS = " ▏▎▍▌▋▊▉█"
"""A bar's last cell in eighths, so that small counts still show."""


def print_summary(console: Stderr, summary: Summary) -> None:
    """``hx fetch``'s summary: counts, statuses, errors, latency, bytes."""
    head = (
        f"hx: {plural(summary.total, 'request')} in {seconds(summary.elapsed_s)}"
        f" ({summary.requests_per_second:,.1f} req/s):"
        f" {count(summary.ok)} ok, {count(summary.failed)} failed"
    )
    say(console, head, style="bold", wrap=console.is_terminal)
    _skipped_line(console, summary)
    if summary.by_status:
        _line(console, "status", _counts(summary.by_status))
        _line(console, "codes", _counts(summary.by_code))
    if summary.by_error:
        _line(console, "errors", _counts(summary.by_error))
    latency = summary.latency_ms
    if latency["p50"] is not None:
        parts = "  ".join(
            f"{name} {value:,.1f}" for name, value in latency.items() if value is not None
        )
        _line(console, "latency", f"{parts} ms")
    _line(console, "received", size(summary.received))
    if not console.is_terminal:
        if summary.slowest:
            _line(console, "slowest", _slow_text(summary.slowest[0]))
        return
    terminal = on_terminal(console)
    if summary.histogram:
        terminal.print(_histogram(summary.histogram, terminal.width, unicode_ok(terminal)))
    if summary.slowest:
        terminal.print(_slowest(summary.slowest))
    if len(summary.hosts) > 1:
        terminal.print(_hosts(summary.hosts))


def print_download_summary(console: Stderr, summary: Summary) -> None:
    """``hx download``'s summary: files and bytes; request latency means little for a file."""
    head = (
        f"hx: {plural(summary.total, 'file')} in {seconds(summary.elapsed_s)}:"
        f" {count(summary.ok - summary.skipped)} saved, {count(summary.failed)} failed"
    )
    say(console, head, style="bold", wrap=console.is_terminal)
    _skipped_line(console, summary, "kept, already on disk (--no-clobber, -N)")
    _line(console, "saved", size(summary.ok_bytes))
    received = f"{size(summary.received)} at {bytes_rate(summary.bytes_per_second)}"
    _line(console, "received", received)
    if summary.resumed:
        _line(console, "resumed", plural(summary.resumed, "file") + " from an earlier .part")
    if summary.by_error:
        _line(console, "errors", _counts(summary.by_error))


def _line(console: Stderr, label: str, text: str) -> None:
    # On a terminal, rich wraps at word boundaries; elsewhere the line stays whole.
    say(console, f"{_INDENT}{label + ':':<9} {text}", wrap=console.is_terminal)


def _skipped_line(
    console: Stderr, summary: Summary, why: str = "already done per the journal"
) -> None:
    if summary.skipped:
        _line(console, "skipped", f"{count(summary.skipped)} {why}")


def _counts(counts: dict[str, int]) -> str:
    return "  ".join(f"{name} {count(n)}" for name, n in counts.items())


def _slow_text(slow: SlowRequest) -> str:
    return f"{ms(slow.ms)} {_outcome(slow)} [{slow.id}] {slow.url}"


# rich's tables and texts are imported where they are built: on a terminal only.


def _section(title: str) -> Table:
    from rich.table import Table

    table = Table.grid(padding=(0, 2))
    table.title = f"{_INDENT}{title}"
    table.title_justify = "left"
    table.title_style = ""
    return table


def _histogram(buckets: list[HistogramBucket], width: int, unicode: bool) -> Table:
    """One row per bucket: its range, a bar scaled to the widest bucket, its count."""
    from rich.text import Text

    dash = "–" if unicode else "-"
    labels = [_bucket_label(bucket, dash) for bucket in buckets]
    counts = [count(bucket.count) for bucket in buckets]
    label_width = max(map(len, labels))
    count_width = max(map(len, counts))
    # indent + label + gap + bar + gap + count, all within the terminal.
    bar_width = min(_BAR_MAX, max(4, width - 2 * len(_INDENT) - label_width - count_width - 4))
    largest = max(bucket.count for bucket in buckets) or 1
    table = _section("latency histogram")
    table.add_column(width=len(_INDENT))
    table.add_column(justify="right", no_wrap=True)
    table.add_column(width=bar_width, no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    for label, bucket, text in zip(labels, buckets, counts, strict=True):
        bar = _bar(bucket.count / largest * bar_width, unicode)
        table.add_row("", label, Text(bar, style="cyan"), text)
    return table


def _bar(cells: float, unicode: bool) -> str:
    """``cells`` wide, in eighths of a cell; a non-zero count shows at least a sliver."""
    if not unicode:
        return "#" * max(round(cells), 1 if cells else 0)
    eighths = max(round(cells * 8), 1 if cells else 0)
    full, rest = divmod(eighths, 8)
    return _BLOCKS[-1] * full + (_BLOCKS[rest] if rest else "")


def _bucket_label(bucket: HistogramBucket, dash: str) -> str:
    if bucket.to_ms > 1000:
        return f"{_edge(bucket.from_ms / 1000)}{dash}{_edge(bucket.to_ms / 1000)} s"
    return f"{_edge(bucket.from_ms)}{dash}{_edge(bucket.to_ms)} ms"


def _edge(value: float) -> str:
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def _slowest(slowest: list[SlowRequest]) -> Table:
    table = _section("slowest requests")
    table.add_column(width=len(_INDENT))
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column()  # the one column that gives way when the terminal is narrow
    for slow in slowest:
        table.add_row("", ms(slow.ms), _outcome(slow), _cut(f"[{slow.id}] {slow.url}"))
    return table


def _cut(text: str) -> Text:
    """A cell that is shortened with an ellipsis rather than wrapped."""
    from rich.text import Text

    return Text(text, no_wrap=True, overflow="ellipsis")


def _outcome(slow: SlowRequest) -> str:
    return str(slow.status) if slow.status is not None else slow.error or ""


def _hosts(hosts: list[HostStats]) -> Table:
    table = _section("hosts")
    table.add_column(width=len(_INDENT))
    table.add_column("host", min_width=8)  # gives way when the terminal is narrow
    for heading in ("requests", "ok", "failed", "p50", "p99"):
        table.add_column(heading, justify="right", no_wrap=True)
    table.show_header = True
    table.header_style = "dim"
    shown = hosts[:HOST_ROWS]
    if len(hosts) > HOST_ROWS:
        shown = [*shown, _fold(hosts[HOST_ROWS:])]
    for host in shown:
        table.add_row(
            "",
            _cut(host.host),
            count(host.requests),
            count(host.ok),
            count(host.failed),
            "-" if host.p50_ms is None else ms(host.p50_ms),
            "-" if host.p99_ms is None else ms(host.p99_ms),
        )
    return table


def _fold(rest: list[HostStats]) -> HostStats:
    """The hosts past the table's rows as one row (no percentiles: they do not add up)."""
    return HostStats(
        host="other hosts",
        requests=sum(host.requests for host in rest),
        ok=sum(host.ok for host in rest),
        failed=sum(host.failed for host in rest),
        p50_ms=None,
        p99_ms=None,
    )
