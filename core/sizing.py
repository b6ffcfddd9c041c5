"""Size a trade from the risk the trader accepts, and say what it can lose in this margin mode
and in the other (issue 15 §3; README "Sizing from risk").

Why in the core: the quantity, its caps and the losses are money rules the ticket, a drill
tool or a test must all get the same way, and they read the engine's state without changing
it (no copy of the engine per keystroke: the figures are the margin formulas of
`core.margin` and the liquidation plan of `core.liquidation` applied to the positions as
they would be after the fill).

The rules:
- the loss at the stop counts fees at both ends as taker (a stop_market fills as taker; the
  entry is costed as taker too, so a resting limit entry only does better):
  loss per unit = |entry − stop| + fee × entry + fee × stop;
- the quantity is the risk budget over that loss, floored to the step, then capped by what the
  available balance buys at the leverage (initial margin plus the opening fee), by the largest
  position the leverage's bracket allows and by the instrument's largest order;
- the loss at liquidation is the fall of the money backing the position, from before the
  trade to just after the liquidation, with every other mark held where it is: isolated, this
  position's own margin and the fee; cross, the whole cross pot (every cross position goes
  down with it, winners too) unless a partial liquidation saves part of it;
- hedge mode (Binance's positionSide): an entry opens or adds to its LONG or SHORT side.
  Isolated, that side has its own margin and its own liquidation price, as in one-way mode.
  Cross, both sides of the symbol move with its one mark and share the cross wallet with every
  other cross position: the liquidation price is Binance's two-sided formula (margin.md §1.7,
  the one the engine shows), and the cascade takes both sides with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Literal

from papertrade.core import events as ev
from papertrade.core.instruments import Instrument
from papertrade.core.liquidation import clearance_fee, partial_plan
from papertrade.core.margin import (
    hedged_liquidation_price,
    initial_margin,
    liquidatable,
    liquidation_price,
    maintenance_margin,
    unrealized_pnl,
)
from papertrade.core.numbers import CONTEXT, ZERO, floor_to, human, money, plain
from papertrade.core.positions import ENTRY_QUANTUM, Position

if TYPE_CHECKING:
    from papertrade.core.engine import Engine

RiskUnit = Literal["percent", "usdt"]
Cap = Literal["available", "leverage", "max_qty"]
HUNDRED = Decimal(100)


class SizingError(ValueError):
    """Why no quantity can be sized from this risk and stop; the message is for the trader."""


@dataclass(frozen=True, slots=True)
class Risk:
    """What the trader accepts to lose at the stop: a percentage of equity or USDT."""

    amount: Decimal
    unit: RiskUnit

    def budget(self, equity: Decimal) -> Decimal:
        """The risk in USDT (a percentage is of the margin balance)."""
        if self.unit == "usdt":
            return self.amount
        if equity <= 0:
            raise SizingError("no equity to take a percentage of")
        return money(equity * self.amount / HUNDRED)

    def words(self) -> str:
        return f"{plain(self.amount)} %" if self.unit == "percent" else f"{human(self.amount)} USDT"


@dataclass(frozen=True, slots=True)
class RiskSize:
    """The sized quantity: `qty` to order, `wanted` before any cap (both on the step grid),
    `cap` the limit that cut it (None when none did)."""

    qty: Decimal
    wanted: Decimal
    risk: Risk
    budget: Decimal
    per_unit_loss: Decimal
    cap: Cap | None

    @property
    def loss_at_stop(self) -> Decimal:
        return money(self.qty * self.per_unit_loss)


def loss_per_unit(entry: Decimal, stop: Decimal, fee_rate: Decimal) -> Decimal:
    """|entry − stop| + fee × entry + fee × stop: one unit's loss at the stop, fees included
    (a rebate, a negative fee, is not counted on)."""
    fee = max(fee_rate, ZERO)
    return abs(entry - stop) + fee * entry + fee * stop


def check_stop(side: ev.Side, entry: Decimal, stop: Decimal) -> None:
    """A stop must be on the losing side of the entry: below a buy, above a sell."""
    if stop == entry:
        raise SizingError(f"the stop {plain(stop)} is at the entry price: no distance to size from")
    if side == "buy" and stop > entry:
        raise SizingError(f"a buy's stop must be below the entry {plain(entry)}, not above")
    if side == "sell" and stop < entry:
        raise SizingError(f"a sell's stop must be above the entry {plain(entry)}, not below")


def size_from_risk(
    risk: Risk,
    *,
    equity: Decimal,
    side: ev.Side,
    entry: Decimal,
    stop: Decimal,
    taker_fee: Decimal,
    leverage: int,
    available: Decimal,
    instrument: Instrument,
    unit_cost: Decimal | None = None,
    market: bool = True,
) -> RiskSize:
    """The quantity whose loss at `stop`, fees included, is the risk (floored to the step),
    capped as the module says. `unit_cost` is what the engine holds to open one unit
    (`core.margin.order_cost`); without it, entry / leverage. SizingError when nothing
    placeable comes out."""
    if entry <= 0:
        raise SizingError("no entry price yet: sizing from risk needs market data")
    check_stop(side, entry, stop)
    budget = risk.budget(equity)
    if budget <= 0:
        raise SizingError("the risk must be above 0")
    step = instrument.step_size
    base = instrument.base
    per_unit = loss_per_unit(entry, stop, taker_fee)
    with localcontext(CONTEXT):
        wanted = floor_to(budget / per_unit, step)
        per_unit_cost = (unit_cost if unit_cost and unit_cost > 0 else entry / leverage) + (
            entry * max(taker_fee, ZERO)
        )
        caps: list[tuple[Decimal, Cap]] = [
            (floor_to(max(available, ZERO) / per_unit_cost, step), "available"),
            (floor_to(instrument.notional_cap(leverage) / entry, step), "leverage"),
            (instrument.market_max_qty if market else instrument.max_qty, "max_qty"),
        ]
    low, which = min(caps, key=lambda c: c[0])
    qty, cap = (low, which) if low < wanted else (wanted, None)
    minimum = max(instrument.min_qty, step)
    if wanted < minimum or wanted * entry < instrument.min_notional:
        raise SizingError(
            f"risk {human(budget)} USDT at {human(per_unit)} USDT a {base} buys "
            f"{plain(wanted)} {base}: below the {instrument.symbol} minimum "
            f"({plain(minimum)} {base}, {human(instrument.min_notional)} USDT); widen the risk"
        )
    if qty < minimum or qty * entry < instrument.min_notional:
        raise SizingError(
            f"{cap_words(which, leverage, available)} leaves {plain(qty)} {base}: below the "
            f"{instrument.symbol} minimum of {plain(minimum)} {base}"
        )
    return RiskSize(qty, wanted, risk, budget, per_unit, cap)


def cap_words(cap: Cap, leverage: int, available: Decimal) -> str:
    if cap == "available":
        return f"{leverage}x leverage on {human(available)} USDT available"
    if cap == "leverage":
        return f"the largest position allowed at {leverage}x"
    return "the largest order the exchange takes"


# --- losses at the stop and at liquidation ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wipeout:
    """Liquidation in one margin mode: the mark of this symbol that triggers it (None when no
    price would), what it takes (the equity that backed it, from before the trade, with the
    other marks held) and, for cross, every symbol liquidated with it (this one first)."""

    mode: ev.MarginMode
    price: Decimal | None
    loss: Decimal
    taken: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scenarios:
    """What this entry can lose: at its stop (None without one), and at liquidation in the
    mode it is placed in (`here`) and in the other (`other`)."""

    loss_at_stop: Decimal | None
    stop_after_liquidation: bool
    """The liquidation price comes before the stop: the stop can never fire."""
    here: Wipeout
    other: Wipeout


def loss_scenarios(
    engine: Engine,
    order: ev.PlaceOrder,
    stop: Decimal | None,
    entry: Decimal,
    liquidity: ev.Liquidity = "taker",
) -> Scenarios | None:
    """The losses of `order` filled whole at `entry` (read off the engine, nothing changed),
    its entry fee at `liquidity` (a limit that rests pays maker), the stop's always taker.
    None when they do not apply: an unknown symbol, or an order that reduces a position
    rather than opening or adding to one (one-way: against the position or reduce-only;
    hedge: a sell on the long side or a buy on the short side, or no side named)."""
    inst = engine.instruments.get(order.symbol)
    if inst is None or order.reduce_only or entry <= 0:
        return None
    acct = engine.acct
    twin: Position | None = None
    slot: ev.PositionSlot = "both"
    if engine.position_mode == "hedge":
        if order.position_side not in ("long", "short"):
            return None
        slot = order.position_side
        if (slot == "long") != (order.side == "buy"):
            return None
        twin = acct.position(order.symbol, "short" if slot == "long" else "long")
    pos = acct.position(order.symbol, slot)
    if pos is not None and (pos.size > 0) != (order.side == "buy"):
        return None
    setting_mode, setting_lev = engine.symbol_setting(order.symbol)
    mode = order.margin_mode or setting_mode
    lev = order.leverage or setting_lev
    qty = order.qty
    taker = engine.settings.taker_fee
    entry_rate = taker if liquidity == "taker" else engine.settings.maker_fee
    fee = money(qty * entry * entry_rate)
    q0, e0 = (pos.qty, pos.entry) if pos is not None else (ZERO, ZERO)
    res_qty = q0 + qty
    res_entry = ((q0 * e0 + qty * entry) / res_qty).quantize(ENTRY_QUANTUM)
    res_size = res_qty if order.side == "buy" else -res_qty
    held_margin = ZERO
    if pos is not None:
        held_margin = pos.margin if pos.mode == "isolated" else money(initial_margin(q0 * e0, lev))
    held_upnl = pos.upnl if pos is not None else ZERO
    shape = (inst, res_size, res_entry, lev, slot)

    open_im = money(initial_margin(qty * entry, lev))
    margin = held_margin + open_im
    isolated = _isolated(shape, margin, held_margin + held_upnl + open_im + fee)

    # cross: this symbol's positions and every other cross position share the cross wallet;
    # an isolated margin of this symbol (the other-mode view of an isolated entry) joins it
    others = [p for p in acct.cross_positions() if p.symbol != order.symbol]
    wallet = acct.cross_wallet + sum(
        (p.margin for p in (pos, twin) if p is not None and p.mode == "isolated"), ZERO
    )
    twin_upnl = twin.upnl if twin is not None else ZERO
    before = wallet + held_upnl + twin_upnl + sum((p.upnl for p in others), ZERO)
    m = engine.markets.get(order.symbol)
    mark = m.mark if m is not None and m.mark is not None else entry
    cross = _cross(shape, twin, others, wallet - fee, before, mark)

    here, other = (isolated, cross) if mode == "isolated" else (cross, isolated)
    at_stop: Decimal | None = None
    beyond = False
    if stop is not None:
        at_stop = money(abs(entry - stop) * qty + fee + max(taker, ZERO) * stop * qty)
        if here.price is not None:
            if mode == "isolated":
                beyond = _fails_at(shape, None, [], margin, stop)
            else:
                beyond = _fails_at(shape, twin, others, wallet - fee, stop)
    return Scenarios(at_stop, beyond, here, other)


_Shape = tuple[Instrument, Decimal, Decimal, int, ev.PositionSlot]
"""The position the entry leaves: instrument, signed size, entry, leverage, slot."""


def _at(shape: _Shape, mode: ev.MarginMode, margin: Decimal, mark: Decimal) -> Position:
    """The position the entry would leave, marked at `mark` (a new object: the engine's
    positions are only read)."""
    inst, size, entry, lev, slot = shape
    return _marked(Position(inst, size, entry, mode, lev, margin, slot), mark)


def _marked(pos: Position, mark: Decimal) -> Position:
    pos.mark = mark
    pos.upnl = unrealized_pnl(pos.size, pos.entry, mark)
    pos.mm = maintenance_margin(pos.instrument, pos.qty * mark)
    return pos


def _twin_at(twin: Position, mark: Decimal) -> Position:
    """A copy of the hedge side across, as a cross position marked at `mark`: one mark moves
    both sides of a symbol."""
    copy = Position(twin.instrument, twin.size, twin.entry, "cross", twin.leverage, ZERO, twin.slot)
    return _marked(copy, mark)


def _fails_at(
    shape: _Shape, twin: Position | None, others: list[Position], wallet: Decimal, mark: Decimal
) -> bool:
    """Whether the stop's price fails the maintenance test (margin balance ≤ MM): what
    `wallet` backs (the entry's side, the side across when it shares the wallet, `others`
    held at their marks) with this symbol marked at `mark`. Margin balance − MM is concave in
    the mark and positive at the fill, so it fails at the stop exactly when it fails on the
    way there; comparing prices would misread a hedged cross symbol whose liquidation lies on
    the other side of the entry."""
    positions = [_at(shape, "cross", ZERO, mark)]
    if twin is not None:
        positions.append(_twin_at(twin, mark))
    positions += others
    balance = wallet + sum((p.upnl for p in positions), ZERO)
    return liquidatable(balance, sum((p.mm for p in positions), ZERO))


def _isolated(shape: _Shape, margin: Decimal, before: Decimal) -> Wipeout:
    inst, size, entry, _, _ = shape
    lp = liquidation_price(inst, size, entry, margin)
    if lp is None:
        return Wipeout("isolated", None, ZERO, ())
    after, _taken = _after([_at(shape, "isolated", margin, lp)], margin)
    return Wipeout("isolated", lp, max(ZERO, before - after), (inst.symbol,))


def _cross(
    shape: _Shape,
    twin: Position | None,
    others: list[Position],
    wallet: Decimal,
    before: Decimal,
    mark: Decimal,
) -> Wipeout:
    """Cross: the mark of this symbol at which the cross account fails, the other symbols
    held at their marks. With the hedge side across open, both sides move with the mark:
    Binance's two-sided formula, the one the engine shows (`Engine.position_liquidation_price`)."""
    inst, size, entry, _, _ = shape
    other_mm = sum((p.mm for p in others), ZERO)
    other_upnl = sum((p.upnl for p in others), ZERO)
    if twin is None:
        lp = liquidation_price(inst, size, entry, wallet, other_mm, other_upnl)
    else:
        (lq, le), (sq, se) = (abs(size), entry), (twin.qty, twin.entry)
        if size < 0:
            (lq, le), (sq, se) = (sq, se), (lq, le)
        lp = hedged_liquidation_price(inst, lq, le, sq, se, wallet, other_mm, other_upnl, mark)
    if lp is None:
        return Wipeout("cross", None, ZERO, ())
    victims = [_at(shape, "cross", ZERO, lp)]
    if twin is not None:
        victims.append(_twin_at(twin, lp))
    victims += sorted(others, key=lambda p: (p.symbol, p.side))
    after, taken = _after(victims, wallet)
    return Wipeout("cross", lp, max(ZERO, before - after), taken)


def _after(positions: list[Position], wallet: Decimal) -> tuple[Decimal, tuple[str, ...]]:
    """What backs `positions` once the failed maintenance test is dealt with as
    `core.liquidation` deals with it, and the symbols it cut (each once, though a hedged
    symbol loses both sides): a partial cut when one passes, else every position closes at
    bankruptcy and nothing is left."""
    plan = partial_plan(positions, max(ZERO, wallet))
    if plan is None:
        return ZERO, tuple(dict.fromkeys(p.symbol for p in positions))
    balance, upnl = wallet, ZERO
    taken: list[str] = []
    for i, p in enumerate(positions):
        kept = plan[i]
        cut = p.qty - kept
        sign = 1 if p.size > 0 else -1
        if cut:
            taken.append(p.symbol)
            balance += money(sign * cut * (p.mark - p.entry)) - clearance_fee(
                p.instrument, cut, p.mark
            )
        upnl += unrealized_pnl(sign * kept, p.entry, p.mark)
    return balance + upnl, tuple(dict.fromkeys(taken))
