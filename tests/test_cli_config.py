"""Configuration: HX_* environment variables, the config file and its profiles.

Precedence (command line > environment > config file, its profile over its top
level > defaults) is observed through behaviour: the most requests a server
sees in flight at once, and whether --max-size fails a body.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hx.cli import app
from support.cli import RouteServer, assert_usage_error, hx, records
from support.server import TestServer


@pytest.fixture(autouse=True)
def config_home(isolated: Path) -> Path:
    """``$XDG_CONFIG_HOME``; ``config_home / "hx/config.toml"`` is the default config file."""
    return isolated


@pytest.fixture
def gauge(route_server: RouteServer) -> RouteServer:
    return route_server


def default_config(config_home: Path, text: str) -> Path:
    path = config_home / "hx" / "config.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def max_in_flight(
    gauge: RouteServer,
    tmp_path: Path,
    global_args: tuple[str, ...] = (),
    fetch_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> int:
    """Run ``hx GLOBAL_ARGS fetch FETCH_ARGS`` over 12 slow URLs; the most seen at once."""
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(gauge.url(f"/inflight?delay=0.2&n={n}") + "\n" for n in range(12)))
    result = hx(*global_args, "fetch", urls, "-q", *fetch_args, env=env)
    assert result.exit_code == 0, result.stderr
    assert [rec["ok"] for rec in records(result)] == [True] * 12
    assert gauge.in_flight == 0
    return gauge.max_in_flight


def max_size_applies(tmp_path: Path, server_url: str, *args: str) -> bool:
    """Does ``hx ARGS ...`` fail a 100-byte body as too large (the config says max-size 10)?"""
    command = args[-1]
    url = server_url + "/bytes/100"
    if command == "fetch":
        source = tmp_path / "one.txt"
        source.write_text(url + "\n")
        result = hx(*args, source, "-q")
    else:
        result = hx(*args, url, "-d", tmp_path / "downloads", "-q", "--overwrite")
    [record] = records(result)
    if record["ok"]:
        assert result.exit_code == 0
        return False
    assert record["error"]["kind"] == "too_large", record
    assert result.exit_code == 4
    return True


# -- precedence ----------------------------------------------------------------


def test_builtin_default_concurrency_is_ten(gauge: RouteServer, tmp_path: Path) -> None:
    assert max_in_flight(gauge, tmp_path) == 10


def test_environment_sets_concurrency(gauge: RouteServer, tmp_path: Path) -> None:
    assert max_in_flight(gauge, tmp_path, env={"HX_CONCURRENCY": "5"}) == 5


def test_config_file_sets_concurrency(
    gauge: RouteServer, tmp_path: Path, config_home: Path
) -> None:
    default_config(config_home, "concurrency = 3\n")
    assert max_in_flight(gauge, tmp_path) == 3


def test_profile_beats_config_top_level(
    gauge: RouteServer, tmp_path: Path, config_home: Path
) -> None:
    default_config(config_home, "concurrency = 3\n[profiles.p]\nconcurrency = 2\n")
    assert max_in_flight(gauge, tmp_path, ("--profile", "p")) == 2


def test_environment_beats_config_file(
    gauge: RouteServer, tmp_path: Path, config_home: Path
) -> None:
    default_config(config_home, "concurrency = 3\n[profiles.p]\nconcurrency = 2\n")
    assert max_in_flight(gauge, tmp_path, ("--profile", "p"), env={"HX_CONCURRENCY": "5"}) == 5


def test_command_line_beats_environment_and_config_file(
    gauge: RouteServer, tmp_path: Path, config_home: Path
) -> None:
    default_config(config_home, "concurrency = 3\n[profiles.p]\nconcurrency = 2\n")
    env = {"HX_CONCURRENCY": "5"}
    assert max_in_flight(gauge, tmp_path, ("--profile", "p"), ("-c", "4"), env=env) == 4


def test_command_table_applies_to_its_command_only(
    server: TestServer, tmp_path: Path, config_home: Path
) -> None:
    default_config(config_home, '[fetch]\nmax-size = "10"\n')
    assert max_size_applies(tmp_path, server.base_url, "fetch")
    assert not max_size_applies(tmp_path, server.base_url, "download")

    default_config(config_home, '[download]\nmax-size = "10"\n')
    assert not max_size_applies(tmp_path, server.base_url, "fetch")
    assert max_size_applies(tmp_path, server.base_url, "download")


def test_top_level_key_applies_to_every_command(
    server: TestServer, tmp_path: Path, config_home: Path
) -> None:
    default_config(config_home, 'max-size = "10"\n')
    assert max_size_applies(tmp_path, server.base_url, "fetch")
    assert max_size_applies(tmp_path, server.base_url, "download")


def test_fetch_only_top_level_key_does_not_break_download(
    server: TestServer, tmp_path: Path, config_home: Path
) -> None:
    default_config(config_home, 'ok-status = "404"\n')
    source = tmp_path / "urls.txt"
    source.write_text(server.url("/status/404") + "\n")

    fetched = hx("fetch", source, "-q")
    downloaded = hx("download", server.url("/bytes/10"), "-d", tmp_path / "d", "-q")

    assert fetched.exit_code == 0, fetched.stderr
    assert [(rec["status"], rec["ok"]) for rec in records(fetched)] == [(404, True)]
    assert downloaded.exit_code == 0, downloaded.stderr
    assert downloaded.stderr == ""
    assert (tmp_path / "d" / "10").read_bytes() == bytes(range(10))


def test_profile_command_table(server: TestServer, tmp_path: Path, config_home: Path) -> None:
    default_config(config_home, '[profiles.small.fetch]\nmax-size = "10"\n')
    assert not max_size_applies(tmp_path, server.base_url, "fetch")
    assert max_size_applies(tmp_path, server.base_url, "--profile", "small", "fetch")
    assert not max_size_applies(tmp_path, server.base_url, "--profile", "small", "download")


def test_profile_beats_command_table_of_top_level(
    server: TestServer, tmp_path: Path, config_home: Path
) -> None:
    default_config(config_home, '[fetch]\nmax-size = "1M"\n[profiles.small]\nmax-size = "10"\n')
    assert max_size_applies(tmp_path, server.base_url, "--profile", "small", "fetch")


def test_no_config_ignores_default_file(
    server: TestServer, tmp_path: Path, config_home: Path
) -> None:
    default_config(config_home, 'max-size = "10"\n')
    assert max_size_applies(tmp_path, server.base_url, "fetch")
    assert not max_size_applies(tmp_path, server.base_url, "--no-config", "fetch")

    default_config(config_home, "this is not toml\n")
    assert not max_size_applies(tmp_path, server.base_url, "--no-config", "fetch")


def test_config_option_and_hx_config_variable(server: TestServer, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text('max-size = "10"\n')
    assert not max_size_applies(tmp_path, server.base_url, "fetch")
    assert max_size_applies(tmp_path, server.base_url, "--config", str(elsewhere), "fetch")
    result = hx(
        "fetch", "-", "-q", input=server.url("/bytes/100"), env={"HX_CONFIG": str(elsewhere)}
    )
    assert [rec["error"]["kind"] for rec in records(result)] == ["too_large"]


def test_hx_profile_variable(server: TestServer, tmp_path: Path, config_home: Path) -> None:
    default_config(config_home, '[profiles.small]\nmax-size = "10"\n')
    source = tmp_path / "one.txt"
    source.write_text(server.url("/bytes/100") + "\n")

    result = hx("fetch", source, "-q", env={"HX_PROFILE": "small"})

    assert [rec["error"]["kind"] for rec in records(result)] == ["too_large"]


def test_explicit_config_file_replaces_default_file(
    server: TestServer, tmp_path: Path, config_home: Path
) -> None:
    default_config(config_home, 'max-size = "10"\n')
    other = tmp_path / "other.toml"
    other.write_text("retries = 0\n")
    assert not max_size_applies(tmp_path, server.base_url, "--config", str(other), "fetch")


# -- malformed config files ----------------------------------------------------


MALFORMED = {
    "toml-syntax": (b"concurrency = 3\nretries = \n", ["line 2"]),
    "unknown-key": (b"concurency = 3\n", ["'concurency'"]),
    "unknown-key-in-fetch": (b"[fetch]\nsplit = 2\n", ["[fetch]", "'split'"]),
    "unknown-table": (b"[fecth]\nretries = 1\n", ["[fecth]"]),
    "wrong-type": (b'concurrency = "x"\n', ["concurrency", "'x'"]),
    "out-of-range": (b"concurrency = 0\n", ["concurrency"]),
    "profiles-not-a-table": (b'profiles = "fast"\n', ["'profiles'"]),
    "command-not-a-table": (b"fetch = 1\n", ["fetch", "table"]),
    "not-utf-8": (b"retries = 1 # caf\xe9\n", ["utf-8"]),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_config_file_is_a_usage_error(tmp_path: Path, case: str) -> None:
    content, words = MALFORMED[case]
    path = tmp_path / "config.toml"
    path.write_bytes(content)

    result = hx("--config", path, "fetch", "-")

    assert_usage_error(result, f"config {path}:", *words)


def test_malformed_default_config_file_names_it(tmp_path: Path, config_home: Path) -> None:
    path = default_config(config_home, "concurency = 3\n")

    result = hx("download", "http://127.0.0.1:9/x")

    assert_usage_error(result, f"config {path}:", "'concurency'")


PROFILE_ERRORS = {
    "unknown-profile": (
        "[profiles.fast]\nconcurrency = 50\n[profiles.slow]\nrate = '1/s'\n",
        "quick",
        ["'quick'", "fast, slow"],
    ),
    "unknown-key-in-profile": ("[profiles.p]\nconcurency = 3\n", "p", ["'concurency'"]),
    "unknown-key-in-profile-command-table": (
        "[profiles.p.fetch]\nsplit = 2\n",
        "p",
        ["profiles.p.fetch", "'split'"],
    ),
}


@pytest.mark.parametrize("case", list(PROFILE_ERRORS))
def test_profile_error_is_a_usage_error_naming_the_file(tmp_path: Path, case: str) -> None:
    content, profile, words = PROFILE_ERRORS[case]
    path = tmp_path / "config.toml"
    path.write_text(content)

    result = hx("--config", path, "--profile", profile, "fetch", "-")

    assert_usage_error(result, f"config {path}:", *words)


def test_profile_without_any_config_file(tmp_path: Path, config_home: Path) -> None:
    result = hx("--profile", "fast", "fetch", "-")

    assert_usage_error(result, "--profile fast", str(config_home / "hx" / "config.toml"))


def test_missing_config_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"

    result = hx("--config", path, "fetch", "-")

    assert_usage_error(result, f"config {path}:", "No such file")


def test_profile_with_no_config(tmp_path: Path) -> None:
    result = hx("--no-config", "--profile", "fast", "fetch", "-")

    assert_usage_error(result, "--profile", "--no-config")


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ('max-size = "lots"', "max-size", "'lots'"),
        ('rate = "fast"', "rate", "'fast'"),
        ('retry-on = "abc"', "retry-on", "'abc'"),
        ('[fetch]\nok-status = "abc"', "ok-status", "'abc'"),
        ('[download]\nlimit-rate = "fast"', "limit-rate", "'fast'"),
        pytest.param(
            'header = ["X-A 1"]',
            "header",
            "X-A 1",
        ),
    ],
)
def test_bad_value_of_parsed_option_names_config_file(
    tmp_path: Path, text: str, key: str, value: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text + "\n")

    result = hx("--config", path, "fetch", "-", input="http://127.0.0.1:9/\n")

    assert_usage_error(result, f"config {path}:", key, value)


# -- environment variables -----------------------------------------------------


def option_names(command: str) -> list[str]:
    """The long option names of ``hx COMMAND`` (those that get an HX_ variable)."""
    import typer.main

    group = typer.main.get_command(app)
    params = group.commands[command].params  # type: ignore[attr-defined]
    return [
        next(opt for opt in param.opts if opt.startswith("--"))
        for param in params
        if param.param_type_name == "option" and param.name != "help"
    ]


@pytest.mark.parametrize("command", ["fetch", "download"])
def test_help_shows_every_environment_variable(command: str) -> None:
    result = hx(command, "--help", terminal_width=200)

    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    names = option_names(command)
    assert "--concurrency" in names and len(names) > 40
    for name in names:
        variable = "HX_" + name[2:].upper().replace("-", "_")
        assert f"env var: {variable}" in text, name
    assert "[env var: HX_CONCURRENCY; default: 10; at least 1]" in text


def test_global_help_shows_config_variables() -> None:
    result = hx("--help", terminal_width=200)

    text = " ".join(result.stdout.split())
    assert "[env var: HX_CONFIG]" in text
    assert "[env var: HX_PROFILE]" in text


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HX_CONCURRENCY", "0"),
        ("HX_CONCURRENCY", "many"),
        ("HX_TIMEOUT", "soon"),
        ("HX_MAX_SIZE", "lots"),
        ("HX_RATE", "fast"),
        ("HX_TLS_MIN", "1.1"),
    ],
)
def test_bad_environment_value_is_a_usage_error_naming_it(variable: str, value: str) -> None:
    result = hx("fetch", "-", env={variable: value}, input="http://127.0.0.1:9/\n")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert variable in result.stderr
    assert "Traceback" not in result.stderr


def test_environment_boolean_and_count_options(server: TestServer, tmp_path: Path) -> None:
    result = hx(
        "fetch",
        "-",
        env={"HX_QUIET": "1", "HX_INCLUDE_HEADERS": "true", "HX_OK_STATUS": "404"},
        input=server.url("/status/404") + "\n",
    )

    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    [record] = records(result)
    assert record["ok"] is True
    assert dict(record["headers"])["content-type"].startswith("text/plain")


def test_header_from_environment(server: TestServer) -> None:
    result = hx(
        "fetch", "-", "--body", env={"HX_HEADER": "X-A: 1"}, input=server.url("/headers") + "\n"
    )

    assert result.exit_code == 0, result.stderr
    [record] = records(result)
    assert '"x-a": "1"' in record["body"]
