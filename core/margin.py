"""Binance USDⓈ-M margin math as small pure functions (../shared/reference/margin.md §1).

Conventions: `size` is signed (+ long, − short), `qty` is its absolute value, `wallet` is the
margin backing the position (the isolated margin, or the cross wallet), and for cross
positions `other_mm` / `other_upnl` are the totals of the *other* cross positions at their
current marks.
"""

from __future__ import annotations

from decimal import Decimal

from papertrade.core.instruments import Bracket, Instrument
from papertrade.core.numbers import ZERO, ceil_to, floor_to


def initial_margin(notional: Decimal, leverage: int) -> Decimal:
    return notional / leverage


def maintenance_margin(instrument: Instrument, notional: Decimal) -> Decimal:
    """MM = notional × MMR − cum of the bracket holding the notional (continuous across tiers)."""
    bracket = instrument.bracket_for(notional)
    return notional * bracket.mmr - bracket.cum


def unrealized_pnl(size: Decimal, entry: Decimal, mark: Decimal) -> Decimal:
    return size * (mark - entry)


def margin_ratio(maintenance: Decimal, margin_balance: Decimal) -> Decimal | None:
    """MM / margin balance; None when the balance is gone (≤ 0), i.e. beyond 100%."""
    if margin_balance <= 0:
        return None
    return maintenance / margin_balance


def _lp_in(bracket: Bracket, size: Decimal, qty: Decimal, entry: Decimal, w: Decimal) -> Decimal:
    side = 1 if size > 0 else -1
    return (w + bracket.cum - side * qty * entry) / (qty * bracket.mmr - side * qty)


def liquidation_price_exact(
    instrument: Instrument,
    size: Decimal,
    entry: Decimal,
    wallet: Decimal,
    other_mm: Decimal = ZERO,
    other_upnl: Decimal = ZERO,
) -> Decimal | None:
    """The mark at which margin balance equals maintenance margin, per Binance's one-way
    formula, with the bracket taken at the liquidation price itself (§1.7).

    Returns None when the position cannot be liquidated (a long whose LP would be ≤ 0).
    Margin balance minus MM is strictly monotonic in the mark (MMR < 1), so exactly one
    bracket is self-consistent; we solve in each and keep that one.
    """
    if size == 0:
        return None
    qty = abs(size)
    w = wallet - other_mm + other_upnl
    if size > 0 and w - qty * entry >= 0:
        return None  # even at a mark of 0 the margin balance stays positive
    brackets = instrument.brackets
    last = len(brackets) - 1
    for i, bracket in enumerate(brackets):
        lp = _lp_in(bracket, size, qty, entry, w)
        notional = qty * lp
        if notional >= bracket.floor and (notional < bracket.cap or i == last):
            return lp if lp > 0 else None
    lp = _lp_in(instrument.bracket_for(qty * entry), size, qty, entry, w)
    return lp if lp > 0 else None


def liquidation_price(
    instrument: Instrument,
    size: Decimal,
    entry: Decimal,
    wallet: Decimal,
    other_mm: Decimal = ZERO,
    other_upnl: Decimal = ZERO,
) -> Decimal | None:
    """The liquidation price on the tick grid: the first tick at which the mark triggers it
    (a long's LP rounded down, a short's rounded up)."""
    lp = liquidation_price_exact(instrument, size, entry, wallet, other_mm, other_upnl)
    if lp is None:
        return None
    tick = instrument.tick_size
    rounded = floor_to(lp, tick) if size > 0 else ceil_to(lp, tick)
    return rounded if rounded > 0 else None


def bankruptcy_price(size: Decimal, entry: Decimal, wallet: Decimal) -> Decimal | None:
    """Where the margin balance reaches zero (isolated): entry ∓ wallet / qty."""
    if size == 0:
        return None
    qty = abs(size)
    bp = entry - wallet / qty if size > 0 else entry + wallet / qty
    return bp if bp > 0 else None


def max_removable_margin(
    isolated_margin: Decimal,
    maintenance: Decimal,
    size: Decimal,
    entry: Decimal,
    mark: Decimal,
    leverage: int,
) -> Decimal:
    """Binance: max(0, min(iso − MM, iso + size × (MP − EP) − MP × |size| / L)) (§1.9)."""
    first = isolated_margin - maintenance
    second = isolated_margin + size * (mark - entry) - mark * abs(size) / leverage
    return max(ZERO, min(first, second))
