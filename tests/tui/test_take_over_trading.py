"""`papertrade replay SESSION`, then `t`: the full trading terminal on the recorded prices.

Drives the two apps `run_replay_app` runs, in order, with the Textual pilot: the replay app
(`t` hands over a `TakeOver` and exits) and the trading app on the branch (`TakeOverApp`).
The recording is `examples/drills/limit-orders.jsonl` under a hostile name; at seq 5 two
limit buys rest (dip-buy at 148.50, far-bid at 140), the recorded market after that is a
trade at 148.40, a mark at 148.45, then a quote and a mark at 152.10.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.saves.store import Store
from papertrade.tui.replay_app import ReplayApp, TakeOverApp
from papertrade.tui.screens.modals import LeverageModal
from papertrade.tui.screens.replay import ReplayScreen
from papertrade.tui.screens.summary import SummaryScreen
from papertrade.tui.screens.ticket import OrderTicket
from papertrade.tui.screens.trading import TradingScreen
from papertrade.tui.service.takeover import TakeOver
from textual.pilot import Pilot

ROOT = Path(__file__).resolve().parents[2]
SIZE = (120, 40)
NAME = "[b]lim[/b]"
BRANCH = f"{NAME}-branch-5"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "papertrade.db"
    drill = ROOT / "examples" / "drills" / "limit-orders.jsonl"
    settings, events = codec.parse_lines(drill.read_text().splitlines())
    with Store.open(path) as store:
        store.import_session(settings, events, name=NAME)
    return path


async def take_over_at_5(db: Path) -> TakeOver:
    """Open the standalone replay, pause, step to seq 5 and press `t`: what it hands over."""
    app = ReplayApp(db, NAME, 1.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        screen = app.screen
        assert isinstance(screen, ReplayScreen) and screen.player is not None
        while screen.player.seq < 5:
            await pilot.press("full_stop")
        await pilot.press("t")
        await pilot.pause()
    assert app.return_code == 0 and app.taken is not None
    return app.taken


async def _shows(pilot: Pilot[Any], text: str) -> bool:
    """Whether `text` appears on screen, literally, once the pending repaint is done."""
    for _ in range(25):
        if text in pilot.app.export_screenshot().replace("&#160;", " "):
            return True
        await pilot.pause(0.04)
    return False


async def until(pilot: Pilot[Any], done: Any, what: str) -> None:
    for _ in range(100):
        if done():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def test_the_replay_app_closes_its_store_when_left_without_a_take_over(db: Path) -> None:
    app = ReplayApp(db, NAME, 1.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.taken is None and app.store is not None
    with pytest.raises(sqlite3.ProgrammingError):
        app.store.conn.execute("SELECT 1")


async def test_the_take_over_is_the_full_trading_terminal_journaled_in_the_branch(
    db: Path,
) -> None:
    taken = await take_over_at_5(db)
    app = TakeOverApp(taken)
    engine = taken.engine
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            trading = app.screen
            assert isinstance(trading, TradingScreen)
            assert trading.session.engine is engine and trading.session.writer is taken.writer
            assert await _shows(pilot, BRANCH)  # the title: the branch's name, literally
            assert await _shows(pilot, f"replay:{NAME}")  # the status bar: the recorded feed
            assert await _shows(pilot, "recorded market PAUSED")
            assert await _shows(pilot, "took over at seq 5")
            assert [s for s in app.screen_stack if isinstance(s, TradingScreen)] == [trading]
            assert sorted(engine.orders) == ["dip-buy", "far-bid"]  # inherited, resting

            # b, a quantity, enter: a market buy in the branch
            await pilot.press("b")
            assert isinstance(app.screen, OrderTicket)
            await pilot.press("1", "enter")
            await pilot.pause()
            assert app.screen is trading
            assert engine.positions["SOLUSDT"].size == Decimal("1")

            # l: the leverage dialog
            await pilot.press("l")
            assert isinstance(app.screen, LeverageModal)
            await pilot.press("space")  # typed into the dialog, not a market pause
            assert taken.feed.paused
            await pilot.press(*["backspace"] * 4, "5", "enter")
            await pilot.pause()
            assert app.screen is trading
            assert engine.symbol_setting("SOLUSDT")[1] == 5

            # x: cancel the selected open order
            trading.flush()
            trading.orders.focus()
            await pilot.pause()
            await pilot.press("x")
            await pilot.pause()
            assert len(engine.orders) == 1
            cancelled = ({"dip-buy", "far-bid"} - set(engine.orders)).pop()

            # space plays the recorded market on, + up to max: it keeps moving the branch
            await pilot.press("space", "plus", "plus", "plus")
            assert not taken.feed.paused and taken.feed.speed == 0
            await until(pilot, lambda: taken.feed.status.state == "ended", "the recording")
            await pilot.pause(0.15)
            assert engine.positions["SOLUSDT"].mark == Decimal("152.10")
            assert await _shows(pilot, "152.10")

            await pilot.press("q")  # quit: the branch's summary, as a normal quit
            await until(pilot, lambda: isinstance(app.screen, SummaryScreen), "the summary")
            await app.workers.wait_for_complete()
            await pilot.pause()
            summary = app.screen
            assert isinstance(summary, SummaryScreen) and summary.stats is not None
            await pilot.press("escape")
            await pilot.pause()
        assert app.return_code == 0 and app.saved_status == "ended"
    finally:
        app.release()

    with Store.open(db) as store:
        branch = store.session(taken.branch_id)
        assert (branch.status, branch.name, branch.branch_seq) == ("ended", BRANCH, 5)
        own = [event for _, event in store.events(taken.branch_id, 6)]
    commands = [e for e in own if e.type not in ev.MARKET_TYPES]
    assert [type(c).__name__ for c in commands] == ["PlaceOrder", "SetLeverage", "CancelOrder"]
    place, _, cancel = commands
    assert isinstance(place, ev.PlaceOrder) and (place.id, place.side) == ("u1", "buy")
    assert isinstance(cancel, ev.CancelOrder) and cancel.id == cancelled
    assert place.ts == 1767225601002  # stamped in recorded time, not the wall clock
    marks = [e for e in own if isinstance(e, ev.MarkPrice)]
    assert [m.price for m in marks] == [Decimal("148.45"), Decimal("152.10")]


async def test_release_saves_an_unfinished_branch_as_interrupted_and_closes_the_store(
    db: Path,
) -> None:
    taken = await take_over_at_5(db)
    app = TakeOverApp(taken)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.exit(1)  # the app ends without the trader quitting (a crash, a signal)
    finally:
        app.release()
        app.release()  # twice is harmless
    with pytest.raises(sqlite3.ProgrammingError):
        taken.store.conn.execute("SELECT 1")
    with Store.open(db) as store:
        assert store.session(taken.branch_id).status == "interrupted"


# --- the real binary in a real terminal ------------------------------------------------------


@pytest.mark.tmux
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_real_replay_take_over_trades_in_the_branch_and_saves_it(db: Path) -> None:
    """`papertrade replay 1`, `t`, `b` 1 enter, `q`, `escape`: as a trader would."""
    socket, name = f"pt-take-over-{uuid.uuid4().hex[:8]}", "take-over"

    def tmux(*args: str) -> str:
        done = subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True)
        return done.stdout

    def wait_for(ok: Callable[[str], bool], what: str) -> str:
        deadline, screen = time.monotonic() + 15, ""
        while time.monotonic() < deadline:
            screen = tmux("capture-pane", "-t", name, "-p", "-J")
            if ok(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{screen}")

    exe = shutil.which("papertrade") or f"{sys.executable} -m tui.cli"
    cmd = f"{exe} replay 1 --db {db}; echo EXITED $?; sleep 60"
    tmux("-f", "/dev/null", "new-session", "-d", "-s", name, "-x", "120", "-y", "40", cmd)
    try:
        wait_for(lambda s: "REPLAY" in s and "150.01" in s, "the replay with a SOLUSDT price")
        tmux("send-keys", "-t", name, "t")
        wait_for(lambda s: "-branch-" in s and "Positions" in s, "the trading screen")
        tmux("send-keys", "-t", name, "b")
        wait_for(lambda s: "BUY SOLUSDT" in s, "the order ticket")
        tmux("send-keys", "-t", name, "1")
        wait_for(lambda s: "whole cross balance" in s, "the risk preview")
        tmux("send-keys", "-t", name, "Enter")
        wait_for(lambda s: "LONG" in s, "the position")
        tmux("send-keys", "-t", name, "q")
        wait_for(lambda s: "Summary" in s, "the branch's summary")
        tmux("send-keys", "-t", name, "Escape")
        screen = wait_for(lambda s: "EXITED 0" in s, "the program to exit")
        assert f"{NAME}-branch-" in screen and "(ended)" in screen
    finally:
        tmux("kill-server")
    with Store.open(db) as store:
        branch = next(s for s in store.sessions() if s.parent_id is not None)
        orders = [
            e for _, e in store.events(branch.id, (branch.branch_seq or 0) + 1) if e.type == "order"
        ]
    assert branch.status == "ended" and len(orders) == 1
