"""`OrdersTable`: resting (open) orders, keyed by order id.

Refresh: `update_from(engine, symbol=None)`; a `symbol` shows only that symbol's orders (the
trading screen's "all / selected symbol" filter, shared with the history panels).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text

from papertrade.core.engine import Engine
from papertrade.core.orders import Order
from papertrade.tui.widgets import fmt
from papertrade.tui.widgets.table import KeyedTable


class OrdersTable(KeyedTable):
    DEFAULT_CSS = """
    OrdersTable { height: 1fr; }
    """
    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = (
        ("id", "Id", 5),
        ("symbol", "Symbol", 12),
        ("side", "Side", 4),
        ("qty", "Qty", 9),
        ("price", "Price", 10),
        ("flags", "Flags", 11),
        ("mode", "Mode", 9),
    )

    def update_from(self, engine: Engine, symbol: str | None = None) -> None:
        orders = {k: o for k, o in engine.orders.items() if symbol in (None, o.symbol)}
        self.sync_rows(orders, ordered=True)
        for oid, o in orders.items():
            self.set_row(oid, self.row_values(engine, o))

    @staticmethod
    def row_values(engine: Engine, o: Order) -> dict[str, str | Text]:
        inst = engine.instruments.get(o.symbol)
        flags = " ".join(f for f, on in (("reduce", o.reduce_only), ("post", o.post_only)) if on)
        return {
            "id": Text(o.id),
            "symbol": Text(o.symbol),
            "side": Text(o.side, style="green" if o.side == "buy" else "red"),
            "qty": fmt.qty(o.qty, inst),
            "price": fmt.price(o.price, inst),
            "flags": flags,
            "mode": f"{'cross' if o.mode == 'cross' else 'iso'} {o.leverage}x",
        }
