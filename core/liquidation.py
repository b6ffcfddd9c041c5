"""Liquidation as Binance executes it: what happens to an account when a maintenance test
fails at the mark (README "Liquidation as executed"; Binance FAQ "Liquidation Protocols").

The engine decides *when* (on every mark, fill and funding); these functions decide *what*:

1. The open orders go (isolated: the position's symbol; cross: every cross order).
2. Partial liquidation ("smart liquidation", our documented reading): a losing position above
   its first bracket is reduced at the mark, one step at a time, each step down to the top of
   the next lower bracket (the largest size on the step grid whose notional at the mark is
   below that bracket's cap). Cross steps always cut the losing cross position in the highest
   bracket (then the largest notional). The first state of that sequence whose account passes
   the maintenance test after the clearance fees (and keeps its wallet ≥ 0) is taken: the
   smallest reduction the steps allow. A step only pays when the marginal maintenance rate
   it sheds exceeds the clearance rate, so in practice this happens to large positions only.
3. Otherwise every position of the failed test closes at the bankruptcy price: the margin
   balance (isolated: the position's; cross: the cross account's) goes to exactly 0.
4. The clearance fee (liquidated qty × fill price × the symbol's `liquidation_fee`) is charged
   on every liquidated part. The wallet never goes below 0: after a bankruptcy close nothing
   is left to pay the fee from, so the insurance fund covers it (`insurance_covered`).

Invariants: a line's `loss` (= −realized PnL + clearance fee − insurance covered, the wallet's
fall) is never negative; the total wallet never rises through a liquidation; a partial
liquidation leaves the account above maintenance; a tier-1 position only ever closes whole.
"""

from __future__ import annotations

from decimal import Decimal

from papertrade.core import events as ev
from papertrade.core.account import Account, Totals
from papertrade.core.events import PositionSlot
from papertrade.core.instruments import Instrument
from papertrade.core.margin import liquidatable, maintenance_margin, unrealized_pnl
from papertrade.core.numbers import MONEY, ZERO, floor_to, money
from papertrade.core.positions import Position


def clearance_fee(instrument: Instrument, qty: Decimal, price: Decimal) -> Decimal:
    """qty × fill price × the symbol's clearance rate, at USDT precision."""
    return money(qty * price * instrument.liquidation_fee)


def next_step(instrument: Instrument, qty: Decimal, mark: Decimal) -> Decimal | None:
    """The size one partial-liquidation step reduces `qty` to: the top of the bracket below
    the one `qty` is in at `mark` (largest step multiple whose notional stays under that
    bracket's cap). None in the first bracket: tier-1 positions go whole."""
    brackets = instrument.brackets
    current = brackets.index(instrument.bracket_for(qty * mark))
    if current == 0 or mark <= 0:
        return None
    cap = brackets[current - 1].cap
    step = instrument.step_size
    size = floor_to(cap / mark, step)
    if size * mark >= cap:
        size -= step
    return size if ZERO < size < qty else None


def _bracket_index(pos: Position, qty: Decimal) -> int:
    inst = pos.instrument
    return inst.brackets.index(inst.bracket_for(qty * pos.mark))


def _sign(pos: Position) -> int:
    return 1 if pos.size > 0 else -1


def _cut_realized(pos: Position, cut: Decimal) -> Decimal:
    return money(_sign(pos) * cut * (pos.mark - pos.entry))


def partial_plan(positions: list[Position], wallet: Decimal) -> dict[int, Decimal] | None:
    """Sizes to keep (by index into `positions`) for the first state of the step sequence
    whose account passes the maintenance test, or None if no state does.

    `positions` are the positions of one failed test (one isolated position, or every cross
    position) and `wallet` the balance backing them. Only losing positions (uPnL ≤ 0) are cut:
    cutting a winner would realize its profit, and a liquidation never raises the wallet.
    """
    keep = [p.qty for p in positions]
    while True:
        choices = []
        for i, p in enumerate(positions):
            if p.upnl > 0:
                continue
            size = next_step(p.instrument, keep[i], p.mark)
            if size is not None:
                rank = (-_bracket_index(p, keep[i]), -keep[i] * p.mark, p.symbol, p.side)
                choices.append((rank, i, size))
        if not choices:
            return None
        _, chosen, size = min(choices)
        keep[chosen] = size
        balance, upnl, mm = wallet, ZERO, ZERO
        for p, kept in zip(positions, keep, strict=True):
            cut = p.qty - kept
            if cut:
                balance += _cut_realized(p, cut) - clearance_fee(p.instrument, cut, p.mark)
            upnl += unrealized_pnl(_sign(p) * kept, p.entry, p.mark)
            mm += maintenance_margin(p.instrument, kept * p.mark)
        if balance >= 0 and not liquidatable(balance + upnl, mm):
            return dict(enumerate(keep))


