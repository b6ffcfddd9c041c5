"""Break-even is known for positions opened before the view started: on a resume, a replay
and after a replay's seek (issue 10 leftover: it read "--" there, since only the running
session's ledger had seen the opening fill).

The position: buy 0.05 BTCUSDT at market on the fixture market (ask 95,000.0, taker fee
0.05 %): fee = 0.05 x 95,000 x 0.0005 = 2.375 USDT; break-even = entry + fee / size =
95,000 + 2.375 / 0.05 = 95,047.5.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

from papertrade.saves.store import Store
from papertrade.tui.cli.terminal import build_parser, prepare
from papertrade.tui.service.replay import ReplayPlayer
from papertrade.tui.widgets.positions import PositionsTable

FEE = D("0.05") * D(95000) * D("0.0005")
BREAK_EVEN = D(95000) + FEE / D("0.05")


async def _session_with_a_long(db: Path, tui: Any) -> str:
    app = tui.make_app(db, name="be")
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        app.session.order("BTCUSDT", "buy", D("0.05"))
    app.close_session("interrupted")
    app.store.close()
    return "be"


def test_the_hand_worked_numbers() -> None:
    assert D("2.375") == FEE and D("95047.5") == BREAK_EVEN


async def test_a_resumed_session_knows_the_break_even_of_its_open_position(
    tmp_path: Path, tui: Any
) -> None:
    db = tmp_path / "r.db"
    name = await _session_with_a_long(db, tui)
    args = build_parser().parse_args(
        ["--resume", name, "--feed", f"file:{tui.FIXTURE}", "--db", str(db)]
    )
    app = prepare(args)
    assert app.session is not None and app.store is not None
    try:
        engine = app.session.engine
        pos = engine.positions["BTCUSDT"]
        assert pos.size == D("0.05")
        assert app.session.ledger.open_fees("BTCUSDT", pos.size) == FEE
        row = PositionsTable.row_values(engine, pos, app.session.ledger)
        assert row["be"] == "95,047.5"
    finally:
        app.close_session("ended")
        app.store.close()


async def test_a_replay_knows_the_break_even_played_and_after_seeking(
    tmp_path: Path, tui: Any
) -> None:
    db = tmp_path / "p.db"
    name = await _session_with_a_long(db, tui)
    with Store.open(db) as store:
        store.derive(name)
        player = ReplayPlayer(store, name, speed=0)
        player.play_to_end()
        pos = player.engine.positions["BTCUSDT"]
        assert player.fees.open_fees("BTCUSDT", pos.size) == FEE
        player.seek(0)
        assert player.engine.positions == {}
        player.seek(player.total)  # a jump: the fill was not played, the journal has it
        pos = player.engine.positions["BTCUSDT"]
        assert PositionsTable.row_values(player.engine, pos, player.fees)["be"] == "95,047.5"
        opened_mid = ReplayPlayer(store, name, speed=0, start_seq=player.total)
        pos = opened_mid.engine.positions["BTCUSDT"]
        assert opened_mid.fees.open_fees("BTCUSDT", pos.size) == FEE
