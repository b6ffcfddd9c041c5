"""Time in force and the exchange's price and size limits on orders (README "Time in force").

Kept out of the engine's dispatch so the rules read in one place:

- `GTC` rests until filled or cancelled; `GTX` (post-only) is refused if it would take;
  `IOC` fills what it can at once and cancels the rest (`ioc_remainder`); `FOK` fills whole
  at once or is cancelled (`fok_unfilled`). Under the `touch` fill model a marketable IOC or
  FOK fills whole and one that is not marketable is cancelled whole; under `book`/`queue` they
  walk the book (`Engine._take_book`: the IOC's rest is cancelled, a FOK the shown depth
  cannot fill is cancelled whole). `GTD` rests until
  `good_till` (ms), which must be more than 600 s after placement, and is cancelled
  (`expired`) by the first event stamped at or after it.
- PERCENT_PRICE: a limit price must lie within [mark × price_down, mark × price_up].
- marketTakeBound: a market order may not fill further than that fraction from mark (under
  `book`/`queue` its walk stops there and the rest is cancelled, `market_take_bound`).
- MARKET_LOT_SIZE / LOT_SIZE: a market order's quantity is capped by `market_max_qty`, a limit
  order's by `max_qty`.

All of these apply only with the session's `exchange_limits` on. The bands need a mark;
before the first price of a symbol there is nothing to measure from and they are not applied.
"""

from __future__ import annotations

import heapq
from decimal import Decimal

from papertrade.core import events as ev
from papertrade.core.instruments import Instrument
from papertrade.core.numbers import plain

GTD_MIN_AHEAD_MS = 600_000
"""Binance: goodTillDate must be more than now + 600 s."""


def time_in_force(c: ev.PlaceOrder) -> ev.TimeInForce:
    """The effective time in force of a limit order (`post_only` is GTX's alias)."""
    if c.time_in_force is not None:
        return c.time_in_force
    return "GTX" if c.post_only else "GTC"


def gtd_refusal(c: ev.PlaceOrder) -> str | None:
    if c.good_till is not None and c.good_till <= c.ts + GTD_MIN_AHEAD_MS:
        return (
            f"good_till {c.good_till} must be more than 600 s after the order ({c.ts}): "
            "Binance refuses a GTD order that would expire sooner"
        )
    return None


def size_refusal(inst: Instrument, market: bool, qty: Decimal) -> str | None:
    cap = inst.market_max_qty if market else inst.max_qty
    if qty > cap:
        kind = "market" if market else "limit"
        return (
            f"quantity {plain(qty)} is above the {inst.symbol} maximum of {plain(cap)} "
            f"{inst.base} for a {kind} order"
        )
    return None


def band_refusal(inst: Instrument, price: Decimal, mark: Decimal | None) -> str | None:
    """A limit price outside the symbol's percent-price band around mark."""
    if mark is None:
        return None
    low, high = mark * inst.price_down, mark * inst.price_up
    if price < low or price > high:
        return (
            f"price {plain(price)} is outside the {inst.symbol} band "
            f"{plain(low)} … {plain(high)} (mark {plain(mark)} × {plain(inst.price_down)} … "
            f"× {plain(inst.price_up)}; Binance -4016/-4024)"
        )
    return None


def take_bound_refusal(
    inst: Instrument, side: ev.Side, fill_price: Decimal, mark: Decimal | None
) -> str | None:
    """A market order that would fill further from mark than `market_take_bound` allows."""
    if mark is None:
        return None
    bound = inst.market_take_bound
    limit = mark * (1 + bound) if side == "buy" else mark * (1 - bound)
    if (side == "buy" and fill_price > limit) or (side == "sell" and fill_price < limit):
        return (
            f"a market {side} would fill at {plain(fill_price)}, more than "
            f"{plain(bound * 100)} % from mark {plain(mark)} (the {inst.symbol} market take "
            "bound)"
        )
    return None


class Expiries:
    """GTD deadlines as a heap of (good_till, order id); entries whose order has gone are
    dropped when their time comes. `due(ts)` is the engine's O(1) check on every event."""

    __slots__ = ("heap",)

    def __init__(self) -> None:
        self.heap: list[tuple[int, str]] = []

    def add(self, good_till: int, order_id: str) -> None:
        heapq.heappush(self.heap, (good_till, order_id))

    def due(self, ts: int) -> bool:
        return bool(self.heap) and self.heap[0][0] <= ts

    def pop_due(self, ts: int) -> list[tuple[int, str]]:
        out = []
        while self.heap and self.heap[0][0] <= ts:
            out.append(heapq.heappop(self.heap))
        return out
