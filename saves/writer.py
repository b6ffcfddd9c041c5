"""`SessionWriter`: the journal of one live session, written off the hot path.

`append` only numbers the event and queues it (well under a microsecond); a daemon thread with
its own SQLite connection wakes every `commit_interval` (200 ms), encodes what is queued and
commits it as one transaction. So a `kill -9` loses at most the last unflushed batch, and WAL
keeps the file consistent whatever instant the process dies at. `close()` flushes everything;
a program that exits without closing still gets its queue flushed (atexit) and leaves the
session `running` with no lock, which the next open reports as `interrupted`.

Error policy: if the thread fails (disk full, file removed), it stops, keeps the exception,
and every later `append`/`flush`/`close` raises `WriterFailed` with it, so the UI can show it.
"""

from __future__ import annotations

import atexit
import json
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.numbers import plain
from papertrade.saves import payload
from papertrade.saves.errors import StoreError, WriterFailed
from papertrade.saves.locks import SessionLock

if TYPE_CHECKING:
    from papertrade.core.engine import Engine

SNAPSHOT_EVERY = 5000
COMMIT_INTERVAL = 0.2
STATUSES = ("running", "ended", "interrupted")

_EVENT = 0
_SNAPSHOT = 1


def connect(path: Path) -> sqlite3.Connection:
    """A connection configured the way every papertrade connection is (autocommit, WAL)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: safe against app crashes
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def outcome_row(session_id: int, seq: int, idx: int, outcome: ev.Outcome) -> tuple[Any, ...]:
    """One `outcomes` row: the queryable money columns as TEXT, plus the full JSON."""
    realized = fee = amount = None
    if isinstance(outcome, ev.Fill):
        realized, fee = plain(outcome.realized_pnl), plain(outcome.fee)
    elif isinstance(outcome, ev.FundingPaid):
        amount = plain(outcome.amount)
    elif isinstance(outcome, ev.Liquidation):
        amount = plain(outcome.loss)
    symbol = getattr(outcome, "symbol", None)
    return (
        session_id,
        seq,
        idx,
        outcome.ts,
        outcome.type,
        symbol,
        realized,
        fee,
        amount,
        codec.dumps(outcome),
    )


INSERT_EVENT = "INSERT INTO events (session_id, seq, ts, kind, payload) VALUES (?, ?, ?, ?, ?)"
INSERT_OUTCOME = (
    "INSERT OR REPLACE INTO outcomes (session_id, seq, idx, ts, kind, symbol, realized_pnl, fee,"
    " amount, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_SNAPSHOT = (
    "INSERT OR REPLACE INTO snapshots (session_id, seq, ts, state) VALUES (?, ?, ?, ?)"
)


class SessionWriter:
    """Appends one session's inputs (and, with an engine attached, outcomes and snapshots).

    Contract with an engine: call `append(event, outcomes)` *after* `engine.apply(event)`
    (or just `apply(event)`, which does both), so a snapshot taken at sequence n is the state
    after event n. Without an engine the journal is still complete; outcomes and snapshots are
    then derived on the next replay.
    """

    def __init__(
        self,
        db_path: Path,
        session_id: int,
        name: str,
        lock: SessionLock,
        *,
        next_seq: int = 1,
        first_ts: int | None = None,
        last_ts: int | None = None,
        engine: Engine | None = None,
        outcomes_complete: bool = True,
        snapshot_every: int = SNAPSHOT_EVERY,
        commit_interval: float = COMMIT_INTERVAL,
    ) -> None:
        self.id = session_id
        self.name = name
        self.engine = engine
        self.snapshot_every = snapshot_every
        self._path = db_path
        self._lock = lock
        self._seq = next_seq - 1
        self._flushed = next_seq - 1
        self._first_ts = first_ts
        self._tail_ts = last_ts or 0  # ts of the last appended event
        self._outcomes_complete = outcomes_complete
        self._queue: deque[tuple[Any, ...]] = deque()
        self._guard = threading.Lock()
        self._wake = threading.Event()
        self._flushed_cond = threading.Condition()
        self._stopping = False
        self._final_status: str | None = None
        self._closed = False
        self._error: BaseException | None = None
        self._interval = commit_interval
        self._thread = threading.Thread(
            target=self._run, name=f"papertrade-journal-{session_id}", daemon=True
        )
        self._thread.start()
        atexit.register(self._at_exit)

    # --- producer side (any thread) -------------------------------------------------------

    @property
    def last_seq(self) -> int:
        """Sequence number of the last appended event (queued, maybe not yet committed)."""
        return self._seq

    @property
    def flushed_seq(self) -> int:
        """Every event up to this sequence number is committed to the file."""
        return self._flushed

    @property
    def error(self) -> BaseException | None:
        """Why the writer thread stopped, if it did."""
        return self._error

    def append(self, event: ev.Event, outcomes: Iterable[ev.Outcome] | None = None) -> int:
        """Queue one engine input (and the outcomes it produced); returns its sequence number."""
        if self._error is not None:
            raise WriterFailed(f"journal writer stopped: {self._error}") from self._error
        if self._closed:
            raise StoreError(f"session {self.name} is closed")
        frozen = None if outcomes is None else tuple(outcomes)
        with self._guard:
            self._seq += 1
            seq = self._seq
            self._tail_ts = event.ts
            self._queue.append((_EVENT, seq, event, frozen))
        engine = self.engine
        if engine is not None and seq % self.snapshot_every == 0:
            self._queue_snapshot(seq, event.ts, engine)
        return seq

    def apply(self, event: ev.Event) -> list[ev.Outcome]:
        """`engine.apply(event)` then journal it with its outcomes: the usual hot-path call."""
        if self.engine is None:
            raise StoreError("this writer has no engine attached")
        outcomes = self.engine.apply(event)
        self.append(event, outcomes)
        return outcomes

    def snapshot(self) -> None:
        """Queue a snapshot of the attached engine's state after the last appended event."""
        if self.engine is not None and self._seq > 0:
            self._queue_snapshot(self._seq, self._tail_ts, self.engine)

    def _queue_snapshot(self, seq: int, ts: int, engine: Engine) -> None:
        # to_state() must run here: the engine moves on as soon as we return.
        state = json.dumps(engine.to_state(), separators=(",", ":"))
        with self._guard:
            self._queue.append((_SNAPSHOT, seq, ts, state))

    def flush(self, timeout: float | None = 10.0) -> int:
        """Commit everything appended so far; returns `flushed_seq`."""
        target = self._seq
        if self._closed and not self._thread.is_alive():
            if self._error is not None:
                raise WriterFailed(f"journal writer stopped: {self._error}") from self._error
            return self._flushed
        self._wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._flushed_cond:
            while self._flushed < target and self._error is None:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise StoreError(f"journal flush timed out after {timeout} s")
                self._flushed_cond.wait(remaining if remaining is not None else 0.5)
                self._wake.set()
        if self._error is not None:
            raise WriterFailed(f"journal writer stopped: {self._error}") from self._error
        return self._flushed

    def close(self, status: str = "ended") -> None:
        """Flush everything, snapshot the final state, set the status, release the lock."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        if self._closed:
            return
        if self._error is None:
            self.snapshot()
        self._closed = True
        self._final_status = status
        self._stopping = True
        self._wake.set()
        self._thread.join()
        atexit.unregister(self._at_exit)
        self._lock.release()
        if self._error is not None:
            raise WriterFailed(f"journal writer stopped: {self._error}") from self._error

    def _at_exit(self) -> None:
        """Interpreter exit without `close()`: keep the events, leave the session resumable."""
        if not self._closed:
            self._closed = True
            self._stopping = True
            self._wake.set()
            self._thread.join(timeout=5)
            self._lock.release()

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.close("ended" if exc_type is None else "interrupted")

    # --- writer thread --------------------------------------------------------------------

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            conn = connect(self._path)
            while True:
                self._wake.wait(self._interval)
                self._wake.clear()
                stopping = self._stopping
                self._write_batch(conn, stopping)
                if stopping and not self._queue:
                    break
        except BaseException as exc:  # the thread must never die silently
            self._error = exc
        finally:
            if conn is not None:
                conn.close()
            with self._flushed_cond:
                self._flushed_cond.notify_all()

    def _write_batch(self, conn: sqlite3.Connection, final: bool) -> None:
        queue = self._queue
        count = len(queue)
        status = self._final_status if final else None
        if count == 0 and status is None:
            return
        items = [queue.popleft() for _ in range(count)]
        sid = self.id
        event_rows: list[tuple[Any, ...]] = []
        outcome_rows: list[tuple[Any, ...]] = []
        snapshot_rows: list[tuple[Any, ...]] = []
        last_seq = None
        last_ts = None
        for item in items:
            if item[0] == _EVENT:
                _, seq, event, outcomes = item
                kind, ts, text = payload.encode(event)
                event_rows.append((sid, seq, ts, kind, text))
                last_seq, last_ts = seq, ts
                if outcomes is None:
                    self._outcomes_complete = False
                elif self._outcomes_complete:
                    for idx, outcome in enumerate(outcomes):
                        outcome_rows.append(outcome_row(sid, seq, idx, outcome))
            else:
                _, seq, ts, state = item
                snapshot_rows.append((sid, seq, ts, state))
        if self._first_ts is None and event_rows:
            self._first_ts = event_rows[0][2]
        conn.execute("BEGIN IMMEDIATE")
        try:
            if event_rows:
                conn.executemany(INSERT_EVENT, event_rows)
            if outcome_rows:
                conn.executemany(INSERT_OUTCOME, outcome_rows)
            if snapshot_rows:
                conn.executemany(INSERT_SNAPSHOT, snapshot_rows)
            if last_seq is not None:
                derived = ", derived_seq = :seq" if self._outcomes_complete else ""
                conn.execute(
                    "UPDATE sessions SET last_seq = :seq, last_ts = :ts,"
                    f" first_ts = coalesce(first_ts, :first){derived} WHERE id = :id",
                    {"seq": last_seq, "ts": last_ts, "first": self._first_ts, "id": sid},
                )
            if status is not None:
                conn.execute(
                    "UPDATE sessions SET status = ?, ended_at = ? WHERE id = ?",
                    (status, int(time.time() * 1000), sid),
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if last_seq is not None:
            with self._flushed_cond:
                self._flushed = last_seq
                self._flushed_cond.notify_all()
