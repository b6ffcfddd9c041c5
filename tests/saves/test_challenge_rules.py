"""Challenge rules are kept in the sessions' `rules` column and replay exactly; rows written
before them read as no rules, and a damaged value is named, never guessed."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.saves.errors import StoreError
from papertrade.saves.store import Store

ROOT = Path(__file__).parents[2]
DRILL = ROOT / "examples" / "drills" / "challenge-daily-loss.jsonl"


def test_the_rules_are_stored_and_the_session_replays_exactly(tmp_path: Path) -> None:
    settings, events = codec.parse_lines(DRILL.read_text().splitlines())
    engine = Engine(settings=settings)
    direct = [o for e in events for o in engine.apply(e)]
    with Store.open(tmp_path / "c.sqlite3") as store:
        store.import_session(settings, events, name="funded")
        stored = store.session("funded").settings
        assert stored == settings
        column = json.loads(
            store.conn.execute("SELECT rules FROM sessions WHERE name = 'funded'").fetchone()[0]
        )
        assert {k: column[k] for k in column if k.startswith("max_")} == {
            "max_daily_loss": "5%",
            "max_leverage": 10,
            "max_position_notional": "60000",
        }
        replayed = store.engine_at("funded", len(events))
        assert replayed.to_state()["challenge"] == engine.to_state()["challenge"]
    assert sum(isinstance(o, ev.RuleBreached) for o in direct) == 1


def test_a_row_without_challenge_keys_has_no_rules_and_a_bad_one_is_named(
    tmp_path: Path,
) -> None:
    settings = ev.SessionSettings(D("10000"), D(0), D(0))
    with Store.open(tmp_path / "o.sqlite3") as store:
        store.import_session(settings, [ev.MarkPrice(1, "BTCUSDT", D("60000"))], name="old")
        store.conn.execute("""UPDATE sessions SET rules = '{"engine_rules": 2}'""")
        info = store.session("old")
        assert not info.settings.has_rules
        store.conn.execute("""UPDATE sessions SET rules = '{"max_drawdown": "200%"}'""")
        with pytest.raises(StoreError, match="max_drawdown' must be at most 100"):
            store.session("old")
        store.conn.execute("""UPDATE sessions SET rules = '{"max_losses": "5"}'""")
        with pytest.raises(StoreError, match="challenge rules"):
            store.session("old")
