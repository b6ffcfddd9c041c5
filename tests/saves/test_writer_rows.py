"""The journal writer's multi-row inserts land every row exactly: a batch several statements
long, its tail of smaller statements, outcomes and snapshots, read back from the real SQLite
file row by row; and no statement ever exceeds SQLite's limit on parameters."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.saves.locks import SessionLock
from papertrade.saves.paths import lock_dir
from papertrade.saves.store import Store
from papertrade.saves.writer import (
    INSERT_EVENT,
    SessionWriter,
    connect,
    insert_events,
    insert_rows,
)

SETTINGS = ev.SessionSettings(Decimal("10000"), Decimal("0.0004"), Decimal("0.0001"))
T0 = 1_767_225_600_000
EVENTS = 1_000  # 3 statements of 256 rows, then a tail of 232 = 128 + 64 + 32 + 8


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "rows.sqlite3") as s:
        yield s


def limited(max_vars: int) -> Callable[[Path], sqlite3.Connection]:
    """The usual connection, with SQLite itself refusing statements past `max_vars`."""

    def connector(path: Path) -> sqlite3.Connection:
        conn = connect(path)
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, max_vars)
        return conn

    return connector


def stream() -> Iterator[ev.Event]:
    """Quotes and marks, with a market order every 40 events (fills: outcomes)."""
    for n in range(EVENTS):
        ts = T0 + n
        price = Decimal(60_000 + n % 17)
        if n % 40 == 39:
            side: ev.Side = "buy" if n % 80 == 39 else "sell"
            yield ev.PlaceOrder(ts, f"o{n}", "BTCUSDT", side, Decimal("0.01"), "market")
        elif n % 2:
            yield ev.MarkPrice(ts, "BTCUSDT", price)
        else:
            yield ev.Quote(ts, "BTCUSDT", price - Decimal("0.5"), price + Decimal("0.5"))


@pytest.mark.parametrize("max_vars", [None, 40], ids=["sqlite-default", "limit-40"])
def test_one_batch_of_many_statements_lands_every_event_outcome_and_snapshot(
    store: Store, max_vars: int | None
) -> None:
    first = store.start_session("rows", "binance", ["BTCUSDT"], SETTINGS)
    sid = first.id
    first.close()
    store.conn.execute("UPDATE sessions SET status = 'running' WHERE id = ?", (sid,))
    lock = SessionLock(lock_dir(store.path), sid)
    lock.acquire("rows")
    engine = Engine(settings=SETTINGS)
    writer = SessionWriter(
        store.path,
        sid,
        "rows",
        lock,
        engine=engine,
        snapshot_every=300,
        commit_interval=3600,  # nothing is committed before the flush: one batch of all
        batch_size=10**6,
        connector=connect if max_vars is None else limited(max_vars),
    )
    appended: list[ev.Event] = []
    produced: list[tuple[int, int, ev.Outcome]] = []
    states: dict[int, Any] = {}
    for event in stream():
        outcomes = writer.apply(event)
        appended.append(event)
        seq = len(appended)
        produced.extend((seq, idx, outcome) for idx, outcome in enumerate(outcomes))
        if seq % 300 == 0:
            states[seq] = engine.to_state()
    assert writer.flushed_seq == 0  # all of it waits for one transaction
    assert writer.flush(timeout=30) == EVENTS
    states[EVENTS] = engine.to_state()  # close() snapshots the final state
    writer.close()

    rows = store.conn.execute(
        "SELECT seq, ts, kind FROM events WHERE session_id = ? ORDER BY seq", (sid,)
    ).fetchall()
    assert rows == [(n, T0 + n - 1, e.type) for n, e in enumerate(appended, start=1)]
    assert [event for _, event in store.events("rows")] == appended

    fills = [o for _, _, o in produced if isinstance(o, ev.Fill)]
    assert len(fills) == EVENTS // 40  # every order filled: each is one outcome row
    stored = store.conn.execute(
        "SELECT seq, idx, ts, kind, symbol, realized_pnl, fee, payload FROM outcomes"
        " WHERE session_id = ? ORDER BY seq, idx",
        (sid,),
    ).fetchall()
    assert len(stored) == len(produced)
    for row, (seq, idx, outcome) in zip(stored, produced, strict=True):
        assert isinstance(outcome, ev.Fill)
        assert row[:5] == (seq, idx, outcome.ts, "fill", "BTCUSDT")
        assert Decimal(row[5]) == outcome.realized_pnl and Decimal(row[6]) == outcome.fee
        text = json.loads(row[7])
        assert (text["order_id"], Decimal(text["qty"])) == (outcome.order_id, Decimal("0.01"))

    snapshots = store.conn.execute(
        "SELECT seq, ts, state FROM snapshots WHERE session_id = ? ORDER BY seq", (sid,)
    ).fetchall()
    assert [(seq, ts) for seq, ts, _ in snapshots] == [
        (300, T0 + 299),
        (600, T0 + 599),
        (900, T0 + 899),
        (1000, T0 + 999),
    ]
    assert {seq: json.loads(state) for seq, _, state in snapshots} == states
    assert store.session("rows").last_seq == EVENTS


@pytest.mark.parametrize(
    ("count", "max_vars", "sizes"),
    [
        (0, 32_766, []),
        (1, 32_766, [1]),
        (256, 32_766, [256]),
        (700, 32_766, [256, 256, 128, 32, 16, 8, 4]),  # 700 = 2 x 256 + 188
        (7, 12, [2, 2, 2, 1]),  # 12 parameters: two rows of five
        (3, 5, [1, 1, 1]),
    ],
)
def test_rows_go_in_full_statements_then_halving_ones_within_the_parameter_limit(
    tmp_path: Path, count: int, max_vars: int, sizes: list[int]
) -> None:
    conn = sqlite3.connect(tmp_path / "t.sqlite3", isolation_level=None)
    conn.execute(
        "CREATE TABLE events (session_id INTEGER, seq INTEGER, ts INTEGER, kind TEXT,"
        " payload TEXT) STRICT"
    )
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, max_vars)  # SQLite enforces it
    rows = [(1, n, 1000 + n, "mark", f'["S{n}","{n}.5"]') for n in range(count)]
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    insert_rows(conn, INSERT_EVENT, [value for row in rows for value in row], max_vars)
    conn.set_trace_callback(None)
    assert [s.count("(") - 1 for s in statements] == sizes  # "(columns) VALUES (..),(..)"
    assert conn.execute("SELECT * FROM events ORDER BY rowid").fetchall() == rows
    conn.close()


def test_outcomes_stop_being_stored_from_the_first_event_appended_without_them(
    store: Store,
) -> None:
    """An event appended without its outcomes makes the stored outcomes incomplete from there
    on: earlier ones in the same batch are kept, later ones are left to derivation, and
    `derived_seq` stays at the last batch that was complete."""
    first = store.start_session("partial", "binance", ["BTCUSDT"], SETTINGS)
    sid = first.id
    first.close()
    store.conn.execute("UPDATE sessions SET status = 'running' WHERE id = ?", (sid,))
    lock = SessionLock(lock_dir(store.path), sid)
    lock.acquire("partial")
    engine = Engine(settings=SETTINGS)
    writer = SessionWriter(
        store.path, sid, "partial", lock, engine=engine, commit_interval=3600, batch_size=10**6
    )
    quote = ev.Quote(T0, "BTCUSDT", Decimal("59999.5"), Decimal("60000.5"))

    def order(n: int) -> ev.PlaceOrder:
        return ev.PlaceOrder(T0 + n, f"o{n}", "BTCUSDT", "buy", Decimal("0.01"), "market")

    assert writer.apply(quote) == []  # seq 1
    assert len(writer.apply(order(2))) == 1  # seq 2: a fill, stored
    assert writer.flush(timeout=30) == 2
    assert len(writer.apply(order(3))) == 1  # seq 3: a fill, stored (before the unknown one)
    unknown = order(4)
    assert len(engine.apply(unknown)) == 1
    writer.append(unknown)  # seq 4: its fill is not given to the writer
    assert len(writer.apply(order(5))) == 1  # seq 5: a fill, but after an unknown one
    assert writer.flush(timeout=30) == 5
    stored = store.conn.execute(
        "SELECT seq, idx, kind FROM outcomes WHERE session_id = ? ORDER BY seq", (sid,)
    ).fetchall()
    assert stored == [(2, 0, "fill"), (3, 0, "fill")]
    row = store.conn.execute(
        "SELECT last_seq, derived_seq FROM sessions WHERE id = ?", (sid,)
    ).fetchone()
    assert tuple(row) == (5, 2)
    writer.close()


@pytest.mark.parametrize(
    ("count", "max_vars", "sizes"),
    [
        (0, 32_766, []),
        (700, 32_766, [256, 256, 128, 32, 16, 8, 4]),
        (7, 11, [2, 2, 2, 1]),  # 11 parameters: the two shared ones and three per event
        (2, 5, [1, 1]),
    ],
)
def test_events_are_numbered_by_the_statement_and_stay_within_the_parameter_limit(
    tmp_path: Path, count: int, max_vars: int, sizes: list[int]
) -> None:
    conn = sqlite3.connect(tmp_path / "e.sqlite3", isolation_level=None)
    conn.execute(
        "CREATE TABLE events (session_id INTEGER, seq INTEGER, ts INTEGER, kind TEXT,"
        " payload TEXT) STRICT"
    )
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, max_vars)
    encoded = [("mark", 1000 + n, f'["S{n}","{n}.5"]') for n in range(count)]
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    insert_events(conn, 7, 41, [value for row in encoded for value in row], max_vars)
    conn.set_trace_callback(None)
    assert [s.count("(") - 1 for s in statements] == sizes
    stored = conn.execute("SELECT * FROM events ORDER BY rowid").fetchall()
    assert stored == [(7, 41 + n, ts, kind, text) for n, (kind, ts, text) in enumerate(encoded)]
    conn.close()
