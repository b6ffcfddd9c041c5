"""The trading screen laid out on purpose at 80×24 and 120×40, and the trader's panels.

Real app on the fixture market (see conftest: last marks BTC 95,000.0, ETH 3,100.00, funding
rate 0.0100 % on every symbol), real Textual layout through the pilot.
"""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from papertrade.tui.widgets.account import AccountPanel

SMALL = (80, 24)
LARGE = (120, 40)
TAKER = Decimal("0.0005")  # SessionSettings' default taker fee


def on_screen(widget: Widget, size: tuple[int, int]) -> bool:
    region = widget.region
    width, height = size
    return (
        bool(widget.display and region.area) and region.right <= width and region.bottom <= height
    )


def cell(table, row: str, column: str) -> str:
    value = table.get_cell(row, column)
    return value.plain if isinstance(value, Text) else str(value)


def columns_within(table, keys: list[str], spare: int = 0) -> bool:
    """Whether columns `keys` end inside the table's visible width (no sideways scroll),
    `spare` cells before its edge."""
    right = 0
    for column in table.ordered_columns:
        right += column.get_render_width(table)
        if column.key.value == keys[-1]:
            break
    return right + spare <= table.scrollable_content_region.width and all(
        k in [c.key.value for c in table.ordered_columns] for k in keys
    )


async def open_positions(app, pilot, tui) -> None:
    await tui.settle(pilot)
    app.session.order("BTCUSDT", "buy", Decimal("0.05"), margin_mode="isolated", leverage=25)
    app.session.order("ETHUSDT", "sell", Decimal("1"))
    app.trading.flush(force=True)
    await pilot.pause()


async def test_at_80x24_every_position_risk_the_account_and_the_keys_are_on_screen(
    app_factory, tui
):
    app = app_factory()
    async with app.run_test(size=SMALL) as pilot:
        await open_positions(app, pilot, tui)
        screen = app.trading
        assert screen.compact
        for widget in (screen.positions, screen.account, screen.status_bar):
            assert on_screen(widget, SMALL), widget
        assert screen.positions.row_keys == ["BTCUSDT", "ETHUSDT"]  # both rows, no scrolling
        assert columns_within(
            screen.positions, ["symbol", "side", "mode", "size", "liq", "dist", "upnl"]
        )
        strip = screen.account.render()
        assert isinstance(strip, Text)  # the two-line strip, not the column
        assert "Available" in strip.plain and "Cross ratio" in strip.plain
        keys = {k.key: k for k in screen.query_one(Footer).query(FooterKey)}
        for key in ("b", "s", "c", "slash", "question_mark", "q", "1"):
            assert on_screen(keys[key], SMALL), key


async def test_help_fits_and_keys_1_to_4_show_one_panel_at_a_time_on_a_small_terminal(
    app_factory, tui
):
    """At 80x24, in one terminal: help fits without scrolling; closed, keys 1 to 4 show one
    panel at a time."""
    app = app_factory()
    async with app.run_test(size=SMALL) as pilot:
        await tui.settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        dialog = app.screen.query_one("#help")
        assert on_screen(dialog, SMALL)
        assert dialog.max_scroll_y == 0 and dialog.max_scroll_x == 0
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.trading

        screen = app.trading
        assert not screen.query("#books")  # out of view: mounted when first shown (issue 14)
        panels = {
            "1": lambda: screen.watchlist,
            "2": lambda: screen.chart,
            "3": lambda: screen.books,
            "4": lambda: screen.log_panel,
        }
        for key, shown in panels.items():
            await pilot.press(key)
            await pilot.pause()
            there = [panel() for k, panel in panels.items() if k != "3" or screen.query("#books")]
            assert [w for w in there if on_screen(w, SMALL)] == [shown()], key
            assert on_screen(screen.positions, SMALL) and on_screen(screen.account, SMALL)
            # The account strip stays at the foot, right above the footer, under every panel.
            assert screen.account.region.bottom == SMALL[1] - 1, key


