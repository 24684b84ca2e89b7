"""hx.frozen's shared __eq__/__hash__/__repr__ against the methods dataclasses generates."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hx.frozen import frozen
from hx.models import Result
from hx.settings import AuthOptions, Settings


@frozen
class Ours:
    a: int
    b: str | None = None
    hidden: int = dataclasses.field(default=0, repr=False)
    ignored: float = dataclasses.field(default=0.0, compare=False)


@dataclasses.dataclass(frozen=True)
class Theirs:
    a: int
    b: str | None = None
    hidden: int = dataclasses.field(default=0, repr=False)
    ignored: float = dataclasses.field(default=0.0, compare=False)


@frozen
class One:
    a: int


@frozen
class Empty:
    pass


values = st.tuples(
    st.integers(-3, 3), st.none() | st.sampled_from(["", "x"]), st.integers(0, 2), st.floats(0, 1)
)


@given(values, values)
def test_equality_and_hash_agree_with_dataclasses(
    left: tuple[Any, ...], right: tuple[Any, ...]
) -> None:
    ours_equal = Ours(*left) == Ours(*right)
    assert ours_equal == (Theirs(*left) == Theirs(*right))
    assert (Ours(*left) != Ours(*right)) is not ours_equal
    if ours_equal:
        assert hash(Ours(*left)) == hash(Ours(*right))


@given(values)
def test_repr_is_the_dataclass_repr(fields: tuple[Any, ...]) -> None:
    assert repr(Ours(*fields)) == repr(Theirs(*fields)).replace("Theirs", "Ours")


def test_other_types_are_not_equal() -> None:
    assert Ours(1) != Theirs(1)
    assert Ours(1) != (1, None, 0)
    assert Ours(1).__eq__(Theirs(1)) is NotImplemented


@pytest.mark.parametrize("make", [lambda n: One(n), lambda n: Empty()])
def test_one_and_no_compared_fields(make: Any) -> None:
    assert make(1) == make(1)
    assert hash(make(1)) == hash(make(1))
    assert {make(1), make(1)} == {make(1)}
    assert One(1) != One(2)
    assert repr(One(2)) == "One(a=2)"
    assert repr(Empty()) == "Empty()"


def test_a_method_the_class_writes_wins() -> None:
    assert "secret" not in repr(AuthOptions(bearer="secret"))


def test_records_still_work_with_the_dataclasses_helpers() -> None:
    settings = Settings()
    assert dataclasses.replace(settings, concurrency=3) == Settings(concurrency=3)
    assert dataclasses.replace(settings, concurrency=3) != settings
    assert {f.name for f in dataclasses.fields(Result)} >= {"url", "status"}
    assert not hasattr(Ours(1), "__dict__")  # still slotted
