"""`Engine.trial()`: run commands on the live engine, then put back exactly what they touched.

Why: the order ticket previews on every keystroke. Cloning the engine for that
(`to_state` + `from_state`, with a sorted copy of every order id ever used) costs time that
grows with the session; a trial costs what the account holds now (its few positions and open
orders), whatever the session's length.

What a trial records and restores is every mutable part of the engine's state:

- the account: the cross wallet and cross totals (settled and unbanded first, so the
  commands read exact totals; see `Account.band`), the positions and orders dicts and the
  by-symbol order books (same objects, same order), and every field of every position and open
  order (a fill can liquidate or cut any cross position, cancel any cross order, move a queue);
- the conditional book (orders, by-symbol lists, each order's trailing state), the GTD heap,
  the stops held for entries, the per-symbol settings, the position mode, the running totals,
  the challenge's score, `last_ts` and the gap fields;
- markets: the order path writes no market field, but a fill creates a symbol's market if it
  has none; markets added are removed;
- order ids: during a trial `used_ids` is an overlay that answers for the real set and keeps
  the ids added to itself, so the real set is never written and never copied.

Containers are restored in place (the engine binds `expiries.heap` and `algo.by_symbol` for
its hot path; screens hold `engine.totals`). A new mutable attribute of the engine must be
added here: a trial refuses to start on an engine with an attribute neither restored here nor
listed as fixed for the engine's life (an engine subclass with state of its own, like the
post-mortem's `Recorder`, is refused rather than half put back), and
`tests/core/test_preview_trial.py` fails on such an attribute of `Engine`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import attrgetter, is_not
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from papertrade.core.engine import Engine

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")

RESTORED = frozenset(
    {
        "acct",
        "algo",
        "attached_stops",
        "challenge",
        "expiries",
        "last_ts",
        "markets",
        "position_mode",
        "symbol_settings",
        "totals",
        "used_ids",
        "_gap_then",
        "_gap_was",
        "_gap_now",
        "_deadlines",
        "_waiting",
    }
)
"""The engine's attributes a trial puts back (`_deadlines`, `_waiting`: rebound to the
restored heap and book, which are the same objects)."""

FIXED = frozenset({"instruments", "settings", "_queue", "_handlers"})
"""The engine's attributes no command changes (set once in `__init__`)."""

KNOWN = RESTORED | FIXED


class TrialIds(set[str]):
    """`used_ids` during a trial: membership is the real set's or its own; additions stay
    here. Only `in` and `add` are used by the engine while a trial runs."""

    __slots__ = ("base",)

    def __init__(self, base: set[str]) -> None:
        super().__init__()
        self.base = base

    def __contains__(self, item: object) -> bool:
        return set.__contains__(self, item) or item in self.base


Getter = Callable[[object], tuple[Any, ...]]
_GETTERS: dict[type, tuple[tuple[str, ...], Getter]] = {}


def _fields(cls: type) -> tuple[tuple[str, ...], Getter]:
    """The slot names of a class (its whole MRO) and one getter of all their values."""
    found = _GETTERS.get(cls)
    if found is None:
        names: list[str] = []
        for klass in cls.__mro__:
            slots = klass.__dict__.get("__slots__", ())
            names += [slots] if isinstance(slots, str) else list(slots)
        names = [n for n in names if n not in ("__weakref__", "__dict__")]
        get = attrgetter(*names)
        getter: Getter = get if len(names) > 1 else lambda obj: (get(obj),)
        found = _GETTERS[cls] = (tuple(names), getter)
    return found


class _Fields:
    """Every slot of some slotted objects of one class, put back on those where any value
    was replaced (by identity: an equal Decimal of another exponent would save differently)."""

    __slots__ = ("get", "names", "objects", "values")

    def __init__(self, objects: list[object]) -> None:
        self.objects = objects
        self.names, self.get = _fields(type(objects[0]))
        self.values = list(map(self.get, objects))

    def restore(self) -> None:
        names = self.names
        now = map(self.get, self.objects)
        for obj, was, values in zip(self.objects, self.values, now, strict=True):
            if any(map(is_not, values, was)):
                for name, value in zip(names, was, strict=True):
                    setattr(obj, name, value)


