"""The typer app, ``--version``, the entry point and the exit-code mapping."""

from pathlib import Path
from typing import Annotated, Any

import typer

from hx import __version__
from hx.config import ConfigError, default_config_path, load_config
from hx.errors import EXIT_CODE_MEANINGS, ExitCode, HxError, UsageError

app = typer.Typer(
    name="hx",
    help="Fetch many URLs concurrently, or download big files, over one pooled HTTP client.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)

EXIT_CODES_HELP = "Exit codes: " + "; ".join(
    f"{int(code)} {meaning}" for code, meaning in EXIT_CODE_MEANINGS.items()
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"hx {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="HX_CONFIG",
            show_envvar=True,
            help="Config file [default: $XDG_CONFIG_HOME/hx/config.toml, if it exists].",
        ),
    ] = None,
    no_config: Annotated[bool, typer.Option("--no-config", help="Read no config file.")] = False,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            envvar="HX_PROFILE",
            show_envvar=True,
            help="Use this [profiles.NAME] table of the config file.",
        ),
    ] = None,
) -> None:
    """hx: concurrent HTTP for shells, pipelines and cron.

    Records go to stdout as NDJSON, one per request; progress, warnings and
    the summary go to stderr. Options come from the command line, then HX_*
    environment variables, then the config file.
    """
    try:
        ctx.default_map = config_defaults(ctx, config, no_config, profile)
    except HxError as exc:
        from hx import console

        console.error(console.make_console(), str(exc))
        raise typer.Exit(int(exc.exit_code)) from None


def config_defaults(
    ctx: typer.Context, path: Path | None, no_config: bool, profile: str | None
) -> dict[str, dict[str, Any]] | None:
    """The config file as click's default_map, every key checked against the commands."""
    if no_config:
        if profile is not None:
            raise UsageError("--profile needs a config file (not --no-config)")
        return None
    if path is None:
        path = default_config_path()
        if not path.exists():
            if profile is not None:
                raise UsageError(f"--profile {profile}: no config file at {path}")
            return None
    loaded = load_config(path, profile)
    # typer vendors its own click: reach the commands through the context.
    subcommands: dict[str, Any] = getattr(ctx.command, "commands", {})
    commands = {name: subcommands[name] for name in loaded.commands if name in subcommands}
    defaults: dict[str, dict[str, Any]] = {name: {} for name in commands}
    for key, value in loaded.shared.items():
        matched = [name for name, command in commands.items() if _param(command, key) is not None]
        if not matched:
            raise ConfigError(f"config {path}: unknown option {key!r}")
        for name in matched:
            defaults[name].update(_checked(ctx, commands[name], key, value, path))
    for name, table in loaded.commands.items():
        for key, value in table.items():
            if _param(commands[name], key) is None:
                raise ConfigError(f"config {path}: [{name}] has no option {key!r}")
            defaults[name].update(_checked(ctx, commands[name], key, value, path))
    return defaults


def _param(command: Any, key: str) -> Any:
    """The option of ``command`` that a config key names (long name, dashes or underscores)."""
    wanted = key.lstrip("-").replace("_", "-")
    for param in command.params:
        if param.param_type_name != "option":
            continue
        names = [opt.lstrip("-") for opt in param.opts]
        if wanted in names or wanted == (param.name or "").replace("_", "-"):
            return param
    return None


def _checked(ctx: typer.Context, command: Any, key: str, value: Any, path: Path) -> dict[str, Any]:
    """``{param name: value}`` once the option's type accepts ``value``."""
    param = _param(command, key)
    try:
        param.process_value(ctx, value)
    except typer.BadParameter as exc:
        raise ConfigError(f"config {path}: {key} = {value!r}: {exc.message}") from None
    return {param.name: value}


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="hx")
    except KeyboardInterrupt:
        # Ctrl-C before the event loop took over signals (e.g. during start-up).
        raise SystemExit(int(ExitCode.INTERRUPTED)) from None
