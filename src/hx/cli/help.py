"""How ``--help``, the man page and the README show a command: in the user's words.

typer would print Python types (``<int range>``, ``<list[str]>``), required
arguments in braces (``{source}``), click's ranges (``x>=1``), one flat list
of options and command descriptions cut at 45 characters. Here options come
in panels (hx.cli.options.PANELS), each value is named by its metavar (N,
DURATION, FILE, URL...), ranges are words and descriptions are whole.
"""

import re
from typing import Any

import typer.core

from hx.cli.options import PANELS

_RANGES = (
    (re.compile(r"([\d.]+)<=x<=([\d.]+)"), r"\1 to \2"),
    (re.compile(r"x>=([\d.]+)"), r"at least \1"),
    (re.compile(r"x<=([\d.]+)"), r"at most \1"),
)


def help_record(param: Any, ctx: Any) -> tuple[str, str] | None:
    """``(flags and metavar, help with its [env var; default; range] note)``, or None if hidden."""
    record = param.get_help_record(ctx)
    if record is None:
        return None
    flags, text = record
    if param.param_type_name == "argument":
        flags = argument_name(param)
    for pattern, words in _RANGES:
        text = pattern.sub(words, text)
    return flags, text


def argument_name(param: Any) -> str:
    """``SOURCE``, or ``URL...`` for an argument that takes many."""
    name = str(param.metavar or param.name.upper())
    return f"{name}..." if param.nargs == -1 else name


def usage_pieces(command: Any, ctx: Any) -> list[str]:
    """The usage line after the command name: ``[OPTIONS] SOURCE``, ``[OPTIONS] [URL...]``."""
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if param.param_type_name == "argument":
            name = argument_name(param)
            pieces.append(name if param.required else f"[{name}]")
    return pieces


def panels(command: Any, ctx: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """``[(title, records)]``: arguments first, then each panel in PANELS order, then the rest."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for param in command.get_params(ctx):
        record = help_record(param, ctx)
        if record is None:
            continue
        if param.param_type_name == "argument":
            title = "Arguments"
        else:
            title = getattr(param, "rich_help_panel", None) or "Options"
        grouped.setdefault(title, []).append(record)
    order = ["Arguments", *PANELS, "Options"]
    return sorted(grouped.items(), key=lambda item: order.index(item[0]))


def write_panels(command: Any, ctx: Any, formatter: Any) -> None:
    for title, records in panels(command, ctx):
        with formatter.section(title):
            formatter.write_dl(records)


def first_paragraph(text: str | None) -> str:
    """A command's description for a list of commands: its first paragraph, whole."""
    paragraph = (text or "").strip().split("\n\n")[0]
    return " ".join(paragraph.split())


class HelpCommand(typer.core.TyperCommand):
    """A command whose ``--help`` groups options in panels and names values plainly."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return usage_pieces(self, ctx)

    def format_options(self, ctx: Any, formatter: Any) -> None:
        write_panels(self, ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        return first_paragraph(self.help)


class HelpGroup(typer.core.TyperGroup):
    """The ``hx`` group: its own options like a command's, then every command, described whole."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        write_panels(self, ctx, formatter)
        self.format_commands(ctx, formatter)
