"""Snapshots of still states: the main screen with a position and an order, and the ticket.

Deterministic: the fixture market through the real file feed (unpaced, finite), a fixed
session name and log clock, a fixed terminal size, no cursor blink. Regenerate the baselines
with `pytest tests/tui/test_trading_snapshots.py --snapshot-update` and review the SVGs.
"""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import Input

SIZE = (120, 40)


def test_main_screen_with_a_position_and_an_order(snap_compare, app_factory, tui):
    app = app_factory(name="snapshot")

    async def run_before(pilot) -> None:
        await tui.settle(pilot)
        session = app.session
        session.order("BTCUSDT", "buy", Decimal("0.05"), margin_mode="isolated", leverage=25)
        session.order("ETHUSDT", "sell", Decimal("1"))
        session.order("SOLUSDT", "buy", Decimal("10"), "limit", Decimal("130"))
        app.trading.flush(force=True)
        await pilot.pause()
        app.clear_notifications()  # toasts come and go: not part of a still state
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_order_ticket_cross_preview(snap_compare, app_factory, tui):
    app = app_factory(name="snapshot")

    async def run_before(pilot) -> None:
        await tui.settle(pilot)
        await pilot.press("b")
        for widget in app.screen.query(Input):
            widget.cursor_blink = False
        await tui.type_text(pilot, "$2000")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
