"""`PositionsTable`: every open position with its risk in plain sight.

Refresh: `update_from(engine, ledger=None)`. Columns in the order a trader needs them, so the
ones that matter stay on screen at 80 columns (a table shows only what fits whole): symbol,
side, margin mode and leverage, signed size (shorts negative, as exchanges show them),
liquidation price, distance to it (% of mark, coloured by the margin ratio) and uPnL; then ROE,
entry, break-even, the estimated next funding payment with its countdown, TP/SL (the
take-profit and stop-loss triggers waiting for it, "no SL" in red when none would stop it —
issue 12; from 140 columns, or `→`), health, margin and mark.

Health is the margin ratio that liquidates at 100 %: an isolated position's own ratio, a cross
position's the *account's* cross ratio — exactly the difference between the modes the trader
should feel. Break-even needs the fees paid on the open position, carried from its fills
(`OpenFees`: the session's ledger, a replay's, or a journal's on a resume); when the fills
seen do not add up to the position, or for a hedge mode side (fees are carried per symbol,
netted), it reads "--" rather than a guess. In hedge mode a symbol's long and short are two
rows, keyed `SYMBOL:long` / `SYMBOL:short`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from rich.text import Text

from papertrade.core.conditional import ConditionalOrder
from papertrade.core.engine import Engine
from papertrade.core.positions import Position
from papertrade.tui.service.ledger import Ledger, OpenFees, break_even, funding_estimate
from papertrade.tui.service.stops import protection
from papertrade.tui.widgets import fmt
from papertrade.tui.widgets.table import KeyedTable


def short_countdown(ms: int | None) -> str:
    """'7h59m' / '12m05s' / '45s': the funding countdown in the few cells a table row has."""
    if ms is None:
        return ""
    s = max(0, ms // 1000)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


class PositionsTable(KeyedTable):
    DEFAULT_CSS = """
    PositionsTable { height: 1fr; }
    """
    # At 80 columns everything up to uPnL fits whole, at 120 everything up to the next
    # funding payment; the rest (health, margin, mark) shows on a wider terminal, and the
    # table's border says how many columns are left out.
    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = (
        ("symbol", "Symbol", 12),
        ("side", "Side", 5),
        ("mode", "Mode", 10),
        ("size", "Size", 10),
        ("liq", "Liq. price", 10),
        ("dist", "To liq", 8),
        ("upnl", "uPnL", 9),
        ("roe", "ROE", 8),
        ("entry", "Entry", 9),
        ("be", "Break-even", 10),
        ("funding", "Next funding", 13),
        ("tpsl", "TP/SL", 19),
        ("health", "Health", 8),
        ("margin", "Margin", 9),
        ("mark", "Mark", 9),
    )

    def update_from(self, engine: Engine, ledger: Ledger | OpenFees | None = None) -> None:
        positions = engine.positions
        self.sync_rows(sorted(positions))
        for symbol in sorted(positions):
            self.set_row(symbol, self.row_values(engine, positions[symbol], ledger))

    @staticmethod
    def row_values(
        engine: Engine, pos: Position, ledger: Ledger | OpenFees | None = None
    ) -> dict[str, str | Text]:
        inst = pos.instrument
        liq = engine.position_liquidation_price(pos)
        margin = engine.position_margin(pos)
        ratio = engine.position_margin_ratio(pos)
        mark = pos.mark
        dist = abs(mark - liq) / mark if liq is not None and mark else None
        roe = fmt.roe(pos)
        long = pos.side == "long"
        side = Text(pos.side.upper(), style="green" if long else "red")
        dist_text = Text(fmt.pct(dist, 1, signed=False), style=fmt.ratio_style(ratio))
        fees = ledger.open_fees(pos.key, pos.size) if ledger is not None else None
        be = break_even(pos.entry, pos.size, fees) if fees is not None else None
        mode = "cross" if pos.mode == "cross" else "iso"
        return {
            "symbol": Text(pos.symbol, style="bold"),
            "side": side,
            "size": Text(fmt.qty(pos.size, inst), style="green" if long else "red"),
            "entry": fmt.price(pos.entry, inst),
            "be": fmt.price(be, inst),
            "mark": fmt.price(mark, inst),
            "liq": fmt.price(liq, inst),
            "dist": dist_text if liq is not None else fmt.DASH,
            "margin": fmt.money(margin),
            "mode": f"{mode} {pos.leverage}x",
            "upnl": fmt.signed_text(fmt.money(pos.upnl), pos.upnl),
            "roe": fmt.signed_text(fmt.pct(roe), roe),
            "funding": PositionsTable.funding_cell(engine, pos),
            "health": fmt.health_bar(ratio, width=3),
            "tpsl": PositionsTable.tpsl_cell(engine, pos),
        }

    @staticmethod
    def tpsl_cell(engine: Engine, pos: Position) -> Text:
        """`take-profit/stop-loss` triggers (the nearest to the market of each; `trail`
        for a trailing stop not yet tracking); "no SL" in red when nothing would stop it."""
        found = protection(engine, pos)
        inst = pos.instrument
        long = pos.side == "long"

        def nearest(orders: tuple[ConditionalOrder, ...], stop: bool) -> str | None:
            levels = [o.trigger_level() for o in orders]
            known = [lv for lv in levels if lv is not None]
            if not known:
                return "trail" if orders else None
            # a long's nearest stop is its highest, its nearest take-profit its lowest
            pick = max(known) if long == stop else min(known)
            return fmt.price(pick, inst)

        tp = nearest(found.tp, stop=False)
        sl = nearest(found.sl, stop=True)
        text = Text(f"{tp or fmt.DASH}/")
        if sl is None:
            text.append("no SL", style="bold red")
        else:
            text.append(sl)
        return text

    @staticmethod
    def funding_cell(engine: Engine, pos: Position) -> Text:
        """The next payment at the current mark and announced rate, and when it falls due
        (market time, so replays count down exactly); "--" until the venue sends a rate."""
        market = engine.markets.get(pos.symbol)
        rate = market.funding_rate if market is not None else None
        if market is None or rate is None:
            return Text(fmt.DASH)
        amount: Decimal = funding_estimate(pos.size, pos.mark, rate)
        text = fmt.signed_text(fmt.money(amount), amount)
        due = market.next_funding_ts
        if due is not None:
            text.append(f" {short_countdown(due - engine.last_ts)}", style="dim")
        return text
