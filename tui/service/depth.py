"""What the ticket says about an order's fill against the current book, before it is sent.

Why here: the preview must agree with the fill, so it asks the same function the engine's
`book` and `queue` fill models take with (`core.fill_models.take`: the shown levels walked,
none better than the latest quote); the ticket only words the answer. Under the `touch`
model (or with no book yet) there is nothing to say: the order fills whole at the best price,
as the ticket's notional line already shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.fill_models import take

__all__ = ["Slippage", "slippage"]

_BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Slippage:
    """An order walked through the shown book: `touch` is the best level's price, `average`
    what the shown levels give on average for `filled`; `remaining` is what they cannot give
    (`shown` is all they hold up to the order's limit). `limited`: the walk stopped at the
    order's limit price, not at the end of the shown depth."""

    touch: Decimal
    average: Decimal
    filled: Decimal
    remaining: Decimal
    shown: Decimal
    limited: bool
    buy: bool

    @property
    def price(self) -> Decimal:
        """How much worse than the touch the average is, per unit (never negative)."""
        return self.average - self.touch if self.buy else self.touch - self.average

    @property
    def bps(self) -> Decimal:
        return self.price / self.touch * _BPS

    @property
    def cost(self) -> Decimal:
        """What the walk costs over filling the same quantity at the touch, in USDT."""
        return self.price * self.filled


def slippage(engine: Engine, command: ev.PlaceOrder, qty: Decimal) -> Slippage | None:
    """The walk of `qty` of `command` (a market order, or a limit order that crosses the best
    level) through the symbol's latest book; None when the session fills at the touch, there
    is no book on that side yet, or the order takes nothing now."""
    if engine.settings.fill_model == "touch" or qty <= 0:
        return None
    market = engine.markets.get(command.symbol)
    buy = command.side == "buy"
    levels = (market.asks if buy else market.bids) if market is not None else ()
    if not levels:
        return None
    quoted = (market.ask if buy else market.bid) if market is not None else None
    touch = quoted if quoted is not None else levels[0][0]  # what the engine fills against
    limit: Decimal | None = None
    if command.order_type == "limit":
        limit = command.price
        crosses = limit is not None and (limit >= touch if buy else limit <= touch)
        if not crosses or command.time_in_force == "GTX":
            return None  # it rests (a post-only one that crosses is refused)
    elif command.order_type != "market":
        return None
    taken = take(levels, qty, touch, limit, buy=buy)
    if not taken.pieces:
        return None
    filled = qty - taken.remaining
    average = sum((price * size for price, size in taken.pieces), Decimal(0)) / filled
    within = [
        size
        for price, size in levels
        if limit is None or (price <= limit if buy else price >= limit)
    ]
    return Slippage(
        touch=touch,
        average=average,
        filled=filled,
        remaining=taken.remaining,
        shown=sum(within, Decimal(0)),
        limited=len(within) < len(levels),
        buy=buy,
    )
