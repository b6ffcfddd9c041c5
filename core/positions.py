"""An open position (one per symbol, one-way mode), with its cached mark-dependent figures.

`upnl` and `mm` are cached at the last mark so the account can keep cross totals
incrementally: a tick touches only the position of its own symbol.
"""

from __future__ import annotations

from decimal import Decimal

from papertrade.core.events import MarginMode, PositionSide
from papertrade.core.instruments import Instrument
from papertrade.core.numbers import ZERO

ENTRY_QUANTUM = Decimal("1E-10")


class Position:
    __slots__ = (
        "entry",
        "instrument",
        "leverage",
        "margin",
        "mark",
        "mm",
        "mode",
        "size",
        "symbol",
        "upnl",
    )

    def __init__(
        self,
        instrument: Instrument,
        size: Decimal,
        entry: Decimal,
        mode: MarginMode,
        leverage: int,
        margin: Decimal = ZERO,
    ) -> None:
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.size = size
        self.entry = entry
        self.mode: MarginMode = mode
        self.leverage = leverage
        self.margin = margin  # isolated wallet balance; always 0 for cross
        self.mark = entry  # the price it was last marked at
        self.upnl = ZERO
        self.mm = ZERO

    @property
    def qty(self) -> Decimal:
        return abs(self.size)

    @property
    def side(self) -> PositionSide:
        return "long" if self.size > 0 else "short"

    def to_state(self) -> dict[str, object]:
        return {
            "symbol": self.symbol,
            "size": str(self.size),
            "entry": str(self.entry),
            "mode": self.mode,
            "leverage": self.leverage,
            "margin": str(self.margin),
            "mark": str(self.mark),
        }
