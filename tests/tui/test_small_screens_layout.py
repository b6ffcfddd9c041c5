"""The sessions list and the replay at 80×24: what a trader needs stays on screen.

Real screens on a real store (two imported drills), through the Textual pilot.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len
from screen_host import Host, store_with_drills, until
from textual.widget import Widget

from papertrade.tui.screens.replay import ReplayScreen
from papertrade.tui.screens.sessions import SessionsScreen

SMALL = (80, 24)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return store_with_drills(tmp_path / "papertrade.db")


def on_screen(widget: Widget) -> bool:
    region = widget.region
    return bool(widget.display and region.area) and region.right <= 80 and region.bottom <= 24


async def test_at_80_columns_sessions_lead_with_name_pnl_and_status(db: Path) -> None:
    app = Host(lambda: SessionsScreen(db))
    async with app.run_test(size=SMALL) as pilot:
        await until(
            pilot,
            lambda: isinstance(app.screen, SessionsScreen) and app.screen.loaded > 0,
            "the sessions list",
        )
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        table = screen.table
        keys = [c.key.value for c in table.ordered_columns]
        assert keys[:3] == ["name", "pnl", "status"]
        lead = sum(c.get_render_width(table) for c in table.ordered_columns[:3])
        assert lead <= table.scrollable_content_region.width
        widest_name = max(cell_len(info.name) for info in screen.sessions.values())
        assert table.ordered_columns[0].width >= widest_name


async def test_the_replay_at_80x24_keeps_chart_positions_and_account_on_screen(db: Path) -> None:
    app = Host(lambda: ReplayScreen(db, "crash", paused=True, clock=lambda: 0.0))
    async with app.run_test(size=SMALL) as pilot:
        await until(
            pilot,
            lambda: isinstance(app.screen, ReplayScreen) and app.screen.player is not None,
            "the replay to open",
        )
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await pilot.press(*["full_stop"] * 10)
        await pilot.pause()
        for widget in (
            screen.status_line,
            screen.watchlist,
            screen.chart,
            screen.positions,
            screen.account_panel,
        ):
            assert on_screen(widget), widget
        assert screen.chart.region.height >= 8  # a chart, not a line
        assert screen.positions.row_keys == ["ETHUSDT", "BTCUSDT"]
        assert screen.positions.region.height >= 2 + 1 + 2  # border, header, both rows
