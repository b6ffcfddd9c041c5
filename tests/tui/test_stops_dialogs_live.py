"""The `t` and `e` dialogs show the market they act on (their backdrop is a still): what each
TP/SL leg would make or lose, how far a typed price is from the market, and a trigger the
market has already passed (the exchange refuses it: -2021), re-read while the dialog is up.

Fixture market at its end (see conftest): BTCUSDT bid 94,999.9 / ask 95,000.0, mark and last
95,000.0; tick 0.1. Every figure below by hand.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from screen_host import until
from textual.widgets import Input

from papertrade.core import events as ev
from papertrade.tui.screens.stops import AmendModal, TpSlModal


async def _long(pilot: Any, tui: Any) -> None:
    app = pilot.app
    await tui.settle(pilot)
    app.session.order("BTCUSDT", "buy", D("0.1"))  # fills at the ask, 95,000.0
    app.trading.flush()
    await pilot.pause()
    app.trading.positions.focus()
    await pilot.pause()


async def test_t_shows_each_legs_pnl_its_distance_and_a_stop_already_passed(app_factory, tui):
    """Long 0.1 at 95,000.0, last 95,000.0.
    TP 97,000: (97,000 - 95,000) / 95,000 = +2.105 % -> "+2.11%"; 0.1 x 2,000 = +200.00.
    SL 94,000: -1,000 / 95,000 = -1.053 % -> "-1.05%"; 0.1 x -1,000 = -100.00.
    SL 95,500: a sell stop fires at or below its trigger; 95,000 is already there: refused.
    Then a trade at 95,600 moves the last price under the open dialog: the SL at 95,500 is
    now 100 below it, (95,500 - 95,600) / 95,600 = -0.105 % -> "-0.10%"; 0.1 x 500 = +50.00."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _long(pilot, tui)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TpSlModal), "the TP/SL dialog")
        modal = app.screen
        preview = modal.query_one("#tpsl-preview")

        def shown() -> str:
            return str(preview.render())

        assert "last 95,000.0 · mark 95,000.0" in str(modal.query_one("#tpsl-market").render())
        modal.query_one("#tp", Input).value = "97000"
        modal.query_one("#sl", Input).value = "94000"
        await until(pilot, lambda: "TP 97,000.0" in shown(), "the preview")
        assert "TP 97,000.0 · +2.11% from last · PnL 200.00 before fees" in shown()
        assert "SL 94,000.0 · -1.05% from last · PnL -100.00 before fees" in shown()
        modal.query_one("#sl", Input).value = "95500"
        await until(pilot, lambda: "SL 95,500.0" in shown(), "the new stop")
        assert "SL 95,500.0 · last 95,000.0 is past it: refused (fires at once)" in shown()
        engine = app.session.engine
        app.session.on_market(ev.Trade(engine.last_ts + 1000, "BTCUSDT", D("95600.0"), D("1")))
        await until(pilot, lambda: "refused" not in shown(), "the dialog to re-read the last")
        assert "SL 95,500.0 · -0.10% from last · PnL 50.00 before fees" in shown()
        await pilot.press("escape")


async def test_e_shows_how_far_the_typed_trigger_is_and_refuses_one_already_passed(
    app_factory, tui
):
    """A reduce-only stop-limit sell, trigger 94,000, under a long; last 95,000.0.
    Trigger 94,000: -1,000 / 95,000 -> "-1.05% from last"; limit 93,900: -1,100 / 95,000 =
    -1.158 % -> "-1.16% from last". Typed trigger 95,200: a sell stop fires at or below its
    trigger, and 95,000 is below it: already past, refused."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
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
        await until(pilot, lambda: isinstance(app.screen, AmendModal), "the amend dialog")
        modal = app.screen
        line = modal.query_one("#amend-market")

        def shown() -> str:
            return str(line.render())

        await until(pilot, lambda: "from last" in shown(), "the distances")
        assert "last 95,000.0 · mark 95,000.0 · bid 94,999.9 · ask 95,000.0" in shown()
        assert "limit -1.16% from last" in shown()
        assert "trigger -1.05% from last" in shown() and "refused" not in shown()
        modal.query_one("#trigger", Input).value = "95200"
        await until(pilot, lambda: "refused" in shown(), "the passed trigger")
        assert "trigger +0.21% from last · last is past it: refused (fires at once)" in shown()
        await pilot.press("escape")
