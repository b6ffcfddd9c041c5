"""`core.records`: the shared `__eq__`, `__hash__` and `__repr__` do what `@dataclass` would
generate, for every class that takes them instead (events, outcomes, the codec's table, the
instruments).

Each class is held against a twin made by `dataclasses.make_dataclass` with the same fields
(the same `compare`/`hash`/`repr` flags, the same frozenness) and the generated methods: the
same text, the same verdicts, the same hashes, on the same values.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from papertrade.core import codec, instruments
from papertrade.core import events as ev
from papertrade.core.records import Record, Value

CLASSES = sorted(
    {
        cls
        for module in (ev, codec, instruments)
        for cls in vars(module).values()
        if isinstance(cls, type) and dataclasses.is_dataclass(cls) and issubclass(cls, Record)
    },
    key=lambda cls: cls.__qualname__,
)


def twin(cls: type) -> type:
    """`cls`'s fields in a dataclass whose methods `dataclass` generates."""
    made = dataclasses.make_dataclass(
        cls.__name__,
        [
            (f.name, Any, dataclasses.field(compare=f.compare, hash=f.hash, repr=f.repr))
            for f in dataclasses.fields(cls)
        ],
        frozen=cls.__dataclass_params__.frozen,  # type: ignore[attr-defined]
        slots=True,
    )
    made.__qualname__ = cls.__qualname__
    return made


def made(cls: type, values: list[Any]) -> Any:
    """An instance holding `values`, past `__init__` (an `Instrument` checks its rules there:
    the methods under test do not care what the values mean)."""
    item: Any = object.__new__(cls)
    for f, value in zip(dataclasses.fields(cls), values, strict=True):
        object.__setattr__(item, f.name, value)
    return item


def sample(cls: type, seed: int = 0) -> list[Any]:
    """Distinct values of several kinds, one per field (quotes and non-ASCII in the texts)."""
    kinds = [
        lambda i: Decimal(f"{i}.5"),
        lambda i: f"o\"r'd-{i}é",
        lambda i: i,
        lambda i: None,
        lambda i: (Decimal(i), "x"),
        lambda i: i % 2 == 0,
    ]
    return [kinds[i % len(kinds)](i + seed) for i in range(len(dataclasses.fields(cls)))]


def test_every_event_and_outcome_takes_the_shared_methods() -> None:
    """The hot classes the brief names: a new event written the old way still works, but it
    would compile its methods at start-up again."""
    event_classes = {
        cls for cls in vars(ev).values() if isinstance(cls, type) and dataclasses.is_dataclass(cls)
    }
    assert len(event_classes) >= 28
    assert event_classes <= set(CLASSES)
    assert {codec._Kind, codec._Field, instruments.Instrument, instruments.Bracket} <= set(CLASSES)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__qualname__)
def test_repr_equality_and_hash_are_what_dataclass_generates(cls: type) -> None:
    ref = twin(cls)
    values = sample(cls)
    ours, theirs = made(cls, values), made(ref, values)
    assert repr(ours) == repr(theirs)
    assert ours == made(cls, values) and theirs == made(ref, values)
    assert (ours != made(cls, values)) is False
    for i in range(len(values)):
        changed = [*values[:i], ("other", i), *values[i + 1 :]]
        # equal exactly where the generated `__eq__` says so (a `compare=False` field is not
        # compared: a liquidation's gap annotation)
        assert (ours == made(cls, changed)) is (theirs == made(ref, changed))
        assert (ours != made(cls, changed)) is (theirs != made(ref, changed))
    assert ours.__eq__(object()) is NotImplemented
    assert theirs.__eq__(object()) is NotImplemented
    if cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        assert issubclass(cls, Value)
        assert hash(ours) == hash(theirs)
        assert hash(made(cls, sample(cls, seed=1))) == hash(made(ref, sample(cls, seed=1)))
    else:
        with pytest.raises(TypeError, match="unhashable"):
            hash(ours)
        with pytest.raises(TypeError, match="unhashable"):
            hash(theirs)


def test_a_record_inside_itself_is_shown_as_dataclass_shows_it() -> None:
    ref = twin(ev.MarkPrice)
    ours, theirs = made(ev.MarkPrice, sample(ev.MarkPrice)), made(ref, sample(ev.MarkPrice))
    ours.symbol, theirs.symbol = ours, theirs
    assert repr(ours) == repr(theirs)
    assert "symbol=...," in repr(ours)


def test_a_different_class_with_equal_fields_is_not_equal() -> None:
    """As generated: only the exact class compares (a `Snapshot` is no `CancelOrder` prefix)."""
    assert ev.Refill(5, Decimal(1)) != ev.FundingPaid(5, "BTCUSDT", Decimal(1))
    assert ev.Snapshot(5) == ev.Snapshot(5) and ev.Snapshot(5) != ev.Snapshot(6)
    assert {ev.Refill(5, Decimal(1)), ev.Refill(5, Decimal("1.0"))} == {ev.Refill(5, Decimal(1))}


def test_replace_fields_and_matching_are_untouched() -> None:
    fill = ev.Fill(
        1, "o", "BTCUSDT", "buy", Decimal(1), Decimal(2), Decimal(0), Decimal(0), "taker"
    )
    moved = dataclasses.replace(fill, price=Decimal(3))
    assert moved.price == 3 and moved != fill and moved.order_id == "o"
    assert [f.name for f in dataclasses.fields(ev.Fill)][:3] == ["ts", "order_id", "symbol"]
    match moved:
        case ev.Fill(ts, order_id):
            assert (ts, order_id) == (1, "o")
    with pytest.raises(dataclasses.FrozenInstanceError):
        moved.price = Decimal(4)  # type: ignore[misc]
