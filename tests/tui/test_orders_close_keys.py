"""Issue 12: `c` asks how much of the position to close, `r` reverses it with one order
costed as a flip, `C` closes every position behind a confirmation.

Fixture market at its end (see conftest): BTCUSDT bid 94,999.9 / ask 95,000.0, taker fee
0.05 %, quantity step 0.001.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from screen_host import until

from papertrade.core import events as ev
from papertrade.tui.screens.modals import ConfirmModal
from papertrade.tui.screens.stops import CloseModal
from papertrade.tui.widgets.choice import Choice


async def _long(pilot: Any, tui: Any, qty: str) -> None:
    await tui.settle(pilot)
    pilot.app.session.order("BTCUSDT", "buy", D(qty))
    pilot.app.trading.flush()
    await pilot.pause()


async def test_c_closes_the_chosen_part_and_enter_takes_100_percent(app_factory, tui):
    """Long 0.1: `c`, `←` twice (100 % -> 50 %), enter: a reduce-only sell of 0.05 leaves
    0.05. `c` then `1` picks 25 %: 0.05 x 0.25 = 0.0125, on the 0.001 step 0.012, leaving
    0.038. `c` enter closes the rest."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _long(pilot, tui, "0.1")
        engine = app.session.engine
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CloseModal), "the close dialog")
        assert app.screen.query_one("#fraction", Choice).value == "1"
        await pilot.press("left", "left", "enter")
        await until(pilot, lambda: app.screen is app.trading, "the dialog to go")
        assert engine.positions["BTCUSDT"].qty == D("0.050")
        await pilot.press("c", "1", "enter")
        await until(pilot, lambda: engine.positions["BTCUSDT"].qty == D("0.038"), "a quarter")
        await pilot.press("c", "enter")
        await until(pilot, lambda: "BTCUSDT" not in engine.positions, "the rest")


async def test_escape_in_the_close_dialog_keeps_the_position(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _long(pilot, tui, "0.1")
        await pilot.press("c", "escape")
        await until(pilot, lambda: app.screen is app.trading, "the dialog to go")
        assert app.session.engine.positions["BTCUSDT"].qty == D("0.1")


async def test_r_reverses_with_one_order_and_says_its_cost(app_factory, tui):
    """Long 0.1 at 95,000: the flip sells 0.2 at the bid 94,999.9 — fee 0.2 x 94,999.9 x
    0.0005 = 9.49999 -> 9.50 USDT — and leaves a short of 0.1, in one order."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _long(pilot, tui, "0.1")
        engine = app.session.engine
        fills_before = len(app.session.ledger.trades)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        question = app.screen.question
        assert "Reverse LONG 0.100 BTCUSDT to SHORT?" in question
        assert "One market order of 0.200 at ~94,999.9: fee 9.50 USDT" in question
        await pilot.press("y")
        await until(pilot, lambda: engine.positions["BTCUSDT"].side == "short", "the flip")
        pos = engine.positions["BTCUSDT"]
        assert pos.qty == D("0.1") and pos.entry == D("94999.9")
        assert len(app.session.ledger.trades) == fills_before + 1


async def test_C_closes_every_position_after_asking(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _long(pilot, tui, "0.01")
        app.session.order("ETHUSDT", "sell", D("0.1"))
        engine = app.session.engine
        await pilot.press("C")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        assert app.screen.question == "Close all 2 positions at market?"
        await pilot.press("n")
        await until(pilot, lambda: app.screen is app.trading, "no")
        assert set(engine.positions) == {"BTCUSDT", "ETHUSDT"}
        await pilot.press("C", "y")
        await until(pilot, lambda: engine.positions == {}, "every position closed")


async def test_the_close_dialog_shows_the_live_mark_and_the_parts_pnl(app_factory, tui):
    """The backdrop behind a dialog is a still, so the close dialog says the price it would
    meet. Long 0.1 at the ask 95,000.0, marked at 95,000.0: PnL 0.00. The mark moves to
    95,100.0 while the dialog is up: 0.1 x (95,100 - 95,000) = +10.00; at 50 %, +5.00."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await _long(pilot, tui, "0.1")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CloseModal), "the close dialog")
        what = app.screen.query_one("#close-what")

        def shown() -> str:
            return str(what.render())

        assert "mark 95,000.0 · its PnL now 0.00 USDT" in shown()
        engine = app.session.engine
        app.session.on_market(ev.MarkPrice(engine.last_ts + 1000, "BTCUSDT", D("95100.0")))
        await until(pilot, lambda: "mark 95,100.0" in shown(), "the dialog to re-read the mark")
        assert "its PnL now 10.00 USDT, before the taker fee" in shown()
        await pilot.press("2")
        await until(pilot, lambda: "PnL now 5.00" in shown(), "half of it")
        await pilot.press("escape")
