"""What an order costs and whether a fill may happen: Binance's cost-to-open rules applied
to one account, kept out of the engine's dispatch so they read in one place.

The rules (README "Orders"): cost to open = initial margin at the assumed price + open loss;
a flipping order is costed as a close followed by an open; isolated margin comes out of the
cross wallet itself, never out of unrealized profit; no fill takes the cross wallet below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from papertrade.core import events as ev
from papertrade.core.account import Account
from papertrade.core.instruments import Instrument
from papertrade.core.margin import initial_margin, order_cost
from papertrade.core.numbers import ZERO, human, money, plain
from papertrade.core.orders import opening_qty


@dataclass(slots=True, frozen=True)
class FillPlan:
    """What one fill would do, worked out before anything moves: the part that closes the
    position (its realized PnL, the isolated margin it frees) and the part that opens.
    A flipping order is costed from this as a close followed by an open."""

    close_qty: Decimal
    open_qty: Decimal
    realized: Decimal
    released: Decimal
    fee: Decimal
    open_im: Decimal  # isolated margin the opening part takes from the cross wallet
    closes_whole: bool

    @property
    def wallet_change(self) -> Decimal:
        """How the cross wallet moves."""
        return self.released + self.realized - self.fee - self.open_im


def plan_fill(
    acct: Account,
    settings: ev.SessionSettings,
    inst: Instrument,
    side: ev.Side,
    qty: Decimal,
    price: Decimal,
    liquidity: ev.Liquidity,
    mode: ev.MarginMode,
    leverage: int,
    slot: ev.PositionSlot = "both",
) -> FillPlan:
    """What filling `qty` at `price` would do to the position (of side `slot` in hedge
    mode) and the cross wallet."""
    rate = settings.taker_fee if liquidity == "taker" else settings.maker_fee
    fee = money(qty * price * rate)
    pos = acct.position(inst.symbol, slot)
    close_qty = realized = released = ZERO
    if pos is not None and (pos.size > 0) != (side == "buy"):
        close_qty = min(qty, pos.qty)
        direction = 1 if pos.size > 0 else -1
        realized = money(close_qty * (price - pos.entry) * direction)
        if pos.mode == "isolated":
            released = (
                pos.margin if close_qty == pos.qty else money(pos.margin * close_qty / pos.qty)
            )
    closes_whole = pos is not None and close_qty == pos.qty
    open_qty = qty - close_qty
    open_im = ZERO
    if open_qty:
        keeps = pos is not None and not closes_whole
        if (pos.mode if keeps and pos is not None else mode) == "isolated":
            lev = pos.leverage if keeps and pos is not None else leverage
            open_im = money(initial_margin(open_qty * price, lev))
    return FillPlan(close_qty, open_qty, realized, released, fee, open_im, closes_whole)


def fill_refusal(
    acct: Account,
    plan: FillPlan,
    inst: Instrument,
    side: ev.Side,
    price: Decimal,
    leverage: int,
    cost_price: Decimal,
    slot: ev.PositionSlot = "both",
) -> str | None:
    """Why this fill may not happen now (None when it may), costed as a close followed by
    an open: the closing part frees its margin and realizes its PnL first, then the
    opening part must fit what is available. No fill may take the cross wallet below zero,
    and isolated margin comes out of the cross wallet itself, never out of open profit."""
    pos = acct.position(inst.symbol, slot)
    credit = plan.released + plan.realized
    if plan.open_qty:
        m = acct.markets.get(inst.symbol)
        mark, last = (m.mark, m.last) if m is not None else (None, None)
        lev = pos.leverage if pos is not None and not plan.closes_whole else leverage
        needed = order_cost(side, plan.open_qty, cost_price, lev, mark, last) + plan.fee
        if pos is not None and plan.closes_whole:
            available = max(ZERO, acct.available_after_closing(pos, credit))
        else:
            available = acct.available_balance()
        if needed > available:
            return (
                f"insufficient available balance: needs {human(needed)} USDT, "
                f"{human(available)} available"
            )
        if plan.open_im:
            flat = inst.symbol if plan.closes_whole else None
            cross_mm = acct.cross_mm
            if pos is not None and plan.closes_whole and pos.mode == "cross":
                cross_mm -= pos.mm
            room = (
                acct.cross_wallet
                + credit
                - plan.fee
                - acct.held_margin(mode="isolated", flat=flat)
                - cross_mm
            )
            if plan.open_im > room:
                return (
                    f"insufficient cross wallet for isolated margin: needs "
                    f"{human(plan.open_im)} USDT, {human(max(ZERO, room))} USDT can move "
                    "(unrealized profit cannot become isolated margin)"
                )
    after = acct.cross_wallet + plan.wallet_change
    if after < 0:
        return (
            f"the fill at {plain(price)} would take the cross wallet to {human(after)} USDT: "
            "fees and losses cannot exceed the wallet"
        )
    return None


def opening_cost(
    acct: Account,
    symbol: str,
    side: ev.Side,
    qty: Decimal,
    price: Decimal,
    leverage: int,
    slot: ev.PositionSlot = "both",
) -> tuple[Decimal, Decimal]:
    """(quantity that opens exposure, what it holds while resting): Binance's cost to open,
    initial margin at the assumed price plus the open loss against the mark. Earlier
    orders on the same side get to close the opposite position first. In hedge mode an
    order that opens its side costs that side's whole IM (nothing nets against the other
    side) and one that reduces its side costs nothing."""
    pos = acct.position(symbol, slot)
    size = pos.size if pos else ZERO
    if slot != "both" and (slot == "long") == (side == "sell"):
        return ZERO, ZERO
    same_side = acct.orders_by_symbol.get(symbol, ())
    ahead = sum(
        (o.qty for o in same_side if o.side == side and o.slot == slot and not o.reduces), ZERO
    )
    opening = opening_qty(qty, side, size, ahead)
    m = acct.markets.get(symbol)
    mark, last = (m.mark, m.last) if m is not None else (None, None)
    return opening, order_cost(side, opening, price, leverage, mark, last)


def resting_refusal(
    acct: Account,
    symbol: str,
    side: ev.Side,
    qty: Decimal,
    price: Decimal,
    mode: ev.MarginMode,
    leverage: int,
    slot: ev.PositionSlot = "both",
) -> str | None:
    """A resting order must fit what is available; an isolated one must also fit what the
    cross wallet itself can move into isolated margin when it fills."""
    opening, needed = opening_cost(acct, symbol, side, qty, price, leverage, slot)
    if not opening:
        return None
    available = acct.available_balance()
    if needed > available:
        return (
            f"insufficient available balance: needs {human(needed)} USDT, "
            f"{human(available)} available"
        )
    if mode == "isolated":
        room = acct.cross_wallet - acct.held_margin(mode="isolated") - acct.cross_mm
        if needed > room:
            return (
                f"insufficient cross wallet for isolated margin: needs {human(needed)} "
                f"USDT, {human(max(ZERO, room))} USDT can move (unrealized profit cannot "
                "become isolated margin)"
            )
    return None
