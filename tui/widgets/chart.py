"""`PriceChart`: the selected symbol's price over time, with its position's entry and
liquidation price drawn across it — the distance between the line and the red one is the
room the trade has left.

Refresh: `update_from(engine, symbol, history)` where `history` is a sequence of
`(ts_ms, price)`. Drawing goes through textual-plotext; callers should refresh it at a few
hertz at most (plotting is the most expensive thing on screen).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from papertrade.core.engine import Engine
from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot


class PriceChart(PlotextPlot):
    DEFAULT_CSS = """
    PriceChart { height: 1fr; min-height: 5; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.symbol: str | None = None
        self._drawn: tuple[object, ...] | None = None
        self._cache: tuple[tuple[object, ...], RenderResult] | None = None

    def render(self) -> RenderResult:
        """Plotting costs milliseconds: build again only when the data, size or theme moved."""
        key = (self._drawn, self.size, self.app.theme)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        result = super().render()
        if isinstance(result, Text):
            self._cache = (key, result)
        return result

    def update_from(
        self, engine: Engine, symbol: str | None, history: Sequence[tuple[int, Decimal]]
    ) -> None:
        pos = engine.positions.get(symbol) if symbol else None
        liq = engine.position_liquidation_price(pos) if pos is not None else None
        last = history[-1] if history else None
        key = (symbol, len(history), last, pos.entry if pos else None, liq)
        if key == self._drawn:
            return
        self._drawn = key
        self.symbol = symbol
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"{symbol or '--'} mark" if history else f"{symbol or '--'}: waiting for prices")
        if history:
            t0 = history[0][0]
            xs = [(ts - t0) / 1000 for ts, _ in history]
            ys = [float(p) for _, p in history]
            plt.plot(xs, ys, marker="braille", color="cyan")
            if pos is not None:
                plt.hline(float(pos.entry), "blue")
                if liq is not None:
                    plt.hline(float(liq), "red")
                levels = [*ys, float(pos.entry)] + ([float(liq)] if liq is not None else [])
                lo, hi = min(levels), max(levels)
                pad = (hi - lo) * 0.05 or hi * 0.001
                plt.ylim(lo - pad, hi + pad)
            plt.xlabel("seconds")
        self.refresh()
