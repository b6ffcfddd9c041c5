"""`Store`: the papertrade session database (one SQLite file, WAL, sqlite-utils).

A session is its journal: every input the engine consumed, numbered from 1. Everything else
is derived and may be rebuilt: outcomes (fills, rejections, liquidations, funding) and state
snapshots every `SNAPSHOT_EVERY` events, so resume and seek start from the nearest snapshot
instead of the first event. A branch is a session whose journal starts with its parent's
events up to the branch point (by reference, not copied) plus a snapshot at that point.

Opening never writes to a file it has not recognised: foreign, corrupt or newer files raise
`StoreError` and stay byte-for-byte as they were.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils
from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.numbers import ZERO, dec, plain
from papertrade.saves import payload, schema
from papertrade.saves.errors import (
    AmbiguousSession,
    CorruptStoreError,
    NewerSchemaError,
    NotAStoreError,
    SessionLocked,
    SessionNotFound,
    StoreError,
)
from papertrade.saves.locks import SessionLock, is_locked
from papertrade.saves.paths import lock_dir, resolve_db_path
from papertrade.saves.stats import EQUITY_POINTS, EquitySampler, SessionStats, compute_stats
from papertrade.saves.writer import (
    INSERT_EVENT,
    INSERT_OUTCOME,
    INSERT_SNAPSHOT,
    SNAPSHOT_EVERY,
    SessionWriter,
    connect,
    outcome_row,
)

if TYPE_CHECKING:
    from papertrade.core.engine import Engine
    from papertrade.core.instruments import InstrumentBook

OPEN_RETRIES = 20
SQLITE_HEADER = b"SQLite format 3\x00"
_END = 2**62
_CHUNK = 5000
_DERIVE_CHUNK = 50_000


@dataclass(slots=True, frozen=True)
class SessionInfo:
    """One row of `papertrade sessions`; money as Decimal, times as ms UTC.

    `fills`/`realized_pnl`/`fees`/`funding` come from the derived outcomes and are `None`
    when those are not derived up to the end of the journal yet (see `Store.derive`).
    """

    id: int
    name: str
    venue: str
    symbols: tuple[str, ...]
    settings: ev.SessionSettings
    status: str
    created_at: int
    ended_at: int | None
    parent_id: int | None
    branch_seq: int | None
    last_seq: int
    first_ts: int | None
    last_ts: int | None
    derived_seq: int
    fills: int | None = None
    realized_pnl: Decimal | None = None
    fees: Decimal | None = None
    funding: Decimal | None = None

    @property
    def events(self) -> int:
        """Journal length, a branch's inherited prefix included (seqs are 1..last_seq)."""
        return self.last_seq


@dataclass(slots=True, frozen=True)
class _Segment:
    """A run of a session's journal held under `session_id` (branches chain their parent's)."""

    session_id: int
    lo: int
    hi: int


def _now_ms() -> int:
    return int(time.time() * 1000)


