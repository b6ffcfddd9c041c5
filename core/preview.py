"""The order ticket's preview: what an order would cost and risk, before it is sent.

It runs the order on the engine itself inside `Engine.trial()` (the one simulated exchange
answers, so the preview never disagrees with what a real submit would do), reads the result,
and the trial puts back everything the order touched. Not a copy of the engine: the ticket
previews on every keystroke, and a copy costs with the session's length (issue 14).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from papertrade.core import events as ev
from papertrade.core.numbers import ZERO, ceil_to, floor_to, money

if TYPE_CHECKING:
    from papertrade.core.engine import Engine


@dataclass(slots=True, frozen=True)
class OrderPreview:
    """What an order ticket shows before submitting: the order as the engine would take it
    and the risk it adds. `reason` is set (and the rest is best effort) when it would be
    rejected."""

    reason: str | None
    qty: Decimal
    price: Decimal | None
    notional: Decimal
    required_margin: Decimal
    fee: Decimal
    liquidation_price: Decimal | None
    max_loss: Decimal
    margin_mode: ev.MarginMode
    leverage: int
    fills_now: bool


def preview_order(engine: Engine, c: ev.PlaceOrder) -> OrderPreview:
    """Run the order in a trial of the engine, filling it at once (a resting limit at its
    own price), and report margin, fee, liquidation price and the most it can lose; the
    engine is left exactly as it was."""
    mode = c.margin_mode or engine.symbol_setting(c.symbol)[0]
    slot: ev.PositionSlot = "both"
    if engine.position_mode == "hedge" and c.position_side in ("long", "short"):
        slot = c.position_side
    lev = c.leverage or engine.symbol_setting(c.symbol)[1]
    inst = engine.instruments.get(c.symbol)
    ref = engine._taker_price(c.symbol, c.side)
    price = c.price if c.order_type == "limit" else ref
    if inst is not None and price is not None and c.order_type == "limit":
        tick = inst.tick_size
        price = floor_to(price, tick) if c.side == "buy" else ceil_to(price, tick)
    qty = floor_to(c.qty, inst.step_size) if inst else c.qty
    notional = qty * price if price is not None else ZERO
    fills_now = c.order_type == "market" or (
        ref is not None
        and price is not None
        and (price >= ref if c.side == "buy" else price <= ref)
    )
    if fills_now and ref is not None:
        notional = qty * ref
    fee_rate = engine.settings.taker_fee if fills_now else engine.settings.maker_fee
    fee = money(notional * fee_rate)
    cost_price = ref if fills_now else price
    required = ZERO
    if inst is not None and cost_price is not None:
        required = engine._opening_cost(c.symbol, c.side, qty, cost_price, lev, slot)[1]
    wallet = engine.acct.cross_wallet
    with engine.trial():
        outcomes = engine.apply(c)
        reason = next((o.reason for o in outcomes if isinstance(o, ev.Rejected)), None)
        if reason is None and not fills_now and c.id in engine.acct.orders:
            engine._fill_resting(engine.acct.orders[c.id], c.ts)
        pos = engine.acct.position(c.symbol, slot)
        lp = engine.position_liquidation_price(pos) if pos is not None and reason is None else None
        if mode == "isolated":
            max_loss = pos.margin if pos is not None and reason is None else money(notional / lev)
        else:
            max_loss = engine.acct.cross_wallet if reason is None else wallet
    return OrderPreview(
        reason=reason,
        qty=qty,
        price=ref if fills_now else price,
        notional=money(notional),
        required_margin=money(required),
        fee=fee,
        liquidation_price=lp,
        max_loss=money(max(ZERO, max_loss)),
        margin_mode=mode,
        leverage=lev,
        fills_now=fills_now,
    )
