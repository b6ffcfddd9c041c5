"""`PriceChart`: the selected symbol's price over time, with its position's entry and
liquidation price drawn across it — the distance between the line and the red one is the
room the trade has left.

Refresh: `update_from(engine, symbol, history)` where `history` is a sequence of
`(ts_ms, price)`. Drawing goes through textual-plotext; callers should refresh it at a few
hertz at most (plotting is the most expensive thing on screen).

Start-up (issue 14): importing plotext costs about 0.1 s of CPU, a sixth of the time to the
first frame. `update_from` only keeps the figure's data; plotext is imported and the figure
built when the chart is first painted, and that first paint is blank (the figure follows one
refresh later) so even a screen that shows the chart from the start draws its first frame
without it. A small terminal, where the chart is a hidden panel, never loads plotext until
the trader asks for the chart.

Scale (issue 10, bug 13): the axis is always set from the prices (and the entry), never left
to plotext — which opened a flat or one-point series on a ±50 % axis — and a liquidation price
outside it is not allowed to stretch it flat: it is drawn at the edge it lies beyond, labelled
with its price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget

from papertrade.core.engine import Engine
from papertrade.tui.widgets import fmt

if TYPE_CHECKING:
    from textual_plotext.plot import Plot

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


@dataclass(frozen=True, slots=True)
class Figure:
    """What the chart draws, kept until it is painted (plotext is built only then)."""

    title: str
    xs: list[float]
    ys: list[float]
    entry: float | None
    liq: float | None
    axis: Scale | None
    label: str


class PriceChart(Widget):
    """The chart as textual-plotext's `PlotextPlot` draws it (same theme handling and
    output), with plotext imported on the first paint instead of at import."""

    DEFAULT_CSS = """
    PriceChart { width: 1fr; height: 1fr; min-height: 5; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.symbol: str | None = None
        self._drawn: tuple[object, ...] | None = None
        self._cache: tuple[tuple[object, ...], RenderResult] | None = None
        self._plot: Plot | None = None
        self._figure = Figure("", [], [], None, None, None, "")  # a bare figure, as plotext's
        self._built: Figure | None = None
        self._painted = False
        self.axis: Scale | None = None
        """The y axis last drawn (None before any price)."""

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda theme: self.refresh())

    @property
    def plt(self) -> Plot:
        """The plotext figure, created (and plotext imported) on first use."""
        if self._plot is None:
            from textual_plotext.plot import Plot

            self._plot = Plot()
        return self._plot

    def _theme_name(self) -> str:
        return f"textual-auto-{self.app.theme}"

    def _register_theme(self) -> None:
        """As `PlotextPlot._register_theme`: the plot's colours follow the app's theme."""
        from textual.color import Color
        from textual_plotext import plot as tp

        themes: dict[str, object] = vars(tp)["_themes"]  # plotext's table, which tp re-uses
        name = self._theme_name()
        if name not in themes:
            variables = self.app.theme_variables
            surface = Color.parse(variables.get("surface", "")).rgb
            foreground = Color.parse(variables.get("foreground", "")).rgb
            data = list[str | int | tuple[int, int, int]](tp._sequence)
            themes[name] = tp._rgbify_theme(surface, surface, foreground, "default", data)

    def render(self) -> RenderResult:
        """Plotting costs milliseconds: build again only when the data, size or theme moved.
        The very first paint is blank and asks for the next one, which loads plotext."""
        if not self._painted:
            self._painted = True
            self.call_after_refresh(self.refresh)
            return Text("")
        key = (self._drawn, self.size, self.app.theme)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        plot = self.plt
        self._register_theme()
        if self._built is not self._figure:
            self._build(plot, self._figure)
        plot.plotsize(self.size.width, self.size.height)
        plot._set_size(self.size.width, self.size.height)
        plot.theme(self._theme_name())
        result = Text.from_ansi(plot.build())
        self._cache = (key, result)
        return result

    def _build(self, plt: Plot, figure: Figure) -> None:
        self._built = figure
        plt.clear_data()
        plt.clear_figure()
        if figure.title:
            plt.title(figure.title)
        axis = figure.axis
        if axis is None:
            return
        xs = figure.xs
        plt.plot(xs, figure.ys, marker="braille", color="cyan")
        plt.ylim(axis.lo, axis.hi)
        if figure.entry is not None:
            plt.hline(figure.entry, "blue")
        if figure.liq is not None and axis.liq_edge is None:
            plt.hline(figure.liq, "red")
        elif figure.liq is not None:
            at = axis.lo if axis.liq_edge == "below" else axis.hi
            plt.hline(at, "red")
            plt.text(figure.label, x=xs[0], y=at, color="red")
        plt.xlabel("seconds")

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
        if not history:
            self._figure = Figure(f"{symbol or '--'}: waiting for prices", [], [], None, None,
                                  None, "")  # fmt: skip
            self.refresh()
            return
        t0 = history[0][0]
        xs = [(ts - t0) / 1000 for ts, _ in history]
        ys = [float(p) for _, p in history]
        entry = float(pos.entry) if pos is not None else None
        where = float(liq) if liq is not None else None
        axis = scale(ys, entry, where)
        self.axis = axis
        label = ""
        if liq is not None and axis.liq_edge is not None:
            arrow = "↓" if axis.liq_edge == "below" else "↑"
            label = f"liq {fmt.price(liq, pos.instrument if pos else None)} {arrow} off-scale"
        self._figure = Figure(f"{symbol or '--'} mark", xs, ys, entry, where, axis, label)
        self.refresh()