def _wrap(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and (
        "malformed" in text or "not a database" in text or "corrupt" in text
    ):
        return CorruptStoreError(f"{path}: the database is damaged ({text})")
    return StoreError(f"{path}: {text}")


def _has_wal_frames(path: Path) -> bool:
    """Whether a `-wal` file holds committed pages (never true for one we just created)."""
    return path.name.endswith("-wal") and path.stat().st_size > 0


def instruments_for(venue: str) -> InstrumentBook | None:
    """The bundled instruments a session of `venue` is replayed with."""
    from papertrade.core.instruments import bundled

    try:
        return bundled(venue)
    except Exception:  # no bundled data for this build: the engine's own default
        return None


def new_engine(settings: ev.SessionSettings, instruments: InstrumentBook | None) -> Engine:
    from papertrade.core.engine import Engine

    return Engine(instruments=instruments, settings=settings)


def engine_from_state(state: dict[str, Any], instruments: InstrumentBook | None) -> Engine:
    from papertrade.core.engine import Engine

    return Engine.from_state(state, instruments=instruments)


class Store:
    """An open session database. Not thread-safe: one Store per thread; writers are separate."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.snapshot_every = SNAPSHOT_EVERY
        self._locks = lock_dir(path)

    # --- opening -------------------------------------------------------------------------

    @classmethod
    def _open_connection(cls, db_path: Path) -> sqlite3.Connection:
        """Connect, check, switch to WAL and migrate, retrying briefly when the file is locked.

        Several processes opening a new file at once contend for the journal-mode switch and
        the first migration; SQLite answers some of those lock upgrades with SQLITE_BUSY at
        once instead of waiting out the busy timeout, so a short retry is what makes
        concurrent first opens succeed.
        """
        for attempt in range(OPEN_RETRIES + 1):
            conn = connect(db_path)
            try:
                version = cls._check(conn, db_path)
                conn.execute("PRAGMA journal_mode = WAL")
                if version < schema.LATEST:
                    schema.migrate(conn, version)
                return conn
            except sqlite3.OperationalError as exc:
                conn.close()
                if "locked" not in str(exc) or attempt == OPEN_RETRIES:
                    raise
                time.sleep(0.01 * (attempt + 1))
            except BaseException:
                conn.close()
                raise
        raise AssertionError("unreachable")

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> Store:
        """Open (creating or migrating) the database at `path` / `$PAPERTRADE_DB` / default."""
        db_path = resolve_db_path(path)
        if db_path.is_dir():
            raise StoreError(f"{db_path} is a directory, not a papertrade database")
        fresh = not db_path.exists() or db_path.stat().st_size == 0
        if not fresh:
            try:
                with db_path.open("rb") as fh:
                    header = fh.read(len(SQLITE_HEADER))
            except OSError as exc:
                raise StoreError(f"cannot read {db_path}: {exc.strerror}") from None
            if header != SQLITE_HEADER:
                raise NotAStoreError(f"{db_path} is not a papertrade database (not SQLite)")
        else:
            try:
                db_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create {db_path.parent}: {exc.strerror}") from None
        sidecars = [Path(f"{db_path}{suffix}") for suffix in ("-wal", "-shm")]
        existed = [p.exists() for p in sidecars]
        conn: sqlite3.Connection | None = None
        try:
            conn = cls._open_connection(db_path)
        except (StoreError, sqlite3.Error) as exc:
            if conn is not None:
                conn.close()
            # A refused file is left as found: drop the empty WAL/SHM our attempt created.
            for sidecar, was_there in zip(sidecars, existed, strict=True):
                if not was_there and sidecar.exists() and not _has_wal_frames(sidecar):
                    sidecar.unlink(missing_ok=True)
            if isinstance(exc, StoreError):
                raise
            raise _wrap(exc, db_path) from None
        store = cls(db_path, conn)
        store._mark_interrupted()
        return store

    @staticmethod
    def _check(conn: sqlite3.Connection, path: Path) -> int:
        """Read-only identification: our schema version, or an error (nothing written yet)."""
        conn.execute("BEGIN")  # one read snapshot: another process may be migrating right now
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            conn.execute("COMMIT")
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

    def _mark_interrupted(self) -> None:
        """`running` with no live writer lock means that writer died: say so."""
        running = self.conn.execute("SELECT id FROM sessions WHERE status = 'running'").fetchall()
        for row in running:
            if not is_locked(self._locks, row[0]):
                self.conn.execute(
                    "UPDATE sessions SET status = 'interrupted'"
                    " WHERE id = ? AND status = 'running'",
                    (row[0],),
                )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    # --- sessions ------------------------------------------------------------------------

    def _default_name(self, venue: str) -> str:
        base = f"{venue}-{datetime.now(UTC):%Y-%m-%d-%H%M}"
        name, n = base, 1
        while self.conn.execute("SELECT 1 FROM sessions WHERE name = ?", (name,)).fetchone():
            n += 1
            name = f"{base}-{n}"
        return name

    def _check_name(self, name: str) -> str:
        name = name.strip()
        if not name:
            raise StoreError("a session name must not be empty")
        if name.isdigit():
            raise StoreError(f"session name {name!r} is all digits and would read as an id")
        if self.conn.execute("SELECT 1 FROM sessions WHERE name = ?", (name,)).fetchone():
            raise StoreError(f"a session named {name!r} already exists")
        return name

    def _insert_session(
        self,
        name: str | None,
        venue: str,
        symbols: Iterable[str],
        settings: ev.SessionSettings,
        status: str,
        parent_id: int | None = None,
        branch_seq: int | None = None,
    ) -> tuple[int, str]:
        """Insert a session row inside the caller's transaction."""
        final = self._default_name(venue) if name is None else self._check_name(name)
        cur = self.conn.execute(
            "INSERT INTO sessions (name, venue, symbols, balance, taker_fee, maker_fee, status,"
            " created_at, parent_id, branch_seq, last_seq, derived_seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                final,
                venue,
                json.dumps(list(dict.fromkeys(symbols))),
                plain(settings.balance),
                plain(settings.taker_fee),
                plain(settings.maker_fee),
                status,
                _now_ms(),
                parent_id,
                branch_seq,
                branch_seq or 0,
                branch_seq or 0,
            ),
        )
        return int(cur.lastrowid or 0), final

    def start_session(
        self,
        name: str | None,
        venue: str,
        symbols: list[str],
        settings: ev.SessionSettings,
        *,
        engine: Engine | None = None,
        snapshot_every: int | None = None,
    ) -> SessionWriter:
        """Create a `running` session and return its writer (which holds the session's lock).

        Pass the live `engine` (or call `writer.apply`) to journal outcomes and snapshots too.
        """
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                sid, final = self._insert_session(name, venue, symbols, settings, "running")
                lock = SessionLock(self._locks, sid)
                lock.acquire(final)
                if engine is not None:
                    engine_state = json.dumps(engine.to_state(), separators=(",", ":"))
                    self.conn.execute(INSERT_SNAPSHOT, (sid, 0, 0, engine_state))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _wrap(exc, self.path) from None
        return SessionWriter(
            self.path,
            sid,
            final,
            lock,
            engine=engine,
            snapshot_every=snapshot_every or self.snapshot_every,
        )

    def _row(self, sid: int) -> dict[str, Any]:
        rows = list(self.db.query("SELECT * FROM sessions WHERE id = ?", [sid]))
        if not rows:
            raise SessionNotFound(f"no session with id {sid}")
        return rows[0]

    def _info(self, row: dict[str, Any], totals: dict[int, dict[str, Any]]) -> SessionInfo:
        settings = ev.SessionSettings(
            balance=dec(row["balance"]),
            taker_fee=dec(row["taker_fee"]),
            maker_fee=dec(row["maker_fee"]),
        )
        extra: dict[str, Any] = {}
        t = totals.get(row["id"])
        if t is not None:
            extra = t
        return SessionInfo(
            id=row["id"],
            name=row["name"],
            venue=row["venue"],
            symbols=tuple(json.loads(row["symbols"])),
            settings=settings,
            status=row["status"],
            created_at=row["created_at"],
            ended_at=row["ended_at"],
            parent_id=row["parent_id"],
            branch_seq=row["branch_seq"],
            last_seq=row["last_seq"],
            first_ts=row["first_ts"],
            last_ts=row["last_ts"],
            derived_seq=row["derived_seq"],
            **extra,
        )

    def _totals(self, row: dict[str, Any]) -> dict[str, Any] | None:
        """Fills, realized PnL, fees and funding over the whole (chained) journal, if derived."""
        if row["derived_seq"] < row["last_seq"]:
            return None
        fills, realized, fees, funding = 0, ZERO, ZERO, ZERO
        for seg in self._segments(row["id"]):
            if seg.session_id != row["id"]:
                parent = self._row(seg.session_id)
                if parent["derived_seq"] < min(seg.hi, parent["last_seq"]):
                    return None
            for kind, pnl, fee, amount in self.conn.execute(
                "SELECT kind, realized_pnl, fee, amount FROM outcomes"
                " WHERE session_id = ? AND seq BETWEEN ? AND ?"
                " AND kind IN ('fill', 'funding_paid')",
                (seg.session_id, seg.lo, seg.hi),
            ):
                if kind == "fill":
                    fills += 1
                    realized += Decimal(pnl)
                    fees += Decimal(fee)
                else:
                    funding += Decimal(amount)
        return {"fills": fills, "realized_pnl": realized, "fees": fees, "funding": funding}

    def sessions(self) -> list[SessionInfo]:
        """Every session, oldest first, with totals where outcomes are derived."""
        out = []
        for row in self.db.query("SELECT * FROM sessions ORDER BY id"):
            totals = self._totals(row)
            out.append(self._info(row, {row["id"]: totals} if totals else {}))
        return out

    list_sessions = sessions

    def interrupted(self) -> list[SessionInfo]:
        """Sessions whose writer died (crash, kill -9): what the next start offers to resume."""
        return [s for s in self.sessions() if s.status == "interrupted"]

    def session(self, ref: str | int, *, totals: bool = True) -> SessionInfo:
        """Resolve a session by id, exact name, or unambiguous name prefix.

        `totals=False` skips summing the stored outcomes (fills etc. are then None)."""
        sid = self.resolve(ref)
        row = self._row(sid)
        sums = self._totals(row) if totals else None
        return self._info(row, {sid: sums} if sums else {})

    def resolve(self, ref: str | int) -> int:
        text = str(ref).strip()
        if not text:
            raise SessionNotFound("no session given")
        by_name = self.conn.execute("SELECT id FROM sessions WHERE name = ?", (text,)).fetchone()
        if by_name:
            return int(by_name[0])
        if text.isdigit():
            by_id = self.conn.execute("SELECT id FROM sessions WHERE id = ?", (int(text),))
            found = by_id.fetchone()
            if found:
                return int(found[0])
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        matches = self.conn.execute(
            "SELECT id, name FROM sessions WHERE name LIKE ? ESCAPE '\\' ORDER BY id",
            (escaped + "%",),
        ).fetchall()
        if len(matches) == 1:
            return int(matches[0][0])
        if len(matches) > 1:
            names = ", ".join(m[1] for m in matches[:8])
            raise AmbiguousSession(f"{text!r} matches several sessions: {names}")
        raise SessionNotFound(f"no session {text!r} (see `papertrade sessions`)")

    def delete(self, ref: str | int) -> None:
        """Remove a session and everything derived from it. Refused while written or branched."""
        sid = self.resolve(ref)
        row = self._row(sid)
        children = self.conn.execute(
            "SELECT name FROM sessions WHERE parent_id = ?", (sid,)
        ).fetchall()
        if children:
            names = ", ".join(c[0] for c in children)
            raise StoreError(f"session {row['name']} has branches ({names}); delete them first")
        lock = SessionLock(self._locks, sid)
        lock.acquire(row["name"])
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for table in ("outcomes", "snapshots", "events"):
                    self.conn.execute(f"DELETE FROM {table} WHERE session_id = ?", (sid,))
                self.conn.execute("DELETE FROM sessions WHERE id = ?", (sid,))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        finally:
            lock.release()
        lock.path.unlink(missing_ok=True)

    # --- journal -------------------------------------------------------------------------

    def _segments(self, sid: int) -> list[_Segment]:
        row = self._row(sid)
        if row["parent_id"] is None:
            return [_Segment(sid, 1, _END)]
        cut = int(row["branch_seq"])
        inherited = [
            _Segment(s.session_id, s.lo, min(s.hi, cut))
            for s in self._segments(int(row["parent_id"]))
            if s.lo <= cut
        ]
        return [*inherited, _Segment(sid, cut + 1, _END)]

    def rows(
        self, ref: str | int, start_seq: int = 1, end_seq: int | None = None
    ) -> Iterator[tuple[int, int, str, str]]:
        """Raw journal rows `(seq, ts, kind, payload)` in order, through a branch's parents."""
        sid = self.resolve(ref)
        end = _END if end_seq is None else end_seq
        for seg in self._segments(sid):
            lo, hi = max(seg.lo, start_seq), min(seg.hi, end)
            if lo > hi:
                continue
            cur = self.conn.execute(
                "SELECT seq, ts, kind, payload FROM events"
                " WHERE session_id = ? AND seq BETWEEN ? AND ? ORDER BY seq",
                (seg.session_id, lo, hi),
            )
            while True:
                chunk = cur.fetchmany(_CHUNK)
                if not chunk:
                    break
                yield from chunk

    def events(
        self, ref: str | int, start_seq: int = 1, end_seq: int | None = None
    ) -> Iterator[tuple[int, ev.Event]]:
        """The session's inputs `(seq, event)` from `start_seq` to `end_seq` inclusive."""
        for seq, ts, kind, text in self.rows(ref, start_seq, end_seq):
            yield seq, payload.decode(kind, ts, text, seq)

    def settings(self, ref: str | int) -> ev.SessionSettings:
        return self.session(ref, totals=False).settings

    def export_lines(self, ref: str | int) -> Iterator[str]:
        """The session as a drill: a `session` line, then every input, one JSON line each.

        `papertrade simulate` on this reproduces the session's outcomes exactly.
        """
        info = self.session(ref, totals=False)
        head = codec.to_dict(info.settings)
        head["name"] = info.name
        head["venue"] = info.venue
        yield json.dumps(head, separators=(",", ":"))
        for _, ts, kind, text in self.rows(info.id):
            yield payload.to_line(kind, ts, text)

    def import_session(
        self,
        settings: ev.SessionSettings,
        events: Iterable[ev.Event],
        *,
        name: str | None = None,
        venue: str = "binance",
        symbols: Iterable[str] | None = None,
    ) -> int:
        """Store an already validated event stream as an `ended` session, in one transaction."""
        items = list(events)
        syms = (
            list(symbols)
            if symbols is not None
            else sorted({e.symbol for e in items if hasattr(e, "symbol")})
        )
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                sid, _ = self._insert_session(name, venue, syms, settings, "ended")
                rows = []
                for seq, event in enumerate(items, start=1):
                    kind, ts, text = payload.encode(event)
                    rows.append((sid, seq, ts, kind, text))
                self.conn.executemany(INSERT_EVENT, rows)
                self.conn.execute(
                    "UPDATE sessions SET last_seq = ?, first_ts = ?, last_ts = ?, ended_at = ?"
                    " WHERE id = ?",
                    (
                        len(rows),
                        rows[0][2] if rows else None,
                        rows[-1][2] if rows else None,
                        _now_ms(),
                        sid,
                    ),
                )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _wrap(exc, self.path) from None
        return sid

    # --- engine: replay, seek, derive, resume, branch -----------------------------------

    def _latest_snapshot(self, sid: int, at_seq: int) -> tuple[int, str] | None:
        for seg in reversed(self._segments(sid)):
            found = self.conn.execute(
                "SELECT seq, state FROM snapshots WHERE session_id = ? AND seq BETWEEN ? AND ?"
                " ORDER BY seq DESC LIMIT 1",
                (seg.session_id, seg.lo - 1, min(seg.hi, at_seq)),
            ).fetchone()
            if found:
                return int(found[0]), str(found[1])
        return None

    def replay(
        self,
        ref: str | int,
        instruments: InstrumentBook | None = None,
    ) -> Iterator[tuple[int, ev.Event, list[ev.Outcome]]]:
        """Feed the whole journal to a fresh engine: `(seq, event, outcomes)` for each input."""
        info = self.session(ref, totals=False)
        book = instruments if instruments is not None else instruments_for(info.venue)
        engine = new_engine(info.settings, book)
        for seq, event in self.events(info.id):
            yield seq, event, engine.apply(event)

    def engine_at(
        self, ref: str | int, seq: int | None = None, instruments: InstrumentBook | None = None
    ) -> Engine:
        """The engine state after event `seq` (default: the end), from the nearest snapshot."""
        info = self.session(ref, totals=False)
        target = info.last_seq if seq is None else min(seq, info.last_seq)
        book = instruments if instruments is not None else instruments_for(info.venue)
        engine, done = self._start_engine(info, target, book)
        for _, event in self.events(info.id, done + 1, target):
            engine.apply(event)
        return engine

    def _start_engine(
        self, info: SessionInfo, target: int, book: InstrumentBook | None
    ) -> tuple[Engine, int]:
        snap = self._latest_snapshot(info.id, target)
        if snap is None:
            return new_engine(info.settings, book), 0
        try:
            state = json.loads(snap[1])
        except json.JSONDecodeError as exc:
            raise CorruptStoreError(
                f"snapshot {snap[0]} of {info.name} is damaged: {exc}"
            ) from None
        return engine_from_state(state, book), snap[0]

    def derive(self, ref: str | int, instruments: InstrumentBook | None = None) -> Engine | None:
        """Bring the stored outcomes (and missing snapshots) up to the end of the journal.

        Returns the engine at the end when work was done (None when already derived). A
        session being written by a live process is left alone.
        """
        info = self.session(ref, totals=False)
        if info.derived_seq >= info.last_seq:
            return None
        if info.status == "running" and is_locked(self._locks, info.id):
            raise SessionLocked(f"session {info.name} is being recorded; try again after it ends")
        if info.parent_id is not None:
            self.derive(info.parent_id, instruments)
        book = instruments if instruments is not None else instruments_for(info.venue)
        start = max(info.derived_seq, info.branch_seq or 0)
        engine, done = self._start_engine(info, start, book)
        for _, event in self.events(info.id, done + 1, start):
            engine.apply(event)
        self._advance(info, engine, start, info.last_seq)
        return engine

    def _advance(self, info: SessionInfo, engine: Engine, after: int, until: int) -> None:
        """Apply own events (after, until], storing outcomes and missing snapshots.

        Committed every `_DERIVE_CHUNK` events, so memory stays bounded and an interrupted
        derivation keeps what it did (derived_seq only moves over committed work)."""
        every = self.snapshot_every
        have = {
            r[0]
            for r in self.conn.execute(
                "SELECT seq FROM snapshots WHERE session_id = ? AND seq > ?", (info.id, after)
            )
        }
        lo = after + 1
        while lo <= until:
            hi = min(until, lo + _DERIVE_CHUNK - 1)
            outcome_rows: list[tuple[Any, ...]] = []
            snap_rows: list[tuple[Any, ...]] = []
            for seq, ts, kind, text in list(self.rows(info.id, lo, hi)):
                event = payload.decode(kind, ts, text, seq)
                for idx, outcome in enumerate(engine.apply(event)):
                    outcome_rows.append(outcome_row(info.id, seq, idx, outcome))
                if seq % every == 0 and seq not in have:
                    state = json.dumps(engine.to_state(), separators=(",", ":"))
                    snap_rows.append((info.id, seq, ts, state))
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.executemany(INSERT_OUTCOME, outcome_rows)
                self.conn.executemany(INSERT_SNAPSHOT, snap_rows)
                self.conn.execute(
                    "UPDATE sessions SET derived_seq = max(derived_seq, ?) WHERE id = ?",
                    (hi, info.id),
                )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            lo = hi + 1

    def stored_outcomes(self, ref: str | int) -> Iterator[tuple[int, str]]:
        """Stored outcomes `(seq, codec JSON line)` through a branch's parents, in order.

        Complete only when `session(ref).fills is not None` (derived to the end)."""
        sid = self.resolve(ref)
        for seg in self._segments(sid):
            for seq, text in self.conn.execute(
                "SELECT seq, payload FROM outcomes WHERE session_id = ? AND seq BETWEEN ? AND ?"
                " ORDER BY seq, idx",
                (seg.session_id, seg.lo, seg.hi),
            ):
                yield int(seq), str(text)

    def resume(
        self,
        ref: str | int,
        instruments: InstrumentBook | None = None,
        *,
        snapshot_every: int | None = None,
    ) -> tuple[Engine, SessionWriter]:
        """Continue a session: its engine at the last recorded event and a writer after it.

        Takes the session's writer lock (raises `SessionLocked` if a live process has it),
        derives whatever the crashed writer had not, and marks the session `running`.
        """
        info = self.session(ref, totals=False)
        lock = SessionLock(self._locks, info.id)
        lock.acquire(info.name)
        try:
            if info.parent_id is not None:
                self.derive(info.parent_id, instruments)
            book = instruments if instruments is not None else instruments_for(info.venue)
            start = max(info.derived_seq, info.branch_seq or 0)
            engine, done = self._start_engine(info, start, book)
            for _, event in self.events(info.id, done + 1, start):
                engine.apply(event)
            self._advance(info, engine, start, info.last_seq)
            self.conn.execute(
                "UPDATE sessions SET status = 'running', ended_at = NULL WHERE id = ?", (info.id,)
            )
        except BaseException:
            lock.release()
            raise
        writer = SessionWriter(
            self.path,
            info.id,
            info.name,
            lock,
            next_seq=info.last_seq + 1,
            first_ts=info.first_ts,
            last_ts=info.last_ts,
            engine=engine,
            snapshot_every=snapshot_every or self.snapshot_every,
        )
        return engine, writer

    def branch(
        self,
        ref: str | int,
        at_seq: int | None = None,
        at_ts: int | None = None,
        name: str | None = None,
        instruments: InstrumentBook | None = None,
    ) -> int:
        """A new session continuing from `ref`'s state after event `at_seq` (or the last
        event at or before `at_ts`); returns its id.

        The branch inherits the parent's journal up to the branch point by reference, gets a
        snapshot there, and starts `ended` with no own events: `resume` it to trade on, feeding
        it `branch_market_events` (the parent's later market data, without its commands).
        """
        if (at_seq is None) == (at_ts is None):
            raise StoreError("give exactly one branch point: a sequence number or a timestamp")
        info = self.session(ref, totals=False)
        if at_ts is not None:
            cut = self._seq_at_ts(info, at_ts)
        else:
            assert at_seq is not None
            if not 0 <= at_seq <= info.last_seq:
                raise StoreError(
                    f"branch point {at_seq} is outside {info.name}'s journal (0..{info.last_seq})"
                )
            cut = at_seq
        engine = self.engine_at(info.id, cut, instruments)
        state = json.dumps(engine.to_state(), separators=(",", ":"))
        cut_ts = next((ts for _, ts, _, _ in self.rows(info.id, cut, cut)), 0)
        base = name if name is not None else f"{info.name}-branch-{cut}"
        if name is None:
            n = 1
            while self.conn.execute("SELECT 1 FROM sessions WHERE name = ?", (base,)).fetchone():
                n += 1
                base = f"{info.name}-branch-{cut}-{n}"
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            sid, _ = self._insert_session(
                base, info.venue, info.symbols, info.settings, "ended", info.id, cut
            )
            self.conn.execute(INSERT_SNAPSHOT, (sid, cut, cut_ts, state))
            self.conn.execute(
                "UPDATE sessions SET first_ts = ?, last_ts = ?, ended_at = created_at,"
                " derived_seq = ? WHERE id = ?",
                (info.first_ts, cut_ts if cut else None, cut, sid),
            )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return sid

    def _seq_at_ts(self, info: SessionInfo, at_ts: int) -> int:
        cut = 0
        for seg in self._segments(info.id):
            found = self.conn.execute(
                "SELECT max(seq) FROM events WHERE session_id = ? AND seq BETWEEN ? AND ?"
                " AND ts <= ?",
                (seg.session_id, seg.lo, seg.hi, at_ts),
            ).fetchone()
            if found and found[0] is not None:
                cut = int(found[0])
        return cut

    def branch_market_events(self, ref: str | int) -> Iterator[tuple[int, ev.MarketEvent]]:
        """For a branch: the parent's market events after the branch point, `(parent seq,
        event)`, for a replay-driven UI to play into the branch. Commands are left out."""
        info = self.session(ref, totals=False)
        if info.parent_id is None or info.branch_seq is None:
            raise StoreError(f"session {info.name} is not a branch")
        for seq, ts, kind, text in self.rows(info.parent_id, info.branch_seq + 1):
            if kind in ev.MARKET_TYPES:
                yield seq, payload.decode(kind, ts, text, seq)  # type: ignore[misc]

    # --- statistics ----------------------------------------------------------------------

    def stats(
        self,
        ref: str | int,
        instruments: InstrumentBook | None = None,
        points: int = EQUITY_POINTS,
    ) -> SessionStats:
        """Replay the session and compute `saves.stats.compute_stats` over it."""
        info = self.session(ref, totals=False)
        book = instruments if instruments is not None else instruments_for(info.venue)
        engine = new_engine(info.settings, book)
        sampler = EquitySampler(lambda: engine.account().margin_balance)
        if info.first_ts is not None:
            sampler.series.append((info.first_ts, info.settings.balance))
        outcomes: list[ev.Outcome] = []
        last_ts = None
        for _, event in self.events(info.id):
            out = engine.apply(event)
            outcomes.extend(out)
            sampler.observe(event.ts, out)
            last_ts = event.ts
        series = sampler.finish(last_ts)
        return compute_stats(
            outcomes,
            series,
            starting_balance=info.settings.balance,
            start_ts=info.first_ts,
            end_ts=info.last_ts,
            points=points,
        )
