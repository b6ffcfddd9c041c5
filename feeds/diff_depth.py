"""A local order book kept from Binance's diff-depth stream and one REST snapshot, by Binance's
own rules: what the `file:` feed uses to turn recorded `depthUpdate` frames into `Book` events.

Why its own module: the rules are easy to get subtly wrong, and a wrong book is worse than none
(a fill model would walk levels that are not there). So they are written once, as Binance
states them for USDⓈ-M futures ("How to manage a local order book correctly"):

1. Diffs that arrive before the snapshot are kept (the most recent `BUFFERED` per symbol).
2. Once the snapshot (`lastUpdateId`) is known, every diff with `u` < `lastUpdateId` is
   dropped as older than the snapshot.
3. The first diff applied must straddle it: `U` ≤ `lastUpdateId` ≤ `u`.
4. Every later diff's `pu` must equal the previous diff's `u`; otherwise the book is lost and
   nothing is emitted for the symbol until the next snapshot (a recording cannot ask for one:
   its books simply stop, which is honest).
5. Quantities are absolute; `0` removes the level.

The top `depth` levels are emitted as a `Book` at most every `interval_ms` of exchange time per
symbol, like the live `depth20@100ms` stream, stamped with the diff's transaction time `T`. A
book that comes out crossed is not emitted (counted in `crossed`).
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from papertrade.core.events import Book

from .base import DEFAULT_DEPTH, Drop, non_negative, positive

BUFFERED = 1000
BOOK_INTERVAL_MS = 100


@dataclass(slots=True)
class _Symbol:
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    last_update_id: int | None = None
    """The snapshot's id while waiting for the first straddling diff; None once synced."""
    synced: bool = False
    last_u: int = -1
    next_emit: int = -1
    pending: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=BUFFERED))


def _levels(rows: Any) -> list[tuple[Decimal, Decimal]]:
    if not isinstance(rows, list):
        raise Drop("invalid_fields")
    out = []
    for row in rows:
        if not isinstance(row, list) or len(row) < 2:
            raise Drop("invalid_fields")
        out.append((positive(row[0]), non_negative(row[1])))
    return out


def _apply(side: dict[Decimal, Decimal], rows: Any) -> None:
    for price, qty in _levels(rows):
        if qty:
            side[price] = qty
        else:
            side.pop(price, None)


def _id(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise Drop("invalid_fields")
    return value


class DiffDepth:
    """Local books of every symbol of one recording. Feed it frames in file order:
    `snapshot(symbol, obj)` for a REST depth snapshot, `diff(data)` for a `depthUpdate`; each
    returns the `Book`s due now. Bad numbers or ids raise `Drop` (the caller names the line)."""

    def __init__(self, depth: int = DEFAULT_DEPTH, interval_ms: int = BOOK_INTERVAL_MS) -> None:
        self.depth = depth
        self.interval_ms = interval_ms
        self.crossed = 0
        self.resyncs = 0
        self._books: dict[str, _Symbol] = {}

    def snapshot(self, symbol: str, obj: dict[str, Any]) -> list[Book]:
        """A REST snapshot (`lastUpdateId`, `bids`, `asks`) of `symbol`: the book restarts from
        it, then the diffs kept so far that are not older are applied by the rules."""
        state = self._books.setdefault(symbol, _Symbol())
        bids: dict[Decimal, Decimal] = {}
        asks: dict[Decimal, Decimal] = {}
        _apply(bids, obj.get("bids"))
        _apply(asks, obj.get("asks"))
        state.bids, state.asks = bids, asks
        state.last_update_id = _id(obj.get("lastUpdateId"))
        state.synced = False
        pending = list(state.pending)
        state.pending.clear()
        out: list[Book] = []
        for data in pending:
            out.extend(self._diff(symbol, state, data))
        return out

    def diff(self, data: dict[str, Any]) -> list[Book]:
        """One `depthUpdate` (`s`, `U`, `u`, `pu`, `b`, `a`, `T`/`E`)."""
        symbol = data.get("s")
        if type(symbol) is not str:
            raise Drop("invalid_fields")
        state = self._books.setdefault(symbol, _Symbol())
        if not state.synced and state.last_update_id is None:
            state.pending.append(data)  # no snapshot yet: keep it for when one comes
            return []
        return self._diff(symbol, state, data)

    def _diff(self, symbol: str, state: _Symbol, data: dict[str, Any]) -> list[Book]:
        first, last, previous = _id(data.get("U")), _id(data.get("u")), _id(data.get("pu"))
        if not state.synced:
            snap = state.last_update_id
            if snap is None or last < snap:
                return []  # older than the snapshot (or lost, waiting for the next one)
            if first > snap:
                self._lose(state)  # the diff that straddles the snapshot is missing
                return []
            state.synced = True
            state.last_update_id = None
        elif previous != state.last_u:
            self._lose(state)
            return []
        _apply(state.bids, data.get("b"))
        _apply(state.asks, data.get("a"))
        state.last_u = last
        ts = data.get("T") or data.get("E")
        if type(ts) is not int:
            raise Drop("invalid_fields")
        if ts < state.next_emit:
            return []
        book = self._top(ts, symbol, state)
        if book is None:
            return []
        state.next_emit = ts + self.interval_ms
        return [book]

    def _lose(self, state: _Symbol) -> None:
        """The chain of updates broke: no book until the next snapshot."""
        state.synced = False
        state.last_update_id = None
        state.bids, state.asks = {}, {}
        state.last_u = -1
        self.resyncs += 1
        state.pending.clear()  # diffs from here on wait for the next snapshot, as at the start

    def _top(self, ts: int, symbol: str, state: _Symbol) -> Book | None:
        n = self.depth
        bid_prices = heapq.nlargest(n, state.bids)
        ask_prices = heapq.nsmallest(n, state.asks)
        if not bid_prices and not ask_prices:
            return None
        if bid_prices and ask_prices and bid_prices[0] >= ask_prices[0]:
            self.crossed += 1
            return None
        bids = tuple((p, state.bids[p]) for p in bid_prices)
        asks = tuple((p, state.asks[p]) for p in ask_prices)
        return Book(ts, symbol, bids, asks)
