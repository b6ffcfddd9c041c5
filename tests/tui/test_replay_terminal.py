"""`papertrade replay SESSION`: the terminal opens on the replay; `t` moves it onto the branch,
the full trading terminal on the recorded prices — the same take-over path as from inside a
running terminal (`test_take_over_in_app.py`).

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
from branch_steps import buy_one_sol_then_leverage_five
from screen_host import DRILLS, SIZE, logged, shows, until
from textual.pilot import Pilot

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.feeds.pacing import MAX
from papertrade.saves.store import Store
from papertrade.tui.app import PapertradeApp, ReplayStart
from papertrade.tui.cli import main
from papertrade.tui.cli.replay import run_interactive
from papertrade.tui.screens.replay import ReplayScreen
from papertrade.tui.screens.summary import SummaryScreen
from papertrade.tui.screens.trading import TradingScreen

NAME = "[b]lim[/b]"
BRANCH = f"{NAME}-branch-5"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "papertrade.db"
    with Store.open(path) as store:
        for drill, name in (("limit-orders.jsonl", NAME), ("btc-crash-cross.jsonl", "crash")):
            settings, events = codec.parse_lines((DRILLS / drill).read_text().splitlines())
            store.import_session(settings, events, name=name)
    return path


def replay_app(db: Path, session: str, speed: float = 1.0) -> PapertradeApp:
    return PapertradeApp(None, db_path=db, replay=ReplayStart(session, speed, paused=True))


async def at_seq(app: PapertradeApp, pilot: Pilot[Any], seq: int) -> ReplayScreen:
    """The replay screen, stepped (paused) to journal entry `seq`."""
    await until(pilot, lambda: isinstance(app.screen, ReplayScreen), "the replay screen")
    screen = app.screen
    assert isinstance(screen, ReplayScreen)
    await until(pilot, lambda: screen.player is not None, "the player")
    assert screen.player is not None and screen.player.paused
    while screen.player.seq < seq:
        await pilot.press("full_stop")
    return screen


async def test_the_replay_plays_at_max_speed_and_q_quits(db: Path) -> None:
    app = PapertradeApp(None, db_path=db, replay=ReplayStart("crash", MAX))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen), "the replay screen")
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await until(pilot, lambda: bool(screen.player and screen.player.finished), "the end")
        assert screen.player is not None and screen.player.engine.totals.liquidations == 2
        await pilot.press("q")
    assert app.return_code == 0 and app.taken is None
    assert screen.store is not None
    with pytest.raises(sqlite3.ProgrammingError):
        screen.store.conn.execute("SELECT 1")  # left without a take-over: the store is closed


async def test_take_over_is_the_full_trading_terminal_journaled_in_the_branch(db: Path) -> None:
    app = replay_app(db, NAME)
    async with app.run_test(size=SIZE) as pilot:
        replay = await at_seq(app, pilot, 5)
        replay_store = replay.store
        await pilot.press("t")  # no session of its own: nothing to ask
        await until(pilot, lambda: isinstance(app.screen, TradingScreen), "the trading screen")
        trading = app.screen
        assert isinstance(trading, TradingScreen)
        taken = app.taken
        assert taken is not None and taken.store is replay_store and taken.owns_store
        assert [type(s) for s in app.screen_stack[1:]] == [TradingScreen]
        engine = taken.engine
        assert trading.session.engine is engine and trading.session.writer is taken.writer
        assert await shows(app, pilot, BRANCH)  # the title: the branch's name, literally
        assert await shows(app, pilot, f"replay:{NAME}")  # the status bar: the recorded feed
        assert await shows(app, pilot, "recorded market PAUSED")  # taken over while paused
        assert await logged(app, pilot, "took over at seq 5")
        assert sorted(engine.orders) == ["dip-buy", "far-bid"]  # inherited, resting

        # b 1 enter, then l 5 enter: a market buy in the branch and its leverage
        await buy_one_sol_then_leverage_five(app, pilot)

        # x: cancel the selected open order
        trading.flush()
        trading.orders.focus()
        await pilot.pause()
        await pilot.press("x")
        await until(pilot, lambda: len(engine.orders) == 1, "the cancel")
        cancelled = ({"dip-buy", "far-bid"} - set(engine.orders)).pop()

        # space plays the recorded market on, + up to max: it keeps moving the branch
        await pilot.press("space", "plus", "plus", "plus")
        assert not taken.feed.paused and taken.feed.speed == MAX
        await until(pilot, lambda: taken.feed.status.state == "ended", "the recording's end")
        await until(
            pilot, lambda: engine.positions["SOLUSDT"].mark == Decimal("152.10"), "the last mark"
        )
        assert await shows(app, pilot, "152.10")

        await pilot.press("q")  # quit: the branch's summary, as a normal quit
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen), "the summary")
        summary = app.screen
        assert isinstance(summary, SummaryScreen)
        await until(pilot, lambda: summary.stats is not None, "the summary's numbers")
        await pilot.press("escape")
    assert app.return_code == 0 and app.saved_status == "ended"
    assert replay_store is not None
    with pytest.raises(sqlite3.ProgrammingError):
        replay_store.conn.execute("SELECT 1")  # closed with the branch

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


async def test_a_take_over_without_the_recorded_commands_still_liquidates_on_the_crash(
    db: Path,
) -> None:
    app = replay_app(db, "crash", MAX)
    async with app.run_test(size=SIZE) as pilot:
        await at_seq(app, pilot, 4)  # both recorded orders filled: ETH and BTC long in cross
        await pilot.press("t")
        await until(pilot, lambda: app.taken is not None, "the take-over")
        taken = app.taken
        assert taken is not None
        await until(pilot, lambda: isinstance(app.screen, TradingScreen), "the trading screen")
        await pilot.press("space")  # taken over while paused: start the recorded market
        await until(pilot, lambda: taken.feed.status.state == "ended", "the recording's end")
        await until(pilot, lambda: taken.engine.totals.liquidations == 2, "the liquidations")
        assert taken.engine.positions == {}
        taken.writer.flush()
        with Store.open(db) as store:
            kinds = {e.type for _, e in store.events(taken.branch_id, 5)}
        assert kinds <= ev.MARKET_TYPES  # the recorded commands after seq 4 were left out


async def test_an_unfinished_branch_is_saved_as_interrupted_and_its_store_closed(
    db: Path,
) -> None:
    app = replay_app(db, NAME)
    async with app.run_test(size=SIZE) as pilot:
        await at_seq(app, pilot, 5)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TradingScreen), "the trading screen")
        app.exit(1)  # the app ends without the trader quitting (a crash, a signal)
    app.close_session("interrupted")  # what `papertrade replay` does when the app ends anyhow
    app.close_session("interrupted")  # twice is harmless
    taken = app.taken
    assert taken is not None
    with pytest.raises(sqlite3.ProgrammingError):
        taken.store.conn.execute("SELECT 1")
    with Store.open(db) as store:
        assert store.session(taken.branch_id).status == "interrupted"


@pytest.mark.parametrize(
    ("session", "speed", "message"),
    [("nope", "1", "no session 'nope'"), ("crash", "warp", "speed must be")],
)
def test_bad_input_is_refused_before_the_terminal_opens(
    db: Path, capsys: pytest.CaptureFixture[str], session: str, speed: str, message: str
) -> None:
    assert run_interactive(str(db), session, speed, require_tty=False) == 2
    assert message in capsys.readouterr().err


def test_without_a_terminal_the_cli_points_to_headless(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", "crash", "--speed", "10", "--db", str(db)]) == 2
    assert "--headless" in capsys.readouterr().err


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
        deadline, screen = time.monotonic() + 60, ""
        while time.monotonic() < deadline:
            screen = tmux("capture-pane", "-t", name, "-p", "-J")
            if ok(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{screen}")

    beside = Path(sys.executable).parent / "papertrade"  # this venv's, not PATH's first
    exe = str(beside) if beside.exists() else f"{sys.executable} -m papertrade"
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
