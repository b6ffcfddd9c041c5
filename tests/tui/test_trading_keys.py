"""Pilot tests: every key of the trading screen, on the fixture market and a real store.

Market at the end of the fixture (see conftest): BTCUSDT bid 94,999.9 / ask 95,000.0, mark
95,000.0; ETHUSDT bid 3,099.99 / ask 3,100.00, mark 3,100.00. Account: 10,000 USDT, taker fee
0.05 %, default 20x cross.
"""

from __future__ import annotations

import io
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import pytest
from rich.console import Console
from screen_host import until
from textual.widgets import Input

from papertrade.core import events as ev
from papertrade.saves.store import Store
from papertrade.tui.screens.help import HelpScreen
from papertrade.tui.screens.modals import AddSymbolModal, ConfirmModal, LeverageModal, MarginModal
from papertrade.tui.screens.ticket import OrderTicket
from papertrade.tui.widgets.choice import Choice


def rendered(renderable) -> str:
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def log_text(app) -> str:
    """The log as one line (the panel wraps long lines)."""
    return " ".join(" ".join(line.text for line in app.trading.log_panel.lines).split())


async def open_ticket(pilot, tui, key: str, qty: str) -> OrderTicket:
    await pilot.press(key)
    ticket = pilot.app.screen
    assert isinstance(ticket, OrderTicket)
    await tui.type_text(pilot, qty)
    await pilot.pause()
    return ticket


