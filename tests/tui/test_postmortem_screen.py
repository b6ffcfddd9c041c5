"""The liquidation post-mortem screen: opened from the trading screen (`P`, the palette),
read from the saved session, with numbers worked out by hand; snapshots at 80×24 and 120×40.

`btc-crash-cross.jsonl` (10,000 USDT, no fees): 10 ETH long at 3,000 and 0.5 BTC long at
60,000, both cross; BTC marks 58,000 … 44,000, 40,000 — the cross pool is liquidated at
40,000. By hand:

- the pool (cross wallet + uPnL) goes from 10,000 to 10,000 + 0.5 × (40,000 − 60,000) = 0:
  BTC's PnL −10,000, ETH's 0 (its mark stays 3,000), no funding, fees or margin moves;
- maintenance margin at the trigger, both in the first bracket of the bundled Binance
  instruments (MMR 0.4 %): BTC 0.5 × 40,000 × 0.004 = 80, ETH 10 × 3,000 × 0.004 = 120; the
  pool holds 0, so 200 is needed and the least whole cent above it is 200.01;
- the last losing mark before 40,000 is 44,000: a stop there loses 0.5 × 16,000 = 8,000;
- ETH went down with it: worth 10 × 3,000 = 30,000 a moment before, uPnL 0.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from drill_app import drill_app
from rich.console import Console
from screen_host import until
from textual.widgets import Static

from papertrade.tui.screens.palette import TradingCommands
from papertrade.tui.screens.postmortem import PostMortemScreen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]

BTC_PNL = Decimal("0.5") * (Decimal("40000") - Decimal("60000"))
MMR = Decimal("0.004")
MAINTENANCE = Decimal("0.5") * 40000 * MMR + 10 * 3000 * MMR
POOL_AT_TRIGGER = Decimal("10000") + BTC_PNL
ADD = MAINTENANCE - POOL_AT_TRIGGER + Decimal("0.01")
STOP_LOSS = Decimal("0.5") * (Decimal("60000") - Decimal("44000"))


async def _settled(app: Any, pilot: Any) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.trading.flush(force=True)
    await pilot.pause()
    app.clear_notifications()
    await pilot.pause()


async def _opened(app: Any, pilot: Any) -> PostMortemScreen:
    await until(
        pilot,
        lambda: isinstance(app.screen, PostMortemScreen) and app.screen.reports is not None,
        "the post-mortem read from the session",
    )
    screen = app.screen
    assert isinstance(screen, PostMortemScreen)
    await pilot.pause()
    return screen


def _text(screen: PostMortemScreen) -> str:
    """The breakdown as drawn, plain, its lines joined (a long row wraps), spaces collapsed."""
    widget = screen.query_one("#pm-breakdown", Static)
    console = Console(width=widget.content_size.width, record=True, file=io.StringIO())
    console.print(widget.content)
    return " ".join(console.export_text().split())


async def test_p_or_the_palette_opens_the_last_liquidation_taken_apart(tmp_path: Path) -> None:
    """`P` opens it; closed with Escape, the palette offers it and opens it again (one
    terminal for both ways in)."""
    app = drill_app(tmp_path)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await _settled(app, pilot)
            log = " ".join(" ".join(strip.text for strip in app.trading.log_panel.lines).split())
            assert "P: the post-mortem of this liquidation" in log
            await pilot.press("P")
            screen = await _opened(app, pilot)
            report = screen.shown
            assert report is not None and screen.number == 1 and len(screen.reports or []) == 1
            assert report.contributions == {"BTCUSDT": BTC_PNL, "ETHUSDT": Decimal(0)}
            assert report.drop == -BTC_PNL
            assert report.survive_with_added_margin == ADD == Decimal("200.01")
            text = _text(screen)
            assert "Margin balance 10,000.00 → 0.00" in text
            assert "BTCUSDT PnL -10,000.00" in text
            assert "drop -10,000.00" in text
            assert "BTCUSDT long 0.5 drained the cross pool" in text
            assert "took ETHUSDT long 10 down with it, worth 30,000.00" in text
            assert "its uPnL a moment before 0.00" in text
            assert "adding margin 200.01" in text
            assert f"a stop at 44000: loss capped at {STOP_LOSS:,.2f}" in text
            title = str(screen.query_one("#pm-title", Static).content)
            assert "Post-mortem 1/1 · cross account · BTCUSDT mark 40000" in title
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.trading, "back on the trading screen")

            # closed, the same liquidation is offered by the palette
            helps = {n: h for n, _, h in TradingCommands(app.trading)._commands()}
            assert helps["Post-mortem of the last liquidation"].endswith("(P)")
            await pilot.press("ctrl+p")
            await pilot.pause()
            for key in "post-mortem":
                await pilot.press({"-": "minus"}.get(key, key))
            await pilot.pause()
            await pilot.press("enter")
            screen = await _opened(app, pilot)
            assert screen.shown is not None and screen.shown.symbol == "BTCUSDT"
    finally:
        app.close_session("ended")
        app.store.close()


async def test_arrows_step_through_the_session_s_liquidations(tmp_path: Path) -> None:
    """`large-partial-liquidation.jsonl` is cut down twice: at 67,183.6 and at 67,122.7."""
    app = drill_app(tmp_path, "large-partial-liquidation.jsonl", name="partial")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await _settled(app, pilot)
            await pilot.press("P")
            screen = await _opened(app, pilot)
            assert screen.number == 2 and screen.shown is not None
            assert str(screen.shown.trigger_mark) == "67122.7"
            await pilot.press("left")
            assert screen.number == 1 and str(screen.shown.trigger_mark) == "67183.6"
            await pilot.press("left")  # nothing before the first
            assert screen.number == 1
            await pilot.press("right")
            assert screen.number == 2
            assert "Post-mortem 2/2" in str(screen.query_one("#pm-title", Static).content)
    finally:
        app.close_session("ended")
        app.store.close()


async def test_without_a_liquidation_p_says_so_and_opens_nothing(app_factory: Any, tui: Any):
    app = app_factory(name="calm")
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        await pilot.press("P")
        await pilot.pause()
        assert app.screen is app.trading
        assert any("no liquidation" in n.message for n in app._notifications)


@pytest.mark.parametrize("size", SIZES)
def test_post_mortem_screen(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = drill_app(tmp_path)

    async def run_before(pilot: Any) -> None:
        await _settled(app, pilot)
        await pilot.press("P")
        await _opened(app, pilot)

    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        app.close_session("ended")
        app.store.close()
