"""Snapshots of the trading screen in hedge mode at 80×24 and 120×40: a long and a short of
BTCUSDT as two rows (LONG / SHORT, one shared liquidation price in cross), a resting closing
order, and the account panel saying the mode (the strip's HEDGE at 80×24). Same determinism
as `test_trading_snapshots.py`; regenerate with `--snapshot-update` and review the SVGs."""

from __future__ import annotations

from decimal import Decimal

import pytest

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.mark.parametrize("size", SIZES)
def test_hedged_btc_long_and_short(snap_compare, app_factory, tui, size):
    app = app_factory(name="snapshot")

    async def run_before(pilot) -> None:
        await tui.settle(pilot)
        session = app.session
        session.set_position_mode("hedge")
        session.order("BTCUSDT", "buy", Decimal("1"), position_side="long")
        session.order("BTCUSDT", "sell", Decimal("0.5"), position_side="short")
        session.order(
            "BTCUSDT", "sell", Decimal("0.5"), "limit", Decimal("99000.0"), position_side="long"
        )
        app.trading.flush(force=True)
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
