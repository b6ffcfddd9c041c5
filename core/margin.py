"""Binance USDⓈ-M margin math as small pure functions: the one owner of every margin formula.

The engine, the order ticket and the tests all call these; nothing else writes them out.
Sources, by name:
- Binance FAQ "Liquidation Protocols" (360033525271) and "How to Calculate Liquidation Price
  of USDⓈ-M Contracts": maintenance margin, margin ratio, liquidation trigger and price,
  https://www.binance.com/en/support/faq/360033525271
- Binance FAQ "How to Calculate Cost Required to Open a Position in USDⓈ-M Futures": cost =
  initial margin + open loss, sells sized at an assumed price,
  https://www.binance.com/en/support/faq/87fa7ee33b574f7084d42bd2ce2e463b
- Binance FAQ "How to Adjust Margin Balance in Cross/Isolated Margin Mode" (360038447311):
  max removable and max addable isolated margin,
  https://www.binance.com/en/support/faq/360038447311
- Binance FAQ "How to Check Futures Wallet Balance": margin balance, available for order.

Conventions: `size` is signed (+ long, − short), `qty` is its absolute value, `wallet` is the
margin backing the position (the isolated margin, or the cross wallet), and for cross
positions `other_mm` / `other_upnl` are the totals of the *other* cross positions at their
current marks.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal
from typing import Literal, NamedTuple

from papertrade.core.instruments import Bracket, Instrument
from papertrade.core.numbers import CONTEXT, ONE, ZERO, ceil_to, floor_to

_UP = Context(prec=28, rounding=ROUND_CEILING)
_DOWN = Context(prec=28, rounding=ROUND_FLOOR)
"""Divisions rounded toward the inside of a safe band (`safe_share`, `safe_band`)."""
INFINITY = Decimal("Infinity")
"""An empty safe band's lower end (no mark is above it: every quote takes the full test)."""

ASSUMED_SELL_MARKUP = Decimal("1.0015")
"""Binance sizes a sell's cost at max(last × (1 + 0.15%), mark, order price)."""


def initial_margin(notional: Decimal, leverage: int) -> Decimal:
    """IM = notional / leverage (IMR = 1 / leverage)."""
    return notional / leverage


def maintenance_margin(instrument: Instrument, notional: Decimal) -> Decimal:
    """MM = notional × MMR − cum of the bracket holding the notional (continuous across tiers)."""
    bracket = instrument.bracket_for(notional)
    return notional * bracket.mmr - bracket.cum


def unrealized_pnl(size: Decimal, entry: Decimal, mark: Decimal) -> Decimal:
    return size * (mark - entry)


def margin_ratio(maintenance: Decimal, margin_balance: Decimal) -> Decimal | None:
    """MM / margin balance; None when nothing is at risk (no maintenance margin).

    A balance at or below zero with something at risk is reported as 1 (100 %): Binance
    liquidates when margin balance ≤ maintenance margin, i.e. when the ratio reaches 100 %, and
    a ratio is never shown beyond that point (its ADL ranking's 0 for an exhausted balance
    serves ranking, not risk, so it is not used here).
    """
    if maintenance <= 0:
        return None
    if margin_balance <= 0:
        return ONE
    return maintenance / margin_balance


def liquidatable(margin_balance: Decimal, maintenance: Decimal) -> bool:
    """The trigger: margin balance ≤ maintenance margin, with something at risk."""
    return maintenance > 0 and margin_balance <= maintenance


def assumed_price(
    side: Literal["buy", "sell"], price: Decimal, mark: Decimal | None, last: Decimal | None
) -> Decimal:
    """The price an order's initial margin is sized at: its own price for a buy, and for a
    sell max(last × 1.0015, mark, price), so a sell cannot be costed below the market."""
    if side == "buy":
        return price
    candidates = [price]
    if mark is not None:
        candidates.append(mark)
    if last is not None:
        candidates.append(last * ASSUMED_SELL_MARKUP)
    return max(candidates)


