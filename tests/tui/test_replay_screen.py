"""ReplayScreen driven with the Textual pilot: controls, take-over, trading in the branch."""

from __future__ import annotations

from pathlib import Path

import pytest
from papertrade.core import events as ev
from papertrade.feeds.pacing import MAX
from papertrade.saves.store import Store
from papertrade.tui.screens.replay import ReplayScreen
from papertrade.tui.screens.summary import SummaryScreen
from papertrade.tui.screens.ticket import OrderTicket
from screen_host import SIZE, Host, shows, store_with_drills


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return store_with_drills(tmp_path / "papertrade.db")


async def test_space_plus_minus_and_step_drive_the_replay(db: Path) -> None:
    app = Host(lambda: ReplayScreen(db, "crash", speed=1.0, paused=True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
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

        await pilot.press("right_square_bracket", "right_square_bracket")
        assert player.seq == seq + 2  # 15 events: 5 % rounds up to one event a jump
        await pilot.press("left_square_bracket")
        assert player.seq == seq + 1
        assert ("ETHUSDT" in player.engine.positions) == (3 <= player.seq < 12)

        player.speed = MAX
        await pilot.press("space")
        for _ in range(50):
            if player.finished:
                break
            await pilot.pause(0.02)
        assert player.finished
        await pilot.pause(0.2)
        assert "end" in screen.status_text().plain
        assert screen.positions.row_keys == []  # liquidated, as recorded
        await pilot.press("left_square_bracket")  # back from the end: it plays on again
        for _ in range(50):
            if player.finished:
                break
            await pilot.pause(0.02)
        assert player.finished and player.engine.totals.liquidations == 2


async def test_take_over_then_an_order_lands_in_the_branch_journal(db: Path) -> None:
    app = Host(lambda: ReplayScreen(db, "[b]evil[/b]", speed=1.0, paused=True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen) and screen.player is not None
        for _ in range(5):
            await pilot.press("full_stop")
        assert screen.player.seq == 5

        await pilot.press("t")
        await pilot.pause()
        taken = screen.taken
        assert taken is not None and screen.trading is not None
        assert (taken.branch_seq, taken.name) == (5, "[b]evil[/b]-branch-5")
        status = screen.status_text().plain
        assert "LIVE ON RECORDED PRICES" in status and "[b]evil[/b]-branch-5" in status
        assert taken.feed.paused  # taken over while paused: the market waits for us

        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, OrderTicket)
        await pilot.press("1")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert "SOLUSDT" in screen.trading.engine.positions
        await pilot.pause(0.15)
        assert screen.positions.row_keys == ["SOLUSDT"]

        await pilot.press("c")
        assert "SOLUSDT" not in screen.trading.engine.positions
        # the recorded market moves on in the branch; its next trade is 59 s away in the
        # recording, so play it at max speed rather than wait
        await pilot.press("plus", "plus", "plus", "space")
        await pilot.pause(0.05)
        assert taken.feed.position >= 7
        taken.writer.flush()
        with Store.open(db) as store:
            info = store.session(taken.branch_id)
            assert info.parent_id == store.resolve("[b]evil[/b]") and info.branch_seq == 5
            own = list(store.events(taken.branch_id, 6))
        kinds = [(type(e).__name__, getattr(e, "id", None)) for _, e in own]
        assert kinds[:2] == [("PlaceOrder", "u1"), ("ClosePosition", None)]
        assert kinds[2] == ("Trade", None)
        assert own[0][1].ts == own[1][1].ts == 1767225601002  # stamped with sim time
        assert isinstance(own[0][1], ev.PlaceOrder) and own[0][1].side == "buy"

        await pilot.press("escape")  # ends the branch and shows its summary
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        # ours (buy, close) and the inherited resting dip-buy, filled by the recorded trade
        assert app.screen.stats is not None and app.screen.stats.trades == 3
    with Store.open(db) as store:
        assert store.session(taken.branch_id).status == "ended"


async def test_the_take_over_feed_plays_the_recorded_market_into_the_branch(db: Path) -> None:
    app = Host(lambda: ReplayScreen(db, "crash", speed=MAX, paused=True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen) and screen.player is not None
        for _ in range(4):  # both recorded orders filled: ETH and BTC long in cross
            await pilot.press("full_stop")
        await pilot.press("t")
        await pilot.press("space")  # taken over while paused: start the recorded market
        for _ in range(50):
            if screen.taken is not None and screen.taken.feed.status.state == "ended":
                break
            await pilot.pause(0.02)
        assert screen.taken is not None and screen.trading is not None
        assert screen.taken.feed.status.state == "ended"
        # the recorded crash, without the recorded commands, liquidates the account here too
        assert screen.trading.engine.positions == {}
        assert screen.trading.engine.totals.liquidations == 2
        screen.taken.writer.flush()
        with Store.open(db) as store:
            kinds = {e.type for _, e in store.events(screen.taken.branch_id, 5)}
        assert kinds <= ev.MARKET_TYPES


async def test_a_hostile_session_name_is_shown_literally(db: Path) -> None:
    app = Host(lambda: ReplayScreen(db, "[b]evil[/b]", paused=True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        rendered = str(screen.status_line.render())
        assert "[b]evil[/b]" in rendered
        assert await shows(app, pilot, "[b]evil[/b]")
