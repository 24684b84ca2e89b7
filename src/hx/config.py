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
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hx.errors import UsageError

COMMANDS = ("fetch", "download")


class ConfigError(UsageError):
    """A config file that cannot be used; the message names the file and key."""


def default_config_path(environ: Mapping[str, str] = os.environ) -> Path:
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "hx" / "config.toml"


@dataclasses.dataclass
class Config:
    path: Path
    shared: dict[str, Any]
    """Top-level keys: for every command that has the option."""
    commands: dict[str, dict[str, Any]]
    """``[fetch]``, ``[download]`` tables: for that command only."""


def load_config(path: Path, profile: str | None) -> Config:
    """Read ``path`` and lay ``profile`` (if any) over its top level.

    Keys are as written (long option names); the CLI checks them against
    each command's options.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"config {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config {path}: {exc}") from exc
    profiles = data.pop("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"config {path}: 'profiles' must be a table")
    layers = [("", data)]
    if profile is not None:
        if not isinstance(profiles.get(profile), dict):
            known = ", ".join(sorted(profiles)) or "none"
            raise ConfigError(f"config {path}: no profile {profile!r} (profiles: {known})")
        layers.append((f"profiles.{profile}.", profiles[profile]))
    config = Config(path, {}, {command: {} for command in COMMANDS})
    for where, layer in layers:
        for key, value in layer.items():
            if key in COMMANDS:
                if not isinstance(value, dict):
                    raise ConfigError(f"config {path}: {where}{key} must be a table")
                config.commands[key].update(value)
            elif isinstance(value, dict):
                raise ConfigError(f"config {path}: unknown table [{where}{key}]")
            else:
                config.shared[key] = value
    return config