def open_loss(
    side: Literal["buy", "sell"], qty: Decimal, price: Decimal, mark: Decimal | None
) -> Decimal:
    """What an order gives up against the mark at once: Q × |min(0, dir × (mark − price))|.
    A buy above mark or a sell below mark pays the difference up front."""
    if mark is None:
        return ZERO
    diff = price - mark if side == "buy" else mark - price
    return qty * diff if diff > 0 else ZERO


def order_cost(
    side: Literal["buy", "sell"],
    qty: Decimal,
    price: Decimal,
    leverage: int,
    mark: Decimal | None,
    last: Decimal | None,
) -> Decimal:
    """Cost to open `qty` (the part that opens exposure) = IM at the assumed price + open
    loss. Resting orders hold exactly this while they rest (re-derived at the current mark)."""
    if qty == 0:
        return ZERO
    im = initial_margin(qty * assumed_price(side, price, mark, last), leverage)
    return im + open_loss(side, qty, price, mark)


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
    formula, with the bracket taken at the liquidation price itself.

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


def _holds(bracket: Bracket, index: int, last: int, notional: Decimal) -> bool:
    return notional >= bracket.floor and (notional < bracket.cap or index == last)


def hedged_liquidation_price_exact(
    instrument: Instrument,
    long_qty: Decimal,
    long_entry: Decimal,
    short_qty: Decimal,
    short_entry: Decimal,
    wallet: Decimal,
    other_mm: Decimal,
    other_upnl: Decimal,
    mark: Decimal,
) -> Decimal | None:
    """The one liquidation price a cross symbol's LONG and SHORT share (hedge mode), by
    Binance's two-sided formula (margin.md §1.7):

        LP = (W* + cumL + cumS − QL × EPL + QS × EPS) / (QL × MMR_L + QS × MMR_S − QL + QS)

    with W* = cross wallet − MM of the other symbols + their uPnL, and each side's bracket
    taken at its own notional at LP (every pair of brackets is tried, the self-consistent
    ones kept). Margin balance − MM is concave in the mark (MM is convex), so a hedged
    account can be liquidated by a fall and by a rise: there is at most one root on each side
    of the mark, and the one nearer the mark is reported (it is met first). None when the
    mark can move neither way far enough (the positions hedge each other entirely), or only
    so far that a side would outgrow the top bracket's cap.
    """
    w = wallet - other_mm + other_upnl
    brackets = instrument.brackets
    last = len(brackets) - 1
    roots: set[Decimal] = set()
    for i, bl in enumerate(brackets):
        for j, bs in enumerate(brackets):
            den = long_qty * bl.mmr + short_qty * bs.mmr - long_qty + short_qty
            if den == 0:
                continue
            num = w + bl.cum + bs.cum - long_qty * long_entry + short_qty * short_entry
            lp = num / den
            if lp <= 0:
                continue
            # within the table: past the top bracket's cap no position can exist (it is the
            # largest notional allowed), so a root there is an artefact of extrapolating the
            # last tier (a net long "liquidated by a rise" at billions), not a price to show
            long_n, short_n = long_qty * lp, short_qty * lp
            if long_n >= brackets[-1].cap or short_n >= brackets[-1].cap:
                continue
            if _holds(bl, i, last, long_n) and _holds(bs, j, last, short_n):
                roots.add(lp)
    if not roots:
        return None
    return min(roots, key=lambda r: (abs(r - mark), r))


