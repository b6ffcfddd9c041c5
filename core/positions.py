"""An open position, with its cached mark-dependent figures.

One-way mode holds one position a symbol (slot `both`); hedge mode up to two, a `long` and a
`short` slot, each with its own entry, size and margin. `upnl` and `mm` are cached at the
last mark so the account can keep cross totals incrementally: a tick touches only the
positions of its own symbol.
"""

from __future__ import annotations

from decimal import Decimal

from papertrade.core.events import MarginMode, PositionSide, PositionSlot
from papertrade.core.instruments import Instrument
from papertrade.core.numbers import ZERO

ENTRY_QUANTUM = Decimal("1E-10")
HEDGE_SLOTS: tuple[PositionSlot, PositionSlot] = ("long", "short")
SLOTS: tuple[PositionSlot, PositionSlot, PositionSlot] = ("both", "long", "short")


def position_key(symbol: str, slot: PositionSlot) -> str:
    """The account's key of a position: the bare symbol for a one-way position (so one-way
    accounts read exactly as before), `SYMBOL:long` / `SYMBOL:short` in hedge mode (a symbol
    never holds a colon)."""
    return symbol if slot == "both" else f"{symbol}:{slot}"


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
        "slot",
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
        slot: PositionSlot = "both",
    ) -> None:
        self.instrument = instrument
        self.slot: PositionSlot = slot
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
    def key(self) -> str:
        return position_key(self.symbol, self.slot)

    @property
    def side(self) -> PositionSide:
        return "long" if self.size > 0 else "short"

    def to_state(self) -> dict[str, object]:
        state: dict[str, object] = {
            "symbol": self.symbol,
            "size": str(self.size),
            "entry": str(self.entry),
            "mode": self.mode,
            "leverage": self.leverage,
            "margin": str(self.margin),
            "mark": str(self.mark),
        }
        if self.slot != "both":
            state["slot"] = self.slot  # one-way states stay as they always were
        return state
