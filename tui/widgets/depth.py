"""`DepthPanel`: the selected symbol's order book, with the trader's own resting orders in it.

Why: under the `book` and `queue` fill models a market order walks these levels and a resting
limit order waits behind the quantity ahead of it; the panel shows both — asks above (best
nearest the spread), bids below, each level's size and the running total from the touch, and
each of your orders marked at its price with what is queued ahead of it when the engine knows
("ahead: 3.2 BTC", under `queue`).

Refresh: `update_from(engine, symbol)`. Books arrive about ten times a second per symbol; the
panel keeps only what it last drew and repaints when the selected symbol's levels or its own
orders changed (the screen calls it at a few hertz at most). It shows as many levels a side as
its height allows, up to `LEVELS` (all ten at 120×40, where it is a column as tall as the
positions and the row under them). Every string is plain `Text` (symbols never as markup).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from rich.text import Text
from textual.widget import Widget

from papertrade.core.engine import Engine
from papertrade.core.events import FillModel, Level
from papertrade.core.instruments import Instrument
from papertrade.core.text import plural
from papertrade.tui.service.depth import Slippage
from papertrade.tui.widgets import fmt

LEVELS = 10
"""Levels shown a side at most."""
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Own:
    """One of the trader's resting orders on this symbol: where it is and what is ahead."""

    side: str
    price: Decimal
    qty: Decimal
    ahead: Decimal | None


@dataclass(frozen=True, slots=True)
class Row:
    """A line of the ladder: a level (`size`/`total`), or an own order's price between levels
    (`size` None)."""

    price: Decimal
    size: Decimal | None
    total: Decimal | None
    own: tuple[Own, ...]


def own_orders(engine: Engine, symbol: str) -> tuple[Own, ...]:
    """The resting limit orders of `symbol`, with their queue position when the engine keeps
    one (`queue_ahead`, None unless the session's fill model is `queue`)."""
    return tuple(
        Own(o.side, o.price, o.qty, getattr(o, "queue_ahead", None))
        for o in engine.acct.orders_by_symbol.get(symbol, ())
    )


def ladder(levels: Sequence[Level], own: Sequence[Own], count: int, *, bids: bool) -> list[Row]:
    """One side's rows, best first: the top `count` levels with the running total from the
    touch, and a row for each own order's price that falls between the shown levels (or
    better than the best one). Orders beyond the shown depth are left out (`beyond`)."""
    shown = levels[:count]
    rows: list[Row] = []
    total = _ZERO
    for price, size in shown:
        total += size
        rows.append(Row(price, size, total, tuple(o for o in own if o.price == price)))
    prices = {price for price, _ in shown}
    deepest = shown[-1][0] if shown else None
    for o in own:
        inside = deepest is not None and (o.price >= deepest if bids else o.price <= deepest)
        if o.price not in prices and inside:
            prices.add(o.price)
            rows.append(Row(o.price, None, None, tuple(x for x in own if x.price == o.price)))
    rows.sort(key=lambda r: r.price, reverse=bids)
    return rows


def beyond(levels: Sequence[Level], own: Sequence[Own], count: int, *, bids: bool) -> int:
    """How many own orders lie past the `count` shown levels (or on a side with none)."""
    shown = levels[:count]
    if not shown:
        return len(own)
    deepest = shown[-1][0]
    return sum(1 for o in own if (o.price < deepest if bids else o.price > deepest))


