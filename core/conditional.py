"""Conditional orders (Binance's algo orders): stops, take-profits and trailing stops.

They wait off the book and hold no margin; on every event of the price they watch (trades for
`contract`, mark prices for `mark`) the engine asks `ConditionalOrder.observe` whether the
trigger condition holds, and then places the order they become (market or limit) as an
ordinary order with its normal checks. The trigger rules are Binance's (New Order doc):

| type | buy triggers when | sell triggers when |
|---|---|---|
| stop_market, stop_limit | watched ≥ trigger | watched ≤ trigger |
| take_profit_market, take_profit_limit | watched ≤ trigger | watched ≥ trigger |
| trailing_stop_market | watched ≥ lowest × (1 + cb) | watched ≤ highest × (1 − cb) |

A trailing stop tracks the lowest (buy) / highest (sell) watched price from its activation:
at once when it has no activation price, else from the first watched price at or past it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from papertrade.core import events as ev
from papertrade.core.numbers import plain

MAX_CONDITIONAL_ORDERS = 200
"""Open conditional orders per account (Binance change log 2025-12-29)."""
MIN_CALLBACK_RATE = Decimal("0.1")
MAX_CALLBACK_RATE = Decimal("20")
"""Trailing callback in percent: 0.1 … 20 (raised from 10 on 2026-10-23, change log)."""
HUNDRED = Decimal(100)

_LIMIT_OF = {"stop_limit", "take_profit_limit"}
_STOPS = {"stop_market", "stop_limit"}


def is_conditional(order_type: ev.OrderType) -> bool:
    return order_type in ev.CONDITIONAL_TYPES


def becomes(order_type: ev.OrderType) -> ev.OrderType:
    """The ordinary order a conditional one turns into when it triggers."""
    return "limit" if order_type in _LIMIT_OF else "market"


def condition_holds(order_type: ev.OrderType, side: ev.Side, trigger: Decimal, p: Decimal) -> bool:
    """Whether a stop or take-profit with `trigger` fires at watched price `p`."""
    rising = (side == "buy") == (order_type in _STOPS)
    return p >= trigger if rising else p <= trigger


def trailing_level(side: ev.Side, extreme: Decimal, callback_rate: Decimal) -> Decimal:
    """Where a trailing stop that has seen `extreme` fires (exact, not rounded to the tick)."""
    rate = callback_rate / HUNDRED
    return extreme * (1 - rate) if side == "sell" else extreme * (1 + rate)


def shape_error(c: ev.PlaceOrder) -> str | None:
    """What is wrong with the combination of fields of an order (None when it is whole).

    The drill codec refuses these before anything runs; the engine checks again for
    commands built elsewhere (the ticket), so both say the same thing."""
    t = c.order_type
    conditional = is_conditional(t)
    if t in ("stop_market", "stop_limit", "take_profit_market", "take_profit_limit"):
        if c.trigger_price is None:
            return f"a {t} order needs a trigger_price"
    elif c.trigger_price is not None:
        return f"a {t} order takes no trigger_price"
    needs_price = t == "limit" or t in _LIMIT_OF
    if needs_price and c.price is None:
        return f"a {t} order needs a price"
    if not needs_price and c.price is not None:
        return f"a {t} order takes no price"
    if t == "trailing_stop_market":
        if c.callback_rate is None:
            return "a trailing_stop_market order needs a callback_rate (percent, 0.1 … 20)"
    elif c.callback_rate is not None or c.activation_price is not None:
        return "callback_rate and activation_price belong to trailing_stop_market orders"
    if not conditional and (c.working_type is not None or c.price_protect):
        return "working_type and price_protect apply to conditional orders only"
    if c.close_position:
        if t not in ("stop_market", "take_profit_market"):
            return "close_position applies to stop_market and take_profit_market orders only"
        if c.reduce_only:
            return "a close_position order takes no reduce_only (it only ever closes)"
        if c.qty:
            return "a close_position order takes no qty: it closes the whole position"
    if (c.post_only or c.time_in_force is not None) and not needs_price:
        return f"time_in_force and post_only apply to limit orders, not {t}"
    if c.post_only and c.time_in_force not in (None, "GTX"):
        return f"post_only is time_in_force GTX; it cannot be {c.time_in_force}"
    if (c.time_in_force == "GTD") != (c.good_till is not None):
        return "good_till goes with time_in_force GTD, and GTD needs a good_till"
    if c.stop_loss is not None:
        return stop_loss_error(c)
    return None


STOP_LOSS_SUFFIX = ":sl"
"""The attached stop's id is the entry's id plus this (journal-deterministic)."""
MAX_ENTRY_ID = 64 - len(STOP_LOSS_SUFFIX)


def stop_loss_error(c: ev.PlaceOrder) -> str | None:
    """What is wrong with an entry's attached stop loss, as far as the order alone says (the
    engine checks it against the market again before taking the entry)."""
    stop = c.stop_loss
    if stop is None:
        return None
    if c.order_type not in ev.ORDER_TYPES:
        return f"stop_loss goes with market and limit entries, not {c.order_type}"
    if c.reduce_only:
        return "stop_loss goes with an entry, not a reduce_only order"
    if len(c.id) > MAX_ENTRY_ID:
        return f"an order with a stop_loss has an id of at most {MAX_ENTRY_ID} characters"
    if c.price is not None:
        below = c.side == "buy"
        if (stop >= c.price) if below else (stop <= c.price):
            where = "below" if below else "above"
            return (
                f"stop_loss {plain(stop)} must be {where} the {c.side} price {plain(c.price)} "
                "(on the losing side of the entry)"
            )
    return None


class ConditionalOrder:
    """One waiting conditional order: the command that placed it plus its trailing state.
    Its margin mode and leverage are the symbol's when it fires, so they are not kept here."""

    __slots__ = ("activated", "command", "extreme")

    def __init__(self, command: ev.PlaceOrder) -> None:
        self.command = command
        self.activated = False
        self.extreme: Decimal | None = None

    @property
    def id(self) -> str:
        return self.command.id

    @property
    def symbol(self) -> str:
        return self.command.symbol

    @property
    def side(self) -> ev.Side:
        return self.command.side

    @property
    def watches(self) -> ev.WorkingType:
        return self.command.working_type or "contract"

    def trigger_level(self) -> Decimal | None:
        """The price at which it fires now: the trigger price, or for a trailing stop the
        level its tracked extreme sets (None before activation)."""
        c = self.command
        if c.order_type != "trailing_stop_market":
            return c.trigger_price
        if self.extreme is None:
            return None
        assert c.callback_rate is not None
        return trailing_level(c.side, self.extreme, c.callback_rate)

    def start(self, latest: Decimal) -> None:
        """Arm a trailing stop at placement: without an activation price it is active at once
        and tracks from the latest watched price."""
        if self.command.order_type == "trailing_stop_market" and (
            self.command.activation_price is None
        ):
            self.activated = True
            self.extreme = latest

    def observe(self, p: Decimal) -> bool:
        """Take one watched price; True when the order triggers at it."""
        c = self.command
        if c.order_type != "trailing_stop_market":
            assert c.trigger_price is not None
            return condition_holds(c.order_type, c.side, c.trigger_price, p)
        sell = c.side == "sell"
        if not self.activated:
            assert c.activation_price is not None
            if (p >= c.activation_price) if sell else (p <= c.activation_price):
                self.activated = True
                self.extreme = p
            return False
        assert self.extreme is not None and c.callback_rate is not None
        self.extreme = max(self.extreme, p) if sell else min(self.extreme, p)
        level = trailing_level(c.side, self.extreme, c.callback_rate)
        return p <= level if sell else p >= level

    def state(self, mode: ev.MarginMode, leverage: int) -> ev.OrderState:
        c = self.command
        return ev.OrderState(
            id=c.id,
            symbol=c.symbol,
            side=c.side,
            order_type=c.order_type,
            qty=c.qty,
            price=c.price,
            reduce_only=c.reduce_only,
            post_only=c.post_only,
            margin_mode=mode,
            leverage=leverage,
            ts=c.ts,
            time_in_force=c.time_in_force if c.time_in_force not in (None, "GTX") else "GTC",
            good_till=c.good_till,
            trigger_price=self.trigger_level(),
            working_type=self.watches,
            close_position=bool(c.close_position),
            price_protect=bool(c.price_protect),
            activation_price=c.activation_price,
            callback_rate=c.callback_rate,
            extreme=self.extreme,
            position_side=c.position_side or "both",
        )

    def to_state(self) -> dict[str, Any]:
        c = self.command
        values = {f.name: getattr(c, f.name) for f in dataclasses.fields(c)}
        command = {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}
        return {
            "command": command,
            "activated": self.activated,
            "extreme": None if self.extreme is None else str(self.extreme),
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> ConditionalOrder:
        raw = dict(data["command"])
        for name in ("qty", "price", "trigger_price", "activation_price", "callback_rate"):
            if raw.get(name) is not None:
                raw[name] = Decimal(raw[name])
        order = cls(ev.PlaceOrder(**raw))
        order.activated = bool(data["activated"])
        order.extreme = None if data["extreme"] is None else Decimal(data["extreme"])
        return order


class ConditionalBook:
    """The open conditional orders of an account, in placement order, by symbol."""

    __slots__ = ("by_symbol", "orders")

    def __init__(self) -> None:
        self.orders: dict[str, ConditionalOrder] = {}
        self.by_symbol: dict[str, list[ConditionalOrder]] = {}

    def __len__(self) -> int:
        return len(self.orders)

    def __iter__(self) -> Iterator[ConditionalOrder]:
        return iter(self.orders.values())

    def add(self, order: ConditionalOrder) -> None:
        self.orders[order.id] = order
        self.by_symbol.setdefault(order.symbol, []).append(order)

    def remove(self, order: ConditionalOrder) -> None:
        del self.orders[order.id]
        book = self.by_symbol[order.symbol]
        book.remove(order)
        if not book:
            del self.by_symbol[order.symbol]

    def cancel_symbol(
        self, symbol: str, ts: int, reason: str, slot: ev.PositionSlot = "both"
    ) -> list[ev.Outcome]:
        """Cancel the symbol's conditional orders; with `slot` long or short only that hedge
        side's (an isolated side liquidated alone takes only its own orders)."""
        out: list[ev.Outcome] = []
        for order in list(self.by_symbol.get(symbol, ())):
            if slot != "both" and order.command.position_side != slot:
                continue
            self.remove(order)
            out.append(ev.OrderCancelled(ts, order.id, reason))
        return out

    def drop_reduce_only(
        self, symbol: str, ts: int, slot: ev.PositionSlot = "both"
    ) -> list[ev.Outcome]:
        """The position is gone: reduce-only orders have nothing left to reduce, nor in hedge
        mode the closed side's closing orders (a sell on the long side, a buy on the short).
        A close_position order stays; it closes whatever exists when it fires."""
        out: list[ev.Outcome] = []
        for order in list(self.by_symbol.get(symbol, ())):
            c = order.command
            if slot == "both":
                gone = c.reduce_only
            else:
                closing = (slot == "long") == (c.side == "sell")
                gone = c.position_side == slot and closing and not c.close_position
            if gone:
                self.remove(order)
                out.append(ev.OrderCancelled(ts, order.id, "position_closed"))
        return out


def immediate_trigger(c: ev.PlaceOrder, latest: Decimal) -> str | None:
    """Binance's -2021 refusals at placement: a trigger condition that already holds, or a
    trailing activation price on the wrong side of the latest watched price."""
    watched = c.working_type or "contract"
    if c.order_type == "trailing_stop_market":
        a = c.activation_price
        if a is None:
            return None
        if (c.side == "sell" and a <= latest) or (c.side == "buy" and a >= latest):
            where = "above" if c.side == "sell" else "below"
            return (
                f"order would immediately trigger (Binance -2021): a {c.side} trailing stop's "
                f"activation price {plain(a)} must be {where} the latest {watched} price "
                f"{plain(latest)}"
            )
        return None
    assert c.trigger_price is not None
    if condition_holds(c.order_type, c.side, c.trigger_price, latest):
        return (
            f"order would immediately trigger (Binance -2021): {c.side} {c.order_type} at "
            f"{plain(c.trigger_price)} against the latest {watched} price {plain(latest)}"
        )
    return None
