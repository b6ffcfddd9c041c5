"""No cell is ever cut: every value a panel writes fits its column (issue 10's "isolated
150x0.031" and "1000PEPEUSD0.0020705" were cells running into the next column).

Worst cases from the bundled instruments: the longest symbol (1000PEPEUSDT, with the watchlist's
position marker), the highest leverage (150x), a short's negative size in the millions, a
price in six figures and losses and ROE in four and five figures.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from rich.cells import cell_len
from rich.text import Text

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.tui.service.ledger import Ledger
from papertrade.tui.widgets.orders import OrdersTable, open_orders
from papertrade.tui.widgets.positions import PositionsTable
from papertrade.tui.widgets.table import KeyedTable
from papertrade.tui.widgets.watchlist import Watchlist

HOUR_MS = 3_600_000


def market(engine: Engine, ts: int, symbol: str, price: str, bid: str, ask: str) -> None:
    engine.apply(ev.Quote(ts, symbol, D(bid), D(ask)))
    engine.apply(
        ev.MarkPrice(ts, symbol, D(price), None, D("-0.0075"), ts + 7 * HOUR_MS + 59 * 60_000)
    )


def worst_engine() -> tuple[Engine, Ledger]:
    engine = Engine(bundled("binance"), ev.SessionSettings(balance=D(1_000_000)))
    ledger = Ledger()
    market(engine, 1, "BTCUSDT", "105000.0", "104999.9", "105000.0")
    market(engine, 1, "1000PEPEUSDT", "0.0020705", "0.0020704", "0.0020705")
    orders = [
        ev.PlaceOrder(2, "u1", "BTCUSDT", "buy", D("2.5"), "market", None, "isolated", 150),
        ev.PlaceOrder(2, "u2", "1000PEPEUSDT", "sell", D(9_500_000), "market", None, "cross", 75),
        ev.PlaceOrder(
            2, "u3", "1000PEPEUSDT", "buy", D(1_000_000), "limit", D("0.0010001"), "cross", 75
        ),
        ev.PlaceOrder(
            2, "u4", "BTCUSDT", "sell", D("2.5"), "limit", D("199999.9"), reduce_only=True
        ),
        ev.PlaceOrder(
            2,
            "u5",
            "1000PEPEUSDT",
            "buy",
            D(9_500_000),
            "trailing_stop_market",
            reduce_only=True,
            activation_price=D("0.0010001"),
            callback_rate=D("12.5"),
            working_type="mark",
            price_protect=True,
        ),
        ev.PlaceOrder(
            2,
            "u6",
            "1000PEPEUSDT",
            "buy",
            D(0),
            "stop_market",
            close_position=True,
            trigger_price=D("0.0030001"),
            working_type="mark",
            price_protect=True,
        ),
        ev.PlaceOrder(
            2,
            "u7",
            "1000PEPEUSDT",
            "buy",
            D(9_500_000),
            "stop_limit",
            D("0.0030002"),
            reduce_only=True,
            trigger_price=D("0.0030001"),
            time_in_force="GTD",
            working_type="mark",
            good_till=700_000,
        ),
    ]
    for order in orders:
        outcomes = engine.apply(order)
        assert not any(isinstance(o, ev.Rejected) for o in outcomes), outcomes
        ledger.on_command(order, outcomes)
    market(engine, 3, "BTCUSDT", "104400.0", "104399.9", "104400.0")  # a loss in the thousands
    return engine, ledger


def too_wide(table: type[KeyedTable], row: dict[str, str | Text]) -> dict[str, str]:
    widths = {key: width for key, _, width in table.COLUMNS}
    plain = {k: v.plain if isinstance(v, Text) else v for k, v in row.items()}
    return {k: v for k, v in plain.items() if cell_len(v) > widths[k]}


def test_every_position_cell_fits_its_column() -> None:
    engine, ledger = worst_engine()
    for pos in engine.positions.values():
        row = PositionsTable.row_values(engine, pos, ledger)
        assert too_wide(PositionsTable, row) == {}, pos.symbol
    pepe = PositionsTable.row_values(engine, engine.positions["1000PEPEUSDT"], ledger)
    assert isinstance(pepe["size"], Text) and pepe["size"].plain == "-9,500,000"


def test_every_watchlist_and_order_cell_fits_its_column() -> None:
    engine, _ = worst_engine()
    for symbol in ("BTCUSDT", "1000PEPEUSDT"):
        assert too_wide(Watchlist, Watchlist.row_values(engine, symbol)) == {}, symbol
    orders = open_orders(engine)
    assert list(orders) == ["u3", "u5", "u6", "u7"]
    for order in orders.values():
        assert too_wide(OrdersTable, OrdersTable.row_values(engine, order)) == {}, order.id


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_every_column_on_screen_shows_whole(app_factory, tui, size) -> None:
    """A table shows the columns that fit its width whole, and says how many it left out
    (issue 10: the watchlist's Last was cut at 80 columns, the positions' Health read "Hea"
    at 120)."""
    app = app_factory()
    async with app.run_test(size=size) as pilot:
        await tui.settle(pilot)
        app.session.order("BTCUSDT", "buy", D("0.01"))
        app.trading.flush(force=True)
        await pilot.pause()
        for panel in ("watchlist", "positions"):
            app.trading.action_panel(panel)
            await pilot.pause()
            table = app.trading.query_one(f"#{panel}", KeyedTable)
            room = table.scrollable_content_region.width
            used = sum(col.get_render_width(table) for col in table.columns.values())
            assert 0 < used <= room, (panel, used, room)
            widths = [w + 1 for key, _, w in table.COLUMNS if key in table.shown]
            assert used == sum(widths)
            left_out = len(table.COLUMNS) - len(table.shown)
            noun = "column" if left_out == 1 else "columns"
            assert table.border_subtitle == (f"+{left_out} {noun} →" if left_out else None)
        watchlist = app.trading.query_one("#watchlist", KeyedTable)
        positions = app.trading.query_one("#positions", KeyedTable)
        if size == (120, 40):
            assert watchlist.shown[-1] == "last"
            assert positions.shown[-1] == "funding"
        else:
            assert watchlist.shown[-1] == "book"
            assert positions.shown[-1] == "upnl"


async def test_arrows_move_a_narrow_table_through_the_columns_it_leaves_out(
    app_factory, tui
) -> None:
    """At 80 columns the positions show up to uPnL; → shows the next columns (the symbol
    stays), each whole, ← goes back."""
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        app.session.order("BTCUSDT", "buy", D("0.01"))
        app.trading.flush(force=True)
        await pilot.pause()
        table = app.trading.query_one("#positions", KeyedTable)
        table.focus()
        first_page = table.shown
        assert first_page[-1] == "upnl" and table.border_subtitle == "+8 columns →"
        await pilot.press("right")
        await pilot.pause()
        assert table.shown[0] == "symbol" and table.shown[1] == "mode"
        assert "roe" in table.shown and "side" not in table.shown
        right = len(PositionsTable.COLUMNS) - 1 - len(table.shown)  # 14 less side, less shown
        assert table.border_subtitle == f"← 1 · {right} more columns →"
        room = table.scrollable_content_region.width
        assert sum(col.get_render_width(table) for col in table.columns.values()) <= room
        for _ in range(20):
            await pilot.press("right")
        await pilot.pause()
        assert table.shown[-1] == "mark" and table.border_subtitle.endswith("columns")
        cells = [c.plain if hasattr(c, "plain") else c for c in table.get_row("BTCUSDT")]
        assert cells[0] == "BTCUSDT" and len(cells) == len(table.shown)
        for _ in range(20):
            await pilot.press("left")
        await pilot.pause()
        assert table.shown == first_page
