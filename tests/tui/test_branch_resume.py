"""`papertrade branch crash --at 5` then `papertrade --resume crash-branch-5` trades on the
parent's recorded market after the branch point (issue 10, bug 11: it opened on live Binance).

The crash drill (`examples/drills/btc-crash-cross.jsonl`): events 1-2 mark ETH 3,000 and BTC
60,000, 3-4 open ETH 10 long and BTC 0.5 long (cross), 5 is a snapshot; then BTC is marked
58,000 … 40,000 (events 6-13, with snapshots), the cross account is liquidated at 40,000 and
ETH is marked 3,300 at 1767226080000 (the last market event).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from screen_host import shows, until

from papertrade.core import codec
from papertrade.saves.store import Store
from papertrade.tui.cli.terminal import build_parser, prepare
from papertrade.tui.screens.palette import TradingCommands
from papertrade.tui.service.setup import SetupError, branch_market

DRILL = Path(__file__).resolve().parents[2] / "examples" / "drills" / "btc-crash-cross.jsonl"
LAST_MARKET_TS = 1767226080000


def _store_with_branch(db: Path, at: int) -> str:
    settings, events = codec.parse_lines(DRILL.read_text().splitlines())
    with Store.open(db) as store:
        parent = store.import_session(settings, events, name="crash")
        sid = store.branch(parent, at_seq=at)
        return store.session(sid).name


async def test_a_resumed_branch_plays_its_parents_recorded_market(tmp_path: Path, tui) -> None:
    db = tmp_path / "b.db"
    name = _store_with_branch(db, 5)
    assert name == "crash-branch-5"
    args = build_parser().parse_args(["--resume", name, "--speed", "max", "--db", str(db)])
    app = prepare(args)
    assert app.session is not None and app.store is not None
    try:
        assert app.feed_config.kind == "replay" and app.feed_config.offline
        notes = [text for text, _ in app.session.notes]
        assert any("trading on its recorded market after event 5" in n for n in notes), notes
        engine = app.session.engine
        assert set(engine.positions) == {"BTCUSDT", "ETHUSDT"}  # as at the branch point
        async with app.run_test(size=(120, 40)) as pilot:
            await tui.settle(pilot)
            assert engine.last_ts == LAST_MARKET_TS  # played to the recording's end
            assert engine.positions == {}  # BTC at 40,000 took the cross account down
            assert engine.totals.liquidations == 2
    finally:
        app.close_session("ended")
        app.store.close()


def test_a_branch_at_the_end_of_its_recording_says_why_it_cannot_go_on(tmp_path: Path) -> None:
    db = tmp_path / "end.db"
    _, events = codec.parse_lines(DRILL.read_text().splitlines())
    name = _store_with_branch(db, len(events))
    args = build_parser().parse_args(["--resume", name, "--db", str(db)])
    with pytest.raises(SetupError, match=r"cannot go on: its recorded market \(session 'crash'\)"):
        prepare(args)


def test_a_branch_already_traded_goes_on_after_the_market_it_has_journaled(
    tmp_path: Path,
) -> None:
    """The branch (at 5) has traded on through the parent's events 6 and 7 (BTC marked
    58,000 at +60 s and 56,000 at +120 s): resumed again, it goes on after parent event 7,
    so the next market event it plays is event 9 (BTC 52,000; 8 is a snapshot)."""
    db = tmp_path / "again.db"
    name = _store_with_branch(db, 5)
    with Store.open(db) as store:
        info = store.session(name)
        engine, writer = store.resume(info.id)
        for _, event in list(store.branch_market_events(info.id))[:2]:
            writer.append(event, engine.apply(event))
        writer.close("interrupted")
        info = store.session(name)
        assert info.last_ts == 1767225720000
        feed = branch_market(store, info, 0.0)
        assert feed.after_seq == 7
        seq, first = next(feed.events())
        assert (seq, first.ts) == (9, 1767225780000)
        assert first.price == Decimal("52000")  # type: ignore[union-attr]


async def test_a_resumed_branch_is_paced_with_space_plus_and_minus(tmp_path: Path, tui) -> None:
    """Issue 10 leftover: a branch resumed with `--resume` ran its recorded market at the
    speed it opened with; space, + and - (which pace it after a take-over) did nothing."""
    db = tmp_path / "p.db"
    name = _store_with_branch(db, 5)
    args = build_parser().parse_args(["--resume", name, "--speed", "1", "--db", str(db)])
    app = prepare(args)
    assert app.store is not None
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            market = app.recorded
            assert market is not None and market.speed == 1.0 and not market.paused
            await pilot.press("space")
            await until(pilot, lambda: market.paused, "space to pause the recorded market")
            app.trading.flush(force=True)
            assert await shows(app, pilot, "recorded market PAUSED")
            await pilot.press("plus")
            await until(pilot, lambda: market.speed == 10.0, "+ to go 10x")
            await pilot.press("plus", "minus", "minus")
            await until(pilot, lambda: market.speed == 1.0, "60x, then - twice back to 1x")
            await pilot.press("space")
            await until(pilot, lambda: not market.paused, "space to play it again")
            names = [name for name, _, _ in TradingCommands(app.trading)._commands()]
            assert {"Pause the recorded market", "Recorded market faster"} <= set(names)
    finally:
        app.close_session("ended")
        app.store.close()
