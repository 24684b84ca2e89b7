"""hx's public API: one sorted ``__all__``, every name importable from ``hx``
(modelled on httpx's tests/test_exported_members.py)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import hx


def test_all_is_sorted_and_unique() -> None:
    assert hx.__all__ == sorted(set(hx.__all__))


def test_every_public_name_is_exported_and_importable() -> None:
    for name in hx.__all__:
        value = getattr(hx, name)
        if name == "__version__":
            continue
        assert value.__module__.startswith("hx."), (name, value.__module__)
        # The name is the object's own, not an alias under another name.
        assert value.__name__ == name


def test_lazy_table_and_type_checking_imports_agree_with_all() -> None:
    """Three lists must name the same things: __all__, the lazy table, the typing imports."""
    source = Path(hx.__file__).read_text()
    tree = ast.parse(source)
    typed = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
        for stmt in node.body
        if isinstance(stmt, ast.ImportFrom)
        for alias in stmt.names
    }
    exported = set(hx.__all__) - {"__version__"}
    assert typed == exported
    assert set(hx._EXPORTS) == exported
    for name, module in hx._EXPORTS.items():
        assert getattr(importlib.import_module(module), name) is getattr(hx, name)


def test_unknown_names_raise_attribute_error() -> None:
    try:
        hx.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("hx.no_such_name did not raise")


def test_importing_hx_loads_no_engine() -> None:
    """``import hx`` (and so ``hx --version``) stays cheap: httpx only on first use."""
    code = "import sys, hx; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
