"""The session listing survives a bad session: the damaged one says why, the rest list as usual.

Every session here is imported (so nothing is derived yet) into a real SQLite file, then
damaged by hand the way a foreign tool or bit rot would: an UPDATE on one row.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from papertrade.core import events as ev
from papertrade.saves.errors import DamagedSession
from papertrade.saves.store import Store

SETTINGS = ev.SessionSettings(Decimal("10000"), Decimal("0.0005"), Decimal("0.0002"))


def _round_trip(ts: int) -> list[ev.Event]:
    """Buy 1 BTC at the ask of 100, sell it at the bid of 110: two taker fills.

    By hand: fee 1 x 100 x 0.0005 = 0.05 and 1 x 110 x 0.0005 = 0.055, so fees 0.105;
    realized (110 - 100) x 1 = 10."""
    return [
        ev.Quote(ts, "BTCUSDT", Decimal("99.9"), Decimal("100")),
        ev.PlaceOrder(ts + 1000, "a", "BTCUSDT", "buy", Decimal("1"), "market"),
        ev.Quote(ts + 2000, "BTCUSDT", Decimal("110"), Decimal("110.1")),
        ev.PlaceOrder(ts + 3000, "b", "BTCUSDT", "sell", Decimal("1"), "market"),
    ]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "listing.sqlite3") as s:
        for name in ("good-1", "bad", "good-2"):
            s.import_session(SETTINGS, _round_trip(1_000_000), name=name)
        yield s


def _damage_event(store: Store, session: str, seq: int, sql_set: str) -> None:
    sid = store.resolve(session)
    store.conn.execute(f"UPDATE events SET {sql_set} WHERE session_id = ? AND seq = ?", (sid, seq))


def _assert_good(store: Store, damaged_reason: str) -> None:
    rows = store.list_sessions()
    assert [(r.name, r.damaged is None) for r in rows] == [
        ("good-1", True),
        ("bad", False),
        ("good-2", True),
    ]
    for row in (rows[0], rows[2]):
        assert row.info is not None
        assert (row.info.fills, row.info.realized_pnl, row.info.fees) == (
            2,
            Decimal("10"),
            Decimal("0.105"),
        )
    bad = rows[1]
    assert bad.damaged == damaged_reason
    assert bad.info is not None and bad.info.fills is None and bad.info.events == 4


def test_a_corrupted_payload_lists_as_damaged_next_to_good_sessions(store: Store) -> None:
    _damage_event(store, "bad", 2, 'payload = \'["a","BTCUSDT","buy","lots","market"]\'')
    reason = _reason(store)
    assert reason.startswith("event 2: ") and "'lots'" in reason
    _assert_good(store, reason)


def _reason(store: Store) -> str:
    """What reading the damaged row itself says (the listing must show the same words)."""
    with pytest.raises(DamagedSession) as caught:
        list(store.events("bad"))
    assert caught.value.session == "bad" and caught.value.seq == 2
    return caught.value.reason


def test_a_negative_timestamp_lists_as_damaged_with_the_event_named(store: Store) -> None:
    _damage_event(store, "bad", 3, "ts = -5")
    _assert_good(store, "event 3: ts -5 is out of range (0 … 253402300799999)")


def test_a_timestamp_past_year_9999_lists_as_damaged(store: Store) -> None:
    _damage_event(store, "bad", 1, "ts = 253402300800000")
    _assert_good(store, "event 1: ts 253402300800000 is out of range (0 … 253402300799999)")


def test_a_session_row_with_non_numeric_money_lists_by_name_only(store: Store) -> None:
    store.conn.execute("UPDATE sessions SET balance = 'lots' WHERE name = 'bad'")
    rows = store.list_sessions()
    assert [r.name for r in rows] == ["good-1", "bad", "good-2"]
    assert rows[1].info is None
    assert rows[1].damaged == "session row: balance 'lots' is not a finite number"
    assert rows[0].info is not None and rows[0].info.fills == 2


def test_listing_without_deriving_leaves_results_empty_and_nothing_damaged(
    store: Store,
) -> None:
    _damage_event(store, "bad", 2, "payload = 'not json'")
    rows = store.list_sessions(derive=False)
    assert [(r.name, r.damaged, r.info and r.info.fills) for r in rows] == [
        ("good-1", None, None),
        ("bad", None, None),
        ("good-2", None, None),
    ]


def test_a_session_being_recorded_lists_without_results(store: Store) -> None:
    writer = store.start_session("live", "binance", ["BTCUSDT"], SETTINGS)
    for event in _round_trip(2_000_000):
        writer.append(event)
    writer.flush()
    live = store.list_sessions()[-1]
    assert (live.name, live.damaged) == ("live", None)
    assert live.info is not None and live.info.status == "running" and live.info.fills is None
    writer.close()


def test_a_branch_of_a_damaged_session_names_the_parent(store: Store) -> None:
    store.derive("bad")  # derived while sound: the branch point's snapshot exists
    store.branch("bad", at_seq=2, name="child")
    store.conn.execute("UPDATE sessions SET derived_seq = 0")  # force a fresh derivation
    _damage_event(store, "bad", 2, "payload = '[]'")
    rows = {r.name: r for r in store.list_sessions()}
    assert rows["bad"].damaged is not None
    assert rows["child"].damaged == f"in bad: {rows['bad'].damaged}"


def test_the_resume_offer_skips_a_session_whose_row_is_damaged(store: Store) -> None:
    store.conn.execute("UPDATE sessions SET status = 'interrupted' WHERE name != 'good-2'")
    store.conn.execute("UPDATE sessions SET taker_fee = 'x' WHERE name = 'bad'")
    with pytest.raises(DamagedSession):
        store.sessions()  # the plain listing stops at the damaged row ...
    assert [s.name for s in store.interrupted()] == ["good-1"]  # ... the resume offer does not


def test_an_sqlite_failure_under_the_results_lists_as_damaged_not_a_traceback(
    store: Store,
) -> None:
    store.derive("good-1")  # derived: listing reads its outcomes back
    store.conn.execute("DROP TABLE outcomes")  # what a foreign tool might do
    rows = store.list_sessions()
    assert [r.name for r in rows] == ["good-1", "bad", "good-2"]
    for row in rows:  # good-1 fails reading outcomes back, the others deriving them
        assert row.damaged == f"{store.path}: no such table: outcomes"


def test_the_resume_offer_on_a_file_of_ended_sessions_is_one_query(tmp_path: Path) -> None:
    """Every start asks for interrupted sessions before its first frame: a file whose
    sessions all ended answers without the listing, whose sqlite-utils import (numpy too,
    where installed) cost the first frame ~0.14 s; a running or interrupted one is found."""
    path = tmp_path / "ended.sqlite3"
    with Store.open(path) as s:
        for name in ("one", "two"):
            s.import_session(SETTINGS, _round_trip(1_000_000), name=name)
        assert {r.status for r in s.sessions()} == {"ended"}
    script = (
        "import sys\n"
        "from papertrade.saves.store import Store\n"
        f"with Store.open({str(path)!r}) as s:\n"
        "    found = s.interrupted()\n"
        "print(len(found), 'sqlite_utils' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.split() == ["0", "False"], done.stderr
    with Store.open(path) as s:
        s.conn.execute("UPDATE sessions SET status = 'interrupted' WHERE name = 'two'")
        assert [i.name for i in s.interrupted()] == ["two"]
