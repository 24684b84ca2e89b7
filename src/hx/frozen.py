"""``@frozen``: hx's immutable records, frozen where that is checked and cheap where they run.

A record is frozen for the type checker: mypy (strict, in CI) refuses any
assignment to a field of one. At run time it is a plain slotted dataclass,
because Python's frozen dataclasses are slow both to build and to define:
each field is set through ``object.__setattr__`` (a Result took 4.1 us to
build that way, 0.6 us this way, and hx builds one per request), and each
class has two more generated methods (about 0.2 ms a class: some 7 ms of a
one-URL fetch's start-up over the records it loads).
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def frozen(cls: type[T]) -> type[T]:
    """A slotted dataclass that type checkers hold frozen; hashable like a frozen one
    (equal records, equal hashes)."""
    return dataclasses.dataclass(slots=True, unsafe_hash=True)(cls)
