"""``@frozen``: hx's immutable records, frozen where that is checked and cheap where they run.

A record is frozen for the type checker: mypy (strict, in CI) refuses any
assignment to a field of one. At run time it is a plain slotted dataclass,
because Python's frozen dataclasses are slow both to build and to define:
each field is set through ``object.__setattr__`` (a Result took 4.1 us to
build that way, 0.6 us this way, and hx builds one per request).

Defining a dataclass is slow too: each generated method is source text
compiled with ``exec``, about 0.1 ms apiece, and start-up defines some
forty records. So only ``__init__`` is generated (it runs per record and
must be fast); ``__eq__``, ``__hash__`` and ``__repr__`` are shared below,
driven by the field names each class keeps, and behave as the generated
ones do: compared fields only, equal records hash alike, ``repr=False``
fields left out of the repr.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def frozen(cls: type[T]) -> type[T]:
    """A slotted dataclass that type checkers hold frozen; hashable like a frozen one
    (equal records, equal hashes)."""
    record: Any = dataclasses.dataclass(slots=True, eq=False, repr=False)(cls)
    fields = dataclasses.fields(record)
    compared = [field.name for field in fields if field.compare]
    record._compared_values = staticmethod(_values_of(compared))
    record._shown_fields = tuple(field.name for field in fields if field.repr)
    for name, method in (("__eq__", _eq), ("__hash__", _hash), ("__repr__", _repr)):
        if name not in cls.__dict__:  # a method the class writes itself wins, as in dataclasses
            setattr(record, name, method)
    return record  # type: ignore[no-any-return]


def _values_of(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving a record's values for ``names`` as a tuple (attrgetter runs in C)."""
    if not names:
        return lambda record: ()
    if len(names) == 1:
        name = names[0]
        return lambda record: (getattr(record, name),)
    return attrgetter(*names)


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    values = self._compared_values
    return values(self) == values(other)


def _hash(self: Any) -> int:
    return hash(self._compared_values(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown_fields)
    return f"{self.__class__.__qualname__}({shown})"
