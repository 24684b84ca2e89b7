"""``--help`` and the man page speak the user's language: panels, metavars, whole descriptions."""

from __future__ import annotations

import re

import pytest

from hx.cli import docs
from support.cli import hx

# What typer and click would show: Python type names, typer's <type> and
# <choice|choice> values and argument braces, and click's ranges.
PYTHON_WORDS = re.compile(
    r"<[a-z][\w .|\[\]-]*>"
    r"|<(int|float|str|path|bool|list|tuple|text|integer)\b"
    r"|\b(int|float|str|bool)\b(?!\w)"
    r"|list\[|<int range>|<float range>|\{source\}|\{urls\}"
    r"|\bx[<>]=|<=x\b",
)


def help_text(*args: str) -> str:
    result = hx(*args, "--help", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


@pytest.mark.parametrize(
    "command", [(), ("fetch",), ("download",)], ids=["hx", "fetch", "download"]
)
def test_help_shows_no_python_types(command: tuple[str, ...]) -> None:
    text = help_text(*command)
    assert PYTHON_WORDS.search(text) is None, PYTHON_WORDS.search(text)


def test_man_page_shows_no_python_types() -> None:
    page = docs.man_page().replace("\\-", "-")
    assert PYTHON_WORDS.search(page) is None, PYTHON_WORDS.search(page)


def test_the_pattern_catches_what_typer_would_print() -> None:
    for leak in (
        "  --workers <int range>  Processes.",
        "  --secret-header <list[str]>  A header.",
        "Usage: hx fetch [OPTIONS] {source}",
        "  --retries <int>",
        "  [env var: HX_SPLIT; default: 1; 1<=x<=64]",
        "  --format <ndjson|csv|tsv>  Records as NDJSON.",
    ):
        assert PYTHON_WORDS.search(leak), leak


def test_fetch_help_starts_with_usage_and_examples() -> None:
    lines = help_text("fetch").splitlines()
    assert lines[0] == "Usage: hx fetch [OPTIONS] SOURCE"
    examples = lines.index("  Examples:")
    assert examples < 6
    assert lines[examples + 2].strip() == "hx fetch urls.txt -c 20 > results.ndjson"


def test_fetch_options_come_in_panels_in_order() -> None:
    text = help_text("fetch")
    titles = [line[:-1] for line in text.splitlines() if re.fullmatch(r"[A-Z][^ ].*:", line)]
    assert titles == [
        "Arguments",
        "Input",
        "Requests",
        "Concurrency and limits",
        "Retries",
        "HTTP/2, TLS and proxies",
        "Authentication and cookies",
        "Output",
        "Progress",
        "Options",
    ]
    sections = dict(re.findall(r"^([A-Z][^\n:]*):\n((?:  .*\n?)+)", text, re.MULTILINE))
    assert "--retry-delay DURATION" in sections["Retries"]
    assert "-c, --concurrency N" in sections["Concurrency and limits"]
    assert "--cacert FILE" in sections["HTTP/2, TLS and proxies"]
    assert "-v, --verbose" in sections["Progress"]
    assert "--journal FILE" in sections["Input"]
    assert "[env var: HX_CONCURRENCY; default: 10; at least 1]" in " ".join(
        sections["Concurrency and limits"].split()
    )


def test_download_help_names_values_plainly() -> None:
    text = " ".join(help_text("download").split())
    assert text.startswith("Usage: hx download [OPTIONS] [URL...]")
    for usage in ("--split N", "--sha256 HEX", "--checksum ALGO=HEX", "-d, --dir DIR", "URL..."):
        assert usage in text
    assert "1 to 64" in text
    assert "default: 200-399" not in text  # fetch's option, not download's
    assert "Files:" in help_text("download")


def test_status_defaults_read_as_statuses() -> None:
    text = " ".join(help_text("fetch").split())
    assert "default: 200-399]" in text
    assert "(200-399)" not in text


def test_hx_help_lists_commands_with_whole_descriptions() -> None:
    text = help_text()
    listing = text[text.index("Commands:\n") + len("Commands:\n") :]
    described = dict(re.findall(r"^  (\w+) +(.*(?:\n {4,}.*)*)", listing, re.MULTILINE))
    described = {name: " ".join(words.split()) for name, words in described.items()}
    assert described["download"] == (
        "Download URLs to files: streamed, atomic (NAME.part renamed when complete), resumable."
    )
    assert described["fetch"] == (
        "Fetch every request in SOURCE concurrently; write one NDJSON record per request."
    )
    assert not any(words.endswith("...") for words in described.values())


def test_man_page_has_panels_and_examples_before_them() -> None:
    page = docs.man_page()
    fetch = page[page.index(".SH COMMAND: FETCH") : page.index(".SH COMMAND: DOWNLOAD")]
    headings = re.findall(r"^\.SS (.*)$", fetch, re.MULTILINE)
    assert headings[:3] == ["Examples", "Arguments", "Input"]
    assert "Retries" in headings
    assert ".B \\-\\-workers N|auto\n" in fetch
