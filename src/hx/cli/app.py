"""The typer app, ``--version``, the entry point and the exit-code mapping.

The app's commands are loaded by name: ``hx fetch`` imports hx.cli.fetch
only, ``hx --help`` all of them.
"""

import copy
import importlib
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.main

from hx import __version__
from hx.cli.config import COMMANDS, ConfigError, default_config_path, load_config
from hx.cli.help import HelpGroup
from hx.errors import (
    EXIT_CODE_MEANINGS,
    ExitCode,
    HxError,
    UsageError,
    internal_error_message,
)


class _Commands(Mapping[str, Any]):
    """hx's commands by name, each built when first looked up.

    Command ``NAME`` is the one command of ``hx.cli.NAME.app``. Listing the
    names imports nothing.
    """

    def __init__(self) -> None:
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in COMMANDS:
            raise KeyError(name)
        if name not in self._built:
            module = importlib.import_module(f"hx.cli.{name}")
            self._built[name] = _with_line_lists(typer.main.get_command(module.app))
        return self._built[name]

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(COMMANDS))

    def __len__(self) -> int:
        return len(COMMANDS)


def _with_line_lists(command: Any) -> Any:
    """``command``, its repeatable options' environment variables holding one value per line.

    click splits them at whitespace (``HX_HEADER="X-A: 1"`` would be two values).
    """
    for param in command.params:
        if getattr(param, "multiple", False):
            # The splitter is a class attribute of the type, whose instance may be
            # shared (click's STRING): this option gets a type of its own.
            param.type = copy.copy(param.type)
            param.type.envvar_list_splitter = "\n"
    return command


def command_app() -> typer.Typer:
    """The app of one command's module: hx's group builds the command when it is named."""
    return typer.Typer(add_completion=False, rich_markup_mode=None)


class _Group(HelpGroup):
    """hx's commands (:class:`_Commands`); usage errors as one ``hx: error: ...`` line,
    like every other error hx reports."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # click types it as mutable; hx adds no command after start-up.
        self.commands = _Commands()  # type: ignore[assignment]

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(
                args, prog_name, complete_var, False, windows_expand_args, **extra
            )
            code = result if isinstance(result, int) else 0
        except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
            if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
                # One of click's usage errors (typer vendors its own click).
                code = int(exc.exit_code)
                sys.stderr.write(_usage_message(exc))
            else:
                code = int(ExitCode.INTERNAL)
                sys.stderr.write(f"hx: error: {internal_error_message(exc)}\n")
        if standalone_mode:
            raise SystemExit(code)
        return code


def _usage_message(exc: Any) -> str:
    message = str(exc.format_message())
    if type(exc).__name__ == "NoArgsIsHelpError":
        return message + "\n"  # the help text itself
    message = message.rstrip(".")
    ctx = getattr(exc, "ctx", None)
    hint = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
    return f"hx: error: {message}{hint}\n"


app = typer.Typer(
    name="hx",
    cls=_Group,
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
            metavar="FILE",
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
            metavar="NAME",
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
    """The config file as click's default_map of the command being run, every key checked.

    Commands are built as they are looked up (:class:`_Commands`): another
    command only for a top-level key the one being run does not take, or for
    its own table.
    """
    if no_config:
        if profile is not None:
            raise UsageError("--profile needs a config file (not --no-config)")
        return None
    if path is None:
        path = default_config_path()
        if not _visible(path):
            if profile is not None:
                raise UsageError(f"--profile {profile}: no config file at {path}")
            return None
    loaded = load_config(path, profile)
    # typer vendors its own click: reach the commands through the context.
    commands: Mapping[str, Any] = getattr(ctx.command, "commands", {})
    running = ctx.invoked_subcommand
    defaults: dict[str, Any] = {}
    for layer in loaded.layers:  # lowest precedence first: later layers win
        for key, value in layer.shared.items():
            name = _taker(commands, running, key)
            if name is None:
                where = f"[{layer.prefix.rstrip('.')}] " if layer.prefix else ""
                raise ConfigError(f"config {path}: {where}unknown option {key!r}")
            checked = _checked(ctx, commands[name], key, value, path)
            if name == running:
                defaults.update(checked)
        for name, table in layer.commands.items():
            for key, value in table.items():
                if _param(commands[name], key) is None:
                    where = f"[{layer.prefix}{name}]"
                    raise ConfigError(f"config {path}: {where} has no option {key!r}")
                checked = _checked(ctx, commands[name], key, value, path)
                if name == running:
                    defaults.update(checked)
    return None if running is None else {running: defaults}


def _taker(commands: Mapping[str, Any], running: str | None, key: str) -> str | None:
    """A command that takes config key ``key``: the one being run if it does."""
    names = sorted(commands, key=lambda name: name != running)  # the one being run first
    return next((name for name in names if _param(commands[name], key) is not None), None)


def _visible(path: Path) -> bool:
    """Whether the default config file exists; a directory we may not enter hides it."""
    try:
        return path.exists()
    except PermissionError:
        return False


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
