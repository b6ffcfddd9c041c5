"""`Store`: the papertrade session database (one SQLite file, WAL, the standard `sqlite3`).

A session is its journal: every input the engine consumed, numbered from 1. Everything else
is derived and may be rebuilt: outcomes (fills, rejections, liquidations, funding) and state
snapshots every `SNAPSHOT_EVERY` events, so resume and seek start from the nearest snapshot
instead of the first event. A branch is a session whose journal starts with its parent's
events up to the branch point (by reference, not copied) plus a snapshot at that point.

`Store` is the one entry point the rest of papertrade uses; the work lives in modules named
for their job, each on the same connection:

    saves.opening       refuse what is not ours, connect, migrate
    saves.catalogue     the sessions table: names, ids, status, delete
    saves.journal       reading inputs, outcomes and snapshots back (validated)
    saves.derive        replay, seek, derive, branch, stats
    saves.listing       the session listing with its one error policy
    saves.transactions  the one BEGIN IMMEDIATE / COMMIT / ROLLBACK helper every write uses
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from papertrade.core import events as ev
from papertrade.core.instruments import instruments_for
from papertrade.saves.catalogue import Catalogue, SessionInfo, to_info
from papertrade.saves.derive import Derivation, new_engine, state_text
from papertrade.saves.errors import StoreError
from papertrade.saves.journal import Journal
from papertrade.saves.listing import SessionRow, list_sessions
from papertrade.saves.locks import SessionLock
from papertrade.saves.opening import open_connection
from papertrade.saves.paths import lock_dir, resolve_db_path
from papertrade.saves.stats import EQUITY_POINTS, SessionStats
from papertrade.saves.transactions import transaction
from papertrade.saves.writer import INSERT_SNAPSHOT, SNAPSHOT_EVERY, SessionWriter

if TYPE_CHECKING:
    import sqlite3

    from papertrade.core.engine import Engine
    from papertrade.core.instruments import InstrumentBook

__all__ = ["SessionInfo", "SessionRow", "Store", "instruments_for", "new_engine"]


class Store:
    """An open session database. Not thread-safe: one Store per thread; writers are separate."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.snapshot_every = SNAPSHOT_EVERY
        self._catalogue = Catalogue(conn, path, lock_dir(path))
        self._journal = Journal(self._catalogue)
        self._derivation = Derivation(self._catalogue, self._journal)

    # --- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> Store:
        """Open (creating or migrating) the database at `path` / `$PAPERTRADE_DB` / default.

        Anything that is not a papertrade database (a directory, `/dev/null`, a FIFO, another
        program's file, a damaged or newer one) raises `StoreError` and is left untouched."""
        db_path = resolve_db_path(path)
        store = cls(db_path, open_connection(db_path))
        store._catalogue.mark_interrupted()
        return store

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
        lock: SessionLock | None = None
        try:
            with transaction(self.conn, self.path):
                sid, final = self._catalogue.insert(name, venue, symbols, settings, "running")
                lock = SessionLock(self._catalogue.locks, sid)
                lock.acquire(final)
                if engine is not None:
                    self.conn.execute(INSERT_SNAPSHOT, (sid, 0, 0, state_text(engine)))
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        return SessionWriter(
            self.path,
            sid,
            final,
            lock,
            engine=engine,
            snapshot_every=snapshot_every or self.snapshot_every,
        )

    def sessions(self) -> list[SessionInfo]:
        """Every session, oldest first, with totals where outcomes are derived.

        Raises on the first damaged session; `list_sessions` lists around it."""
        return [to_info(row, self._journal.results(row)) for row in self._catalogue.all_rows()]

    def list_sessions(self, *, derive: bool = True) -> list[SessionRow]:
        """Every session, oldest first, for `papertrade sessions` and the sessions screen.

        With `derive`, finished sessions not derived yet are derived first (stored, so the
        next listing is quick). A session that fails is listed with `damaged` set to why,
        never breaking the list; one being recorded is listed without results."""
        return list_sessions(
            self._catalogue,
            self._journal,
            self._derivation,
            self.snapshot_every,
            derive=derive,
        )

    def interrupted(self) -> list[SessionInfo]:
        """Sessions whose writer died (crash, kill -9): what the next start offers to resume.

        A session whose own row is damaged is left out rather than failing the start. Every
        start asks (before its first frame), so a file whose sessions all ended, the usual
        case, is answered by one query, without the listing (and its sqlite-utils import)."""
        if self.conn.execute("SELECT 1 FROM sessions WHERE status != 'ended' LIMIT 1").fetchone():
            rows = self.list_sessions(derive=False)
        else:
            return []
        return [r.info for r in rows if r.info is not None and r.info.status == "interrupted"]

    def session(self, ref: str | int, *, totals: bool = True) -> SessionInfo:
        """Resolve a session by id, exact name, or unambiguous name prefix.

        `totals=False` skips summing the stored outcomes (fills etc. are then None)."""
        row = self._catalogue.row(self.resolve(ref))
        return to_info(row, self._journal.results(row) if totals else None)

    def resolve(self, ref: str | int) -> int:
        return self._catalogue.resolve(ref)

    def delete(self, ref: str | int) -> None:
        """Remove a session and everything derived from it. Refused while written or branched."""
        self._catalogue.delete(self.resolve(ref))

    # --- journal -------------------------------------------------------------------------

    def rows(
        self, ref: str | int, start_seq: int = 1, end_seq: int | None = None
    ) -> Iterator[tuple[int, int, str, str]]:
        """Raw journal rows `(seq, ts, kind, payload)` in order, through a branch's parents."""
        return self._journal.rows(self.resolve(ref), start_seq, end_seq)

    def events(
        self, ref: str | int, start_seq: int = 1, end_seq: int | None = None
    ) -> Iterator[tuple[int, ev.Event]]:
        """The session's inputs `(seq, event)` from `start_seq` to `end_seq` inclusive."""
        return self._journal.events(self.resolve(ref), start_seq, end_seq)

    def settings(self, ref: str | int) -> ev.SessionSettings:
        return self.session(ref, totals=False).settings

    def export_lines(self, ref: str | int) -> Iterator[str]:
        """The session as a drill: a `session` line, then every input, one JSON line each."""
        return self._journal.export_lines(self.session(ref, totals=False))

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
        return self._journal.write_imported(
            settings, events, name=name, venue=venue, symbols=symbols
        )

    def stored_outcomes(self, ref: str | int) -> Iterator[tuple[int, str]]:
        """Stored outcomes `(seq, codec JSON line)` through a branch's parents, in order.

        Complete only when `session(ref).fills is not None` (derived to the end)."""
        return self._journal.stored_outcomes(self.resolve(ref))

    # --- engine: replay, seek, derive, resume, branch -----------------------------------

    def replay(
        self, ref: str | int, instruments: InstrumentBook | None = None
    ) -> Iterator[tuple[int, ev.Event, list[ev.Outcome]]]:
        """Feed the whole journal to a fresh engine: `(seq, event, outcomes)` for each input."""
        info = self.session(ref, totals=False)
        return self._derivation.replay(info, Derivation.book(info, instruments))

    def engine_at(
        self, ref: str | int, seq: int | None = None, instruments: InstrumentBook | None = None
    ) -> Engine:
        """The engine state after event `seq` (default: the end), from the nearest snapshot."""
        info = self.session(ref, totals=False)
        return self._derivation.engine_at(info, seq, Derivation.book(info, instruments))

    def derive(self, ref: str | int, instruments: InstrumentBook | None = None) -> Engine | None:
        """Bring the stored outcomes (and missing snapshots) up to the end of the journal.

        Returns the engine at the end when work was done (None when already derived). A
        session being written by a live process is left alone (`SessionLocked`).
        """
        info = self.session(ref, totals=False)
        return self._derivation.derive(info, instruments, self.snapshot_every)

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
        lock = SessionLock(self._catalogue.locks, info.id)
        lock.acquire(info.name)
        try:
            engine = self._derivation.catch_up(info, instruments, self.snapshot_every)
            with transaction(self.conn, self.path):
                self._catalogue.set_running(info.id)
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
        info = self.session(ref, totals=False)
        book = Derivation.book(info, instruments)
        return self._derivation.branch(info, at_seq, at_ts, name, book)

    def branch_market_events(self, ref: str | int) -> Iterator[tuple[int, ev.MarketEvent]]:
        """For a branch: the parent's market events after the branch point, `(parent seq,
        event)`, for a replay-driven UI to play into the branch. Commands are left out."""
        info = self.session(ref, totals=False)
        if info.parent_id is None or info.branch_seq is None:
            raise StoreError(f"session {info.name} is not a branch")
        return self._journal.market_events_after(info.parent_id, info.branch_seq)

    # --- statistics ----------------------------------------------------------------------

    def stats(
        self,
        ref: str | int,
        instruments: InstrumentBook | None = None,
        points: int = EQUITY_POINTS,
    ) -> SessionStats:
        """Replay the session and compute `saves.stats.compute_stats` over it."""
        info = self.session(ref, totals=False)
        return self._derivation.stats(info, Derivation.book(info, instruments), points)
