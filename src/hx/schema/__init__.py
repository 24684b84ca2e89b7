"""The record's schema (record.schema.json, JSON Schema 2020-12), and the field names
``--fields`` may use. Light enough for the CLI to load while parsing options."""

from __future__ import annotations

import functools
from typing import Any

from hx.frozen import frozen


@functools.cache
def record_schema() -> dict[str, Any]:
    """The JSON Schema of a record (hx/schema/record.schema.json)."""
    # Imported here: ``hx --help`` loads this module, and needs neither.
    import importlib.resources
    import json

    text = importlib.resources.files("hx").joinpath("schema/record.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def known_fields() -> tuple[str, ...]:
    """Every field --fields may name: each top-level field, and each nested one dotted."""
    names = []
    for name, spec in record_schema()["properties"].items():
        names.append(name)
        names.extend(f"{name}.{inner}" for inner in spec.get("properties", {}))
    return tuple(names)


@frozen
class Fields:
    """Record fields chosen with ``--fields``, in order, by dotted path."""

    names: tuple[str, ...]


def parse_fields(text: str) -> Fields:
    """``"url,status,timings.wait"`` as Fields; ValueError naming an unknown one."""
    fields = tuple(name.strip() for name in text.split(",") if name.strip())
    if not fields:
        raise ValueError("expected field names separated by commas, e.g. url,status")
    known = known_fields()
    for name in fields:
        if name not in known:
            raise ValueError(f"unknown field {name!r} (fields: {', '.join(known)})")
    return Fields(fields)