class Snapshot:
    """What a trial puts back (see the module docstring)."""

    __slots__ = (
        "acct",
        "acct_fields",
        "algo",
        "algo_orders",
        "algo_symbols",
        "attached_stops",
        "books",
        "challenge",
        "challenge_fields",
        "engine",
        "expiries",
        "gap",
        "heap",
        "last_ts",
        "market_count",
        "markets",
        "orders",
        "position_mode",
        "positions",
        "slotted",
        "symbol_settings",
        "totals",
        "used_ids",
    )

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        acct = self.acct = engine.acct
        acct.unband()
        self.acct_fields = (acct.cross_wallet, acct.cross_upnl, acct.cross_mm, acct.banded)
        self.positions = dict(acct.positions)
        self.orders = dict(acct.orders)
        self.books = _books(acct.orders_by_symbol)
        algo = self.algo = engine.algo
        self.algo_orders = dict(algo.orders)
        self.algo_symbols = _books(algo.by_symbol)
        self.totals = engine.totals
        by_class: dict[type, list[object]] = {}
        for objects in (self.positions, self.orders, self.algo_orders):
            for obj in objects.values():
                by_class.setdefault(type(obj), []).append(obj)
        by_class.setdefault(type(self.totals), []).append(self.totals)
        self.slotted = [_Fields(objects) for objects in by_class.values()]
        self.expiries = engine.expiries
        self.heap = list(self.expiries.heap)
        self.markets = engine.markets
        self.market_count = len(self.markets)
        self.attached_stops = dict(engine.attached_stops)
        self.symbol_settings = dict(engine.symbol_settings)
        self.position_mode = engine.position_mode
        self.challenge = engine.challenge
        self.challenge_fields: dict[str, Any] = {}
        if self.challenge is not None:
            self.challenge_fields = {
                k: list(v) if isinstance(v, list) else v for k, v in vars(self.challenge).items()
            }
        self.last_ts = engine.last_ts
        self.gap = (engine._gap_then, engine._gap_was, engine._gap_now)
        self.used_ids = engine.used_ids

    def restore(self) -> None:
        e = self.engine
        acct = e.acct = self.acct
        acct.cross_wallet, acct.cross_upnl, acct.cross_mm, acct.banded = self.acct_fields
        _put_back(acct.positions, self.positions)
        _put_back(acct.orders, self.orders)
        _put_back_books(acct.orders_by_symbol, self.books)
        algo = e.algo = self.algo
        _put_back(algo.orders, self.algo_orders)
        _put_back_books(algo.by_symbol, self.algo_symbols)
        e.totals = self.totals
        for objects in self.slotted:
            objects.restore()
        e.expiries = self.expiries
        self.expiries.heap[:] = self.heap
        e._bind_hot()
        markets = e.markets = acct.markets = self.markets
        if len(markets) != self.market_count:  # a fill made a market: only ever appended
            for symbol in list(markets)[self.market_count :]:
                del markets[symbol]
        _put_back(e.attached_stops, self.attached_stops)
        _put_back(e.symbol_settings, self.symbol_settings)
        e.position_mode = self.position_mode
        e.challenge = self.challenge
        if self.challenge is not None:
            fields = vars(self.challenge)
            for k, v in self.challenge_fields.items():
                if isinstance(v, list):
                    fields[k][:] = v
                else:
                    fields[k] = v
        e.last_ts = self.last_ts
        e._gap_then, e._gap_was, e._gap_now = self.gap
        e.used_ids = self.used_ids


def _books(live: dict[str, list[T]]) -> dict[str, tuple[list[T], list[T]]]:
    """Each by-symbol list with a copy of its items (the list objects are put back too)."""
    return {symbol: (book, list(book)) for symbol, book in live.items()}


def _put_back(live: dict[K, V], saved: dict[K, V]) -> None:
    """`live` as `saved` again: the same object, the same key order."""
    live.clear()
    live.update(saved)


def _put_back_books(live: dict[str, list[T]], saved: dict[str, tuple[list[T], list[T]]]) -> None:
    live.clear()
    for symbol, (book, items) in saved.items():
        book[:] = items
        live[symbol] = book


class Trials:
    """The engine's `trial()` (a mixin of `Engine`)."""

    @contextmanager
    def trial(self) -> Iterator[None]:
        """Inside: the engine as usual (apply commands, read the result); on leaving, by any
        way out, every part of its state as it was on entering."""
        engine = cast("Engine", self)  # a mixin of Engine only
        unknown = vars(engine).keys() - KNOWN
        if unknown:
            raise TypeError(
                f"{type(engine).__name__} has state a trial would not put back: "
                f"{', '.join(sorted(unknown))} (add it to core/trial.py)"
            )
        snapshot = Snapshot(engine)
        engine.used_ids = TrialIds(snapshot.used_ids)
        try:
            yield
        finally:
            snapshot.restore()
