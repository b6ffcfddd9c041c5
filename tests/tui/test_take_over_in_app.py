"""Inside a running terminal: `S`, `enter` on a session, `t`: asked first, then the full
trading terminal moves onto the branch, the recorded market as its feed.

The app trades the fixture market in a real store; `examples/drills/limit-orders.jsonl` is
imported into that same store under a hostile name. At its seq 5 two limit buys rest
(dip-buy at 148.50, far-bid at 140); the recorded market after that is a trade at 148.40, a
mark at 148.45, then a quote and a mark at 152.10.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from branch_steps import buy_one_sol_then_leverage_five
from screen_host import DRILLS, SIZE, logged, shows, until
from textual.pilot import Pilot
from textual.widgets import Static

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.saves.store import Store
from papertrade.tui.screens.modals import ConfirmModal
from papertrade.tui.screens.replay import ReplayScreen
from papertrade.tui.screens.sessions import SessionsScreen
from papertrade.tui.screens.summary import SummaryScreen
from papertrade.tui.screens.trading import TradingScreen

DRILL = "[b]lim[/b]"
LIVE = "[i]live[/i]"


async def replay_paused_at_5(app: Any, pilot: Pilot[Any], drill_id: int) -> ReplayScreen:
    """`S`, the drill's row, `enter`; pause the replay and step it to seq 5."""
    await pilot.press("S")
    sessions = app.screen
    assert isinstance(sessions, SessionsScreen)
    await until(pilot, lambda: sessions.loaded > 0, "the sessions list")
    sessions.table.move_cursor(row=sessions.table.get_row_index(str(drill_id)))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ReplayScreen), "the replay")
    replay = app.screen
    assert isinstance(replay, ReplayScreen)
    await until(pilot, lambda: replay.player is not None, "the player")
    assert replay.player is not None
    await pilot.press("space")
    assert replay.player.paused
    while replay.player.seq < 5:
        await pilot.press("full_stop")
    assert replay.player.seq == 5
    return replay


