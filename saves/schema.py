"""The database layout and its forward migrations.

`PRAGMA application_id` marks a file as papertrade's, `PRAGMA user_version` is the schema
version. A fresh file is built by running every migration from 0, so the upgrade path real
users take is the one the tests exercise. Tables are STRICT: a money column declared TEXT
always holds TEXT (a float written by mistake is converted, never kept as REAL), which is
the guarantee (sqlite-utils would store `Decimal` as REAL).

History:
  1  sessions + events (the journal)
  2  branching (parent_id, branch_seq); journal extent kept on the session row (last_seq,
     first_ts, last_ts, backfilled) so listing never scans events; derived_seq; snapshots;
     outcomes
  3  the session's trading rules (`rules`, a JSON object): the engine rules version it was
     recorded under and the settings the first columns do not hold (`exchange_limits`, and
     `fill_model` when not `touch`: no schema change, a row without it reads as touch)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from papertrade.saves.transactions import transaction

APPLICATION_ID = 0x50505452  # "PPTR"
LATEST = 3

V1 = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    venue TEXT NOT NULL,
    symbols TEXT NOT NULL,
    balance TEXT NOT NULL,
    taker_fee TEXT NOT NULL,
    maker_fee TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    ended_at INTEGER
) STRICT;
CREATE TABLE events (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
) STRICT, WITHOUT ROWID;
"""

V2 = """
ALTER TABLE sessions ADD COLUMN parent_id INTEGER REFERENCES sessions(id);
ALTER TABLE sessions ADD COLUMN branch_seq INTEGER;
ALTER TABLE sessions ADD COLUMN derived_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN first_ts INTEGER;
ALTER TABLE sessions ADD COLUMN last_ts INTEGER;
UPDATE sessions SET
    last_seq = coalesce((SELECT max(seq) FROM events WHERE session_id = sessions.id), 0),
    first_ts = (SELECT min(ts) FROM events WHERE session_id = sessions.id),
    last_ts = (SELECT max(ts) FROM events WHERE session_id = sessions.id);
CREATE TABLE snapshots (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
) STRICT;
CREATE TABLE outcomes (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    seq INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    kind TEXT NOT NULL,
    symbol TEXT,
    realized_pnl TEXT,
    fee TEXT,
    amount TEXT,
    payload TEXT NOT NULL,
    PRIMARY KEY (session_id, seq, idx)
) STRICT, WITHOUT ROWID;
"""


def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    def step(conn: sqlite3.Connection) -> None:
        for statement in sql.split(";"):
            if statement.strip():
                conn.execute(statement)

    return step


V3 = """
ALTER TABLE sessions ADD COLUMN rules TEXT NOT NULL DEFAULT '{}';
"""
"""A session written before version 3 has `{}`: engine rules 1, no exchange limits."""


# MIGRATIONS[n] takes a version n-1 database to version n.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _script(V1),
    2: _script(V2),
    3: _script(V3),
}


def migrate(
    conn: sqlite3.Connection, current: int, target: int = LATEST, *, path: Path | str = "database"
) -> None:
    """Run the steps `current+1 .. target`, each in its own transaction (autocommit conn)."""
    for version in range(current + 1, target + 1):
        with transaction(conn, path):
            # Another process may have migrated while we waited for the write lock.
            if conn.execute("PRAGMA user_version").fetchone()[0] >= version:
                continue
            MIGRATIONS[version](conn)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {version}")