def _reduce(
    pos: Position, kept: Decimal, ts: int, totals: Totals
) -> tuple[ev.Liquidation, Decimal]:
    """Cut `pos` to `kept` at its mark; returns the line and the wallet change (≤ 0)."""
    cut = pos.qty - kept
    realized = _cut_realized(pos, cut)
    fee = clearance_fee(pos.instrument, cut, pos.mark)
    change = realized - fee
    pos.size = kept if pos.size > 0 else -kept
    pos.upnl = unrealized_pnl(pos.size, pos.entry, pos.mark)
    pos.mm = maintenance_margin(pos.instrument, kept * pos.mark)
    totals.liquidations += 1
    totals.liquidation_losses += -change
    totals.clearance_fees += fee
    line = ev.Liquidation(
        ts, pos.symbol, pos.mode, pos.side, cut, pos.mark, -change, fee, ZERO, pos.mark, kept
    )
    return line, change


def _bankruptcy_line(pos: Position, loss: Decimal, ts: int, totals: Totals) -> ev.Liquidation:
    """`pos` closed whole at the price where its realized loss is `loss` (its part of a
    margin balance going to 0); the fee on it is covered by the insurance fund."""
    price = pos.entry - _sign(pos) * loss / pos.qty
    price = max(ZERO, price).quantize(MONEY)
    fee = clearance_fee(pos.instrument, pos.qty, price)
    totals.liquidations += 1
    totals.liquidation_losses += loss
    totals.clearance_fees += fee
    totals.insurance_covered += fee
    return ev.Liquidation(
        ts, pos.symbol, pos.mode, pos.side, pos.qty, pos.mark, loss, fee, fee, price
    )


def cancel_symbol_orders(
    acct: Account, symbol: str, ts: int, reason: str, slot: PositionSlot = "both"
) -> list[ev.Outcome]:
    """Cancel the symbol's orders; in hedge mode (`slot` long or short) only that side's: an
    isolated side is its own position, and Binance cancels the orders of that position."""
    out: list[ev.Outcome] = []
    for order in list(acct.orders_by_symbol.get(symbol, ())):
        if slot != "both" and order.slot != slot:
            continue
        acct.remove_order(order)
        out.append(ev.OrderCancelled(ts, order.id, reason))
    return out


def liquidate_isolated(acct: Account, totals: Totals, pos: Position, ts: int) -> list[ev.Outcome]:
    """Its symbol's orders go; then a partial cut if one passes, else the position closes at
    its bankruptcy price and its whole isolated margin is lost. Nothing else moves."""
    out = cancel_symbol_orders(acct, pos.symbol, ts, f"{pos.symbol} position liquidated", pos.slot)
    plan = partial_plan([pos], pos.margin)
    if plan is not None:
        line, change = _reduce(pos, plan[0], ts, totals)
        pos.margin += change
        out.append(line)
        return out
    loss = max(ZERO, pos.margin)
    acct.remove_position(pos)
    out.append(_bankruptcy_line(pos, loss, ts, totals))
    return out


def liquidate_cross(acct: Account, totals: Totals, ts: int) -> list[ev.Outcome]:
    """Every cross order goes; then a partial cut of the cross positions if one passes, else
    every cross position closes and the cross wallet goes to 0 (never below).

    On the bankruptcy close the wallet's fall is attributed per position as its own
    unrealized loss plus a share, by maintenance margin, of whatever margin balance was left.
    A position in profit would get a negative share; instead the losses are floored at 0 and
    the positive ones scaled down so that they still add up to the whole fall exactly (no
    line is ever negative). Each position's bankruptcy price is the one that realizes its
    part.
    """
    victims = sorted(acct.cross_positions(), key=lambda p: (p.symbol, p.side))
    wallet = acct.cross_wallet
    out: list[ev.Outcome] = []
    for pos in victims:
        out += cancel_symbol_orders(acct, pos.symbol, ts, f"{pos.symbol} position liquidated")
    # Binance cancels the account's open orders on a cross liquidation: every cross order goes,
    # also on symbols without a position; isolated orders stay with their own margin
    for order in [o for o in acct.orders.values() if o.mode == "cross"]:
        acct.remove_order(order)
        out.append(ev.OrderCancelled(ts, order.id, "cross account liquidated"))
    plan = partial_plan(victims, max(ZERO, wallet))
    if plan is not None:
        for i, pos in enumerate(victims):
            if plan[i] < pos.qty:
                line, change = _reduce(pos, plan[i], ts, totals)
                acct.cross_wallet += change
                out.append(line)
        acct.recompute_cross_totals()
        return out
    remaining = wallet + acct.cross_upnl
    total_mm = acct.cross_mm
    exact = [-p.upnl + (remaining * p.mm / total_mm if total_mm else ZERO) for p in victims]
    fall = max(ZERO, wallet)
    scaled = any(x < 0 for x in exact)
    raw = [max(ZERO, x) for x in exact]
    total_raw = sum(raw, ZERO)
    attributed = ZERO
    for i, pos in enumerate(victims):
        if i == len(victims) - 1:
            loss = fall - attributed
        elif not scaled:
            loss = money(raw[i])
        else:
            loss = floor_to(fall * raw[i] / total_raw, MONEY) if total_raw else ZERO
        loss = max(ZERO, min(loss, fall - attributed))
        attributed += loss
        acct.remove_position(pos)
        out.append(_bankruptcy_line(pos, loss, ts, totals))
    acct.cross_wallet = ZERO
    acct.recompute_cross_totals()
    return out
