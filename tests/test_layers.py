"""The layers of src/hx hold: no import cycles, and hx.net stays below the engine.

Read from the source with ast, not by importing: every import statement counts,
those inside functions too, except under ``if TYPE_CHECKING:`` (never run).
Importing ``hx.pkg.mod`` runs ``hx/pkg/__init__.py`` first, so it is an edge to
``hx.pkg`` as well, unless the importer is inside ``hx.pkg`` (its package is
then already being imported).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# What hx.net may import besides itself: the leaves every layer shares.
NET_MAY_IMPORT = {"hx.errors", "hx.frozen", "hx.redact", "hx.values", "hx.settings"}


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    where: str  # path:line, for the failure message


def module_names() -> dict[str, Path]:
    """Every module of hx by dotted name (a package by its own name)."""
    names: dict[str, Path] = {}
    for path in sorted((SRC / "hx").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_nodes(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: ``if TYPE_CHECKING:`` bodies are skipped."""
    for node in nodes:
        if isinstance(node, ast.If) and is_type_checking(node.test):
            yield from import_nodes(node.orelse)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        else:
            yield from import_nodes(ast.iter_child_nodes(node))


def named_modules(
    node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, modules: set[str]
) -> set[str]:
    """The modules a statement names: ``from p import m`` names p and, if m is one, p.m."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        package = importer.split(".") if is_package else importer.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([base] if base else []))
    return {base} | ({f"{base}.{alias.name}" for alias in node.names} & modules)


def with_packages(target: str, importer: str) -> set[str]:
    """``target`` and each package above it that the importer is not already inside."""
    parts = target.split(".")
    prefixes = {".".join(parts[:n]) for n in range(1, len(parts) + 1)}
    inside = {".".join(importer.split(".")[:n]) for n in range(1, importer.count(".") + 2)}
    return prefixes - inside


def imports_in(
    source: str,
    importer: str,
    modules: set[str],
    *,
    is_package: bool = False,
    type_checking: bool = False,
) -> set[tuple[str, int]]:
    """(module of ``modules`` that runs, line) for each import in ``source``."""
    tree = ast.parse(source)
    nodes = (
        (n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom))
        if type_checking
        else import_nodes([tree])
    )
    return {
        (reached, node.lineno)
        for node in nodes
        for target in named_modules(node, importer, is_package, modules)
        for reached in with_packages(target, importer) & modules
    }


def hx_imports(*, type_checking: bool = False) -> list[Import]:
    """Every import between hx modules, with the packages run on the way."""
    modules = module_names()
    return [
        Import(importer, target, f"{path.relative_to(SRC.parent)}:{line}")
        for importer, path in modules.items()
        for target, line in imports_in(
            path.read_text(encoding="utf-8"),
            importer,
            set(modules),
            is_package=path.name == "__init__.py",
            type_checking=type_checking,
        )
    ]


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or None (depth-first search, three colours)."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def describe(cycle: list[str], imports: list[Import]) -> str:
    where = {(i.importer, i.target): i.where for i in imports}
    steps = [f"  {a} -> {b}  ({where[a, b]})" for a, b in zip(cycle, cycle[1:], strict=False)]
    return "import cycle:\n" + "\n".join(steps)


def graph(imports: list[Import]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for imp in imports:
        if imp.importer != imp.target:
            edges.setdefault(imp.importer, set()).add(imp.target)
    return edges


# -- the checker itself, on made-up graphs --------------------------------------------


@pytest.mark.parametrize(
    ("edges", "cycle"),
    [
        ({"a": {"b"}, "b": {"c"}}, None),
        ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"a"}}, ["a", "b", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": {"b"}}, ["b", "c", "b"]),
    ],
)
def test_find_cycle(edges: dict[str, set[str]], cycle: list[str] | None) -> None:
    assert find_cycle(edges) == cycle


MADE_UP = {"hx", "hx.a", "hx.a.m", "hx.a.n", "hx.b", "hx.b.x", "hx.c"}
SOURCE = """\
from typing import TYPE_CHECKING
import hx.b.x
from hx.a import m, CONSTANT
if TYPE_CHECKING:
    from hx.c import Thing
else:
    import json
def late():
    from . import n
"""


def test_imports_in_counts_packages_and_late_imports_but_not_type_checking() -> None:
    assert imports_in(SOURCE, "hx.a.k", MADE_UP) == {
        ("hx.b", 2),  # hx.b's __init__ runs before hx.b.x
        ("hx.b.x", 2),
        ("hx.a.m", 3),  # hx.a itself: hx.a.k is inside it, already imported
        ("hx.a.n", 9),
    }
    assert ("hx.c", 5) in imports_in(SOURCE, "hx.a.k", MADE_UP, type_checking=True)


def test_relative_imports_of_a_package_start_at_the_package() -> None:
    assert imports_in("from . import m\nfrom ..b import x\n", "hx.a", MADE_UP, is_package=True) == {
        ("hx.a.m", 1),
        ("hx.b", 2),
        ("hx.b.x", 2),
    }


# -- the rules ------------------------------------------------------------------------


def test_no_import_cycle_between_hx_modules() -> None:
    imports = hx_imports()
    cycle = find_cycle(graph(imports))
    assert cycle is None, describe(cycle, imports)


def test_net_imports_only_the_shared_leaves() -> None:
    # Type-only imports count too: hx.net must not even name the layers above it.
    outside = sorted(
        f"{i.target} ({i.where})"
        for i in hx_imports(type_checking=True)
        if i.importer.startswith("hx.net")
        and not i.target.startswith("hx.net")
        and i.target not in NET_MAY_IMPORT
    )
    assert outside == []
