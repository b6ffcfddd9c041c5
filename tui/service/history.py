"""The chart's price line: one bounded history per symbol, sampled the same way live and in
a replay (a take-over hands the replay's line to the trading session, so the two must agree).
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from papertrade.core import events as ev
from papertrade.core.engine import Engine

HISTORY_POINTS = 600
"""Points kept per symbol (ten minutes at the spacing below)."""
HISTORY_SPACING_MS = 1000
"""At most one point a second of market time: later prices in the same second replace it."""
TWO = Decimal(2)

History = dict[str, deque[tuple[int, Decimal]]]


def sample(
    history: History, event: ev.MarketEvent, engine: Engine, points: int = HISTORY_POINTS
) -> Decimal | None:
    """Add `event`'s price to `history`: marks, or the quote mid until the symbol has marks.
    Returns the price sampled (None when the event is not one the chart plots)."""
    if isinstance(event, ev.MarkPrice):
        price = event.price
    elif isinstance(event, ev.Quote):
        if engine.markets[event.symbol].has_mark:
            return None
        price = (event.bid + event.ask) / TWO
    else:
        return None
    line = history.get(event.symbol)
    if line is None:
        line = history[event.symbol] = deque(maxlen=points)
    if line and event.ts - line[-1][0] < HISTORY_SPACING_MS:
        line[-1] = (line[-1][0], price)
    else:
        line.append((event.ts, price))
    return price
