"""An open position, with its cached mark-dependent figures.

One-way mode holds one position a symbol (slot `both`); hedge mode up to two, a `long` and a
`short` slot, each with its own entry, size and margin. `upnl` and `mm` are cached at the
last mark so the account can keep cross totals incrementally: a tick touches only the
positions of its own symbol.

A cross position inside its safe band (`safe_lo` < mark < `safe_hi`, `Account.band`) is
re-marked by a quote with its mark alone: its cached figures belong to the mark they were
worked out at (`_at`), and until the account settles them `upnl` and `mm` are worked out
afresh at the current mark, by the very arithmetic the engine's re-mark uses (`figures_at`).
"""

from __future__ import annotations

from decimal import Decimal

from papertrade.core.events import MarginMode, PositionSide, PositionSlot
from papertrade.core.instruments import Instrument
from papertrade.core.margin import INFINITY, BandLine, maintenance_margin, unrealized_pnl
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
        "_at",
        "_mm",
        "_upnl",
        "entry",
        "floor",
        "instrument",
        "leverage",
        "line",
        "margin",
        "mark",
        "mode",
        "safe_hi",
        "safe_lo",
        "size",
        "slot",
        "symbol",
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
        self._upnl = ZERO
        self._mm = ZERO
        self._at = entry
        """The mark `_upnl` and `_mm` were worked out at (the same object as `mark` when
        they are current)."""
        self.safe_lo = INFINITY
        self.safe_hi = INFINITY
        """The safe band a quote may re-mark it in without the liquidation test (empty
        until worked out from `floor`)."""
        self.line: tuple[Decimal, Decimal, BandLine] | None = None
        """(size, entry, the line of a bracket) its last band was cut from
        (`Account.band_of`)."""
        self.floor: Decimal | None = None
        """What its uPnL − MM must stay above while the account is banded (`Account.band`);
        None when not banded or once its band is worked out."""

    def figures_at(self, price: Decimal) -> tuple[Decimal, Decimal]:
        """(uPnL, maintenance margin) at `price`: the same arithmetic as the engine's re-mark
        (which writes it out on its hot path)."""
        size = self.size
        return (
            unrealized_pnl(size, self.entry, price),
            maintenance_margin(self.instrument, abs(size) * price),
        )

    @property
    def upnl(self) -> Decimal:
        if self._at is self.mark:
            return self._upnl
        return unrealized_pnl(self.size, self.entry, self.mark)

    @upnl.setter
    def upnl(self, value: Decimal) -> None:
        self._upnl = value
        self._at = self.mark

    @property
    def mm(self) -> Decimal:
        if self._at is self.mark:
            return self._mm
        return self.figures_at(self.mark)[1]

    @mm.setter
    def mm(self, value: Decimal) -> None:
        self._mm = value
        self._at = self.mark

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
