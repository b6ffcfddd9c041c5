"""Snapshots of the replay and sessions screens at 80×24 and 120×40 (still states only).

The store holds two imported drills (`screen_host.store_with_drills`: "crash" and a session
named in markup on purpose); the replay is paused on a frozen pacing clock and stepped, so
it shows exactly the events stepped through. Regenerate with `--snapshot-update`, review.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from screen_host import Host, store_with_drills, until

from papertrade.tui.screens.replay import ReplayScreen
from papertrade.tui.screens.sessions import SessionsScreen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
STEPS = 10
"""Events stepped in the crash drill: both positions open, BTC deep in loss, not liquidated."""
END = 15
"""Every event of the crash drill: the cross account liquidated (the account's liquidation
line and the cross ratio must show whole)."""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return store_with_drills(tmp_path / "papertrade.db")


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param(STEPS, id="two-positions"),
        pytest.param(END, id="after-the-liquidation"),
    ],
)
@pytest.mark.parametrize("size", SIZES)
def test_replay_paused(snap_compare, db, size, steps):
    app = Host(lambda: ReplayScreen(db, "crash", paused=True, clock=lambda: 0.0))

    async def run_before(pilot) -> None:
        await until(
            pilot,
            lambda: isinstance(app.screen, ReplayScreen) and app.screen.player is not None,
            "the replay to open",
        )
        await pilot.press(*["full_stop"] * steps)
        screen = app.screen
        assert isinstance(screen, ReplayScreen) and screen.player is not None
        # Draw the still state now rather than on the screen's 8 Hz timer, and the chart too
        # (at most twice a second of wall time): the snapshot never depends on the machine.
        screen.player.dirty = True
        screen.flush()
        symbol = screen.chart_symbol()
        history = list(screen.player.history.get(symbol or "", ()))
        screen.chart.update_from(screen.player.engine, symbol, history)
        # The log scrolls to its newest line after a refresh: done here, not left to race the
        # screenshot (under load it had, and the 120x40 still showed one line more).
        log = screen.log_view
        log.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        await until(pilot, lambda: log.scroll_y == log.max_scroll_y, "the log at its end")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_sessions_list(snap_compare, db, size):
    app = Host(lambda: SessionsScreen(db))

    async def run_before(pilot) -> None:
        await until(
            pilot,
            lambda: isinstance(app.screen, SessionsScreen) and app.screen.loaded > 0,
            "the sessions list",
        )
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_delete_dialog_fits(snap_compare, db, size):
    app = Host(lambda: SessionsScreen(db))

    async def run_before(pilot) -> None:
        await until(
            pilot,
            lambda: isinstance(app.screen, SessionsScreen) and app.screen.loaded > 0,
            "the sessions list",
        )
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
