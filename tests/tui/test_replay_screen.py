"""ReplayScreen driven with the Textual pilot in the real terminal app: its controls.

Taking over is `test_replay_terminal.py` and `test_take_over_in_app.py`."""

from __future__ import annotations

from pathlib import Path

import pytest
from manual_time import turns
from screen_host import SIZE, shows, store_with_drills, until

from papertrade.feeds.pacing import MAX
from papertrade.tui.app import PapertradeApp, ReplayStart
from papertrade.tui.screens.replay import ReplayScreen


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return store_with_drills(tmp_path / "papertrade.db")


async def test_space_plus_minus_and_step_drive_the_replay(db: Path) -> None:
    app = PapertradeApp(None, db_path=db, replay=ReplayStart("crash", 1.0, paused=True))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen), "the replay")
        screen = app.screen
        assert isinstance(screen, ReplayScreen) and screen.player is not None
        player = screen.player
        assert player.seq == 0 and player.paused

        await pilot.press("full_stop")
        await pilot.press("full_stop")
        await pilot.press("full_stop")
        assert player.seq == 3
        assert "ETHUSDT" in player.engine.positions  # the recorded order filled again
        await pilot.pause()
        assert screen.positions.row_keys == ["ETHUSDT"]
        status = screen.status_text().plain
        assert "crash" in status and "3/15" in status and "PAUSED" in status
        assert "2026-01-01 00:00:01 UTC" in status and "1×" in status

        await pilot.press("plus")
        assert player.speed == 10
        await pilot.press("plus", "plus")
        assert player.speed == MAX and "max" in screen.status_text().plain
        await pilot.press("plus")
        assert player.speed == MAX
        await pilot.press("minus")
        assert player.speed == 60

        await pilot.press("space")
        assert not player.paused
        await pilot.press("space")
        assert player.paused
        seq = player.seq
        await pilot.pause(0.05)
        assert player.seq == seq  # paused means paused

        # jumps rebuild the engine in a worker thread: each lands, then the next key
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: player.seq == seq + 1 and not screen.busy, "the jump")
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: player.seq == seq + 2 and not screen.busy, "the jump")
        assert player.paused  # 15 events: 5 % rounds up to one event a jump
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: player.seq == seq + 1 and not screen.busy, "the jump back")
        assert ("ETHUSDT" in player.engine.positions) == (3 <= player.seq < 12)

        player.speed = MAX
        await pilot.press("space")
        await until(pilot, lambda: player.finished, "the end of the replay")
        await until(pilot, lambda: "end" in screen.status_text().plain, "the end on screen")
        await until(pilot, lambda: screen.positions.row_keys == [], "the liquidation drawn")
        # the end holds the replay paused: a jump back from it stays there (issue 10, bug 8:
        # at max speed it played straight back to the end, so `t` could branch only there)
        await until(pilot, lambda: player.paused, "the replay held at its end")
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: player.seq == player.total - 1, "the jump back from the end")
        await turns(50)  # loop turns, not wall time: room for a wrong replay to play on
        await pilot.pause()
        assert player.seq == player.total - 1 and not player.finished and player.paused
        await pilot.press("space")  # and it plays on to the end again
        await until(pilot, lambda: player.finished, "the end, again")
        assert player.engine.totals.liquidations == 2


async def test_a_hostile_session_name_is_shown_literally(db: Path) -> None:
    app = PapertradeApp(None, db_path=db, replay=ReplayStart("[b]evil[/b]", paused=True))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen), "the replay")
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        rendered = str(screen.status_line.render())
        assert "[b]evil[/b]" in rendered
        assert await shows(app, pilot, "[b]evil[/b]")