async def test_bad_quantity_is_shown_inline_and_nothing_is_sent(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        seq = app.writer.last_seq
        ticket = await open_ticket(pilot, tui, "b", "abc")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is ticket, "an invalid ticket must stay open"
        assert "not a quantity" in str(ticket.query_one("#ticket-error").render())
        # below the minimum notional (100 USDT): the engine's reason, inline
        await pilot.press(*["backspace"] * 3)
        await tui.type_text(pilot, "0.001")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is ticket
        assert "below the BTCUSDT minimum" in (ticket.error or "")
        assert app.writer.last_seq == seq, "nothing may be journaled"
        assert app.session.engine.positions == {}


async def test_dollar_quantity_preview_matches_a_hand_calculation(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        ticket = await open_ticket(pilot, tui, "b", "$500")
        p = ticket.preview
        assert p is not None and p.reason is None
        ask, mark, lev, fee_rate = Decimal("95000.0"), Decimal("95000.0"), 20, Decimal("0.0005")
        qty = (Decimal(500) / ask).quantize(Decimal("0.001"), rounding=ROUND_FLOOR)  # step
        assert qty == Decimal("0.005")
        notional = qty * ask  # 475
        assert p.qty == qty
        assert p.notional == notional
        # cross: initial margin at mark + Binance's open loss (ask above mark: none here)
        assert p.required_margin == qty * mark / lev + qty * max(Decimal(0), ask - mark)
        assert p.fee == notional * fee_rate
        # cross: the whole cross wallet is at risk (after paying the fee)
        assert p.max_loss == Decimal(10000) - notional * fee_rate
        shown = rendered(ticket._preview_renderable())
        assert "whole cross balance" in shown
        assert "9,999.76" in shown


async def test_percent_quantity_isolated_preview_and_liquidation_price(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        ticket = await open_ticket(pilot, tui, "b", "25%")
        ticket.query_one("#mode", Choice).value = "isolated"
        lev_input = ticket.query_one("#leverage", Input)
        lev_input.value = "10"
        await pilot.pause()
        ticket.recompute()
        p = ticket.preview
        assert p is not None and p.reason is None, ticket.error
        ask, lev, fee = Decimal("95000.0"), 10, Decimal("0.0005")
        # 25 % of the available 10,000 as margin plus the opening fee at 10x, in BTC, floored
        # to the 0.001 step: 25000 / (95000 * 1.005) = 0.26184...
        qty = (Decimal(10000) * Decimal("0.25") * lev / (ask * (1 + lev * fee))).quantize(
            Decimal("0.001"), rounding=ROUND_FLOOR
        )
        assert p.qty == qty == Decimal("0.261")
        margin = qty * ask / lev  # isolated margin = initial margin at the fill price
        assert p.required_margin == margin == Decimal("2479.5")
        assert p.max_loss == margin, "isolated: the most it can lose is its own margin"
        # Binance isolated long: LP = (WB + cum - Q*EP) / (Q*MMR - Q), first bracket
        # (mmr 0.4 %, cum 0), shown on the tick grid rounded down for a long
        lp = (margin + 0 - qty * ask) / (qty * Decimal("0.004") - qty)
        assert p.liquidation_price == lp.quantize(Decimal("0.1"), rounding=ROUND_FLOOR)
        shown = rendered(ticket._preview_renderable())
        assert "own margin" in shown and "2,479.50" in shown


async def test_submit_opens_a_position_and_c_closes_it(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await open_ticket(pilot, tui, "b", "0.01")
        await pilot.press("enter")
        await pilot.pause()
        engine = app.session.engine
        pos = engine.positions["BTCUSDT"]
        assert (pos.qty, pos.side, pos.entry) == (Decimal("0.01"), "long", Decimal("95000.0"))
        app.trading.flush()
        assert app.trading.positions.row_keys == ["BTCUSDT"]
        assert "FILL buy 0.01 BTCUSDT" in log_text(app)
        await pilot.press("c")  # asks how much: enter takes the whole position
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert "BTCUSDT" not in engine.positions
        assert app.trading.positions.row_keys == []
        assert "FILL sell 0.01 BTCUSDT @ 94999.9" in log_text(app)


async def test_sell_ticket_opens_a_short(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await open_ticket(pilot, tui, "s", "0.01")
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.engine.positions["BTCUSDT"].side == "short"


async def test_margin_mode_switches_and_is_rejected_with_a_position(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        engine = app.session.engine
        await pilot.press("m")
        await pilot.pause()
        assert engine.symbol_setting("BTCUSDT")[0] == "isolated"
        await pilot.press("m")
        await pilot.pause()
        assert engine.symbol_setting("BTCUSDT")[0] == "cross"
        app.session.order("BTCUSDT", "buy", Decimal("0.01"))
        await pilot.press("m")
        await pilot.pause()
        app.trading.flush()
        assert engine.symbol_setting("BTCUSDT")[0] == "cross"
        assert "REJECTED set_margin_mode: cannot switch BTCUSDT" in log_text(app)


async def test_leverage_dialog_validates_and_sets(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await pilot.press("l")
        dialog = app.screen
        assert isinstance(dialog, LeverageModal)
        await pilot.press(*["backspace"] * 3)
        await tui.type_text(pilot, "500")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog, "500x is above BTCUSDT's 150x: stays open"
        await pilot.press(*["backspace"] * 3)
        await tui.type_text(pilot, "10")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is app.trading
        assert app.session.engine.symbol_setting("BTCUSDT") == ("cross", 10)


async def test_add_and_remove_isolated_margin(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        engine = app.session.engine
        app.session.order("BTCUSDT", "buy", Decimal("0.01"), margin_mode="isolated", leverage=10)
        margin = engine.positions["BTCUSDT"].margin
        assert margin == Decimal("95.0")
        await pilot.press("a")
        assert isinstance(app.screen, MarginModal)
        await tui.type_text(pilot, "100")
        await pilot.press("enter")
        await pilot.pause()
        assert engine.positions["BTCUSDT"].margin == margin + 100
        await pilot.press("a")
        await tui.type_text(pilot, "-50")
        await pilot.press("enter")
        await pilot.pause()
        assert engine.positions["BTCUSDT"].margin == margin + 50
        app.trading.flush()
        assert "USDT added to BTCUSDT isolated margin" in log_text(app)


async def test_margin_key_refuses_a_cross_position(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        app.session.order("BTCUSDT", "buy", Decimal("0.01"))
        await pilot.press("a")
        await pilot.pause()
        assert app.screen is app.trading


async def test_cancel_selected_order_and_cancel_all_with_confirmation(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        engine = app.session.engine
        for price in ("90000", "89000", "88000"):
            app.session.order("BTCUSDT", "buy", Decimal("0.01"), "limit", Decimal(price))
        assert len(engine.orders) == 3
        app.trading.flush()
        app.trading.orders.focus()
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert len(engine.orders) == 2
        await pilot.press("X")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await pilot.pause()
        assert len(engine.orders) == 2
        await pilot.press("X")
        await pilot.press("y")
        await pilot.pause()
        assert engine.orders == {}
        app.trading.flush()
        assert app.trading.orders.row_keys == []


async def test_add_symbol_by_fuzzy_search_and_remove_it(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await pilot.press("slash")
        assert isinstance(app.screen, AddSymbolModal)
        await tui.type_text(pilot, "doge")
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.watchlist[-1] == "DOGEUSDT"
        assert "DOGEUSDT" in app.trading.watchlist.row_keys
        table = app.trading.watchlist
        table.focus()
        table.move_cursor(row=table.row_keys.index("DOGEUSDT"))
        await pilot.pause()
        await pilot.press("delete")
        await pilot.pause()
        assert "DOGEUSDT" not in app.session.watchlist
        assert "DOGEUSDT" not in table.row_keys


async def test_tab_jk_the_ticket_and_help_move_around_and_come_back(app_factory, tui):
    """Moving around changes nothing: Tab and j/k within and between panels, then the ticket
    (on the first symbol, quantity focused) and help each open and close with Escape. One
    terminal for all three: each step starts where the last came back to."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = app.trading
        assert screen.focused is screen.watchlist
        await pilot.press("j")
        assert screen.watchlist.cursor_row == 1
        assert screen.selected_symbol == "ETHUSDT"
        await pilot.press("k")
        assert screen.selected_symbol == "BTCUSDT"
        await pilot.press("tab")
        assert screen.focused is screen.positions
        await pilot.press("shift+tab")
        assert screen.focused is screen.watchlist

        await pilot.press("b")
        ticket = app.screen
        assert isinstance(ticket, OrderTicket)
        assert (ticket.symbol, ticket.side) == ("BTCUSDT", "buy")
        assert ticket.focused is ticket.query_one("#qty", Input)
        await pilot.press("escape")
        assert app.screen is app.trading
        assert app.session.engine.positions == {}

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.screen is app.trading


async def test_quit_saves_the_session_with_every_input(app_factory, tui, tmp_path):
    app = app_factory(name="quit-test")
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await open_ticket(pilot, tui, "b", "0.01")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("c", "enter")
        await pilot.pause()
        await pilot.press("q")  # -> summary
        await pilot.pause()
        await pilot.press("q")  # summary -> exit
        await pilot.pause()
    assert app.saved_status == "ended"
    with Store.open(tmp_path / "papertrade.db") as store:
        info = store.session("quit-test")
        assert info.status == "ended"
        events = [e for _, e in store.events(info.id)]
    commands = [e for e in events if isinstance(e, ev.PlaceOrder | ev.ClosePosition)]
    assert [type(c).__name__ for c in commands] == ["PlaceOrder", "ClosePosition"]
    assert sum(isinstance(e, ev.MarkPrice) for e in events) == 50  # 5 symbols x 10 marks


async def test_a_failing_feed_worker_is_reported_to_the_user(app_factory, tui):
    app = app_factory()

    def broken(symbols):
        raise ConnectionError("venue said no")

    app.feed_factory = broken
    seen: list[Any] = []
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.trading.flush()
        assert "feed stopped: ConnectionError: venue said no" in log_text(app)
    failed = [m for m in seen if type(m).__name__ == "StateChanged" and m.state.name == "ERROR"]
    assert failed and failed[0].worker.name == "feed"


async def test_palette_offers_cancel_all_only_with_open_orders(app_factory, tui):
    from papertrade.tui.screens.palette import TradingCommands

    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        provider = TradingCommands(app.trading)
        names = [name for name, _, _ in provider._commands()]
        assert not any(n.startswith("Cancel all") for n in names)
        assert not any(n.startswith("Close ") for n in names)
        app.session.order("BTCUSDT", "buy", Decimal("0.01"), "limit", Decimal("90000"))
        app.session.order("ETHUSDT", "buy", Decimal("0.1"))
        names = [name for name, _, _ in provider._commands()]
        assert "Cancel all orders (1)" in names
        assert "Close ETHUSDT position" in names


async def test_margin_warning_then_liquidation_toast_bell_and_log(app_factory, tui):
    app = app_factory()
    bells = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        session = app.session
        session.order("BTCUSDT", "buy", Decimal("0.2"), margin_mode="isolated", leverage=100)
        app.trading.flush()
        ts = session.engine.last_ts
        # isolated margin 190, MM 0.4 %: at 94,495 the ratio is ~85 %
        session.on_market(ev.MarkPrice(ts + 1000, "BTCUSDT", Decimal("94495")))
        app.trading.flush()
        await pilot.pause()
        titles = [n.title for n in app._notifications]
        assert "Margin warning" in titles
        session.on_market(ev.MarkPrice(ts + 2000, "BTCUSDT", Decimal("90000")))
        app.trading.flush()
        await pilot.pause()
        assert bells == [1]
        assert "Liquidation" in [n.title for n in app._notifications]
        assert (
            "LIQUIDATED isolated long 0.2 BTCUSDT at mark 90000: the account lost this "
            "position's margin, 190.00 USDT; nothing else" in log_text(app)
        )
        assert app.trading.positions.row_keys == []


async def test_shift_s_opens_the_sessions_screen(app_factory, tui):
    sessions = pytest.importorskip("papertrade.tui.screens.sessions")
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await pilot.press("S")
        await pilot.pause()
        assert isinstance(app.screen, sessions.SessionsScreen)


async def test_unreachable_venue_says_so_and_points_to_the_sim_feed(app_factory, tui):
    from papertrade.tui.app import OFFLINE_HINT, OFFLINE_LOG, FeedConfig

    app = app_factory()
    # nothing listens on port 9: every connect is refused at once, the supervisor retries
    app.feed_config = FeedConfig(spec="binance", ws_url="ws://127.0.0.1:9")
    app.feed_factory = app.feed_config.open
    async with app.run_test(size=(120, 40)) as pilot:

        def reconnecting() -> bool:
            feed = app.feeds.get("main")
            return feed is not None and feed.status.state == "reconnecting"

        await until(pilot, reconnecting, "the feed to retry")
        app.trading.flush()
        await pilot.pause()
        bar = str(app.trading.status_bar.render())
        assert "reconnecting in" in bar
        assert OFFLINE_HINT in bar
        assert "feed binance: reconnecting" in log_text(app)
        assert " ".join(OFFLINE_LOG.split()) in " ".join(log_text(app).split())


async def test_close_acts_on_the_positions_row_and_never_guesses(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        engine = app.session.engine
        app.session.order("ETHUSDT", "buy", Decimal("0.1"))
        app.session.order("SOLUSDT", "buy", Decimal("1"))
        app.trading.flush()
        await pilot.press("c")  # BTCUSDT selected in the watchlist: no position there
        await pilot.pause()
        assert set(engine.positions) == {"ETHUSDT", "SOLUSDT"}
        await pilot.press("tab")  # positions panel: rows ETHUSDT, SOLUSDT
        await pilot.press("j")
        await pilot.press("c", "enter")  # enter: the whole position
        await pilot.pause()
        assert set(engine.positions) == {"ETHUSDT"}