@pytest.mark.slow
async def test_take_over_inside_the_terminal_asks_then_trades_the_branch_with_every_key(
    app_factory: Callable[..., Any], tui: SimpleNamespace
) -> None:
    app = app_factory(name=LIVE)
    settings, events = codec.parse_lines((DRILLS / "limit-orders.jsonl").read_text().splitlines())
    drill_id = app.store.import_session(settings, events, name=DRILL)
    live_id, live_writer, db = app.writer.id, app.writer, app.store.path
    async with app.run_test(size=SIZE) as pilot:
        await tui.settle(pilot)
        replay = await replay_paused_at_5(app, pilot, drill_id)

        # t asks first; the session name is shown literally, never as markup
        await pilot.press("t")
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        assert modal.question == (
            f"Take over ends your current session {LIVE} (it is saved). Continue? y/n"
        )
        shown = str(modal.query(Static).first().render())
        assert f"session {LIVE} (it is saved)" in " ".join(shown.split())  # literally
        await pilot.press("n")  # no: nothing changes, the replay goes on
        await until(pilot, lambda: app.screen is replay, "the replay back")
        assert app.taken is None and replay.player is not None
        assert app.writer is live_writer and app.recorded is None
        with Store.open(db) as store:
            assert store.session(live_id).status == "running"
            assert [s.id for s in store.sessions()] == [live_id, drill_id]  # no branch made
        await pilot.press("full_stop")  # still replaying, still paused where it was
        assert replay.player.seq == 6 and replay.player.paused

        await pilot.press("t", "escape")  # escape is no, too
        await until(pilot, lambda: app.screen is replay, "the replay back")
        assert app.taken is None
        await pilot.press("left_square_bracket")  # back to seq 5 (a jump is one event here)
        await until(pilot, lambda: replay.player is not None and replay.player.seq == 5, "seq 5")
        assert replay.player.paused

        # t, y: the trading terminal on the branch; the live session is saved and ended
        await pilot.press("t", "y")
        await until(pilot, lambda: isinstance(app.screen, TradingScreen), "the trading screen")
        trading = app.screen
        assert isinstance(trading, TradingScreen)
        assert [type(s) for s in app.screen_stack[1:]] == [TradingScreen]
        taken_name = f"{DRILL}-branch-5"
        assert app.session_name == taken_name and trading.session is app.session
        engine = app.session.engine
        assert app.writer is not live_writer and app.writer.name == taken_name
        assert app.recorded is not None and app.recorded.paused  # taken over while paused
        branch_id = app.writer.id
        with Store.open(db) as store:
            assert store.session(live_id).status == "ended"
            branch = store.session(branch_id)
            assert (branch.parent_id, branch.branch_seq) == (drill_id, 5)
        assert await shows(app, pilot, taken_name)  # title: the branch's name, literally
        assert await shows(app, pilot, f"replay:{DRILL}")  # status bar: the recorded feed
        assert await shows(app, pilot, "recorded market PAUSED")
        assert await logged(app, pilot, "took over at seq 5")
        assert sorted(engine.orders) == ["dip-buy", "far-bid"]  # inherited, resting

        # b 1 enter, then l 5 enter: a market buy in the branch and its leverage
        await buy_one_sol_then_leverage_five(app, pilot)

        # space plays the recorded market, + up to max: its marks move the position
        await pilot.press("space", "plus", "plus", "plus")
        assert not app.recorded.paused and app.recorded.speed == 0
        feed = app.recorded
        await until(pilot, lambda: feed.status.state == "ended", "the end of the recording")
        await until(
            pilot, lambda: engine.positions["SOLUSDT"].mark == Decimal("152.10"), "the last mark"
        )
        assert await shows(app, pilot, "152.10")

        # q: the branch's summary, as a normal quit; then the app exits 0
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), "the summary")
        summary = app.screen
        assert isinstance(summary, SummaryScreen) and summary.title_text == taken_name
        await until(pilot, lambda: summary.stats is not None, "the summary's numbers")
        await pilot.press("escape")
    assert app.return_code == 0 and app.saved_status == "ended"

    with Store.open(db) as store:
        assert store.session(branch_id).status == "ended"
        assert store.session(live_id).status == "ended"
        own = [event for _, event in store.events(branch_id, 6)]
    commands = [e for e in own if e.type not in ev.MARKET_TYPES]
    assert [type(c).__name__ for c in commands] == ["PlaceOrder", "SetLeverage"]
    place = commands[0]
    assert isinstance(place, ev.PlaceOrder) and (place.id, place.side) == ("u1", "buy")
    assert place.ts == 1767225601002  # stamped in recorded time, not the wall clock
    marks = [e for e in own if isinstance(e, ev.MarkPrice)]
    assert [m.price for m in marks] == [Decimal("148.45"), Decimal("152.10")]


async def test_the_replays_own_store_is_closed_with_the_branch_not_before(
    app_factory: Callable[..., Any], tui: SimpleNamespace
) -> None:
    app = app_factory()
    settings, events = codec.parse_lines((DRILLS / "limit-orders.jsonl").read_text().splitlines())
    drill_id = app.store.import_session(settings, events, name=DRILL)
    async with app.run_test(size=SIZE) as pilot:
        await tui.settle(pilot)
        replay = await replay_paused_at_5(app, pilot, drill_id)
        replay_store = replay.store
        assert replay_store is not None and replay_store is not app.store
        await pilot.press("t", "y")
        await until(pilot, lambda: isinstance(app.screen, TradingScreen), "the trading screen")
        replay_store.conn.execute("SELECT 1")  # the recording is still read from it
        app.close_session("interrupted")  # what `papertrade` does when the app ends anyhow
        app.close_session("interrupted")  # twice is harmless
        await pilot.pause()
    closed = False
    try:
        replay_store.conn.execute("SELECT 1")
    except Exception:
        closed = True
    assert closed
    app.store.conn.execute("SELECT 1")  # the app's own store is its opener's to close
    with Store.open(Path(app.store.path)) as store:
        branch = next(s for s in store.sessions() if s.parent_id == drill_id)
        assert branch.status == "interrupted"
