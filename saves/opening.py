"""Opening a database file: refuse what is not ours before SQLite writes a byte, then migrate.

Opening never writes to a file it has not recognised: a path that is not a regular file
(a directory, `/dev/null`, a FIFO, a socket) is refused before SQLite sees it (SQLite would
otherwise create `/dev/null-journal` next to it, as root), and foreign, corrupt or newer
files raise `StoreError` and stay byte-for-byte as they were, with no `-wal`/`-shm` left.
"""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from papertrade.saves import schema
from papertrade.saves.errors import NewerSchemaError, NotAStoreError, StoreError
from papertrade.saves.transactions import read_snapshot, retry_locked, wrap
from papertrade.saves.writer import connect

SQLITE_HEADER = b"SQLite format 3\x00"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _refuse_unusable(db_path: Path) -> bool:
    """Whether `db_path` is new or empty (so ours to create); raises for anything else odd."""
    try:
        mode = db_path.stat().st_mode
    except FileNotFoundError:
        return True
    except OSError as exc:
        raise StoreError(f"cannot use {db_path}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise StoreError(
            f"{db_path} is {_kind(mode)}, not a papertrade database; "
            "give the path of a database file (or of one to create)"
        )
    if db_path.stat().st_size == 0:
        return True
    try:
        with db_path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot read {db_path}: {exc.strerror}") from None
    if header != SQLITE_HEADER:
        raise NotAStoreError(f"{db_path} is not a papertrade database (not SQLite)")
    return False


def _check(conn: sqlite3.Connection, path: Path) -> int:
    """Read-only identification: our schema version, or an error (nothing written yet)."""
    with read_snapshot(conn):  # another process may be migrating right now
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app_id != schema.APPLICATION_ID:
        if tables == 0 and version == 0:
            return 0
        raise NotAStoreError(
            f"{path} is an SQLite file of another program, not a papertrade database"
        )
    if version > schema.LATEST:
        raise NewerSchemaError(
            f"{path} has schema version {version}, newer than this papertrade "
            f"understands ({schema.LATEST}); upgrade papertrade to open it"
        )
    return int(version)


def _connect_and_migrate(db_path: Path) -> sqlite3.Connection:
    """One attempt: connect, identify, switch to WAL, migrate (closed again on any error)."""
    conn = connect(db_path)
    try:
        version = _check(conn, db_path)
        conn.execute("PRAGMA journal_mode = WAL")
        if version < schema.LATEST:
            schema.migrate(conn, version, path=db_path)
    except BaseException:
        conn.close()
        raise
    return conn


def _has_wal_frames(path: Path) -> bool:
    """Whether a `-wal` file holds committed pages (never true for one we just created)."""
    return path.name.endswith("-wal") and path.stat().st_size > 0


def open_connection(db_path: Path) -> sqlite3.Connection:
    """A checked, migrated connection to `db_path`, or a `StoreError` leaving it untouched.

    Several processes opening a new file at once contend for the journal-mode switch and the
    first migration; SQLite answers some of those lock upgrades with SQLITE_BUSY at once
    instead of waiting out the busy timeout, so `retry_locked` makes concurrent first opens
    succeed.
    """
    fresh = _refuse_unusable(db_path)
    if fresh:
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {db_path.parent}: {exc.strerror}") from None
    sidecars = [Path(f"{db_path}{suffix}") for suffix in ("-wal", "-shm")]
    existed = [p.exists() for p in sidecars]
    try:
        return retry_locked(lambda: _connect_and_migrate(db_path))
    except (StoreError, sqlite3.Error) as exc:
        # A refused file is left as found: drop the empty WAL/SHM our attempt created.
        for sidecar, was_there in zip(sidecars, existed, strict=True):
            if not was_there and sidecar.exists() and not _has_wal_frames(sidecar):
                sidecar.unlink(missing_ok=True)
        if isinstance(exc, StoreError):
            raise
        raise wrap(exc, db_path) from None
