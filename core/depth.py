"""Walking an order book: what a given quantity takes from the levels shown, and at what price.

One function serves the engine (a `book`-model fill takes these levels, one fill per level)
and the ticket (the expected average price and slippage before the order is sent), so the
preview can never disagree with the fill. Pure arithmetic on the levels it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from papertrade.core.events import Level

__all__ = ["Walk", "walk"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Walk:
    """What a walk took: `fills` one `(price, qty)` per level touched, best first; `filled`
    their total and `remaining` what the shown depth could not give (beyond the levels, or
    beyond `limit`). `notional` is Σ price·qty, exact."""

    fills: tuple[Level, ...]
    filled: Decimal
    remaining: Decimal
    notional: Decimal

    @property
    def average(self) -> Decimal | None:
        """The volume-weighted average price of what filled (None: nothing did)."""
        return self.notional / self.filled if self.filled else None

    @property
    def last_price(self) -> Decimal | None:
        """The price of the deepest level taken (None: nothing filled)."""
        return self.fills[-1][0] if self.fills else None


def walk(
    levels: tuple[Level, ...], qty: Decimal, limit: Decimal | None = None, *, buy: bool
) -> Walk:
    """Take `qty` from `levels` (the asks for a buy, the bids for a sell, best first), level
    by level, stopping at `limit` (a buy takes no level above it, a sell none below it).

    A level is taken whole or in part; nothing is left of a level before the next is touched,
    as on an exchange's matching engine.
    """
    left = qty
    fills: list[Level] = []
    notional = _ZERO
    for price, size in levels:
        if left <= _ZERO:
            break
        if limit is not None and (price > limit if buy else price < limit):
            break
        take = size if size < left else left
        fills.append((price, take))
        notional += price * take
        left -= take
    return Walk(tuple(fills), qty - left, left, notional)
