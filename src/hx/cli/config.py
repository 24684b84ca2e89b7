"""The optional config file: defaults for options, with named profiles.

    # ~/.config/hx/config.toml
    concurrency = 20            # any command's option, by its long name
    retries = 3

    [fetch]                     # one command's options
    ok-status = "2xx"

    [profiles.slow-api]         # chosen with --profile slow-api
    rate = "5/s"
    [profiles.slow-api.fetch]
    per-host = 2

Precedence: command line, then HX_* environment variables, then this file,
then built-in defaults.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hx.errors import UsageError

COMMANDS = ("fetch", "download", "stream")


class ConfigError(UsageError):
    """A config file that cannot be used; the message names the file and key."""


def default_config_path(environ: Mapping[str, str] = os.environ) -> Path:
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "hx" / "config.toml"


@dataclasses.dataclass
class Layer:
    """One level of the file: its top level, or the chosen profile."""

    prefix: str
    """Where it is in the file, for messages: ``""`` or ``"profiles.NAME."``."""
    shared: dict[str, Any]
    """Its top-level keys: for every command that has the option."""
    commands: dict[str, dict[str, Any]]
    """Its ``[fetch]`` and ``[download]`` tables: for that command only."""


@dataclasses.dataclass
class Config:
    path: Path
    layers: list[Layer]
    """In order of precedence, lowest first: the top level, then the profile."""


def load_config(path: Path, profile: str | None) -> Config:
    """Read ``path``: its top level and, if ``profile`` is given, that profile.

    Keys are as written (long option names); the CLI checks them against
    each command's options.
    """
    import tomllib  # only where a config file exists (most runs read none)

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"config {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config {path}: not a text file in utf-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path}: {exc}") from exc
    profiles = data.pop("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"config {path}: 'profiles' must be a table")
    tables = [("", data)]
    if profile is not None:
        if not isinstance(profiles.get(profile), dict):
            known = ", ".join(sorted(profiles)) or "none"
            raise ConfigError(f"config {path}: no profile {profile!r} (profiles: {known})")
        tables.append((f"profiles.{profile}.", profiles[profile]))
    return Config(path, [_layer(path, prefix, table) for prefix, table in tables])


def _layer(path: Path, prefix: str, table: dict[str, Any]) -> Layer:
    layer = Layer(prefix, {}, {})
    for key, value in table.items():
        if key in COMMANDS:
            if not isinstance(value, dict):
                raise ConfigError(f"config {path}: {prefix}{key} must be a table")
            layer.commands[key] = value
        elif isinstance(value, dict):
            raise ConfigError(f"config {path}: unknown table [{prefix}{key}]")
        else:
            layer.shared[key] = value
    return layer
