"""A hedge-mode run in a real SQLite journal: stored as a one-way session whose first input
switches to hedge (the catalogue keeps no position mode), it replays and exports to exactly
the outcomes of the run itself."""

from __future__ import annotations

import json
from pathlib import Path

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.saves.store import Store

DRILL = Path(__file__).parents[2] / "examples" / "drills" / "hedge-mode.jsonl"


def run(settings: ev.SessionSettings, events: list[ev.Event]) -> list[ev.Outcome]:
    engine = Engine(settings=settings)
    return [o for e in events for o in engine.apply(e)]


def test_a_hedge_run_in_the_journal_replays_to_the_same_outcomes(tmp_path: Path) -> None:
    settings, events = codec.parse_lines(DRILL.read_text().splitlines())
    direct = run(settings, events)
    assert any(isinstance(o, ev.Liquidation) for o in direct)
    with Store.open(tmp_path / "h.sqlite3") as store:
        sid = store.import_session(settings, events, name="hedge")
        replayed = [o for _, _, outs in store.replay(sid) for o in outs]
        exported = list(store.export_lines(sid))
    assert replayed == direct
    assert json.loads(exported[1]) == {
        "type": "set_position_mode",
        "ts": events[0].ts,
        "position_mode": "hedge",
    }
    again_settings, again_events = codec.parse_lines(exported)
    assert again_settings.position_mode == "one_way"
    assert run(again_settings, again_events) == direct
