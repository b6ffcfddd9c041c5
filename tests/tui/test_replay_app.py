"""`papertrade replay SESSION` without --headless: the small app hosting the replay screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from papertrade.core import codec
from papertrade.feeds.pacing import MAX
from papertrade.saves.store import Store
from papertrade.tui.cli import main
from papertrade.tui.replay_app import ReplayApp, run_replay_app
from papertrade.tui.screens.replay import ReplayScreen

ROOT = Path(__file__).resolve().parents[2]
SIZE = (120, 40)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "papertrade.db"
    settings, events = codec.parse_lines(
        (ROOT / "examples" / "drills" / "btc-crash-cross.jsonl").read_text().splitlines()
    )
    with Store.open(path) as store:
        store.import_session(settings, events, name="crash")
    return path


async def test_the_replay_plays_at_max_speed_and_escape_quits(db: Path) -> None:
    with Store.open(db) as store:
        sid = store.resolve("crash")
    app = ReplayApp(db, sid, MAX)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen) and screen.player is not None
        for _ in range(50):
            if screen.player.finished:
                break
            await pilot.pause(0.02)
        assert screen.player.finished and screen.player.engine.totals.liquidations == 2
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_t_hands_the_branch_over_and_exits_leaving_it_and_the_store_open(
    db: Path,
) -> None:
    """`run_replay_app` then runs the trading terminal on `app.taken` (test_take_over_trading)."""
    app = ReplayApp(db, "crash", 1.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await pilot.press("space")  # pause (it started playing at 1×)
        seq = screen.player.seq if screen.player else 0
        await pilot.press("full_stop", "full_stop", "t")
        await pilot.pause()
    assert app.return_code == 0
    taken = app.taken
    assert taken is not None and taken.branch_seq == seq + 2
    try:
        assert taken.store is app.store
        branch = taken.store.session(taken.branch_id)  # still open: the feed reads it
        assert branch.status == "running" and branch.name == f"crash-branch-{seq + 2}"
        assert taken.feed.paused  # the replay was paused: so is the market handed over
        assert taken.symbols == ("BTCUSDT", "ETHUSDT") and taken.history["ETHUSDT"]
    finally:
        taken.writer.close("ended")
        taken.store.close()


@pytest.mark.parametrize(
    ("session", "speed", "message"),
    [
        ("nope", "1", "no session 'nope'"),
        ("crash", "warp", "speed must be"),
    ],
)
def test_bad_input_is_refused_before_the_terminal_opens(
    db: Path, capsys: pytest.CaptureFixture[str], session: str, speed: str, message: str
) -> None:
    assert run_replay_app(db, session, speed, require_tty=False) == 2
    assert message in capsys.readouterr().err


def test_without_a_terminal_the_cli_points_to_headless(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", "crash", "--speed", "10", "--db", str(db)]) == 2
    assert "--headless" in capsys.readouterr().err
