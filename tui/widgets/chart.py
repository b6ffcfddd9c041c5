"""`PriceChart`: the selected symbol's price over time, with its position's entry and
liquidation price drawn across it — the distance between the line and the red one is the
room the trade has left.

Refresh: `update_from(engine, symbol, history)` where `history` is a sequence of
`(ts_ms, price)`. Drawing goes through textual-plotext; callers should refresh it at a few
hertz at most (plotting is the most expensive thing on screen).

Scale (issue 10, bug 13): the axis is always set from the prices (and the entry), never left
to plotext — which opened a flat or one-point series on a ±50 % axis — and a liquidation price
outside it is not allowed to stretch it flat: it is drawn at the edge it lies beyond, labelled
with its price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from papertrade.core.engine import Engine
from papertrade.tui.widgets import fmt

MIN_PAD = 0.0005
"""Half-height of the axis around a flat series, as a fraction of the price (±0.05 %)."""


@dataclass(frozen=True, slots=True)
class Scale:
    """The y axis: `lo`..`hi`, and where the liquidation line goes when off it."""

    lo: float
    hi: float
    liq_edge: Literal["below", "above"] | None = None


def scale(prices: Sequence[float], entry: float | None, liq: float | None) -> Scale:
    """The axis for `prices` and the entry, padded 5 % (at least ±0.05 % of the price); a
    liquidation price inside it is drawn in place, outside it at the nearer edge."""
    levels = [*prices, *([entry] if entry is not None else [])]
    lo, hi = min(levels), max(levels)
    pad = max((hi - lo) * 0.05, abs(hi + lo) / 2 * MIN_PAD) or 1.0
    lo, hi = lo - pad, hi + pad
    edge: Literal["below", "above"] | None = None
    if liq is not None and liq < lo:
        edge = "below"
    elif liq is not None and liq > hi:
        edge = "above"
    return Scale(lo, hi, edge)


class PriceChart(PlotextPlot):
    DEFAULT_CSS = """
    PriceChart { height: 1fr; min-height: 5; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.symbol: str | None = None
        self._drawn: tuple[object, ...] | None = None
        self._cache: tuple[tuple[object, ...], RenderResult] | None = None
        self.axis: Scale | None = None
        """The y axis last drawn (None before any price)."""

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
        held = engine.symbol_positions(symbol) if symbol else []
        pos = held[0] if held else None  # hedged cross sides share one liquidation price
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
            entry = float(pos.entry) if pos is not None else None
            where = float(liq) if liq is not None else None
            axis = scale(ys, entry, where)
            self.axis = axis
            plt.ylim(axis.lo, axis.hi)
            if entry is not None:
                plt.hline(entry, "blue")
            if liq is not None and axis.liq_edge is None:
                plt.hline(float(liq), "red")
            elif liq is not None:
                at = axis.lo if axis.liq_edge == "below" else axis.hi
                arrow = "↓" if axis.liq_edge == "below" else "↑"
                plt.hline(at, "red")
                label = f"liq {fmt.price(liq, pos.instrument if pos else None)} {arrow} off-scale"
                plt.text(label, x=xs[0], y=at, color="red")
            plt.xlabel("seconds")
        self.refresh()
