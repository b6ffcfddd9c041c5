"""`OrderHistoryTable` and `TradeHistoryTable`: what happened to this run's orders, and every
fill — the panels beside "Open orders", as on an exchange.

Refresh: `update_from(ledger, engine, symbol=None)` from the session's `Ledger`; `symbol`
filters to one symbol. Newest rows last, and the table follows them (scrolls to the end) when
rows arrive, so the latest order or fill is always in view in a short panel. Both are bounded
by the ledger (`ledger.MAX_ROWS`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text

from papertrade.core.engine import Engine
from papertrade.tui.service.ledger import Ledger
from papertrade.tui.widgets import fmt
from papertrade.tui.widgets.table import KeyedTable

STATUS_STYLE = {"filled": "green", "partly filled": "cyan", "cancelled": "dim", "rejected": "red"}


def clock(ts: int) -> str:
    """Market time of day (UTC): the same clock as the log's fill lines."""
    return datetime.fromtimestamp(ts / 1000, UTC).strftime("%H:%M:%S")


def _side(side: str) -> Text:
    return Text(side, style="green" if side == "buy" else "red")


class OrderHistoryTable(KeyedTable):
    DEFAULT_CSS = """
    OrderHistoryTable { height: 1fr; }
    """
    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = (
        ("time", "Time", 8),
        ("symbol", "Symbol", 12),
        ("side", "Side", 4),
        ("type", "Type", 6),
        ("qty", "Qty", 9),
        ("price", "Price", 10),
        ("avg", "Avg fill", 10),
        ("status", "Status", 13),
        ("reason", "Reason", 40),
    )

    def update_from(self, ledger: Ledger, engine: Engine, symbol: str | None = None) -> None:
        records = [r for r in ledger.orders.values() if symbol in (None, r.symbol)]
        added = self.sync_rows((r.id for r in records), ordered=True)
        for r in records:
            inst = engine.instruments.get(r.symbol)
            self.set_row(
                r.id,
                {
                    "time": clock(r.ts),
                    "symbol": Text(r.symbol),
                    "side": _side(r.side),
                    "type": r.order_type,
                    "qty": fmt.qty(r.qty, inst),
                    "price": fmt.price(r.price, inst) if r.price is not None else "market",
                    "avg": fmt.price(r.avg_price, inst),
                    "status": Text(r.status, style=STATUS_STYLE.get(r.status, "")),
                    "reason": Text(r.reason, style="dim"),
                },
            )
        if added:
            self.scroll_end(animate=False, immediate=False)


class TradeHistoryTable(KeyedTable):
    DEFAULT_CSS = """
    TradeHistoryTable { height: 1fr; }
    """
    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = (
        ("time", "Time", 8),
        ("symbol", "Symbol", 12),
        ("side", "Side", 4),
        ("qty", "Qty", 9),
        ("price", "Price", 10),
        ("fee", "Fee", 8),
        ("pnl", "Realized", 9),
        ("role", "Role", 5),
    )

    def update_from(self, ledger: Ledger, engine: Engine, symbol: str | None = None) -> None:
        keyed = [(f"t{n}", f) for n, f in ledger.trades if symbol in (None, f.symbol)]
        added = self.sync_rows((k for k, _ in keyed), ordered=True)
        for key, f in keyed:
            inst = engine.instruments.get(f.symbol)
            self.set_row(
                key,
                {
                    "time": clock(f.ts),
                    "symbol": Text(f.symbol),
                    "side": _side(f.side),
                    "qty": fmt.qty(f.qty, inst),
                    "price": fmt.price(f.price, inst),
                    "fee": fmt.money(-f.fee, 4),
                    "pnl": fmt.signed_text(fmt.money(f.realized_pnl), f.realized_pnl),
                    "role": f.liquidity,
                },
            )
        if added:
            self.scroll_end(animate=False, immediate=False)
