"""`PositionsTable`: every open position with its risk in plain sight.

Refresh: `update_from(engine)`. Columns, risk first so they stay visible on an 80-column
terminal: symbol, side, margin mode and leverage, size, liquidation price, distance to it (% of
mark), a health bar, uPnL, ROE, entry, mark and margin.
Health is the margin ratio that liquidates at 100 %: an isolated position's own ratio, a cross
position's the *account's* cross ratio — which is exactly the difference between the modes
the trader should feel (a cross position's health moves with everything else held in cross).
"""

from __future__ import annotations

from typing import ClassVar

from papertrade.core.engine import Engine
from papertrade.core.positions import Position
from papertrade.tui.widgets import fmt
from papertrade.tui.widgets.table import KeyedTable
from rich.text import Text


class PositionsTable(KeyedTable):
    DEFAULT_CSS = """
    PositionsTable { height: 1fr; }
    """
    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = (
        ("symbol", "Symbol", 9),
        ("side", "Side", 5),
        ("mode", "Mode", 12),
        ("size", "Size", 8),
        ("liq", "Liq. price", 10),
        ("dist", "To liq.", 7),
        ("health", "Health", 11),
        ("upnl", "uPnL", 9),
        ("roe", "ROE", 8),
        ("entry", "Entry", 9),
        ("mark", "Mark", 9),
        ("margin", "Margin", 9),
    )

    def update_from(self, engine: Engine) -> None:
        positions = engine.positions
        self.sync_rows(sorted(positions))
        for symbol in sorted(positions):
            self.set_row(symbol, self.row_values(engine, positions[symbol]))

    @staticmethod
    def row_values(engine: Engine, pos: Position) -> dict[str, str | Text]:
        inst = pos.instrument
        liq = engine.position_liquidation_price(pos)
        margin = engine.position_margin(pos)
        ratio = engine.position_margin_ratio(pos)
        mark = pos.mark
        dist = abs(mark - liq) / mark if liq is not None and mark else None
        roe = pos.upnl / margin if margin else None
        side = Text(pos.side.upper(), style="green" if pos.side == "long" else "red")
        dist_text = Text(fmt.pct(dist, 1, signed=False), style=fmt.ratio_style(ratio))
        return {
            "symbol": Text(pos.symbol, style="bold"),
            "side": side,
            "size": fmt.qty(pos.qty, inst),
            "entry": fmt.price(pos.entry, inst),
            "mark": fmt.price(mark, inst),
            "liq": fmt.price(liq, inst),
            "dist": dist_text if liq is not None else fmt.DASH,
            "margin": fmt.money(margin),
            "mode": f"{pos.mode} {pos.leverage}x",
            "upnl": fmt.signed_text(fmt.money(pos.upnl), pos.upnl),
            "roe": fmt.signed_text(fmt.pct(roe), roe),
            "health": fmt.health_bar(ratio, width=6),
        }
