"""The CLI's defaults are the library's: both come from hx.settings.Settings()."""

from __future__ import annotations

import inspect

import typer.main

from hx.cli import app
from hx.cli.common import settings_from
from hx.cli.options import NetworkOptions
from hx.settings import Settings


def test_the_shared_options_default_to_the_library_settings() -> None:
    assert settings_from(NetworkOptions()) == Settings()


def test_fetch_options_default_to_the_library_settings() -> None:
    command = typer.main.get_command(app).commands["fetch"]  # type: ignore[attr-defined]
    defaults = {param.name: param.default for param in command.params}
    library = Settings()
    assert defaults["ok_status"] == library.ok_status
    assert defaults["ordered"] is library.ordered
    assert defaults["include_headers"] is library.include_headers
    assert defaults["body"] is library.include_body
    assert defaults["output_dir"] is library.output_dir


def test_every_shared_option_reaches_the_settings() -> None:
    """Changing any option that shapes requests changes the Settings built from it."""
    # Where and how records are written, not how requests are made.
    run_level = {"output_file", "summary_json", "quiet", "record_format", "fields"}
    base = settings_from(NetworkOptions())
    for name, parameter in inspect.signature(NetworkOptions).parameters.items():
        if name in run_level:
            continue
        changed = _other_value(parameter.default, parameter.annotation)
        options = NetworkOptions(**{name: changed})
        assert settings_from(options) != base, name


def _other_value(default: object, annotation: object) -> object:
    from pathlib import Path

    from hx.cli.options import TlsVersionChoice
    from hx.values import Header, StatusSet

    text = str(annotation)
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 1
    if isinstance(default, float):
        return default + 1.5
    if isinstance(default, StatusSet):
        return StatusSet.parse("500")
    if "Header" in text:
        return [Header("X-A", "1")]
    if "TlsVersionChoice" in text:
        return TlsVersionChoice.v1_3
    if "list[str]" in text:
        return ["x-token"]
    if "Path" in text:
        return Path("some-file")
    if "float" in text:
        return 2.5
    if "int" in text:
        return 3
    return "user:pass" if "str" in text else default


def test_every_duration_option_takes_a_unit() -> None:
    """--timeout 500ms, --grace 1m: any option of time takes seconds or a unit."""
    command = typer.main.get_command(app).commands["fetch"]  # type: ignore[attr-defined]
    durations = {
        "--timeout": "500ms",
        "--connect-timeout": "2s",
        "--read-timeout": "1.5m",
        "--max-time": "1h",
        "--retry-delay": "250ms",
        "--retry-max-delay": "1m",
        "--retry-max-time": "2m",
        "--grace": "1m",
        "--every": "30s",
        "--max-latency": "500ms",
    }
    args = [part for option, value in durations.items() for part in (option, value)]
    ctx = command.make_context("fetch", [*args, "urls.txt"])
    by_option = {param.opts[0]: ctx.params[param.name] for param in command.params if param.opts}
    assert {option: by_option[option] for option in durations} == {
        "--timeout": 0.5,
        "--connect-timeout": 2.0,
        "--read-timeout": 90.0,
        "--max-time": 3600.0,
        "--retry-delay": 0.25,
        "--retry-max-delay": 60.0,
        "--retry-max-time": 120.0,
        "--grace": 60.0,
        "--every": 30.0,
        "--max-latency": 0.5,
    }
