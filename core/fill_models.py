"""The `book` and `queue` fill models' own rules (README "Fill models"), as pure arithmetic.

The engine asks three questions of the latest book here, so each answer has one owner:

- what a taking order gets (`take`): the shown levels walked with `depth.walk`, never better
  than the price the touch model would give (a book older than the latest quote must not
  flatter), and what is left once the shown depth runs out;
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

    A level better than `touch` (the best quote, or a stop's triggering price) fills at
    `touch`: a book is a picture of a moment, and a newer quote or a gap wins over it.
    """
    clamped = tuple(
        ((touch if price < touch else price) if buy else (touch if price > touch else price), size)
        for price, size in levels
    )
    w = walk(clamped, qty, limit, buy=buy)
    used = len(w.fills)
    # a level beyond the limit is never taken: a walk that took every level ran out of book
    return Take(w.fills, w.remaining, w.remaining > _ZERO and used == len(clamped))


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