def hedged_liquidation_price(
    instrument: Instrument,
    long_qty: Decimal,
    long_entry: Decimal,
    short_qty: Decimal,
    short_entry: Decimal,
    wallet: Decimal,
    other_mm: Decimal,
    other_upnl: Decimal,
    mark: Decimal,
) -> Decimal | None:
    """The shared liquidation price on the tick grid: rounded down when the mark would fall
    to it, up when it would rise to it (the first tick that triggers)."""
    lp = hedged_liquidation_price_exact(
        instrument, long_qty, long_entry, short_qty, short_entry, wallet, other_mm, other_upnl, mark
    )
    if lp is None:
        return None
    tick = instrument.tick_size
    rounded = floor_to(lp, tick) if lp <= mark else ceil_to(lp, tick)
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
    """max(0, min(iso − MM, iso + size × (MP − EP) − MP × |size| / L)): only margin above
    the initial margin at mark (plus open profit) leaves, and never so much that MM is hit."""
    first = isolated_margin - maintenance
    second = isolated_margin + size * (mark - entry) - initial_margin(mark * abs(size), leverage)
    return max(ZERO, min(first, second))


def max_addable_margin(
    cross_wallet: Decimal,
    isolated_order_im: Decimal,
    cross_mm: Decimal,
    available: Decimal,
) -> Decimal:
    """max(0, min(cross wallet − Σ isolated open-order IM − Σ cross MM, available for order)).

    The first term is what stops money being created: unrealized cross profit counts toward
    `available` (it may back cross orders) but never leaves the cross wallet as isolated
    margin, so the cross wallet cannot be driven below zero by a transfer.
    """
    return max(ZERO, min(cross_wallet - isolated_order_im - cross_mm, available))


def safe_share(headroom: Decimal, count: int) -> Decimal:
    """`headroom` / `count` rounded down: `count` shares never add up to more than it."""
    return _DOWN.divide(headroom, count)


class BandLine(NamedTuple):
    """A position's uPnL − MM inside one bracket: the line k × p − c over the marks p with
    lo < p < hi (the bracket's price range for the position's quantity, rounded inward)."""

    lo: Decimal
    hi: Decimal
    k: Decimal
    c: Decimal


def band_line(instrument: Instrument, size: Decimal, entry: Decimal, mark: Decimal) -> BandLine:
    """The line of the bracket holding the notional at `mark`.

    Inside a bracket, uPnL − MM = size × (p − entry) − (qty × p × MMR − cum) = k × p − c with
    k = size − qty × MMR and c = size × entry − cum: rising for a long, falling for a short
    (MMR < 1). k and c are exact (`CONTEXT`); the range's ends round toward the inside.
    """
    qty = abs(size)
    brackets = instrument.brackets
    bracket = instrument.bracket_for(CONTEXT.multiply(qty, mark))
    index = brackets.index(bracket)
    lo = _UP.divide(brackets[index - 1].cap, qty) if index > 0 else ZERO
    hi = _DOWN.divide(bracket.cap, qty) if index < len(brackets) - 1 else INFINITY
    k = CONTEXT.subtract(size, CONTEXT.multiply(qty, bracket.mmr))
    c = CONTEXT.subtract(CONTEXT.multiply(size, entry), bracket.cum)
    return BandLine(lo, hi, k, c)


def band_above(line: BandLine, size: Decimal, floor: Decimal) -> tuple[Decimal, Decimal]:
    """(lo, hi): every mark p with lo < p < hi keeps the line above `floor` (k × p − c >
    floor): the line's range cut where it meets `floor`, the division rounded toward the
    inside. It may be empty (lo ≥ hi): then no mark is inside it."""
    rhs = CONTEXT.add(floor, line.c)
    if size > 0 and line.k > 0:
        return max(line.lo, _UP.divide(rhs, line.k)), line.hi
    if size < 0 and line.k < 0:
        return line.lo, min(line.hi, _DOWN.divide(rhs, line.k))
    return INFINITY, INFINITY


def safe_band(
    instrument: Instrument, size: Decimal, entry: Decimal, mark: Decimal, floor: Decimal
) -> tuple[Decimal, Decimal]:
    """(lo, hi): every mark p with lo < p < hi keeps the position's uPnL − MM above `floor`
    (`band_line` of the bracket at `mark`, cut by `band_above`); `lo` ≥ 0, `hi` may be
    infinite."""
    return band_above(band_line(instrument, size, entry, mark), size, floor)
