"""Rows read back from the file are checked: a damaged one raises `DamagedSession` naming the
session and the event, never a raw JSON, decimal or key error, whichever way it is read."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from papertrade.core import events as ev
from papertrade.saves.errors import CorruptStoreError, DamagedSession
from papertrade.saves.store import Store

SETTINGS = ev.SessionSettings(Decimal("10000"), Decimal("0.0005"), Decimal("0.0002"))
EVENTS: list[ev.Event] = [
    ev.Quote(1_000, "BTCUSDT", Decimal("99.9"), Decimal("100")),
    ev.PlaceOrder(2_000, "a", "BTCUSDT", "buy", Decimal("1"), "market"),
    ev.MarkPrice(3_000, "BTCUSDT", Decimal("101")),
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "journal.sqlite3") as s:
        s.import_session(SETTINGS, EVENTS, name="s")
        yield s


def _set_event(store: Store, seq: int, assignment: str, *values: object) -> None:
    store.conn.execute(
        f"UPDATE events SET {assignment} WHERE session_id = 1 AND seq = ?", (*values, seq)
    )


DAMAGED_ROWS = {
    "not json": ("payload = ?", "[1,"),
    "nested past the parser": ("payload = ?", "[" * 100_000),
    "a 5,000-digit number": ("payload = ?", f'["a","BTCUSDT","buy",{"9" * 5000},"market"]'),
    "money that is not a number": ("payload = ?", '["a","BTCUSDT","buy","NaN","market"]'),
    "money as a JSON list": ("payload = ?", '["a","BTCUSDT","buy",["1"],"market"]'),
    "an unknown kind": ("kind = ?", "teleport"),
    "a negative time": ("ts = ?", -1),
    "a time past year 9999": ("ts = ?", 253_402_300_800_000),
    "the largest integer time": ("ts = ?", 2**63 - 1),
}


@pytest.mark.parametrize("damage", DAMAGED_ROWS.values(), ids=list(DAMAGED_ROWS))
def test_every_reader_names_the_session_and_event_of_a_damaged_row(
    store: Store, damage: tuple[str, object]
) -> None:
    _set_event(store, 2, *damage)
    readers = {
        "events": lambda: list(store.events("s")),
        "replay": lambda: list(store.replay("s")),
        "export": lambda: list(store.export_lines("s")),
        "seek": lambda: store.engine_at("s", 3),
        "derive": lambda: store.derive("s"),
        "stats": lambda: store.stats("s"),
    }
    for name, read in readers.items():
        with pytest.raises(DamagedSession) as caught:
            read()
        err = caught.value
        assert (err.session, err.seq) == ("s", 2), name
        assert str(err).startswith("session s is damaged: event 2: "), name
        assert isinstance(err, CorruptStoreError)


def test_the_events_before_a_damaged_row_still_read(store: Store) -> None:
    _set_event(store, 3, "ts = ?", -1)
    assert [e for _, e in store.events("s", 1, 2)] == EVENTS[:2]


def test_non_numeric_money_in_a_derived_outcome_is_named(store: Store) -> None:
    store.derive("s")
    store.conn.execute("UPDATE outcomes SET fee = 'free' WHERE session_id = 1 AND seq = 2")
    with pytest.raises(DamagedSession) as caught:
        store.session("s")
    assert caught.value.reason == "outcome of event 2: fee 'free' is not a finite number"


def test_a_snapshot_that_is_not_json_is_named_when_seeking(store: Store) -> None:
    store.snapshot_every = 2
    store.derive("s")
    store.conn.execute("UPDATE snapshots SET state = '{' WHERE session_id = 1 AND seq = 2")
    with pytest.raises(DamagedSession) as caught:
        store.engine_at("s", 3)
    assert caught.value.seq == 2
    assert caught.value.reason == "snapshot 2: state is not valid JSON (JSONDecodeError)"


def test_a_snapshot_missing_its_fields_is_named_when_seeking(store: Store) -> None:
    store.snapshot_every = 2
    store.derive("s")
    store.conn.execute("UPDATE snapshots SET state = '{}' WHERE session_id = 1 AND seq = 2")
    with pytest.raises(DamagedSession, match="snapshot 2: state does not load"):
        store.engine_at("s", 3)


def test_a_session_row_with_a_timestamp_past_year_9999_is_named(store: Store) -> None:
    store.conn.execute("UPDATE sessions SET last_ts = 253402300800000 WHERE id = 1")
    with pytest.raises(DamagedSession) as caught:
        store.session("s")
    assert caught.value.reason == (
        "session row: last_ts 253402300800000 is out of range (0 … 253402300799999)"
    )


def test_a_replay_delivers_every_event_before_the_damaged_one(store: Store) -> None:
    _set_event(store, 3, "ts = ?", -1)
    seen: list[ev.Event] = []
    with pytest.raises(DamagedSession, match="event 3: ts -1 is out of range"):
        for _, event in store.events("s"):
            seen.append(event)
    assert seen == EVENTS[:2]
