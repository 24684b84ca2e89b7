"""Drift tests: the man page, completions and README come from the app and must match it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hx.cli import docs
from hx.errors import EXIT_CODE_MEANINGS

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = "run `python -m hx.cli.docs` and commit the result"


def test_man_page_is_up_to_date() -> None:
    assert (ROOT / "man" / "hx.1").read_text() == docs.man_page(), REGENERATE


@pytest.mark.parametrize("name", sorted(docs.SHELLS.values()))
def test_completion_script_is_up_to_date(name: str) -> None:
    assert (ROOT / "completions" / name).read_text() == docs.completion_scripts()[name], REGENERATE


def test_readme_option_reference_is_up_to_date() -> None:
    readme = (ROOT / "README.md").read_text()
    assert docs.with_readme_options(readme) == readme, REGENERATE


def test_readme_documents_every_exit_code() -> None:
    readme = (ROOT / "README.md").read_text()
    for code in EXIT_CODE_MEANINGS:
        assert re.search(rf"^\| {int(code)} \| ", readme, re.MULTILINE), f"exit code {int(code)}"


def test_every_option_of_every_command_is_in_the_man_page() -> None:
    page = docs.man_page().replace("\\-", "-")
    for option in ("--concurrency", "--retries", "--proxy", "--split", "--continue", "--journal"):
        assert option in page
    for meaning in EXIT_CODE_MEANINGS.values():
        assert meaning.split(":")[0].replace("-", "-") in page


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")
def test_man_page_renders_without_warnings(tmp_path: Path) -> None:
    page = tmp_path / "hx.1"
    page.write_text(docs.man_page())
    result = subprocess.run(
        ["man", "--warnings", "-l", str(page)],
        capture_output=True,
        text=True,
        env={**os.environ, "MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat"},
        check=False,
    )
    assert result.returncode == 0
    assert result.stderr == ""
    assert "COMMAND: FETCH" in result.stdout


def test_bash_completion_offers_the_options_help_shows() -> None:
    env = {
        **os.environ,
        "_HX_COMPLETE": "complete_bash",
        "COMP_WORDS": "hx fetch --con",
        "COMP_CWORD": "2",
    }
    result = subprocess.run(
        [sys.executable, "-m", "hx"], capture_output=True, text=True, env=env, check=False
    )
    offered = set(result.stdout.split())
    assert {"--concurrency", "--connect-timeout"} <= offered
