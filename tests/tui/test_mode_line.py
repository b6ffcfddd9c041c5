"""The account panel's margin-mode comparison: the trader's own trades run all isolated and
all cross as they go, shown live, after a resume, and in the quit summary.

The drill is `btc-crash-cross.jsonl` (10,000 USDT, no fees): a long of 10 ETH at 3,000 (10x)
and a long of 0.5 BTC at 60,000 (15x), then BTC falls to 40,000 and ETH ends at 3,300. Worked
out by hand:

- all isolated: BTC holds 0.5 x 60,000 / 15 = 2,000 of margin and is liquidated alone (it
  loses those 2,000; 1 liquidation); ETH stays open: uPnL 10 x (3,300 - 3,000) = 3,000, so
  equity = 10,000 - 2,000 + 3,000 = 11,000;
- all cross (the drill as written): BTC's loss of 0.5 x 20,000 = 10,000 empties the shared
  wallet and takes ETH with it: equity 0, 2 liquidations (one line per position).
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from drill_app import FIXED_WALL, drill_app
from rich.console import Console
from screen_host import on_screen, until

from papertrade.saves.store import Store
from papertrade.tui.app import FeedConfig, PapertradeApp
from papertrade.tui.screens.summary import SummaryScreen, stats_rows
from papertrade.tui.service.shadows import Standing
from papertrade.tui.service.trading import TradingSession

BALANCE = Decimal("10000")
ISO_MARGIN_BTC = Decimal("0.5") * Decimal("60000") / 15
ETH_UPNL = 10 * (Decimal("3300") - Decimal("3000"))
ALL_ISOLATED = BALANCE - ISO_MARGIN_BTC + ETH_UPNL
EXPECTED = (Standing("isolated", ALL_ISOLATED, 1), Standing("cross", Decimal(0), 2))


async def _settled(app: Any, pilot: Any) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.trading.flush(force=True)
    await pilot.pause()
    app.clear_notifications()
    await pilot.pause()


def panel_text(app: Any) -> str:
    """What the account panel draws, as plain text at its own width."""
    panel = app.trading.account
    console = Console(width=panel.content_size.width, record=True, file=io.StringIO())
    console.print(panel.render())
    return console.export_text()


async def test_small_terminal_shows_one_line_with_both_modes(tmp_path: Path) -> None:
    app = drill_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await _settled(app, pilot)
            figures = app.trading.account.figures
            assert figures is not None and figures.modes == EXPECTED
            line = "all isolated: 11,000.00 (1 liq) · all cross: 0.00 (2 liq)"
            assert line in panel_text(app)
    finally:
        app.close_session("ended")
        app.store.close()


async def test_large_terminal_shows_a_row_per_mode(tmp_path: Path) -> None:
    app = drill_app(tmp_path)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await _settled(app, pilot)
            rows = [" ".join(line.split()) for line in panel_text(app).splitlines()]
            assert "All isolated 1 liq 11,000.00" in rows
            assert "All cross 2 liq 0.00" in rows
    finally:
        app.close_session("ended")
        app.store.close()


async def test_a_price_only_a_shadow_holds_still_moves_the_line(tmp_path: Path) -> None:
    """The real account is flat after the cross wipe; the isolated shadow still holds ETH, so
    an ETH mark must repaint the panel: 8,000 + 10 x (3,400 - 3,000) = 12,000."""
    from papertrade.core import events as ev

    app = drill_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await _settled(app, pilot)
            session = app.session
            assert not session.engine.positions
            ts = session.engine.last_ts + 1000
            session.on_market(ev.MarkPrice(ts=ts, symbol="ETHUSDT", price=Decimal("3400")))
            expected = BALANCE - ISO_MARGIN_BTC + 10 * (Decimal("3400") - Decimal("3000"))
            await until(
                pilot,
                lambda: "all isolated: 12,000.00 (1 liq)" in panel_text(app),
                "the isolated shadow's equity after the ETH mark",
            )
            figures = app.trading.account.figures
            assert figures is not None and figures.modes[0].equity == expected
    finally:
        app.close_session("ended")
        app.store.close()


async def test_a_resumed_session_shows_the_same_line(tmp_path: Path) -> None:
    first = drill_app(tmp_path)
    session_id = first.writer.id
    first.close_session("interrupted")
    first.store.close()

    store = Store.open(tmp_path / "papertrade.db")
    engine, writer = store.resume(session_id)
    session = TradingSession(engine, ["BTCUSDT", "ETHUSDT"], writer=writer, venue="file")
    # on its own a session starts fresh shadows: the journal is what brings them back
    assert session.shadows.standing() != EXPECTED
    market = tmp_path / "last-price.jsonl"
    app = PapertradeApp(
        session,
        FeedConfig(spec=f"file:{market}", speed=0),
        writer=writer,
        store=store,
        session_name=writer.name,
        wall_clock=lambda: FIXED_WALL,
    )
    try:
        assert session.shadows.standing() == EXPECTED
        async with app.run_test(size=(80, 24)) as pilot:
            await _settled(app, pilot)
            assert "all isolated: 11,000.00 (1 liq) · all cross: 0.00 (2 liq)" in panel_text(app)
    finally:
        app.close_session("ended")
        store.close()


async def test_the_quit_summary_compares_the_modes(tmp_path: Path) -> None:
    app = drill_app(tmp_path)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await _settled(app, pilot)
            await pilot.press("q")
            await until(
                pilot,
                lambda: isinstance(app.screen, SummaryScreen) and app.screen.stats is not None,
                "the quit summary",
            )
            screen = app.screen
            assert isinstance(screen, SummaryScreen) and screen.stats is not None
            rows = {k: getattr(v, "plain", v) for k, v in stats_rows(screen.stats, screen.modes)}
            assert rows["Final equity"] == "0.00"
            assert rows["  if all isolated"] == "11,000.00 · 1 liq"
            assert rows["  if all cross"] == "0.00 · 2 liq"
            assert on_screen(app, "if all isolated")
    finally:
        app.close_session("ended")
        app.store.close()
