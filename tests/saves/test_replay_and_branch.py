"""Replays are exact: long randomized sessions recompute the outcomes the live engine gave,
seeks from snapshots land on the same state, and branches start where they were cut."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.saves.errors import StoreError
from papertrade.saves.store import Store
from papertrade.saves.synthetic import random_stream

SETTINGS = ev.SessionSettings(Decimal("20000"), Decimal("0.0005"), Decimal("0.0002"))


def _record(store: Store, name: str, events: list[ev.Event]) -> list[ev.Outcome]:
    engine = Engine(settings=SETTINGS)
    writer = store.start_session(
        name, "binance", ["BTCUSDT", "ETHUSDT"], SETTINGS, engine=engine, snapshot_every=2000
    )
    live = [o for e in events for o in writer.apply(e)]
    writer.close()
    return live


@pytest.mark.parametrize("seed", [101, 202, 303])
def test_replay_of_a_long_random_session_equals_the_live_run(tmp_path: Path, seed: int) -> None:
    events = list(random_stream(seed, 12_000))
    with Store.open(tmp_path / "r.sqlite3") as store:
        live = _record(store, "long", events)
        assert {o.type for o in live} >= {"fill", "rejected", "account", "funding_paid"}
        replayed = [o for _, _, outs in store.replay("long") for o in outs]
        assert replayed == live
        from papertrade.core import codec

        stored = [text for _, text in store.stored_outcomes("long")]
        assert stored == [codec.dumps(o) for o in live]
        snaps = [r[0] for r in store.conn.execute("SELECT seq FROM snapshots ORDER BY seq")]
        assert snaps == [0, 2000, 4000, 6000, 8000, 10000, 12000]


def test_seeking_from_a_snapshot_matches_replaying_from_the_start(tmp_path: Path) -> None:
    events = list(random_stream(7, 9_000))
    with Store.open(tmp_path / "s.sqlite3") as store:
        _record(store, "seek", events)
        snaps = [r[0] for r in store.conn.execute("SELECT seq FROM snapshots ORDER BY seq")]
        assert snaps == [0, 2000, 4000, 6000, 8000, 9000]  # every 2000 and at close
        for seq in (0, 1, 1999, 2000, 2001, 7777, 9000):
            reference = Engine(settings=SETTINGS)
            for e in events[:seq]:
                reference.apply(e)
            assert store.engine_at("seek", seq).to_state() == reference.to_state()


def test_a_branch_starts_from_the_parent_state_and_trades_on_its_market_data(
    tmp_path: Path,
) -> None:
    events = list(random_stream(8, 6_000))
    with Store.open(tmp_path / "b.sqlite3") as store:
        _record(store, "parent", events)
        cut_ts = events[3000].ts
        by_ts = store.branch("parent", at_ts=cut_ts, name="what-if")
        info = store.session(by_ts)
        assert info.parent_id == store.resolve("parent")
        assert info.branch_seq is not None
        cut = info.branch_seq
        assert events[cut - 1].ts <= cut_ts < events[cut].ts
        assert [e for _, e in store.events("what-if")] == events[:cut]

        engine, writer = store.resume("what-if")
        reference = Engine(settings=SETTINGS)
        for e in events[:cut]:
            reference.apply(e)
        assert engine.to_state() == reference.to_state()

        later_market = [e for e in events[cut:] if e.type in ev.MARKET_TYPES]
        played = [e for _, e in store.branch_market_events("what-if")]
        assert played == later_market  # the parent's commands are not carried over
        mine = ev.PlaceOrder(
            later_market[0].ts, "mine-1", "BTCUSDT", "buy", Decimal("0.01"), "market", leverage=5
        )
        writer.apply(mine)
        reference.apply(mine)
        for e in played:
            writer.apply(e)
            reference.apply(e)
        writer.close()
        assert store.engine_at("what-if").to_state() == reference.to_state()
        branch_journal = [e for _, e in store.events("what-if")]
        assert branch_journal == [*events[:cut], mine, *played]
        # replay of the branch goes through the parent's prefix
        fresh = Engine(settings=SETTINGS)
        assert [o for _, _, outs in store.replay("what-if") for o in outs] == [
            o for e in branch_journal for o in fresh.apply(e)
        ]
        # the parent is intact and cannot be deleted while it has a branch
        assert [e for _, e in store.events("parent")] == events
        with pytest.raises(StoreError, match="has branches"):
            store.delete("parent")
        store.delete("what-if")
        store.delete("parent")
        assert store.conn.execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_branch_points_outside_the_journal_are_refused(tmp_path: Path) -> None:
    with Store.open(tmp_path / "x.sqlite3") as store:
        _record(store, "p", list(random_stream(1, 100)))
        with pytest.raises(StoreError, match="outside"):
            store.branch("p", at_seq=101)
        with pytest.raises(StoreError, match="exactly one"):
            store.branch("p")
        assert len(store.sessions()) == 1
