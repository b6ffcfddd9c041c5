"""The pieces of the liquidation post-mortem screen: two plots and the account of the drop.

`RatioPlot` draws the pool's margin ratio up to the liquidation (100 % is where it fired);
`PricePlot` the drained position's mark against its liquidation price; `breakdown` lays out,
as a table, the margin-balance drop taken apart (parts that sum exactly to it), what the
liquidation then took, the cascade of a cross liquidation and what would have kept the
position alive on the same prices. The numbers are `core.postmortem`'s; these only draw them.
"""

from __future__ import annotations

from decimal import Decimal

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from papertrade.core.numbers import ONE, human, plain
from papertrade.core.postmortem import PostMortem, Sample

HUNDRED = Decimal(100)


def _minutes(samples: list[Sample]) -> list[float]:
    """Each sample's time in minutes before the trigger (the trigger is 0)."""
    end = samples[-1].ts
    return [(s.ts - end) / 60_000 for s in samples]


class _CachedPlot(PlotextPlot):
    """Plotting costs milliseconds: build again only when the report, size or theme moved."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.report: PostMortem | None = None
        self._cache: tuple[tuple[object, ...], RenderResult] | None = None

    def render(self) -> RenderResult:
        key = (id(self.report), self.size, self.app.theme)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        result = super().render()
        if isinstance(result, Text):
            self._cache = (key, result)
        return result

    def _start(self, report: PostMortem) -> None:
        """A clean figure for `report` (each plot's `show` then draws its lines)."""
        self.report = report
        self.plt.clear_data()
        self.plt.clear_figure()


class RatioPlot(_CachedPlot):
    """The pool's margin ratio (maintenance margin over margin balance) in %, up to 100 %."""

    def show(self, report: PostMortem) -> None:
        self._start(report)
        plt = self.plt
        xs = _minutes(report.samples)
        shown = [
            (x, float(min(s.margin_ratio, ONE) * HUNDRED))
            for x, s in zip(xs, report.samples, strict=True)
            if s.margin_ratio is not None
        ]
        plt.title("margin ratio % (liquidation at 100)")
        plt.ylim(0, 105)
        plt.hline(100, "red")
        if shown:
            plt.plot([x for x, _ in shown], [y for _, y in shown], marker="braille", color="cyan")
        plt.xlabel("minutes before the liquidation")
        self.refresh()


class PricePlot(_CachedPlot):
    """The drained position's mark (cyan) against its liquidation price (red)."""

    def show(self, report: PostMortem) -> None:
        self._start(report)
        plt = self.plt
        xs = _minutes(report.samples)
        marks = [(x, float(s.mark)) for x, s in zip(xs, report.samples, strict=True) if s.mark]
        liqs = [
            (x, float(s.liquidation_price))
            for x, s in zip(xs, report.samples, strict=True)
            if s.liquidation_price is not None
        ]
        plt.title(f"{report.symbol} mark vs liquidation price")
        levels = [y for _, y in marks + liqs]
        if levels:
            lo, hi = min(levels), max(levels)
            pad = (hi - lo) * 0.08 or abs(hi) * 0.001 or 1.0
            plt.ylim(lo - pad, hi + pad)
        if marks:
            plt.plot([x for x, _ in marks], [y for _, y in marks], marker="braille", color="cyan")
        if liqs:
            plt.plot([x for x, _ in liqs], [y for _, y in liqs], marker="braille", color="red")
        plt.xlabel("minutes before the liquidation")
        self.refresh()


def _signed(d: Decimal) -> Text:
    text = ("+" if d > 0 else "") + human(d)
    return Text(text, style="red" if d < 0 else ("green" if d > 0 else ""))


def _rows(title: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=None, expand=True)
    table.add_column(no_wrap=False, ratio=3)
    table.add_column(justify="right", no_wrap=True, ratio=1)
    return table


def breakdown(r: PostMortem) -> RenderableType:
    """The drop taken apart, the cascade and the what-ifs, one table after the other."""
    drop = _rows(f"Margin balance {human(r.balance_before)} → {human(r.balance_at_trigger)}")
    for symbol, amount in sorted(r.contributions.items()):
        drop.add_row(f"{symbol} PnL", _signed(amount))
    drop.add_row("funding", _signed(r.funding))
    drop.add_row("fees", _signed(r.fees))
    drop.add_row("margin moved in/out", _signed(r.margin_moves))
    drop.add_row(Text("drop", style="bold"), Text(human(-r.drop), style="bold"))
    drop.add_row("then the liquidation took", Text(human(r.liquidation_loss), style="red"))
    parts: list[RenderableType] = [drop]
    if r.mode == "cross":
        cascade = _rows("Cascade")
        cascade.add_row(
            Text(f"{r.symbol} {r.side} {plain(r.qty)} drained the cross pool", style="red"), ""
        )
        for v in r.went_down_with:
            cascade.add_row(
                f"took {v.symbol} {v.side} {plain(v.qty)} down with it, worth",
                Text(human(v.notional)),
            )
            cascade.add_row("  its uPnL a moment before", _signed(v.upnl))
        parts.append(cascade)
    alive = _rows("What would have kept it alive (same prices)")
    if r.survive_with_added_margin is not None:
        alive.add_row("adding margin", Text(human(r.survive_with_added_margin)))
    lev = r.survive_at_leverage
    if lev:
        alive.add_row(f"leverage ({r.leverage_note})", Text(f"{lev}x or less"))
    else:
        alive.add_row(Text(r.leverage_note, style="dim"), "")
    stop = r.stop_that_caps_loss
    if stop is not None:
        alive.add_row(f"a stop at {plain(stop.price)}: loss capped at", Text(human(stop.loss)))
    else:
        alive.add_row(Text(r.stop_note, style="dim"), "")
    parts.append(alive)
    return Group(*_spaced(parts))


def _spaced(parts: list[RenderableType]) -> list[RenderableType]:
    out: list[RenderableType] = []
    for i, part in enumerate(parts):
        if i:
            out.append(Text(""))
        out.append(part)
    return out
