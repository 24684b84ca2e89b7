#!/usr/bin/env python3
"""Benchmark hx against its peers on the same work, with nginx on 127.0.0.1 as the server.

    python bench/run.py [--quick] [--scenarios S1,S2,S3,S4,S5] [--runs 3]

Prints one markdown table per scenario and writes them all to bench/RESULTS.md.
See bench/README.md for the peers to install and how to read the tables.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from measure import RSS_NOTE, Sample, measure, startup
from server import Nginx, prepare, write_urls

BENCH = Path(__file__).resolve().parent
PEERS = BENCH / "peers"
PY = sys.executable
N_SMALL = 10_000
PER_REQUEST_URLS = 1_000
CONCURRENCY = (20, 200)
MB = 1_000_000


@dataclass
class Tool:
    key: str  # stable id, used by the targets
    label: str  # shown in the table
    argv: list[str] | None  # None: skipped (see note)
    work: float  # requests (or bytes) per run
    note: str = ""
    stdout: Path | None = None
    check: Callable[[], str | None] | None = None  # after a clean exit: what is wrong, if anything
    before: Callable[[], None] | None = None  # reset outputs before each run
    samples: list[Sample] = field(default_factory=list)

    @property
    def error(self) -> str | None:
        return next((s.error for s in self.samples if s.error), None)

    def median(self, attr: str) -> float:
        return float(statistics.median(getattr(s, attr) for s in self.samples))


@dataclass
class Table:
    key: str
    title: str
    unit: str  # req/s, MB/s or ms
    tools: list[Tool]
    ratio: str  # "speed": hx ÷ tool; "rss": RSS ÷ first row; "floor": ms ÷ first row
    notes: list[str] = field(default_factory=list)
    runs: int | None = None  # overrides --runs

    def value(self, tool: Tool) -> float:
        if self.unit == "ms":
            return tool.median("wall") * 1000
        wall = tool.median("wall")
        return tool.work / wall / (MB if self.unit == "MB/s" else 1)

    def get(self, key: str) -> Tool | None:
        tool = next((t for t in self.tools if t.key == key), None)
        return tool if tool and tool.samples and not tool.error else None


@dataclass
class Ctx:
    nginx: Nginx
    work: Path
    quick: bool
    hx: list[str]
    baseline: list[str] | None = None
    """Another hx (an earlier commit), run beside hx in S1 and S2: a cost in one run."""
    tools: frozenset[str] | None = None
    """Only these tool keys run (hx always does); None: all."""

    def path(self, name: str) -> Path:
        return self.work / name


def external(
    key: str, label: str, binary: str, package: str, args: list[str], work: float, **kw: object
) -> Tool:
    """A peer that is a system binary; skipped with a note when it is not installed."""
    found = shutil.which(binary)
    if not found:
        note = f"skipped: `{binary}` not installed (apt-get install -y {package})"
        return Tool(key, label, None, work, note=note)
    return Tool(key, label, [found, *args], work, **kw)  # type: ignore[arg-type]


def python_peer(
    key: str,
    label: str,
    script: str,
    args: list[str],
    work: float,
    needs: str = "httpx",
    **kw: object,
) -> Tool:
    if importlib.util.find_spec(needs) is None:
        note = f"skipped: python package `{needs}` missing (pip install -e '.[bench]')"
        return Tool(key, label, None, work, note=note)
    return Tool(key, label, [PY, str(PEERS / script), *args], work, **kw)  # type: ignore[arg-type]


def ndjson_check(path: Path, expected: int) -> Callable[[], str | None]:
    """hx wrote one record per URL, all ok."""

    def check() -> str | None:
        lines = ok = 0
        with path.open("rb") as f:
            for line in f:
                lines += 1
                ok += b'"ok":true' in line or b'"ok": true' in line
        path.unlink()
        if lines != expected or ok != expected:
            return f"{lines} records, {ok} ok; expected {expected}"
        return None

    return check


def hey_check(path: Path, expected: int) -> Callable[[], str | None]:
    def check() -> str | None:
        text = path.read_text()
        if re.search(rf"\[200\]\s+{expected} responses", text):
            return None
        return "not every response was 200: " + text[-300:].strip()

    return check


def size_check(path: Path, size: int) -> Callable[[], str | None]:
    def check() -> str | None:
        got = path.stat().st_size if path.exists() else -1
        path.unlink(missing_ok=True)
        return None if got == size else f"{path.name}: {got} bytes, expected {size}"

    return check


def fresh_dir(path: Path) -> Callable[[], None]:
    def reset() -> None:
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir()

    return reset


def curl_config(path: Path, urls: Path) -> Path:
    with urls.open() as src, path.open("w") as out:
        out.writelines(f'url = "{u.strip()}"\noutput = "/dev/null"\n' for u in src)
    return path


def s1_s2(ctx: Ctx, tls: bool) -> list[Table]:
    base = ctx.nginx.https if tls else ctx.nginx.http
    name = "tls" if tls else "plain"
    urls = write_urls(ctx.path(f"urls-{name}.txt"), base, N_SMALL)
    cfg = curl_config(ctx.path(f"curl-{name}.cfg"), urls)
    ca = str(ctx.nginx.ca)
    tables = []
    for c in CONCURRENCY:
        n = str(c)
        out = ctx.path(f"hx-{name}-{c}.ndjson")
        out_workers = ctx.path(f"hx-workers-{name}-{c}.ndjson")
        hey_out = ctx.path(f"hey-{name}-{c}.txt")
        aria_dir = ctx.path(f"aria2-{c}")
        hx_tls = ["--http2", "--cacert", ca] if tls else []
        curl_tls = ["--http2", "--cacert", ca] if tls else []
        tools = [
            Tool(
                "hx",
                "hx fetch" + (" --http2" if tls else ""),
                [*ctx.hx, "--no-config", "fetch", str(urls), "-c", n, "-q", *hx_tls],
                N_SMALL,
                stdout=out,
                check=ndjson_check(out, N_SMALL),
            ),
            *_baseline(ctx, "fetch" + (" --http2" if tls else ""), urls, n, hx_tls, name),
            Tool(
                "hx-workers",
                "hx fetch --workers auto" + (" --http2" if tls else ""),
                [
                    *ctx.hx,
                    "--no-config",
                    "fetch",
                    str(urls),
                    "-c",
                    n,
                    "-q",
                    "--workers",
                    "auto",
                    *hx_tls,
                ],
                N_SMALL,
                stdout=out_workers,
                check=ndjson_check(out_workers, N_SMALL),
            ),
            python_peer(
                "gather",
                "httpx gather" + (" http2=True" if tls else ""),
                "httpx_gather.py",
                [str(urls), n, *(["--http2", "--cacert", ca] if tls else [])],
                N_SMALL,
            ),
            external(
                "curl",
                "curl --parallel" + (" --http2" if tls else ""),
                "curl",
                "curl",
                [
                    "--no-progress-meter",
                    "--fail",
                    "--parallel",
                    "--parallel-max",
                    n,
                    *curl_tls,
                    "-K",
                    str(cfg),
                ],
                N_SMALL,
            ),
            external(
                "wget2",
                "wget2 --max-threads" + (" --http2" if tls else ""),
                "wget2",
                "wget2",
                [
                    "-q",
                    f"--max-threads={c}",
                    "-O",
                    "/dev/null",
                    "-i",
                    str(urls),
                    *(["--http2", f"--ca-certificate={ca}"] if tls else []),
                ],
                N_SMALL,
            ),
            external(
                "hey",
                "hey (1 URL, ceiling)",
                "hey",
                "hey",
                ["-n", str(N_SMALL), "-c", n, *(["-h2"] if tls else []), f"{base}/s/hey"],
                N_SMALL,
                stdout=hey_out,
                check=hey_check(hey_out, N_SMALL),
            ),
        ]
        if tls:
            tools += [
                Tool("aria2c", "aria2c -j", None, N_SMALL, note="skipped: aria2c has no HTTP/2"),
                Tool(
                    "aiohttp", "aiohttp pool", None, N_SMALL, note="skipped: aiohttp has no HTTP/2"
                ),
            ]
        else:
            tools += [
                external(
                    "aria2c",
                    "aria2c -j",
                    "aria2c",
                    "aria2",
                    [
                        "-q",
                        "-j",
                        n,
                        "-i",
                        str(urls),
                        "-d",
                        str(aria_dir),
                        "--allow-overwrite=true",
                        "--auto-file-renaming=false",
                        "--file-allocation=none",
                        "--summary-interval=0",
                    ],
                    N_SMALL,
                    before=fresh_dir(aria_dir),
                ),
                python_peer(
                    "per-request",
                    "httpx client per request",
                    "httpx_client_per_request.py",
                    [str(urls), n, "--limit", str(PER_REQUEST_URLS)],
                    PER_REQUEST_URLS,
                    note=f"first {PER_REQUEST_URLS:,} URLs only; rate from those",
                ),
                python_peer(
                    "aiohttp",
                    "aiohttp pool",
                    "aiohttp_pool.py",
                    [str(urls), n],
                    N_SMALL,
                    needs="aiohttp",
                ),
            ]
        notes = [
            "hey requests one URL over and over: a ceiling for the server and loopback, "
            "not a like-for-like peer.",
        ]
        if tls:
            notes.append("hey -h2 does not verify the certificate; the others use the bench CA.")
        if c > 300:
            notes.append("curl caps --parallel-max at 300.")
        scen = "S2" if tls else "S1"
        proto = "TLS + HTTP/2" if tls else "HTTP/1.1"
        tables.append(
            Table(
                f"{scen} c={c}",
                f"{scen}: {N_SMALL:,} distinct small GETs, {proto}, c={c}",
                "req/s",
                tools,
                "speed",
                notes,
            )
        )
    return tables


def s3(ctx: Ctx) -> list[Table]:
    hx_sizes = (N_SMALL, 100_000 if ctx.quick else 1_000_000)
    gather_sizes = (N_SMALL, 30_000 if ctx.quick else 100_000)
    big = max(*hx_sizes, *gather_sizes)
    urls_all = write_urls(ctx.path("urls-s3.txt"), ctx.nginx.http, big)
    tools = []
    for size in hx_sizes:
        urls = _head(urls_all, ctx.path(f"urls-{size}.txt"), size)
        out = ctx.path(f"hx-s3-{size}.ndjson")
        tools.append(
            Tool(
                f"hx-{size}",
                f"hx fetch -c 200, {size:,} lines",
                [*ctx.hx, "--no-config", "fetch", str(urls), "-c", "200", "-q"],
                size,
                stdout=out,
                check=ndjson_check(out, size),
            )
        )
    for size in gather_sizes:
        urls = _head(urls_all, ctx.path(f"urls-{size}.txt"), size)
        tools.append(
            python_peer(
                f"gather-{size}",
                f"httpx gather c=20, {size:,} URLs",
                "httpx_gather.py",
                [str(urls), "20"],
                size,
            )
        )
    notes = [
        "One run per size (peak RSS varies little between runs, and the largest input takes "
        "minutes); --runs does not apply.",
        "The gather recipe runs at c=20: it slows down as concurrency rises, and its memory is "
        "the pending coroutines, not the connections.",
    ]
    if ctx.quick:
        notes.append(
            "--quick: 100,000 lines for hx instead of 1,000,000; 30,000 for gather "
            "instead of 100,000."
        )
    return [
        Table(
            "S3",
            "S3: peak RSS against input size (HTTP/1.1 small GETs)",
            "req/s",
            tools,
            "rss",
            notes,
            runs=1,
        )
    ]


def _head(src: Path, dst: Path, lines: int) -> Path:
    if not dst.exists():
        with src.open() as f, dst.open("w") as out:
            for _, line in zip(range(lines), f, strict=False):
                out.write(line)
    return dst


def s4(ctx: Ctx) -> list[Table]:
    size = ctx.nginx.big_size
    url = f"{ctx.nginx.http}/big.bin"
    d = ctx.path("downloads")
    d.mkdir(exist_ok=True)

    def out(name: str) -> Path:
        return d / name

    def aria(name: str, split: int) -> list[str]:
        return [
            "-q",
            f"-x{split}",
            f"-s{split}",
            "-d",
            str(d),
            "-o",
            name,
            "--allow-overwrite=true",
            "--file-allocation=none",
            "--summary-interval=0",
            url,
        ]

    hx = [*ctx.hx, "--no-config", "download", url, "-q", "-o"]
    single = [
        Tool(
            "hx",
            "hx download",
            [*hx, str(out("hx.bin"))],
            size,
            check=size_check(out("hx.bin"), size),
        ),
        external(
            "curl",
            "curl -o",
            "curl",
            "curl",
            ["--no-progress-meter", "--fail", "-o", str(out("curl.bin")), url],
            size,
            check=size_check(out("curl.bin"), size),
        ),
        external(
            "wget2",
            "wget2 -O",
            "wget2",
            "wget2",
            ["-q", "-O", str(out("wget2.bin")), url],
            size,
            check=size_check(out("wget2.bin"), size),
        ),
        external(
            "aria2c",
            "aria2c -x1",
            "aria2c",
            "aria2",
            aria("aria2c.bin", 1),
            size,
            check=size_check(out("aria2c.bin"), size),
        ),
        python_peer(
            "httpx",
            "httpx stream loop",
            "httpx_stream.py",
            [url, str(out("httpx.bin"))],
            size,
            check=size_check(out("httpx.bin"), size),
        ),
    ]
    chunk = -(-size // 4)
    split = [
        Tool(
            "hx",
            "hx download --split 4",
            [*hx, str(out("hx4.bin")), "--split", "4"],
            size,
            check=size_check(out("hx4.bin"), size),
        ),
        external(
            "aria2c",
            "aria2c -x4 -s4",
            "aria2c",
            "aria2",
            aria("aria2c4.bin", 4),
            size,
            check=size_check(out("aria2c4.bin"), size),
        ),
        external(
            "wget2",
            "wget2 --chunk-size (4 chunks)",
            "wget2",
            "wget2",
            ["-q", f"--chunk-size={chunk}", "--max-threads=4", "-O", str(out("wget2-4.bin")), url],
            size,
            check=size_check(out("wget2-4.bin"), size),
        ),
    ]
    for tool in (*single, *split):
        # The last tool's gigabyte is still being written back: each tool starts on a
        # quiet disk, or whoever runs next pays for it (S4 moved by a third without).
        tool.before = os.sync
    mb = f"{size // 2**20:,} MiB"
    notes = [
        "Sparse file served by nginx (sendfile); written to disk under the temp dir "
        "(page cache), deleted after each run; `sync` before each run."
    ]
    return [
        Table("S4 single", f"S4: {mb} download, single stream", "MB/s", single, "speed", notes),
        Table("S4 split", f"S4: {mb} download, 4 connections", "MB/s", split, "speed"),
    ]


def s5(ctx: Ctx) -> list[Table]:
    one = write_urls(ctx.path("one-url.txt"), ctx.nginx.http, 1)
    curl = shutil.which("curl")
    tools = [
        Tool("python", "python -c pass (floor)", [PY, "-c", "pass"], 1),
        Tool("import-httpx", "python -c 'import httpx'", [PY, "-c", "import httpx"], 1),
        Tool("version", "hx --version", [*ctx.hx, "--version"], 1),
        Tool("help", "hx --help", [*ctx.hx, "--help"], 1),
        Tool("fetch1", "hx fetch (1 URL)", [*ctx.hx, "--no-config", "fetch", str(one), "-q"], 1),
        Tool(
            "curl1",
            "curl (1 URL)",
            [curl, "-sS", "-o", "/dev/null", f"{ctx.nginx.http}/s/1"] if curl else None,
            1,
            note="" if curl else "skipped: curl not installed",
        ),
    ]
    hyperfine = shutil.which("hyperfine")
    note = (
        "hyperfine -N, 3 warm-ups" if hyperfine else "hyperfine not installed: own loop"
    ) + "; CPU s is the mean per run."
    return [Table("S5", "S5: start-up, median ms", "ms", tools, "floor", [note])]


S6_REQUESTS = 20_000
S6_GATHER_REQUESTS = 2_000
S6_CONCURRENCY = (500, 1000)


def s6(ctx: Ctx) -> list[Table]:
    """Latency-bound: every response 50 ms late, 20,000 GETs over 50 host addresses."""
    from server import LATENCY_HOSTS, LATENCY_S

    if not ctx.nginx.has_latency:
        note = (
            "skipped: nginx's echo module is not installed (apt-get install -y "
            "libnginx-mod-http-echo); netem is not available on these machines"
        )
        return [
            Table("S6", "S6: latency-bound", "req/s", [Tool("hx", "hx", None, 0, note)], "speed")
        ]
    hosts = ctx.nginx.latency_hosts()
    urls = ctx.path("urls-s6.txt")
    with urls.open("w") as f:
        f.writelines(f"{hosts[i % len(hosts)]}/d/{i:06d}\n" for i in range(S6_REQUESTS))
    gather_urls = _head(urls, ctx.path("urls-s6-gather.txt"), S6_GATHER_REQUESTS)
    tables = []
    for c in S6_CONCURRENCY:
        n = str(c)
        out = ctx.path(f"hx-s6-{c}.ndjson")
        cfg = curl_config(ctx.path(f"curl-s6-{c}.cfg"), urls)
        ideal = c / LATENCY_S
        tools = [
            Tool(
                "hx",
                "hx fetch",
                [*ctx.hx, "--no-config", "fetch", str(urls), "-c", n, "-q"],
                S6_REQUESTS,
                stdout=out,
                check=ndjson_check(out, S6_REQUESTS),
            ),
            python_peer(
                "aiohttp",
                "aiohttp pool",
                "aiohttp_pool.py",
                [str(urls), n],
                S6_REQUESTS,
                needs="aiohttp",
            ),
            python_peer(
                "gather",
                "httpx gather",
                "httpx_gather.py",
                [str(gather_urls), n],
                S6_GATHER_REQUESTS,
                note=f"first {S6_GATHER_REQUESTS:,} URLs only (the full run takes minutes)",
            ),
            external(
                "curl",
                f"curl --parallel-max {min(c, 300)}",
                "curl",
                "curl",
                [
                    "--no-progress-meter",
                    "--fail",
                    "--parallel",
                    "--parallel-max",
                    str(min(c, 300)),
                    "-K",
                    str(cfg),
                ],
                S6_REQUESTS,
                note="curl caps --parallel-max at 300" if c > 300 else "",
            ),
        ]
        notes = [
            f"nginx answers every request {LATENCY_S * 1000:.0f} ms late (echo_sleep: a timer, "
            f"no CPU burnt); {S6_REQUESTS:,} GETs over {LATENCY_HOSTS} addresses "
            "127.0.0.2-51, so each client keeps a pool per host.",
            f"Ideal at c={c}: c ÷ latency = {ideal:,.0f} req/s, if the client had CPU to spare.",
        ]
        tables.append(
            Table(
                f"S6 c={c}",
                f"S6: latency-bound ({LATENCY_S * 1000:.0f} ms per response), c={c}",
                "req/s",
                tools,
                "speed",
                notes,
            )
        )
    return tables


def _baseline(
    ctx: Ctx, label: str, urls: Path, n: str, tls_args: list[str], name: str
) -> list[Tool]:
    """S1/S2's row for --baseline: the same fetch by the other hx."""
    if ctx.baseline is None:
        return []
    out = ctx.path(f"baseline-{name}-{n}.ndjson")
    argv = [*ctx.baseline, "--no-config", "fetch", str(urls), "-c", n, "-q", *tls_args]
    return [
        Tool(
            "baseline",
            f"hx {label} (baseline: {shlex.join(ctx.baseline)})",
            argv,
            N_SMALL,
            stdout=out,
            check=ndjson_check(out, N_SMALL),
        )
    ]


