"""Liquidation: what happens to an account when a maintenance test fails at the mark.

Kept apart from the engine's dispatch so the rules read in one place (README "Mark price,
maintenance and liquidation"). The engine decides *when* (on every mark, fill and funding);
these functions decide *what*: which positions close, which orders go, and how the fall of
the wallet is written down. The invariant they keep: a `loss` is never negative and the total
wallet never rises through a liquidation.
"""

from __future__ import annotations

from papertrade.core import events as ev
from papertrade.core.account import Account, Totals
from papertrade.core.numbers import MONEY, ZERO, floor_to, money
from papertrade.core.positions import Position


def cancel_symbol_orders(acct: Account, symbol: str, ts: int, reason: str) -> list[ev.Outcome]:
    out: list[ev.Outcome] = []
    for order in list(acct.orders_by_symbol.get(symbol, ())):
        acct.remove_order(order)
        out.append(ev.OrderCancelled(ts, order.id, reason))
    return out


def liquidate_isolated(acct: Account, totals: Totals, pos: Position, ts: int) -> list[ev.Outcome]:
    """The position is closed and its whole isolated margin is lost; nothing else moves."""
    out = cancel_symbol_orders(acct, pos.symbol, ts, f"{pos.symbol} position liquidated")
    loss = pos.margin
    acct.remove_position(pos)
    totals.liquidation_losses += loss
    totals.liquidations += 1
    out.append(ev.Liquidation(ts, pos.symbol, "isolated", pos.side, pos.qty, pos.mark, loss))
    return out


def liquidate_cross(acct: Account, totals: Totals, ts: int) -> list[ev.Outcome]:
    """Every cross position is closed, every cross order cancelled, and the cross wallet goes
    to 0 (never below).

    The wallet's fall is attributed per position as its own unrealized loss plus a share,
    by maintenance margin, of whatever margin balance was left. A position in profit would
    get a negative share; instead the losses are floored at 0 and the positive ones scaled
    down so that they still add up to the whole fall exactly (no line is ever negative).
    """
    victims = sorted(acct.cross_positions(), key=lambda p: p.symbol)
    wallet = acct.cross_wallet
    remaining = wallet + acct.cross_upnl
    total_mm = acct.cross_mm
    out: list[ev.Outcome] = []
    for pos in victims:
        out += cancel_symbol_orders(acct, pos.symbol, ts, f"{pos.symbol} position liquidated")
    # Binance cancels the account's open orders on a cross liquidation: every cross order goes,
    # also on symbols without a position; isolated orders stay with their own margin
    for order in [o for o in acct.orders.values() if o.mode == "cross"]:
        acct.remove_order(order)
        out.append(ev.OrderCancelled(ts, order.id, "cross account liquidated"))
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
        totals.liquidations += 1
        out.append(ev.Liquidation(ts, pos.symbol, "cross", pos.side, pos.qty, pos.mark, loss))
    acct.cross_wallet = ZERO
    acct.recompute_cross_totals()
    totals.liquidation_losses += fall
    return out
