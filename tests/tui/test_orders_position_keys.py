"""Issue 12 from the positions table: "no SL", the TP/SL column, `t` (position TP/SL by price
or ROE %), `B` (stop-loss to break-even) and `e` (amend an open order).

Fixture market at its end (see conftest): BTCUSDT bid 94,999.9 / ask 95,000.0, mark and last
95,000.0; taker fee 0.05 %; BTCUSDT tick 0.1.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from textual.widget import Widget
from textual.widgets import Input

from papertrade.tui.screens.stops import AmendModal, TpSlModal
from papertrade.tui.widgets.choice import Choice


async def _long(pilot: Any, tui: Any, qty: str = "0.1", **kw: Any) -> None:
    app = pilot.app
    await tui.settle(pilot)
    app.session.order("BTCUSDT", "buy", D(qty), **kw)
    app.trading.flush()
    await pilot.pause()
    app.trading.positions.focus()
    await pilot.pause()


def _tpsl(app: Any) -> str:
    return str(app.trading.positions._cell("BTCUSDT", "tpsl"))


def _waiting(app: Any) -> dict[str, Any]:
    return {o.command.order_type: o.command for o in app.session.engine.algo}


async def test_t_sets_tp_and_sl_by_price_and_the_column_shows_them(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(160, 40)) as pilot:
        await _long(pilot, tui)
        assert _tpsl(app) == "--/no SL"
        await pilot.press("t")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, TpSlModal)
        modal.query_one("#tp", Input).value = "97000"
        modal.query_one("#sl", Input).value = "94000"
        modal.query_one("#on", Choice).value = "mark"
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        orders = _waiting(app)
        tp, sl = orders["take_profit_market"], orders["stop_market"]
        assert (tp.trigger_price, sl.trigger_price) == (D("97000"), D("94000"))
        assert tp.close_position and sl.close_position and sl.working_type == "mark"
        assert tp.side == sl.side == "sell"
        app.trading.flush()
        await pilot.pause()
        assert _tpsl(app) == "97,000.0/94,000.0"
        # t again edits: the fields hold the current triggers; a new SL replaces the old one,
        # an emptied TP removes it
        await pilot.press("t")
        await pilot.pause()
        modal = app.screen
        assert modal.query_one("#sl", Input).value == "94000"
        modal.query_one("#sl", Input).value = "94500"
        modal.query_one("#tp", Input).value = ""
        await pilot.press("enter")
        await pilot.pause()
        assert [
            (o.command.order_type, o.command.trigger_price) for o in app.session.engine.algo
        ] == [("stop_market", D("94500"))]


async def test_t_by_roe_percent_puts_the_triggers_on_the_tick_grid(app_factory, tui):
    """Long 0.1 at 95,000, 20x. TP at +20 % ROE: 95,000 x (1 + 20/(100 x 20)) = 95,950.0.
    SL typed 15 (a stop is a loss: -15 %): 95,000 x (1 - 15/2000) = 94,287.5."""
    app = app_factory()
    async with app.run_test(size=(160, 40)) as pilot:
        await _long(pilot, tui)
        await pilot.press("t")
        await pilot.pause()
        modal = app.screen
        modal.query_one("#by", Choice).value = "roe"
        modal.query_one("#tp", Input).value = "20"
        modal.query_one("#sl", Input).value = "15"
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        orders = _waiting(app)
        assert orders["take_profit_market"].trigger_price == D("95950.0")
        assert orders["stop_market"].trigger_price == D("94287.5")


async def test_t_refuses_bad_input_inline(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(160, 40)) as pilot:
        await _long(pilot, tui)
        await pilot.press("t")
        await pilot.pause()
        modal = app.screen
        modal.query_one("#sl", Input).value = "1,5"
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is modal and not list(app.session.engine.algo)
        await pilot.press("escape")


async def test_B_moves_the_stop_to_break_even_including_fees(app_factory, tui):
    """Long 0.1 at 95,000: fee 95,000 x 0.1 x 0.0005 = 4.75; break-even 95,000 + 4.75 / 0.1
    = 95,047.5 (on the tick). The market is at 95,000, below it: a sell stop there would
    trigger at once, so the engine refuses and the log says why; once the last price is
    above, B places it and the TP/SL column shows it."""
    from papertrade.core import events as ev

    app = app_factory()
    async with app.run_test(size=(160, 40)) as pilot:
        await _long(pilot, tui)
        await pilot.press("B")
        await pilot.pause()
        app.trading.flush()
        await pilot.pause()
        assert not list(app.session.engine.algo)
        log = " ".join(line.text for line in app.trading.log_panel.lines)
        assert "REJECTED order" in log
        ts = app.session.engine.last_ts
        app.session.on_market(ev.Trade(ts + 1000, "BTCUSDT", D("95500"), D("1")))
        await pilot.press("B")
        await pilot.pause()
        (stop,) = list(app.session.engine.algo)
        assert stop.command.trigger_price == D("95047.5") and stop.command.close_position
        app.trading.flush()
        await pilot.pause()
        assert _tpsl(app) == "--/95,047.5"


async def test_e_amends_a_stops_trigger_keeping_its_id(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(160, 40)) as pilot:
        await _long(pilot, tui)
        app.session.order(
            "BTCUSDT",
            "sell",
            D("0.1"),
            "stop_limit",
            D("93900"),
            trigger_price=D("94000"),
            reduce_only=True,
        )
        app.trading.flush()
        await pilot.pause()
        app.trading.orders.focus()
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, AmendModal)
        modal.query_one("#trigger", Input).value = "94200"
        modal.query_one("#price", Input).value = "94100"
        modal.query_one("#trigger", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        (stop,) = list(app.session.engine.algo)
        assert (stop.id, stop.command.trigger_price, stop.command.price) == (
            "u2",
            D("94200"),
            D("94100"),
        )


async def test_the_tp_sl_fields_are_on_their_rows_where_the_trader_can_see_them(app_factory, tui):
    # Found in tmux: a dialog-wide input margin pushed each field a line below its one-line
    # row, out of sight; typed prices were invisible. Each field shares its label's line.
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _long(pilot, tui)
        await pilot.press("t")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, TpSlModal)
        for field in ("tp", "sl"):
            box = modal.query_one(f"#{field}", Input)
            row = box.parent
            assert isinstance(row, Widget)
            assert box.region.height == 1 and box.region.width > 10
            assert box.region.y == row.region.y  # on the row's line, not clipped below it