def run_table(table: Table, runs: int, ctx: Ctx) -> None:
    runs = table.runs or runs
    for tool in table.tools:
        if ctx.tools is not None and tool.key != "hx" and tool.key not in ctx.tools:
            tool.argv, tool.note = None, "not selected (--tools)"
    active = [t for t in table.tools if t.argv]
    if table.key == "S5":
        hyperfine = shutil.which("hyperfine")
        for tool in active:
            assert tool.argv
            tool.samples.append(startup(tool.argv, 10 if ctx.quick else 30, hyperfine))
            log(f"{table.key}: {tool.label}: {_brief(tool.samples[-1])}")
        return
    for i in range(runs):
        for tool in active:
            if tool.error:
                continue  # a failed tool is not run again
            assert tool.argv
            if tool.before:
                tool.before()
            sample = measure(tool.argv, tool.stdout)
            if sample.error is None and tool.check:
                sample.error = tool.check()
            tool.samples.append(sample)
            log(f"{table.key} run {i + 1}/{runs}: {tool.label}: {_brief(sample)}")


def _brief(s: Sample) -> str:
    if s.error:
        return "FAILED " + s.error.replace("\n", " ")[-300:]
    return f"{s.wall:.3f} s wall, {s.cpu:.2f} s CPU, {s.rss_mb:.0f} MiB"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def render(table: Table) -> str:
    ratio_head = {
        "speed": "hx ÷ tool (speed)",
        "rss": f"RSS ÷ {table.tools[0].label}",
        "floor": f"÷ {table.tools[0].label}",
    }[table.ratio]
    lines = [
        f"### {table.title}",
        "",
        f"| tool | {table.unit} | wall s | CPU s | peak RSS MiB | {ratio_head} | note |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    ref = table.get("hx") if table.ratio == "speed" else table.get(table.tools[0].key)
    for tool in table.tools:
        if not tool.argv or not tool.samples:
            lines.append(f"| {tool.label} | – | – | – | – | – | {tool.note or 'not run'} |")
            continue
        if tool.error:
            err = tool.error.replace("\n", " ").replace("|", "\\|")
            err = err if len(err) <= 300 else "…" + err[-300:]
            lines.append(f"| {tool.label} | FAILED | – | – | – | – | {err} |")
            continue
        value = table.value(tool)
        ratio = "–"
        if ref:
            if table.ratio == "speed":
                ratio = f"{table.value(ref) / value:.2f}"
            elif table.ratio == "rss":
                ratio = f"{tool.median('rss_mb') / ref.median('rss_mb'):.2f}"
            else:
                ratio = f"{value / table.value(ref):.2f}"
        lines.append(
            f"| {tool.label} | {value:,.0f} | {tool.median('wall'):.3f} | "
            f"{tool.median('cpu'):.2f} | {tool.median('rss_mb'):.0f} | {ratio} | {tool.note} |"
        )
    lines += [""] + [f"- {n}" for n in table.notes] + ([""] if table.notes else [])
    return "\n".join(lines)


def targets(tables: dict[str, Table]) -> list[str]:
    """Issue 17's targets, checked against this run's numbers."""

    def speed(tkey: str, tool: str) -> float | None:  # hx ÷ tool
        t = tables.get(tkey)
        hx, other = (t.get("hx"), t.get(tool)) if t else (None, None)
        return t.value(hx) / t.value(other) if t and hx and other else None

    def hx_rate(tkey: str) -> float | None:
        t = tables.get(tkey)
        hx = t.get("hx") if t else None
        return t.value(hx) if t and hx else None

    def rss(key: str) -> float | None:
        t = tables.get("S3")
        tool = t.get(key) if t else None
        return tool.median("rss_mb") if tool else None

    def ms(key: str) -> float | None:
        t = tables.get("S5")
        tool = t.get(key) if t else None
        return t.value(tool) if t and tool else None

    r20, r200 = hx_rate("S1 c=20"), hx_rate("S1 c=200")
    s3 = tables.get("S3")
    big = next((t.key for t in s3.tools[1:2]), "") if s3 else "hx-1000000"
    rss_small, rss_big = rss("hx-10000"), rss(big)

    def ratio(tkey: str, tool: str, other: str) -> float | None:  # tool ÷ other, same table
        t = tables.get(tkey)
        a, b = (t.get(tool), t.get(other)) if t else (None, None)
        return t.value(a) / t.value(b) if t and a and b else None

    def s6_ideal(c: int) -> float | None:
        rate = hx_rate(f"S6 c={c}")
        return rate / (c / 0.05) if rate else None

    def s4_rss() -> float | None:
        t = tables.get("S4 single")
        hx = t.get("hx") if t else None
        return hx.median("rss_mb") if hx else None

    def s6_rss() -> float | None:
        t = tables.get("S6 c=1000")
        hx = t.get("hx") if t else None
        return hx.median("rss_mb") if hx else None

    checks: list[tuple[str, float | None, str, float]] = [
        ("S4 single: hx ÷ curl", speed("S4 single", "curl"), ">=", 1.0),
        ("S4 single: hx ÷ httpx stream loop", speed("S4 single", "httpx"), ">=", 1.0),
        ("S4 split 4: hx ÷ aria2c -x4", speed("S4 split", "aria2c"), ">=", 1.0),
        ("S4: hx peak RSS MiB", s4_rss(), "<=", 100.0),
        ("S5: hx fetch (1 URL) ms", ms("fetch1"), "<=", 150.0),
        ("S5: hx --version ms", ms("version"), "<=", 40.0),
        ("S5: hx --help ms", ms("help"), "<=", 100.0),
        ("S1 c=20: hx ÷ aiohttp pool", speed("S1 c=20", "aiohttp"), ">=", 0.6),
        (
            "S1 c=20: hx --workers ÷ aiohttp pool",
            ratio("S1 c=20", "hx-workers", "aiohttp"),
            ">=",
            0.9,
        ),
        ("S1: hx c=200 ÷ hx c=20", r200 / r20 if r20 and r200 else None, ">=", 0.95),
        ("S2 c=20: hx --http2 ÷ httpx gather http2", speed("S2 c=20", "gather"), ">=", 2.5),
        ("S6 c=500: hx ÷ ideal", s6_ideal(500), ">=", 0.9),
        ("S6 c=1000: hx ÷ ideal", s6_ideal(1000), ">=", 0.9),
        ("S6 c=1000: hx ÷ aiohttp pool", speed("S6 c=1000", "aiohttp"), ">=", 1.0),
        ("S6 c=1000: hx peak RSS MiB", s6_rss(), "<=", 150.0),
        (f"S3: hx peak RSS MiB, {big.removeprefix('hx-')} lines", rss_big, "<=", 150.0),
        (
            f"S3: hx RSS {big.removeprefix('hx-')} lines ÷ 10000 lines",
            rss_big / rss_small if rss_big and rss_small else None,
            "<=",
            1.2,
        ),
    ]
    lines = ["| target | this run | goal | |", "|---|---:|---:|---|"]
    for label, value, op, goal in checks:
        if value is None:
            lines.append(f"| {label} | – | {op} {goal:g} | not measured |")
            continue
        met = value >= goal if op == ">=" else value <= goal
        lines.append(f"| {label} | {value:.2f} | {op} {goal:g} | {'met' if met else 'MISSED'} |")
    return lines


def _version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    if done.returncode != 0:
        return "?"
    return " ".join((done.stdout or done.stderr).split()[:3])


def machine(ctx: Ctx) -> list[str]:
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)

    def pkg(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    tools = {
        b: _version([b, "--version"]) if shutil.which(b) else "not installed"
        for b in ("curl", "wget2", "aria2c", "hyperfine")
    }
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"- nproc: {len(os.sched_getaffinity(0))}; CPU: {cpu}; load average at start: {load}",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}; httpx {pkg('httpx')}; httpcore {pkg('httpcore')}; "
        f"h2 {pkg('h2')}; aiohttp {pkg('aiohttp')}; uvloop {pkg('uvloop')}",
        f"- hx: {_version([*ctx.hx, '--version'])}; nginx: {ctx.nginx.version()} "
        f"({ctx.nginx.workers} worker process(es), 127.0.0.1)",
        "- peers: "
        + "; ".join(f"{k}: {v}" for k, v in tools.items())
        + f"; hey: {'installed' if shutil.which('hey') else 'not installed'}",
    ]


