"""The one transaction helper: all or nothing, errors in the store's words, locks waited out."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from papertrade.saves.errors import StoreBusy, StoreError
from papertrade.saves.transactions import retry_locked, transaction


@pytest.fixture
def path(tmp_path: Path) -> Path:
    db = tmp_path / "t.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (x INTEGER NOT NULL)")
    conn.close()
    return db


def _connect(path: Path) -> sqlite3.Connection:
    """Autocommit, and no busy wait: a held lock is reported at once, never raced."""
    return sqlite3.connect(path, isolation_level=None, timeout=0)


@pytest.fixture
def conn(path: Path) -> Iterator[sqlite3.Connection]:
    c = _connect(path)
    yield c
    c.close()


def _count(path: Path) -> int:
    other = _connect(path)
    try:
        return int(other.execute("SELECT count(*) FROM t").fetchone()[0])
    finally:
        other.close()


def test_a_block_that_ends_normally_is_committed(conn: sqlite3.Connection, path: Path) -> None:
    with transaction(conn, path):
        conn.executemany("INSERT INTO t VALUES (?)", [(1,), (2,), (3,)])
        assert _count(path) == 0  # not visible to others before the commit
    assert not conn.in_transaction
    assert _count(path) == 3


@pytest.mark.parametrize("error", [ValueError("bad row"), KeyboardInterrupt()])
def test_a_block_that_raises_writes_nothing_and_the_error_passes_through(
    conn: sqlite3.Connection, path: Path, error: BaseException
) -> None:
    with pytest.raises(type(error)), transaction(conn, path):
        conn.execute("INSERT INTO t VALUES (1)")
        raise error
    assert not conn.in_transaction
    assert _count(path) == 0


def test_an_sqlite_error_inside_is_rolled_back_and_named_as_a_store_error(
    conn: sqlite3.Connection, path: Path
) -> None:
    failed = pytest.raises(StoreError, match="NOT NULL constraint failed")
    with failed as caught, transaction(conn, path):
        conn.execute("INSERT INTO t VALUES (1)")
        conn.execute("INSERT INTO t VALUES (NULL)")
    assert str(caught.value).startswith(f"{path}: ")
    assert not isinstance(caught.value, sqlite3.Error)
    assert _count(path) == 0


def test_a_write_lock_held_elsewhere_is_reported_as_busy(
    conn: sqlite3.Connection, path: Path
) -> None:
    holder = _connect(path)
    holder.execute("BEGIN IMMEDIATE")
    try:
        busy = pytest.raises(StoreBusy, match="another program is holding the database")
        with busy, transaction(conn, path):
            conn.execute("INSERT INTO t VALUES (1)")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not conn.in_transaction


def test_retry_locked_waits_out_a_lock_that_is_released(
    conn: sqlite3.Connection, path: Path
) -> None:
    holder = _connect(path)
    holder.execute("BEGIN IMMEDIATE")
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:  # the holder commits while we wait the second time
            holder.execute("COMMIT")

    retry_locked(lambda: conn.execute("BEGIN IMMEDIATE"), sleep=pause)
    conn.execute("COMMIT")
    holder.close()
    assert pauses == [0.01, 0.02]  # 10 ms, then 20 ms: backing off


def test_retry_locked_gives_up_with_the_last_error(conn: sqlite3.Connection, path: Path) -> None:
    holder = _connect(path)
    holder.execute("BEGIN IMMEDIATE")
    pauses: list[float] = []
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            retry_locked(lambda: conn.execute("BEGIN IMMEDIATE"), retries=3, sleep=pauses.append)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert pauses == [0.01, 0.02, 0.03]


def test_retry_locked_does_not_retry_other_errors(conn: sqlite3.Connection) -> None:
    pauses: list[float] = []
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        retry_locked(lambda: conn.execute("SELECT * FROM missing"), sleep=pauses.append)
    assert pauses == []
