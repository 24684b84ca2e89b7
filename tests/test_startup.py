"""Start-up: each command loads what it needs and no more (issue 17).

A start-up time is noise on a shared machine; which modules a run loaded is
not. Each case runs hx in a fresh interpreter, reads ``sys.modules`` as it
exits, and checks that nothing heavy the command does not use was loaded. So
that a check cannot pass because nothing ran, each case also names a module
the command does load.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support.process import hx_env
from support.server import TestServer

# Runs hx's console script in this interpreter, then writes the names of the modules
# hx loaded: not those a site hook (a .pth file) loaded before it started.
_LOADED_MODULES = """\
import sys
before = set(sys.modules)
out, sys.argv = sys.argv[1], ["hx", *sys.argv[2:]]
try:
    from hx._entry import main
    main()
except SystemExit:
    pass
finally:
    # A None entry blocks an import (hx blocks httpx._main): it is not a module loaded.
    loaded = sorted(n for n, m in sys.modules.items() if m is not None and n not in before)
    import json
    with open(out, "w") as file:
        json.dump(loaded, file)
"""

# What no help text needs: the engine, its event loop, HTTP/2, and rich off a terminal.
ENGINE = [
    "asyncio",
    "h2",
    "httpx",
    "hx.batch",
    "hx.client",
    "hx.models",
    "hx.net",
    "hx.request",
    "hx.run",
    "uvloop",
]
# typer 0.29 parses through pydantic (~100 ms a run); rich only draws on a terminal.
NEVER_OFF_A_TERMINAL = ["pydantic", "rich"]


def loaded_modules(tmp_path: Path, *args: str, **env: str) -> set[str]:
    """The modules ``hx ARGS`` loaded, run off a terminal with no config file and ``env``."""
    out = tmp_path / "modules.json"
    environ = hx_env(XDG_CONFIG_HOME=str(tmp_path / "no-config"), **env)
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):  # certifi's store: loaded only for https
        environ.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-c", _LOADED_MODULES, str(out), *args],
        env=environ,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return set(json.loads(out.read_text()))


def among(modules: set[str], packages: list[str]) -> list[str]:
    """Those of ``packages`` that ``modules`` holds, themselves or any module inside them."""
    return [
        package
        for package in packages
        if any(name == package or name.startswith(package + ".") for name in modules)
    ]


def url_list(tmp_path: Path, server: TestServer) -> str:
    path = tmp_path / "urls.txt"
    path.write_text(server.url("/status/200") + "\n")
    return str(path)


def test_version_loads_neither_typer_nor_the_cli(tmp_path: Path) -> None:
    modules = loaded_modules(tmp_path, "--version")

    assert "hx" in modules
    assert among(modules, ["typer", "hx.cli", "click", *ENGINE, *NEVER_OFF_A_TERMINAL]) == []


def test_help_lists_every_command_without_the_engine(tmp_path: Path) -> None:
    modules = loaded_modules(tmp_path, "--help")

    assert {"hx.cli.fetch", "hx.cli.download", "hx.cli.stream"} <= modules
    # Not even the readers of a config file, a --json body or the record schema.
    unused = ["importlib.resources", "json", "tomllib"]
    assert among(modules, [*ENGINE, *NEVER_OFF_A_TERMINAL, *unused]) == []


@pytest.mark.parametrize("command", ["fetch", "download", "stream"])
def test_a_commands_help_loads_that_command_only(tmp_path: Path, command: str) -> None:
    modules = loaded_modules(tmp_path, command, "--help")

    commands = {"hx.cli.fetch", "hx.cli.download", "hx.cli.stream"}
    assert modules & commands == {f"hx.cli.{command}"}
    assert among(modules, [*ENGINE, *NEVER_OFF_A_TERMINAL]) == []


@pytest.mark.parametrize("quiet", [["-q"], []], ids=["quiet", "summary"])
def test_fetch_of_a_plain_http_url(tmp_path: Path, server: TestServer, quiet: list[str]) -> None:
    modules = loaded_modules(tmp_path, "fetch", url_list(tmp_path, server), *quiet)

    assert {"httpx", "hx.cli.fetch"} <= modules
    unused = [
        "certifi",  # no https URL
        "h2",  # no --http2
        "hx.cli.download",
        "hx.cli.stream",
        "hx.download",
        "hx.stream",
        "prometheus_client",  # no --metrics-file
        "tomllib",  # no config file
    ]
    assert among(modules, [*unused, *NEVER_OFF_A_TERMINAL]) == []


def test_a_config_file_builds_only_the_command_being_run(
    tmp_path: Path, server: TestServer
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("concurrency = 5\nretries = 1\n")  # keys every command takes

    modules = loaded_modules(tmp_path, "--config", str(config), "fetch", url_list(tmp_path, server))

    assert {"tomllib", "hx.cli.fetch"} <= modules
    assert among(modules, ["hx.cli.download", "hx.cli.stream"]) == []


def test_download_of_a_plain_http_url(tmp_path: Path, server: TestServer) -> None:
    modules = loaded_modules(tmp_path, "download", "-q", server.url("/bytes/10"))

    assert {"httpx", "hx.download"} <= modules
    unused = ["certifi", "h2", "hx.cli.fetch", "hx.cli.stream", "hx.stream"]
    assert among(modules, [*unused, *NEVER_OFF_A_TERMINAL]) == []


@pytest.mark.parametrize(
    ("command", "display"), [("fetch", "rich.live"), ("download", "rich.progress")]
)
def test_on_a_terminal_the_display_is_loaded(
    tmp_path: Path, server: TestServer, command: str, display: str
) -> None:
    """TTY_COMPATIBLE makes rich take the captured stderr for a terminal: bars are drawn."""
    source = url_list(tmp_path, server) if command == "fetch" else server.url("/bytes/10")
    modules = loaded_modules(tmp_path, command, source, TTY_COMPATIBLE="1", TERM="xterm")

    assert display in modules
    assert among(modules, ["pydantic"]) == []