class DepthPanel(Widget):
    """Repaints in place; its height decides how many levels a side it shows."""

    DEFAULT_CSS = """
    DepthPanel { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.symbol: str | None = None
        self.inst: Instrument | None = None
        self.bids: tuple[Level, ...] = ()
        self.asks: tuple[Level, ...] = ()
        self.own: tuple[Own, ...] = ()
        self.fill_model: FillModel = "touch"
        self.draws = 0
        """How many times new data was taken (a test and a benchmark count repaints)."""

    def update_from(self, engine: Engine, symbol: str | None) -> None:
        market = engine.markets.get(symbol) if symbol else None
        bids = market.bids if market is not None else ()
        asks = market.asks if market is not None else ()
        own = own_orders(engine, symbol) if symbol else ()
        same = bids is self.bids and asks is self.asks and symbol == self.symbol
        if same and own == self.own:
            return  # a book replaced by the same object, or nothing new: nothing to draw
        self.symbol = symbol
        self.inst = engine.instruments.get(symbol) if symbol else None
        self.bids, self.asks, self.own = bids, asks, own
        self.fill_model = engine.settings.fill_model
        self.draws += 1
        self.refresh()

    def render(self) -> Text:
        if self.symbol is None:
            return Text("no symbol selected", style="dim")
        if not self.bids and not self.asks:
            text = Text("no depth from this feed yet", style="yellow")
            if self.fill_model == "touch":
                text.append("\nfills: whole at the best price (touch)", style="dim")
            else:
                text.append("\nmarket orders fill at the touch until a book comes", style="dim")
            return text
        return self.draw(max(self.content_size.height, 3))

    def draw(self, height: int) -> Text:
        """The ladder in `height` lines: the most levels a side (up to `LEVELS`) that fit
        with the header, the spread line and a line under each own order."""
        buys = [o for o in self.own if o.side == "buy"]
        sells = [o for o in self.own if o.side == "sell"]
        count = LEVELS
        while True:
            bid_rows = ladder(self.bids, buys, count, bids=True)
            ask_rows = ladder(self.asks, sells, count, bids=False)
            out = beyond(self.bids, buys, count, bids=True)
            out += beyond(self.asks, sells, count, bids=False)
            notes = sum(len(r.own) for r in (*bid_rows, *ask_rows)) + (1 if out else 0)
            if count == 1 or 2 + len(bid_rows) + len(ask_rows) + notes <= height:
                break
            count -= 1
        return self._text(ask_rows, bid_rows, out)

    def _text(self, ask_rows: list[Row], bid_rows: list[Row], out: int) -> Text:
        inst = self.inst
        cells = [
            (fmt.price(r.price, inst), _q(r.size, inst), _q(r.total, inst))
            for r in (*ask_rows, *bid_rows)
        ]
        pw = max([5, *(len(c[0]) for c in cells)])
        sw = max([4, *(len(c[1]) for c in cells)])
        tw = max([5, *(len(c[2]) for c in cells)])
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {'price':>{pw}} {'size':>{sw}} {'total':>{tw}}", style="dim")
        for row in reversed(ask_rows):  # deepest ask at the top, the best next to the spread
            self._row(text, row, pw, sw, tw, "red")
        text.append("\n")
        text.append_text(self._spread())
        for row in bid_rows:
            self._row(text, row, pw, sw, tw, "green")
        if out:
            text.append(f"\n {plural(out, 'order')} of yours deeper", style="dim")
        return text

    def _row(self, text: Text, row: Row, pw: int, sw: int, tw: int, style: str) -> None:
        inst = self.inst
        text.append("\n")
        text.append("●" if row.own else " ", style="bold yellow")
        text.append(f"{fmt.price(row.price, inst):>{pw}}", style=style)
        text.append(f" {_q(row.size, inst):>{sw}} {_q(row.total, inst):>{tw}}")
        base = inst.base if inst is not None else ""
        for o in row.own:
            text.append("\n")
            line = f"└ {fmt.qty(o.qty, inst)} yours"
            if o.ahead is not None:
                line = f"└ {fmt.qty(o.qty, inst)}, ahead: {fmt.qty(o.ahead, inst)} {base}"
            text.append(line, style="yellow")

    def _spread(self) -> Text:
        inst = self.inst
        if not self.bids or not self.asks:
            side = "bids" if not self.bids else "asks"
            return Text(f" no {side} shown", style="dim")
        best_bid, best_ask = self.bids[0][0], self.asks[0][0]
        gap = best_ask - best_bid
        mid = (best_ask + best_bid) / 2
        bps = gap / mid * 10_000 if mid else _ZERO
        return Text(f" spread {fmt.price(gap, inst)} ({bps_text(bps)})", style="bold")


def _q(value: Decimal | None, inst: Instrument | None) -> str:
    return "" if value is None else fmt.qty(value, inst)


def bps_text(bps: Decimal) -> str:
    """Basis points as a trader reads them: "5.2 bps", and two decimals under one ("0.01 bps"):
    a BTC spread of one tick is about 0.01 bps, which one decimal would show as "0.0 bps", as
    if there were none."""
    return f"{fmt.money(bps, 2 if abs(bps) < 1 else 1)} bps"


def slippage_text(s: Slippage, inst: Instrument | None, *, limit: bool) -> Text:
    """The ticket's lines: "~95,001.0 avg vs the touch 95,000.0" and "slippage 1.0 (0.11 bps),
    0.10 USDT"; when the book shows less than the order, how much it shows and where the rest
    goes ("book shows 0.220 BTC; the rest fills beyond it": one line in an 80-column ticket)."""
    text = Text(f"~{fmt.price(s.average, inst)} avg vs the touch {fmt.price(s.touch, inst)}")
    if s.price:
        text.append(
            f"\nslippage {fmt.price(s.price, inst)} ({bps_text(s.bps)}), {fmt.money(s.cost)} USDT",
            style="yellow",
        )
    else:
        text.append(": all at the touch")
    if s.remaining > 0:
        base = inst.base if inst is not None else ""
        shown = f"book shows {fmt.qty(s.shown, inst)} {base}".rstrip()
        if s.limited:
            rest = f"{shown} to your limit; {fmt.qty(s.remaining, inst)} does not fill now"
        elif limit:
            rest = f"{shown}; the rest is beyond it"
        else:
            rest = f"{shown}; the rest fills beyond it"
        text.append(f"\n{rest}", style="bold yellow")
    return text