SCENARIOS: dict[str, Callable[[Ctx], list[Table]]] = {
    "S1": lambda ctx: s1_s2(ctx, tls=False),
    "S2": lambda ctx: s1_s2(ctx, tls=True),
    "S3": s3,
    "S4": s4,
    "S5": s5,
    "S6": s6,
}


def _installed_hx() -> list[str]:
    """The hx script installed beside this Python, else hx on PATH, else ``python -m hx``.

    Beside the interpreter first: a version manager's shim on PATH (pyenv's is a
    shell script that runs ``pyenv exec``) adds its own ~80 ms to every start.
    """
    beside = Path(sys.executable).with_name("hx")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("hx")
    return [found] if found else [PY, "-m", "hx"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="1 run, 100 MB download, 100,000-line S3 input"
    )
    parser.add_argument(
        "--scenarios", default="S1,S2,S3,S4,S5,S6", help="comma-separated subset of S1..S6"
    )
    parser.add_argument("--runs", type=int, help="runs per tool, median reported [3; --quick: 1]")
    parser.add_argument(
        "--results",
        type=Path,
        default=BENCH / "RESULTS.md",
        help="markdown output [bench/RESULTS.md]",
    )
    parser.add_argument(
        "--hx", help="command that runs hx, e.g. 'python -m hx' [the hx beside this Python]"
    )
    parser.add_argument(
        "--baseline",
        help="another command that runs hx (an earlier commit's), measured beside hx in"
        " S1 and S2, e.g. 'env PYTHONPATH=/tmp/old/src python -m hx'",
    )
    parser.add_argument(
        "--tools",
        help="comma-separated tool keys to run besides hx (e.g. baseline,aiohttp,gather) [all]",
    )
    parser.add_argument("--nginx-workers", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (config, logs)")
    args = parser.parse_args()
    chosen = [s.strip().upper() for s in args.scenarios.split(",") if s.strip()]
    if unknown := [s for s in chosen if s not in SCENARIOS]:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    runs = args.runs or (1 if args.quick else 3)
    hx = shlex.split(args.hx) if args.hx else _installed_hx()
    command = shlex.join(["python", "bench/run.py", *sys.argv[1:]])
    started = datetime.datetime.now().astimezone()

    work = Path(tempfile.mkdtemp(prefix="hx-bench-"))
    big = (100 if args.quick else 1000) * 2**20 if "S4" in chosen else 2**20
    nginx = prepare(work, big)
    baseline = shlex.split(args.baseline) if args.baseline else None
    tools = frozenset(t.strip() for t in args.tools.split(",")) if args.tools else None
    ctx = Ctx(nginx, work, args.quick, hx, baseline, tools)
    tables: dict[str, Table] = {}
    out: list[str] = []
    try:
        nginx.start(args.nginx_workers)
        log(f"nginx on {nginx.http} and {nginx.https}; work dir {work}")
        head = [
            f"# hx benchmark results{' (--quick)' if args.quick else ''}",
            "",
            f"- command: `{command}`",
            f"- date: {started:%Y-%m-%d %H:%M %Z}",
            f"- runs per tool: {runs} (median); {RSS_NOTE}",
            *machine(ctx),
            "",
        ]
        print("\n".join(head), flush=True)
        out += head
        for name in chosen:
            for table in SCENARIOS[name](ctx):
                run_table(table, runs, ctx)
                tables[table.key] = table
                text = render(table)
                print(text, flush=True)
                out.append(text)
    except KeyboardInterrupt:
        log("interrupted: writing what was measured")
        out.append("**Interrupted: incomplete run.**\n")
    finally:
        nginx.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    tail = [
        "## Targets (issue 17)",
        "",
        *targets(tables),
        "",
        "Ratios `hx ÷ tool` above 1 mean hx was faster. Timings on a shared 2-core "
        "machine are noisy: compare ratios within one run.",
        "",
    ]
    print("\n".join(tail))
    out += tail
    args.results.write_text("\n".join(out))
    log(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
