"""Snapshots of still states of the trading screen at 80×24 and 120×40.

Deterministic: the fixture market through the real file feed (unpaced, finite), a fixed
session name and log clock, a fixed terminal size, no cursor blink. Regenerate the baselines
with `pytest tests/tui/test_trading_snapshots.py --snapshot-update` and review the SVGs.

At 80×24 the screen is the small layout (positions, account strip, feed status, footer and
one panel chosen with 1-4); at 120×40 every panel at once.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from textual.widgets import Input

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


async def settled(app, pilot, tui) -> None:
    """The fixture played out and every panel drawn — the chart too, which otherwise redraws
    at most once a second of wall time, so its state would depend on how fast the test ran."""
    await tui.settle(pilot)
    app.trading.flush(force=True)
    await pilot.pause()


async def trade(app, pilot, tui) -> None:
    """A long isolated BTC, a short cross ETH and a resting SOL limit, toasts cleared."""
    await settled(app, pilot, tui)
    session = app.session
    session.order("BTCUSDT", "buy", Decimal("0.05"), margin_mode="isolated", leverage=25)
    session.order("ETHUSDT", "sell", Decimal("1"))
    session.order("SOLUSDT", "buy", Decimal("10"), "limit", Decimal("130"))
    app.trading.flush(force=True)
    await pilot.pause()


async def still(app, pilot) -> None:
    app.clear_notifications()  # toasts come and go: not part of a still state
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_main_screen_with_a_position_and_an_order(snap_compare, app_factory, tui, size):
    app = app_factory(name="snapshot")

    async def run_before(pilot) -> None:
        await trade(app, pilot, tui)
        await still(app, pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_trade_history_tab_after_a_close(snap_compare, app_factory, tui, size):
    app = app_factory(name="snapshot")

    async def run_before(pilot) -> None:
        await trade(app, pilot, tui)
        app.session.close("ETHUSDT")
        app.trading.flush(force=True)
        await pilot.press("o", "o")  # open orders -> order history -> trades
        await pilot.pause()
        await still(app, pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_chart_panel(snap_compare, app_factory, tui, size):
    app = app_factory(name="snapshot")

    async def run_before(pilot) -> None:
        await trade(app, pilot, tui)
        await pilot.press("2")
        await pilot.pause()
        await still(app, pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_order_ticket_cross_preview(snap_compare, app_factory, tui, size):
    app = app_factory(name="snapshot")

    async def run_before(pilot) -> None:
        await settled(app, pilot, tui)
        await pilot.press("b")
        for widget in app.screen.query(Input):
            widget.cursor_blink = False
        await tui.type_text(pilot, "$2000")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, app_factory, tui, size):
    app = app_factory(name="snapshot")

    async def run_before(pilot) -> None:
        await settled(app, pilot, tui)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
