"""Resting limit orders and the margin they hold.

Held margin is derived from the open orders whenever it is needed (never stored), the way
hummingbot's paper exchange derives locked balances: only the part of an order that would
open or grow a position holds margin; the part that would close the opposite position is free.
What the opening part holds is Binance's cost to open (`margin.order_cost`): initial margin
at the assumed price plus the open loss against the current mark, so it moves with the mark.

An order's `qty` is what is still open: a partial fill (`book`/`queue` fill models) lowers
it, so held margin, reduce-only cuts and a cancel all see only the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from papertrade.core.events import MarginMode, OrderState, PositionSlot, Side
from papertrade.core.margin import order_cost
from papertrade.core.numbers import ZERO


class Order:
    __slots__ = (
        "good_till",
        "id",
        "leverage",
        "mode",
        "post_only",
        "price",
        "qty",
        "queue_ahead",
        "reduce_only",
        "side",
        "slot",
        "symbol",
        "ts",
    )

    def __init__(
        self,
        id: str,
        symbol: str,
        side: Side,
        qty: Decimal,
        price: Decimal,
        ts: int,
        mode: MarginMode,
        leverage: int,
        reduce_only: bool = False,
        post_only: bool = False,
        slot: PositionSlot = "both",
        good_till: int | None = None,
        queue_ahead: Decimal | None = None,
    ) -> None:
        self.id = id
        self.symbol = symbol
        self.side: Side = side
        self.qty = qty
        self.price = price
        self.ts = ts
        self.mode: MarginMode = mode
        self.leverage = leverage
        self.reduce_only = reduce_only
        self.post_only = post_only
        self.good_till = good_till  # GTD: cancelled by the first event at or after it
        self.slot: PositionSlot = slot
        self.queue_ahead = queue_ahead
        """`queue` model: the venue's quantity still ahead of it at its price (else None)."""

    @property
    def reduces(self) -> bool:
        """Only ever closes: reduce-only in one-way mode, or in hedge mode a sell on the long
        side or a buy on the short side (the side says it; such orders hold no margin)."""
        if self.slot == "both":
            return self.reduce_only
        return (self.slot == "long") == (self.side == "sell")

    def state(self) -> OrderState:
        return OrderState(
            id=self.id,
            symbol=self.symbol,
            side=self.side,
            order_type="limit",
            qty=self.qty,
            price=self.price,
            reduce_only=self.reduce_only,
            post_only=self.post_only,
            margin_mode=self.mode,
            leverage=self.leverage,
            ts=self.ts,
            position_side=self.slot,
            time_in_force="GTD" if self.good_till is not None else "GTC",
            good_till=self.good_till,
            queue_ahead=self.queue_ahead,
        )

    def to_state(self) -> dict[str, object]:
        state: dict[str, object] = {
            "id": self.id,
            "symbol": self.symbol,
            "side": self.side,
            "qty": str(self.qty),
            "price": str(self.price),
            "ts": self.ts,
            "mode": self.mode,
            "leverage": self.leverage,
            "reduce_only": self.reduce_only,
            "post_only": self.post_only,
        }
        if self.good_till is not None:
            state["good_till"] = self.good_till
        if self.slot != "both":
            state["slot"] = self.slot
        if self.queue_ahead is not None:
            state["queue_ahead"] = str(self.queue_ahead)
        return state


def opening_qty(qty: Decimal, side: Side, position_size: Decimal, ahead: Decimal) -> Decimal:
    """How much of an order opens exposure, given the signed position and the quantity of
    earlier orders on the same side (`ahead`) that get to close the position first."""
    opposite = -position_size if side == "buy" else position_size
    closable = max(ZERO, opposite - ahead)
    return max(ZERO, qty - closable)


def held_margin(
    orders: Iterable[Order],
    position_size: Decimal,
    mark: Decimal | None = None,
    last: Decimal | None = None,
    mode: MarginMode | None = None,
) -> Decimal:
    """Cost held by one symbol's resting orders (in placement order), at the current mark
    and last price; only orders of margin mode `mode` when it is given. In hedge mode pass
    one side's orders with that side's position."""
    total = ZERO
    ahead = {"buy": ZERO, "sell": ZERO}
    for order in orders:
        if order.reduces:
            continue
        opening = opening_qty(order.qty, order.side, position_size, ahead[order.side])
        ahead[order.side] += order.qty
        if opening and (mode is None or order.mode == mode):
            total += order_cost(order.side, opening, order.price, order.leverage, mark, last)
    return total
