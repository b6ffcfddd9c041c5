"""The store's contract with live sessions: journal, money as TEXT, names, locks, deletion."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlite_utils

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.saves import payload
from papertrade.saves.errors import AmbiguousSession, SessionLocked, SessionNotFound, StoreError
from papertrade.saves.store import Store
from papertrade.saves.synthetic import random_stream

SETTINGS = ev.SessionSettings(Decimal("2500.5"), Decimal("0.0004"), Decimal("0.0001"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "p.sqlite3")
    yield s
    s.close()


def test_plain_api_journals_every_event_in_order(store: Store) -> None:
    events = list(random_stream(1, 3000))
    writer = store.start_session(None, "binance", ["BTCUSDT", "ETHUSDT"], SETTINGS)
    for e in events:
        writer.append(e)
    assert writer.flush() == 3000
    writer.close()
    info = store.session(writer.id)
    assert info.name == writer.name and info.name.startswith("binance-")
    assert info.status == "ended" and info.events == 3000
    assert info.settings == SETTINGS
    assert [e for _, e in store.events(info.id)] == events
    assert [s for s, _ in store.events(info.id, 10, 12)] == [10, 11, 12]


def test_money_columns_are_text_never_real(store: Store) -> None:
    engine = Engine(settings=SETTINGS)
    writer = store.start_session("money", "binance", ["BTCUSDT"], SETTINGS, engine=engine)
    for e in random_stream(2, 4000):
        writer.apply(e)
    writer.close()
    db = sqlite_utils.Database(store.conn)
    declared = {(t, c.name): c.type for t in ("sessions", "outcomes") for c in db[t].columns}
    for col in ("balance", "taker_fee", "maker_fee"):
        assert declared[("sessions", col)] == "TEXT"
    for col in ("realized_pnl", "fee", "amount"):
        assert declared[("outcomes", col)] == "TEXT"
    stored = store.conn.execute(
        "SELECT typeof(balance), balance, typeof(taker_fee), taker_fee FROM sessions"
    ).fetchone()
    assert stored == ("text", "2500.5", "text", "0.0004")
    kinds = {
        r[0]
        for r in store.conn.execute(
            "SELECT DISTINCT typeof(realized_pnl) FROM outcomes WHERE kind = 'fill'"
            " UNION SELECT DISTINCT typeof(fee) FROM outcomes WHERE kind = 'fill'"
        )
    }
    assert kinds == {"text"}
    fees = [Decimal(r[0]) for r in store.conn.execute("SELECT fee FROM outcomes WHERE kind='fill'")]
    assert sum(fees) == engine.totals.fees  # exact to the last digit
    # STRICT tables: even a float written by mistake lands as TEXT, never REAL.
    store.conn.execute("UPDATE sessions SET balance = 1.5")
    assert store.conn.execute("SELECT typeof(balance) FROM sessions").fetchone() == ("text",)


def test_journal_row_is_codec_exact() -> None:
    for event in random_stream(9, 500):
        kind, ts, text = payload.encode(event)
        assert payload.decode(kind, ts, text) == event
        from papertrade.core import codec

        assert payload.to_line(kind, ts, text) == codec.dumps(event)


def test_names_ids_and_prefixes_resolve_or_fail_clearly(store: Store) -> None:
    a = store.start_session("alpha-1", "binance", [], SETTINGS)
    b = store.start_session("alpha-2", "binance", [], SETTINGS)
    a.close()
    b.close()
    assert store.resolve("alpha-1") == a.id
    assert store.resolve(str(b.id)) == b.id
    assert store.resolve("alpha-2") == b.id
    with pytest.raises(AmbiguousSession, match="alpha-1, alpha-2"):
        store.resolve("alpha")
    with pytest.raises(SessionNotFound):
        store.resolve("beta")
    with pytest.raises(StoreError, match="already exists"):
        store.start_session("alpha-1", "binance", [], SETTINGS)
    with pytest.raises(StoreError, match="all digits"):
        store.start_session("123", "binance", [], SETTINGS)


def test_a_session_being_written_cannot_be_opened_for_writing(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    first = Store.open(path)
    writer = first.start_session("live", "binance", ["BTCUSDT"], SETTINGS, engine=Engine())
    writer.apply(ev.MarkPrice(1, "BTCUSDT", Decimal("100")))
    other = Store.open(path)  # a second papertrade
    assert other.session("live").status == "running"  # live lock: not interrupted
    with pytest.raises(SessionLocked, match="being written by another running papertrade"):
        other.resume("live")
    with pytest.raises(SessionLocked):
        other.delete("live")
    writer.close()
    _, again = other.resume("live")
    again.close()
    other.delete("live")
    assert other.sessions() == []
    first.close()
    other.close()


def test_writer_error_reaches_the_caller(store: Store, tmp_path: Path) -> None:
    writer = store.start_session("doomed", "binance", [], SETTINGS)
    writer.append(ev.Snapshot(1))
    writer.flush()
    store.conn.execute("DROP TABLE events")  # the next batch cannot be written
    writer.append(ev.Snapshot(2))
    with pytest.raises(StoreError, match="journal writer stopped"):
        writer.flush()
    with pytest.raises(StoreError, match="journal writer stopped"):
        writer.append(ev.Snapshot(3))
    with pytest.raises(StoreError):
        writer.close()
