"""SummaryScreen: the numbers of a finished session and its equity curve."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from rich.text import Text
from screen_host import Host
from textual_plotext import PlotextPlot

from papertrade.core import codec
from papertrade.saves.stats import SessionStats
from papertrade.saves.store import Store
from papertrade.tui.screens.summary import SummaryScreen, stats_rows

ROOT = Path(__file__).resolve().parents[2]
DRILLS = ROOT / "examples" / "drills"
SIZE = (120, 40)


def _crash_db(tmp_path: Path) -> Path:
    path = tmp_path / "papertrade.db"
    settings, events = codec.parse_lines(
        (DRILLS / "btc-crash-cross.jsonl").read_text().splitlines()
    )
    with Store.open(path) as store:
        store.import_session(settings, events, name="crash")
    return path


def _plain(rows: list[tuple[str, str | Text]]) -> dict[str, str]:
    return {k: v.plain if isinstance(v, Text) else v for k, v in rows}


async def test_summary_of_a_liquidated_session_computed_from_the_store(tmp_path: Path) -> None:
    db = _crash_db(tmp_path)
    app = Host(lambda: SummaryScreen(db_path=db, session="crash", title="crash"))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SummaryScreen) and screen.stats is not None
        rows = _plain(stats_rows(screen.stats))
        assert rows["Final equity"] == "0.00"
        assert rows["Net realized PnL"] == "-10,000.00"
        assert rows["  Liquidation losses"] == "-10,000.00"
        assert rows["Liquidations"] == "2"
        assert rows["Trades (fills)"] == "2"
        assert rows["Win rate"] == "--"  # nothing was ever closed by hand
        assert rows["Max drawdown"] == "10,000.00 (100.0%)"
        assert rows["Time in market"] == "5m59s (74.8%)"
        shot = app.export_screenshot().replace("&#160;", " ")
        assert "Max drawdown" in shot and "10,000.00 (100.0%)" in shot
        plot = screen.query_one("#summary-equity", PlotextPlot)
        assert plot.size.width > 0


async def test_summary_from_ready_stats_shows_wins_losses_and_a_curve() -> None:
    stats = SessionStats(
        start_ts=0,
        end_ts=3_600_000,
        starting_balance=Decimal("1000"),
        final_equity=Decimal("1050"),
        realized_pnl=Decimal("60"),
        fees=Decimal("4"),
        funding=Decimal("-6"),
        liquidation_losses=Decimal("0"),
        net_pnl=Decimal("50"),
        trades=6,
        closing_trades=3,
        wins=2,
        losses=1,
        win_rate=Decimal(2) / 3,
        average_win=Decimal("40"),
        average_loss=Decimal("-20"),
        largest_loss=Decimal("-20"),
        max_drawdown=Decimal("25"),
        max_drawdown_pct=Decimal("0.025"),
        liquidations=0,
        time_in_market_ms=1_800_000,
        time_in_market_pct=Decimal("0.5"),
        equity_curve=((0, Decimal("1000")), (60_000, Decimal("975")), (3_600_000, Decimal("1050"))),
    )
    app = Host(lambda: SummaryScreen(stats, title="[red]x[/red]"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SummaryScreen)
        rows = _plain(stats_rows(stats))
        assert rows["Win rate"] == "66.7%"
        assert rows["Closing trades"] == "3 (2 won, 1 lost)"
        assert rows["Average loss"] == "-20.00"
        assert rows["  Funding"] == "-6.00"
        assert "[red]x[/red]" in str(screen.query_one("#summary-title").render())
        # The curve 1,000 / 975 / 1,050: span 75, padded 5 % = 3.75 a side (more than the
        # ±0.05 % floor, 1,012.5 x 0.0005 = 0.51): 971.25 .. 1,053.75.
        assert screen.equity_axis is not None
        assert (screen.equity_axis.lo, screen.equity_axis.hi) == (971.25, 1053.75)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SummaryScreen)


async def test_a_flat_equity_curve_is_drawn_on_a_narrow_axis_not_half_either_side(
    tmp_path: Path,
) -> None:
    """A session that never traded: marks only, equity 10,000 throughout. Left to plotext the
    axis was 5,000 .. 15,000; the floor pad is 10,000 x 0.05 % = 5: 9,995 .. 10,005."""
    lines = [
        '{"type":"session","balance":"10000"}',
        *(
            f'{{"type":"mark","ts":{1767225600000 + 60_000 * i},"symbol":"BTCUSDT",'
            f'"price":"{95000 + i}"}}'
            for i in range(3)
        ),
    ]
    settings, events = codec.parse_lines(lines)
    with Store.open(tmp_path / "quiet.db") as store:
        store.import_session(settings, events, name="quiet")
    app = Host(lambda: SummaryScreen(db_path=tmp_path / "quiet.db", session="quiet", title="flat"))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SummaryScreen) and screen.equity_axis is not None
        assert (screen.equity_axis.lo, screen.equity_axis.hi) == (9995.0, 10005.0)
        shot = app.export_screenshot()
        assert "15000" not in shot and "15,000" not in shot and "5000.0" not in shot


def test_summary_shows_the_parts_of_the_equity_change_and_that_they_add_up() -> None:
    """Issue 10 bugs 10 and 12: Net PnL -50.52 while equity fell 54.80 (open uPnL left out);
    costs negative; no `-0.00` for a zero cost. By hand: 10,000 start; realized +12.00,
    fees 30.00 paid, funding -0.72 paid, no liquidation, an open loss of 36.08 at the end:
    net realized 12.00 - 30.00 - 0.72 = -18.72; equity change -18.72 - 36.08 = -54.80."""
    stats = SessionStats(
        start_ts=0,
        end_ts=60_000,
        starting_balance=Decimal("10000"),
        final_equity=Decimal("9945.20"),
        realized_pnl=Decimal("12.00"),
        fees=Decimal("30.00"),
        funding=Decimal("-0.72"),
        liquidation_losses=Decimal("0"),
        net_pnl=Decimal("-18.72"),
        trades=3,
        closing_trades=1,
        wins=1,
        losses=0,
        win_rate=Decimal(1),
        average_win=Decimal("12"),
        average_loss=None,
        largest_loss=None,
        max_drawdown=Decimal("60"),
        max_drawdown_pct=Decimal("0.006"),
        liquidations=0,
        time_in_market_ms=60_000,
        time_in_market_pct=Decimal(1),
        unrealized_pnl=Decimal("-36.08"),
    )
    rows = _plain(stats_rows(stats))
    assert rows["Equity change"] == "-54.80"
    assert rows["  Realized PnL"] == "12.00"
    assert rows["  Unrealized PnL at end"] == "-36.08"
    assert rows["  Fees"] == "-30.00"
    assert rows["  Funding"] == "-0.72"
    assert rows["  Liquidation losses"] == "0.00"  # not -0.00
    assert rows["  Sum of the parts"] == "-54.80 ✓"
    assert rows["Net realized PnL"] == "-18.72"
    assert not any("-0.00" in v for v in rows.values())


def test_summary_says_so_when_the_parts_do_not_add_up() -> None:
    stats = SessionStats(
        start_ts=0,
        end_ts=1,
        starting_balance=Decimal("100"),
        final_equity=Decimal("90"),
        realized_pnl=Decimal("0"),
        fees=Decimal("1"),
        funding=Decimal("0"),
        liquidation_losses=Decimal("0"),
        net_pnl=Decimal("-1"),
        trades=1,
        closing_trades=0,
        wins=0,
        losses=0,
        win_rate=None,
        average_win=None,
        average_loss=None,
        largest_loss=None,
        max_drawdown=Decimal("10"),
        max_drawdown_pct=None,
        liquidations=0,
        time_in_market_ms=0,
        time_in_market_pct=None,
        unrealized_pnl=Decimal("0"),
    )
    assert _plain(stats_rows(stats))["  Sum of the parts"] == "-1.00 ≠ by -9.00"
