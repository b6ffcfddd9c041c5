"""`OrdersTable`: open orders — resting limits and waiting conditional orders — keyed by id.

Refresh: `update_from(engine, symbol=None)`; a `symbol` shows only that symbol's orders (the
trading screen's "all / selected symbol" filter, shared with the history panels).

Issue 12: a stop waits off the book but is as much an open order as a limit, so both show,
read from the engine's `OrderState` (one description of an open order, shared with the drills'
`account.open_orders`). Columns, in the order that matters when a narrow table must leave some
out: type, side, qty, price (for a trailing stop its callback, `cb 1.5%`), trigger (for a
trailing stop the level its tracked extreme sets, `act …` before its activation price is
reached), the price it watches (last or mark), flags (`close` position, `reduce` only, `post`
only, `prot` price protect), time in force (of what rests at a price) and age.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.numbers import plain
from papertrade.tui.widgets import fmt
from papertrade.tui.widgets.table import KeyedTable

TYPE_WORDS: dict[str, str] = {
    "market": "market",
    "limit": "limit",
    "stop_market": "stop",
    "stop_limit": "stop lim",
    "take_profit_market": "tp",
    "take_profit_limit": "tp lim",
    "trailing_stop_market": "trailing",
}
"""Short names that fit the column; the ticket and README use the full ones."""
WATCHED_WORDS: dict[str, str] = {"contract": "last", "mark": "mark"}


def age(ms: int) -> str:
    """How long an order has been open, in the largest whole unit (market time)."""
    seconds = max(ms, 0) // 1000
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def open_orders(engine: Engine, symbol: str | None = None) -> dict[str, ev.OrderState]:
    """Every open order of `symbol` (all when None): the book's, then the waiting ones."""
    states = [o.state() for o in engine.orders.values()]
    states += [o.state(*engine.symbol_setting(o.symbol)) for o in engine.algo]
    return {s.id: s for s in states if symbol in (None, s.symbol)}


class OrdersTable(KeyedTable):
    DEFAULT_CSS = """
    OrdersTable { height: 1fr; }
    """
    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = (
        ("id", "Id", 5),
        ("symbol", "Symbol", 12),
        ("type", "Type", 8),
        ("side", "Side", 4),
        ("qty", "Qty", 9),
        ("price", "Price", 10),
        ("trigger", "Trigger", 13),
        ("watch", "On", 4),
        ("flags", "Flags", 16),
        ("tif", "TIF", 3),
        ("age", "Age", 4),
        ("mode", "Mode", 9),
    )

    def update_from(self, engine: Engine, symbol: str | None = None) -> None:
        orders = open_orders(engine, symbol)
        self.sync_rows(orders, ordered=True)
        for oid, o in orders.items():
            self.set_row(oid, self.row_values(engine, o))

    @staticmethod
    def row_values(engine: Engine, o: ev.OrderState) -> dict[str, str | Text]:
        inst = engine.instruments.get(o.symbol)
        flags = " ".join(
            f
            for f, on in (
                ("close", o.close_position),
                ("reduce", o.reduce_only),
                ("post", o.post_only),
                ("prot", o.price_protect),
            )
            if on
        )
        if o.order_type == "trailing_stop_market" and o.trigger_price is None:
            trigger = f"act {fmt.price(o.activation_price, inst)}"
        else:
            trigger = fmt.price(o.trigger_price, inst) if o.trigger_price is not None else ""
        if o.callback_rate is not None:
            price = f"cb {plain(o.callback_rate)}%"
        else:
            price = fmt.price(o.price, inst) if o.price is not None else ""
        conditional = o.working_type is not None
        return {
            "id": Text(o.id),
            "symbol": Text(o.symbol),
            "type": TYPE_WORDS.get(o.order_type, o.order_type),
            "side": Text(o.side, style="green" if o.side == "buy" else "red"),
            "qty": "all" if o.close_position else fmt.qty(o.qty, inst),
            "price": price,
            "trigger": trigger,
            "watch": WATCHED_WORDS[o.working_type] if o.working_type is not None else "",
            "flags": flags,
            "tif": o.time_in_force if (o.price is not None or not conditional) else "",
            "age": age(engine.last_ts - o.ts),
            "mode": f"{'cross' if o.margin_mode == 'cross' else 'iso'} {o.leverage}x",
        }
