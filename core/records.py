"""Equality, hash and repr for the core's many small dataclasses, written once.

`@dataclass` compiles each generated method of each class through `exec` when the class is
made: for the forty-odd dataclasses behind `papertrade simulate` (the events, the outcomes,
the drill format's table, the instruments) that compiling was a third of the command's
start-up (issue 14). A class declared `@dataclass(eq=False, repr=False)` on `Record` (or
`frozen=True` on `Value`) gets these methods from here instead, doing exactly what the
generated ones do (the same fields compared, hashed and shown, in the same order, the same
text), so it stays an ordinary dataclass: `dataclasses.fields`, `replace`, `asdict`, pattern
matching and its `__init__` are untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from operator import attrgetter
from reprlib import recursive_repr
from typing import TYPE_CHECKING, Any


class Record:
    """The base of a mutable `@dataclass(eq=False, repr=False)`: equal to another of its
    exact class whose compared fields are equal, shown as `Name(field=value, ...)`, and
    unhashable, as the generated methods of a mutable dataclass with `eq=True` make it."""

    __slots__ = ()

    if not TYPE_CHECKING:  # to mypy, `==` stays the dataclass's own (it narrows a union)

        def __eq__(self, other):
            if other.__class__ is self.__class__:
                compared = _compared(self.__class__)
                return compared(self) == compared(other)
            return NotImplemented

        __hash__ = None

    @recursive_repr()  # as the generated one: "..." for an instance inside itself
    def __repr__(self) -> str:
        shown = ", ".join([f"{name}={getattr(self, name)!r}" for name in _shown(self.__class__)])
        return f"{self.__class__.__qualname__}({shown})"


class Value(Record):
    """The base of a frozen `@dataclass(frozen=True, eq=False, repr=False)`: a `Record`
    hashed over its compared fields, as a frozen dataclass with `eq=True` is."""

    __slots__ = ()

    if not TYPE_CHECKING:

        def __hash__(self):
            return hash(_hashed(self.__class__)(self))


_COMPARED: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
_HASHED: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
_SHOWN: dict[type, tuple[str, ...]] = {}


def _compared(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of a class's compared fields, as `dataclass`'s `__eq__` builds it."""
    got = _COMPARED.get(cls)
    if got is None:
        got = _COMPARED[cls] = _getter([f.name for f in fields(cls) if f.compare])
    return got


def _hashed(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple `dataclass`'s `__hash__` hashes: the compared fields unless one says."""
    got = _HASHED.get(cls)
    if got is None:
        names = [f.name for f in fields(cls) if (f.compare if f.hash is None else f.hash)]
        got = _HASHED[cls] = _getter(names)
    return got


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) == 1:  # attrgetter gives the bare value for one name
        (name,) = names
        return lambda item: (getattr(item, name),)
    return attrgetter(*names) if names else lambda item: ()


def _shown(cls: type) -> tuple[str, ...]:
    """The fields `dataclass`'s `__repr__` shows, in order."""
    got = _SHOWN.get(cls)
    if got is None:
        got = _SHOWN[cls] = tuple(f.name for f in fields(cls) if f.repr)
    return got