async def test_at_120x40_every_panel_is_on_screen_with_every_position_column(app_factory, tui):
    """Every panel at once; the positions show shorts negative, break-even and next funding
    (one terminal, the same two positions for both)."""
    app = app_factory()
    async with app.run_test(size=LARGE) as pilot:
        await open_positions(app, pilot, tui)
        screen = app.trading
        assert not screen.compact
        for widget in (
            screen.watchlist,
            screen.chart,
            screen.positions,
            screen.books,
            screen.log_panel,
            screen.account,
            screen.status_bar,
        ):
            assert on_screen(widget, LARGE), widget
        assert isinstance(screen.query_one(AccountPanel).render(), object)
        # The log has a share of the height (it had three lines under the account): the
        # orders over it, as wide; the account the column beside both. 17 rows under the
        # positions split 9/8: six lines of log inside its border.
        books, log, account = screen.books.region, screen.log_panel.region, screen.account.region
        assert (log.x, log.width, log.y) == (books.x, books.width, books.bottom)
        assert screen.log_panel.scrollable_content_region.height == 8 - 2 == 6
        assert account.x == books.right and (account.y, account.bottom) == (books.y, log.bottom)
        # Everything up to the next funding payment without sideways scrolling, with room
        # left for a vertical scrollbar (2 cells) when there are more positions than rows.
        assert columns_within(
            screen.positions, ["symbol", "mode", "upnl", "roe", "entry", "be", "funding"], spare=2
        )
        assert columns_within(
            screen.watchlist, ["symbol", "mark", "change", "funding", "next", "book", "last"]
        )
        table = app.trading.positions
        # BTC: bought 0.05 at the ask 95,000.0; fee 0.05 x 95,000 x 0.0005 = 2.375;
        # break-even 95,000 + 2.375 / 0.05 = 95,047.5.
        btc_fee = Decimal("0.05") * Decimal("95000.0") * TAKER
        assert btc_fee == Decimal("2.375")
        assert cell(table, "BTCUSDT", "be") == "95,047.5"
        # ETH: sold 1 at the bid 3,099.99; fee 1.549995; break-even 3,099.99 - 1.549995
        # = 3,098.440005, shown on the 0.01 tick: 3,098.44.
        assert cell(table, "ETHUSDT", "be") == "3,098.44"
        assert cell(table, "ETHUSDT", "side") == "SHORT"
        assert cell(table, "ETHUSDT", "size") == "-1.000"
        assert cell(table, "BTCUSDT", "size") == "0.050"
        # Next funding at rate 0.0001: BTC long pays 0.05 x 95,000 x 0.0001 = 0.475 -> -0.48
        # (half-even); ETH short receives 1 x 3,100 x 0.0001 = 0.31. Due in 7 h 59 min (the
        # fixture's countdown reads 07:59:51 in the watchlist).
        assert cell(table, "BTCUSDT", "funding") == "-0.48 7h59m"
        assert cell(table, "ETHUSDT", "funding") == "0.31 7h59m"


async def test_o_cycles_order_tabs_and_f_filters_them_to_the_selected_symbol(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=LARGE) as pilot:
        await tui.settle(pilot)
        session, screen = app.session, app.trading
        session.order("BTCUSDT", "buy", Decimal("0.01"))
        session.order("SOLUSDT", "buy", Decimal("10"), "limit", Decimal("130"))
        session.order("BTCUSDT", "buy", Decimal("0.01"), "limit", Decimal("90000"))
        screen.flush()
        await pilot.pause()
        assert screen.orders.row_keys == ["u2", "u3"]
        await pilot.press("o")
        assert screen.books.active == "tab-orders"
        assert screen.order_history.row_keys == ["u1", "u2", "u3"]
        assert cell(screen.order_history, "u1", "status") == "filled"
        assert cell(screen.order_history, "u2", "status") == "open"
        await pilot.press("o")
        assert screen.books.active == "tab-trades"
        assert screen.trades.row_keys == ["t1"]
        assert cell(screen.trades, "t1", "price") == "95,000.0"
        await pilot.press("o")
        assert screen.books.active == "tab-open"

        assert screen.selected_symbol == "BTCUSDT"
        await pilot.press("f")
        assert screen.symbol_filter == "BTCUSDT"
        assert screen.orders.row_keys == ["u3"]
        assert screen.order_history.row_keys == ["u1", "u3"]
        assert "BTCUSDT" in str(screen.books.border_title)
        await pilot.press("f")
        assert screen.symbol_filter is None
        assert screen.order_history.row_keys == ["u1", "u2", "u3"]


async def test_at_80x24_the_books_mount_when_first_shown_with_what_they_would_have_shown(
    app_factory, tui
):
    """Issue 14: on a small terminal the orders and histories start out of view and are
    mounted on first show; `x` before that cancels the order the hidden table's cursor had
    (the first), and the first `o` still lands on the order history."""
    app = app_factory()
    async with app.run_test(size=SMALL) as pilot:
        await tui.settle(pilot)
        session, screen = app.session, app.trading
        session.order("BTCUSDT", "buy", Decimal("0.01"))
        session.order("SOLUSDT", "buy", Decimal("10"), "limit", Decimal("130"))
        session.order("BTCUSDT", "buy", Decimal("0.01"), "limit", Decimal("90000"))
        screen.flush()
        await pilot.pause()
        assert not screen.query("#books")
        await pilot.press("x")
        await pilot.pause()
        assert sorted(session.engine.orders) == ["u3"]
        await pilot.press("o")
        await pilot.pause()
        assert screen.books.active == "tab-orders" and on_screen(screen.books, SMALL)
        assert screen.order_history.row_keys == ["u1", "u2", "u3"]
        history = screen.order_history  # (status is past the 80-column cut: its own cells)
        assert [str(history._cell(k, "status")) for k in ("u1", "u2", "u3")] == [
            "filled",
            "cancelled",
            "open",
        ]
        assert screen.orders.row_keys == ["u3"]
        assert str(screen.books.border_title) == "Orders · all symbols (f filters)"


async def test_a_small_terminal_grown_large_mounts_the_books(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=SMALL) as pilot:
        await tui.settle(pilot)
        app.session.order("BTCUSDT", "buy", Decimal("0.01"), "limit", Decimal("90000"))
        app.trading.flush()
        assert not app.trading.query("#books")
        await pilot.resize_terminal(*LARGE)
        await pilot.pause()
        assert on_screen(app.trading.books, LARGE)
        assert app.trading.orders.row_keys == ["u1"]
