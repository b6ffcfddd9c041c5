"""The one way the store writes: `with transaction(conn, path):` around every write.

Connections run in autocommit mode (`isolation_level=None`), so a write is atomic only if it
says so. `transaction` takes the write lock up front (`BEGIN IMMEDIATE`, so a reader never
finds itself unable to upgrade half-way), commits when the block ends, and rolls back on any
exception, `KeyboardInterrupt` included. SQLite errors leave as `StoreError`s that name the
file: `StoreBusy` for a lock held past the busy timeout, `CorruptStoreError` for damage.

`retry_locked` is for the few steps where SQLite answers SQLITE_BUSY at once instead of
waiting out the busy timeout (several processes switching a new file to WAL together).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from papertrade.saves.errors import CorruptStoreError, StoreBusy, StoreError

T = TypeVar("T")

LOCKED_RETRIES = 20
"""Attempts after the first; backing off 10, 20, … ms, about two seconds in all."""


_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def is_locked_error(exc: BaseException) -> bool:
    """Whether SQLite refused because another connection holds a lock (worth retrying)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _BUSY_CODES  # primary code: SQLITE_BUSY_SNAPSHOT is BUSY too
    text = str(exc)
    return "locked" in text or "busy" in text


def wrap(exc: sqlite3.Error, path: Path | str) -> StoreError:
    """The store's own error for an SQLite one, naming the file (sqlite3 never leaks out)."""
    text = str(exc)
    if is_locked_error(exc):
        return StoreBusy(f"{path}: another program is holding the database ({text}); try again")
    if isinstance(exc, sqlite3.DatabaseError) and (
        "malformed" in text or "not a database" in text or "corrupt" in text
    ):
        return CorruptStoreError(f"{path}: the database is damaged ({text})")
    return StoreError(f"{path}: {text}")


def retry_locked(
    action: Callable[[], T],
    *,
    retries: int = LOCKED_RETRIES,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`action()`, run again after a short pause while SQLite reports the file locked.

    The last attempt's error propagates as it is (sqlite3 or `StoreBusy`)."""
    for attempt in range(retries):
        try:
            return action()
        except StoreBusy:
            pass
        except sqlite3.OperationalError as exc:
            if not is_locked_error(exc):
                raise
        sleep(0.01 * (attempt + 1))
    return action()


@contextmanager
def transaction(conn: sqlite3.Connection, path: Path | str) -> Iterator[sqlite3.Connection]:
    """`BEGIN IMMEDIATE` … `COMMIT`, or `ROLLBACK` if the block raises; errors wrapped."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise wrap(exc, path) from None
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise wrap(exc, path) from None
        raise


@contextmanager
def read_snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Several reads that must see one state of the file (another process may be writing)."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
