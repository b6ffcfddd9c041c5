"""The `book` and `queue` fill models' own rules (README "Fill models"), as pure arithmetic.

The engine asks three questions of the latest book here, so each answer has one owner:

- what a taking order gets (`take`): the shown levels walked with `depth.walk`, the book's
  top anchored at the price the touch model would give (a book older than the latest quote
  must not flatter, nor stack its depth at one price), and what is left once the shown depth
  runs out;
- at what price a market order's remainder beyond the shown depth fills (`impact_price`):
  the book is taken to go on as thick as it was shown, one tick at a time;
- how much is queued ahead of a resting order at its price (`shown_at`), and what a trade
  at that price gives it (`queue_take`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from papertrade.core.depth import walk
from papertrade.core.events import Level

__all__ = ["Take", "impact_price", "queue_take", "shown_at", "take"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Take:
    """What a taking order gets from the book: `pieces` one `(price, qty)` per level, best
    first; `remaining` what the shown levels (up to `limit`) could not give; `exhausted` true
    when the walk ran out of levels (not stopped by the limit)."""

    pieces: tuple[Level, ...]
    remaining: Decimal
    exhausted: bool


def take(
    levels: tuple[Level, ...],
    qty: Decimal,
    touch: Decimal,
    limit: Decimal | None,
    *,
    buy: bool,
) -> Take:
    """Walk `levels` (the asks for a buy, the bids for a sell) for `qty`, stopping at `limit`.

    The book is anchored at `touch` (the latest quote's best price, or a stop's triggering
    price): every level moves by the distance between the book's best level and `touch`. A
    book is a picture of a moment; the quote after it says where the top is now, the book
    keeps its shape (how much sits how far behind the top). Clamping the stale levels onto
    the touch instead would stack the whole book at one price when the market ran away from
    it, and a large order would fill there whole. A bid moved to 0 or below is dropped.
    """
    shift = touch - levels[0][0] if levels else _ZERO
    moved = (
        levels
        if not shift
        else tuple((price + shift, size) for price, size in levels if price + shift > _ZERO)
    )
    w = walk(moved, qty, limit, buy=buy)
    used = len(w.fills)
    # a level beyond the limit is never taken: a walk that took every level ran out of book
    return Take(w.fills, w.remaining, w.remaining > _ZERO and used == len(moved))


def impact_price(
    levels: tuple[Level, ...], remaining: Decimal, tick: Decimal, *, buy: bool
) -> Decimal:
    """The price a market order's `remaining` quantity fills at beyond the shown levels.

    The book is taken to continue past its last shown level as thick as it was shown: the
    shown quantity spread evenly over the ticks the shown levels span (best to last, both
    included). The remainder needs `ceil(remaining / depth per tick)` more ticks and fills in
    one piece at the price that far past the last level: never better than the last level,
    and worse the thinner the book was. A sell never goes below one tick.
    """
    best, last = levels[0][0], levels[-1][0]
    shown = sum((size for _, size in levels), _ZERO)
    span = abs(last - best) / tick + 1
    per_tick = shown / span
    ticks = (remaining / per_tick).to_integral_value(rounding=ROUND_CEILING)
    if buy:
        return last + ticks * tick
    return max(tick, last - ticks * tick)


def shown_at(levels: tuple[Level, ...], price: Decimal, *, buy: bool) -> Decimal | None:
    """The shown quantity at `price` on a resting order's own side (the bids for a buy):
    the level's quantity; 0 if the price is inside the shown range (or better than the best)
    without a level of its own; None if it lies beyond the deepest shown level (unknown)."""
    if not levels:
        return None
    for level_price, size in levels:
        if level_price == price:
            return size
    deepest = levels[-1][0]
    beyond = price < deepest if buy else price > deepest
    return None if beyond else _ZERO


def queue_take(ahead: Decimal, qty: Decimal, traded: Decimal) -> tuple[Decimal, Decimal]:
    """A trade of `traded` at a resting order's price: the volume ahead of the order trades
    first, then the order fills with what is left (up to its `qty`). Returns (ahead left,
    quantity filled)."""
    used = ahead if ahead < traded else traded
    left = traded - used
    return ahead - used, (qty if qty < left else left)
