"""`SessionWriter`: the journal of one live session, written off the hot path.

`append` only numbers the event and queues it (under half a microsecond); a daemon thread with its
own SQLite connection encodes what is queued and commits it, one transaction per batch. So a
`kill -9` loses at most the last unflushed batch, and WAL keeps the file consistent whatever
instant the process dies at. `close()` flushes everything; a program that exits without
closing still gets its queue flushed (atexit) and leaves the session `running` with no lock,
which the next open reports as `interrupted`.

Cadence: a batch is committed when `commit_interval` (200 ms) has passed or `batch_size`
(5,000) events are waiting, whichever comes first, and one transaction never takes more than
`batch_size` events. So an unpaced producer (`record --speed max`) still sees a commit every
~100-200 ms, never one multi-second transaction.

Memory bound and back-pressure: at most `max_queued` (50,000, about 25 MB) events wait to be
saved, counting the batch being written. When that many are waiting:
- a market quote, trade or mark price that changed nothing in the account (no outcomes)
  waits for room. While the writer is busy writing, its next commit frees a batch, so a fast
  producer is slowed to the writer's pace and nothing is lost (up to `MAX_WAIT_WORKING`,
  5 s). While saving is stalled (the file locked by another program) it waits at most
  `max_block` (250 ms); then the event is dropped and counted (`dropped`), and later ones
  are dropped at once, without waiting, until there is room again: the UI thread blocks at
  most once per stall. With an engine attached, the next accepted event is followed by a
  snapshot, so a resume continues from the true state; a replay from the start may differ
  by the dropped market data.
- everything else (user commands, funding, any event that produced outcomes such as a fill)
  is what the user did or what changed the account: it is never dropped. It may go up to
  `COMMAND_HEADROOM` past the bound; only beyond that (no human types that fast) does it
  wait, for as long as saving takes.

Errors. Transient ones (SQLITE_BUSY / SQLITE_LOCKED: another connection holding the write
lock) are retried, the batch kept, with the capped `backoff` schedule; after `notice_after`
(1 s) `health` says `delayed` with how long and why, for the status bar. Any other error
(disk full, read-only file, I/O error, an event the file cannot hold) is permanent: the thread
stops cleanly, marks the session `interrupted` when the file still takes that one update, and
keeps the reason; `health` says `failed`, `saved` says exactly what is on disk, and every
later `append`/`flush`/`close` raises `WriterFailed` (one type, a one-line message ending in
"saved up to <time> (N events)"). No exception ever escapes the thread.

Length: past the ~500-line mark on purpose. It is one class whose producer half and thread
half share private state (queue, guard, seq, health); splitting them would put that state
behind an interface for no reader's benefit. The words for the user live in `writer_health`.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import json
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from papertrade.core import events as ev
from papertrade.core.numbers import plain
from papertrade.saves import payload
from papertrade.saves.errors import StoreError, WriterFailed
from papertrade.saves.locks import SessionLock
from papertrade.saves.writer_health import (
    TS_MAX,
    Saved,
    WriterHealth,
    describe_error,
    is_transient,
    ms,
)

if TYPE_CHECKING:
    from papertrade.core.engine import Engine

SNAPSHOT_EVERY = 5000
COMMIT_INTERVAL = 0.2
STATUSES = ("running", "ended", "interrupted")

BATCH_SIZE = 5_000
"""Most events per transaction: ~50-100 ms of encoding and inserting."""
MAX_QUEUED = 50_000
"""Most market events waiting to be saved (queue plus batch in flight), about 25 MB."""
COMMAND_HEADROOM = 10_000
"""How far never-dropped events may go past `MAX_QUEUED` before they too wait."""
MAX_BLOCK = 0.25
"""Longest a droppable market event waits for room while saving is stalled (seconds)."""
MAX_WAIT_WORKING = 5.0
"""Longest it waits for a writer that is busy writing, not locked out: slower is stalled."""
BUSY_TIMEOUT_MS = 250
"""SQLite's own wait for the write lock per attempt; the retries below take over after it."""
BACKOFF = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)
"""Pauses between attempts while the file is locked (the last one repeats: capped)."""
CLOSE_PATIENCE = 30.0
"""`close()` gives up after this many seconds in which nothing could be committed."""
NOTICE_AFTER = 1.0
"""A stall shorter than this is ordinary contention and not reported as `delayed`."""

_DROPPABLE = (ev.Quote, ev.Trade, ev.MarkPrice)


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
    from papertrade.core import codec  # its pydantic models: built on first use, not at start

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


ROWS_PER_INSERT = 256
"""Most rows one INSERT carries (fewer if SQLite's parameter limit says so)."""


def insert_rows(conn: sqlite3.Connection, insert: str, flat: list[Any], max_vars: int) -> None:
    """Insert the rows laid out flat in `flat` (one row of `insert` after another) with
    multi-row statements, `INSERT ... VALUES (?,?),(?,?),...`.

    Why not `executemany`: it steps the statement once per row, and each step releases the
    GIL and takes it back; with the producer appending on the other thread, every take-back
    can wait out the switch interval. One statement of a few hundred rows does the same work
    in one step, and SQLite's own per-row cost is lower too (about 1.0 µs a row against 1.7).
    Full statements of the largest size first, then the rest in halving sizes (its binary
    digits), so there are only a handful of statement texts and sqlite3's cache keeps them all
    prepared.
    """
    width = _width(insert)
    start = 0
    for size in _sizes(len(flat) // width, _rows_per_statement(width, max_vars)):
        end = start + size * width
        conn.execute(_statement(insert, size), flat[start:end])
        start = end


def insert_events(
    conn: sqlite3.Connection, session_id: int, seq: int, flat: list[Any], max_vars: int
) -> None:
    """Insert events numbered `seq`, `seq + 1`, ... of one session, as `insert_rows` does:
    `flat` holds each one's `(kind, ts, payload)` (what `payload.encode` returns), one after
    another. The session and the first number are bound once per statement (`?1`, `?2 + i`),
    so a row costs three parameters, not five, and needs no tuple or number of its own."""
    start = 0
    for size in _sizes(len(flat) // 3, _rows_per_statement(3, max_vars - 2)):
        end = start + size * 3
        params = [session_id, seq]
        params += flat[start:end]
        conn.execute(_event_statement(size), params)
        start = end
        seq += size


def _sizes(rows: int, most: int) -> Iterator[int]:
    """Rows per statement: `most` while that many are left, then the rest's binary digits."""
    size = most
    while rows:
        while size > rows:
            size //= 2
        yield size
        rows -= size


@functools.cache
def _width(insert: str) -> int:
    return insert.count("?")


@functools.cache
def _rows_per_statement(width: int, max_vars: int) -> int:
    """The largest power of two within both `ROWS_PER_INSERT` and the parameter limit."""
    fits = max(1, min(ROWS_PER_INSERT, max_vars // width))
    return 1 << (fits.bit_length() - 1)


@functools.cache
def _statement(insert: str, rows: int) -> str:
    """`insert` (one row's `VALUES (?, ...)`) widened to `rows` rows."""
    head, values, group = insert.partition(" VALUES ")
    if not values:
        raise ValueError(f"not a one-row INSERT ... VALUES: {insert}")
    return head + values + ",".join([group] * rows)


@functools.cache
def _event_statement(rows: int) -> str:
    """`insert_events`' statement for `rows` events."""
    values = (f"(?1, ?2 + {i}, ?{3 + 3 * i}, ?{4 + 3 * i}, ?{5 + 3 * i})" for i in range(rows))
    return "INSERT INTO events (session_id, seq, kind, ts, payload) VALUES " + ",".join(values)


class _GaveUp(Exception):
    """`close(timeout=...)` ran out while the file was still locked."""


class _Unsavable(Exception):
    """One queued item cannot be stored; the items before it can."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index


class SessionWriter:
    """Appends one session's inputs (and, with an engine attached, outcomes and snapshots).

    Contract with an engine: call `append(event, outcomes)` *after* `engine.apply(event)`
    (or just `apply(event)`, which does both), so a snapshot taken at sequence n is the state
    after event n. Without an engine the journal is still complete; outcomes and snapshots are
    then derived on the next replay.

    The keyword knobs after `commit_interval` exist for tests and tools (see the module
    docstring for what each bounds); `clock` only measures how long saving has been delayed.
    """

    # Slots, not a `__dict__`: past ~30 attributes CPython gives up its fast instance layout,
    # and every attribute `append` reads or writes became a dictionary lookup.
    __slots__ = (
        "_abandon",
        "_backoff",
        "_batch_size",
        "_busy_timeout_ms",
        "_clock",
        "_closed",
        "_connector",
        "_delay_reason",
        "_delayed_since",
        "_dropped",
        "_error",
        "_failed_at",
        "_final_status",
        "_first_ts",
        "_flushed",
        "_flushed_cond",
        "_flushed_ts",
        "_guard",
        "_interval",
        "_lock",
        "_max_queued",
        "_max_vars",
        "_notice_after",
        "_outcomes_complete",
        "_path",
        "_queue",
        "_reason",
        "_resnapshot",
        "_retry",
        "_room",
        "_seq",
        "_shedding",
        "_stopping",
        "_tail_ts",
        "_thread",
        "_unknown_from",
        "_wake",
        "engine",
        "id",
        "max_block",
        "name",
        "snapshot_every",
    )

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
        batch_size: int = BATCH_SIZE,
        max_queued: int = MAX_QUEUED,
        max_block: float = MAX_BLOCK,
        backoff: Sequence[float] = BACKOFF,
        notice_after: float = NOTICE_AFTER,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        clock: Callable[[], float] = time.monotonic,
        connector: Callable[[Path], sqlite3.Connection] = connect,
    ) -> None:
        if batch_size < 1 or max_queued < 1 or not backoff:
            raise ValueError("batch_size and max_queued must be >= 1, backoff not empty")
        self.id = session_id
        self.name = name
        self.engine = engine
        self.snapshot_every = snapshot_every
        self.max_block = max_block
        self._path = db_path
        self._lock = lock
        self._seq = next_seq - 1
        self._flushed = next_seq - 1
        self._flushed_ts = last_ts
        self._first_ts = first_ts
        self._tail_ts = last_ts or 0  # ts of the last appended event
        self._outcomes_complete = outcomes_complete
        self._unknown_from: int | None = None  # first event appended without its outcomes
        # What waits to be saved, in sequence order: an event without outcomes as itself (no
        # wrapper per event: this is the hot path), one with outcomes as `(event, outcomes)`,
        # a snapshot as `_Snapshot`. An event's sequence number is implied by its place: the
        # queue starts right after `flushed_seq` (a dropped event takes no number).
        self._queue: deque[Any] = deque()
        self._guard = threading.Lock()
        self._room = threading.Condition(self._guard)
        self._wake = threading.Event()
        self._retry = threading.Event()  # cuts a backoff pause short when close() gives up
        self._flushed_cond = threading.Condition()
        self._batch_size = batch_size
        self._max_queued = max_queued
        self._backoff = tuple(backoff)
        self._notice_after = notice_after
        self._busy_timeout_ms = busy_timeout_ms
        self._clock = clock
        self._connector = connector
        self._dropped = 0
        self._shedding = False  # saving stalled with the queue full: drop at once
        self._resnapshot = False  # events were dropped: snapshot after the next one
        self._delayed_since: float | None = None
        self._delay_reason = ""
        self._failed_at = 0.0
        self._stopping = False
        self._abandon = False
        self._final_status: str | None = None
        self._closed = False
        self._error: BaseException | None = None
        self._reason = ""
        self._interval = commit_interval
        self._max_vars = 999  # SQLite's bound on one statement's parameters, read on connecting
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
    def saved(self) -> Saved:
        """Exactly what is on disk; `str()` of it is the line to show the user."""
        return Saved(self._flushed, self._flushed_ts)

    @property
    def dropped(self) -> int:
        """Market events dropped because saving stalled while the queue was full."""
        return self._dropped

    @property
    def pending(self) -> int:
        """Events and snapshots waiting to be committed (the batch in flight included)."""
        return len(self._queue)

    @property
    def error(self) -> BaseException | None:
        """Why the writer thread stopped, if it did."""
        return self._error

    @property
    def health(self) -> WriterHealth:
        """Saving as the status bar shows it: ok, delayed N s (and why), or failed (and why)."""
        now = self._clock()
        dropped = self._dropped
        lost = f"; {dropped:,} market events not saved" if dropped else ""
        if self._error is not None:
            return WriterHealth("failed", ms(now - self._failed_at), self._failure_text(), dropped)
        since = self._delayed_since
        if since is not None and now - since >= self._notice_after:
            waited = now - since
            detail = f"saving delayed {int(waited)} s: {self._delay_reason}{lost}"
            return WriterHealth("delayed", ms(waited), detail, dropped)
        return WriterHealth("ok", 0, lost.removeprefix("; "), dropped)

    def append(self, event: ev.Event, outcomes: Iterable[ev.Outcome] | None = None) -> int:
        """Queue one engine input (and the outcomes it produced); returns its sequence number,
        or 0 if it was dropped (a market event while saving is stalled and the queue full)."""
        if self._error is not None:
            raise self._failed()
        if self._closed:
            raise StoreError(f"session {self.name} is closed")
        frozen = None if outcomes is None else tuple(outcomes)
        queue = self._queue
        guard = self._guard  # the lock under `_room`: `_make_room` may wait on it
        guard.acquire()  # not `with`: its enter/exit calls cost a fifth of an append
        try:
            if self._error is not None:  # failed since the check above: `_fail` has cleared
                raise self._failed()  # the queue under this lock, and nothing may refill it
            if len(queue) >= self._max_queued and not self._make_room(
                not frozen and isinstance(event, _DROPPABLE)
            ):
                return 0
            self._seq = seq = self._seq + 1
            self._tail_ts = event.ts
            if frozen:
                queue.append((event, frozen))
            else:
                queue.append(event)
                if frozen is None and self._unknown_from is None:
                    self._unknown_from = seq  # from here on, outcomes are derived on replay
            pending = len(queue)
            resnapshot = self._resnapshot
            if resnapshot:
                self._resnapshot = False
        finally:
            guard.release()
        if pending == self._batch_size:  # a full batch waits: commit now, not at the interval
            self._wake.set()
        engine = self.engine
        if engine is not None and (resnapshot or seq % self.snapshot_every == 0):
            self._queue_snapshot(seq, event.ts, engine)
        return seq

    def _make_room(self, droppable: bool) -> bool:
        """Called holding `_room` with the queue full: wait (bounded) or drop; False = drop."""
        queue = self._queue
        if not droppable:
            limit = self._max_queued + COMMAND_HEADROOM
            while len(queue) >= limit and self._error is None and self._thread.is_alive():
                self._room.wait(0.5)
            if self._error is not None:
                raise self._failed()
            return True
        if not self._shedding and self._error is None:
            # A writer that is busy writing frees a batch soon: wait for it (back-pressure).
            # One that is locked out (retrying) may not for minutes: drop after `max_block`.
            start = time.monotonic()
            while len(queue) >= self._max_queued and self._error is None:
                waited = time.monotonic() - start
                stalled = self._delayed_since is not None
                patience = self.max_block if stalled else max(self.max_block, MAX_WAIT_WORKING)
                if waited >= patience:
                    break
                self._room.wait(min(patience - waited, 0.05))
            if len(queue) < self._max_queued:
                return True
        self._shedding = True
        self._resnapshot = self.engine is not None
        self._dropped += 1
        return False

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
            if self._error is None:  # a failed writer's queue stays empty
                self._queue.append(_Snapshot(seq, ts, state))

    def flush(self, timeout: float | None = 10.0) -> int:
        """Commit everything appended so far; returns `flushed_seq`."""
        target = self._seq
        if self._closed and not self._thread.is_alive():
            if self._error is not None:
                raise self._failed()
            return self._flushed
        self._wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._flushed_cond:
            while self._flushed < target and self._error is None:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    delay = f" ({self._delay_reason})" if self._delayed_since is not None else ""
                    raise StoreError(f"journal flush timed out after {timeout} s{delay}")
                self._flushed_cond.wait(remaining if remaining is not None else 0.5)
                self._wake.set()
        if self._error is not None:
            raise self._failed()
        return self._flushed

    def close(self, status: str = "ended", *, timeout: float | None = CLOSE_PATIENCE) -> None:
        """Flush everything, snapshot the final state, set the status, release the lock.

        Waits for saving to finish as long as it makes progress; after `timeout` seconds
        without any (the file locked by another program; None: no limit) it gives up on
        what is not saved yet, so quitting never hangs for good. Raises `WriterFailed` (and
        only that) if anything could not be saved; its message says why and what was saved.
        The lock is released either way.
        """
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
        try:
            self._await_thread(timeout)
        finally:
            atexit.unregister(self._at_exit)
            self._lock.release()
        if self._error is not None:
            raise self._failed()

    def _await_thread(self, patience: float | None) -> None:
        """Join the thread; give up once `patience` seconds pass with nothing committed."""
        if patience is None:
            self._thread.join()
            return
        seen = self._flushed
        deadline = time.monotonic() + patience
        while self._thread.is_alive():
            now = time.monotonic()
            if self._flushed != seen:
                seen, deadline = self._flushed, now + patience
            elif now >= deadline:
                self._give_up()
                self._thread.join()
                return
            self._thread.join(min(0.1, max(0.0, deadline - now)))

    def _give_up(self) -> None:
        self._abandon = True
        self._retry.set()
        self._wake.set()

    def _at_exit(self) -> None:
        """Interpreter exit without `close()`: keep the events, leave the session resumable."""
        if not self._closed:
            self._closed = True
            self._stopping = True
            self._wake.set()
            self._thread.join(timeout=5)
            if self._thread.is_alive():
                self._give_up()
                self._thread.join(timeout=1)
            self._lock.release()

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.close("ended" if exc_type is None else "interrupted")

    def _failure_text(self, what: str = "saving stopped") -> str:
        return f"{what}: {self._reason}; {self.saved}"

    def _failed(self) -> WriterFailed:
        failure = WriterFailed(self._failure_text("journal writer stopped"))
        failure.__cause__ = self._error
        return failure

    # --- writer thread --------------------------------------------------------------------

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            conn = self._connector(self._path)
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            # Every row this connection writes belongs to the session whose lock the writer
            # holds, and `Catalogue.delete` refuses a locked session: the parent row cannot
            # go away, so SQLite's per-row foreign-key lookup (a fifth of an insert) checks
            # nothing. Integrity, not durability: WAL and `synchronous` stay as they are.
            conn.execute("PRAGMA foreign_keys = OFF")
            self._max_vars = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            while True:
                if len(self._queue) < self._batch_size and not self._stopping:
                    self._wake.wait(self._interval)
                self._wake.clear()
                if self._write_batch(conn, self._stopping):
                    break
        except BaseException as exc:  # the thread must never die with a traceback
            self._fail(conn, exc)
        finally:
            if conn is not None:
                conn.close()
            with self._room:
                self._room.notify_all()
            with self._flushed_cond:
                self._flushed_cond.notify_all()

    def _fail(self, conn: sqlite3.Connection | None, exc: BaseException) -> None:
        """Stop for good: keep why, free the queue, mark the session when the file allows."""
        self._reason = _describe(exc, self._path)
        self._failed_at = self._clock()
        self._delayed_since = None
        with self._room:  # one step under the lock: whoever sees the error sees the queue freed
            self._queue.clear()
            self._error = exc
        if conn is not None:
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                conn.execute("PRAGMA busy_timeout = 0")
                conn.execute(
                    "UPDATE sessions SET status = 'interrupted', ended_at = ? WHERE id = ?",
                    (int(time.time() * 1000), self.id),
                )
            except sqlite3.Error:
                pass  # the file refuses even that; the next open marks it interrupted

    def _write_batch(self, conn: sqlite3.Connection, final: bool) -> bool:
        """Commit up to `batch_size` queued items; True once a final batch emptied the queue."""
        with self._guard:
            queue = self._queue
            count = min(len(queue), self._batch_size)
            items = list(itertools.islice(queue, count))
            everything = count == len(queue)
            unknown = self._unknown_from
        status = self._final_status if final and everything else None
        if count == 0 and status is None:
            return final
        first = self._flushed + 1  # only this thread moves it
        try:
            rows = self._encode(items, first, unknown)
        except _Unsavable as bad:
            if bad.index:
                done = self._encode(items[: bad.index], first, unknown)
                self._commit(conn, done, None)
                self._release(bad.index, done.last)
            raise
        self._commit(conn, rows, status)
        self._release(count, rows.last)
        return final and everything

    def _release(self, count: int, last: tuple[int, int] | None) -> None:
        """The first `count` queued items are on disk, up to event `last` (seq, ts): free
        them and wake waiting producers."""
        with self._room:
            for _ in range(count):
                self._queue.popleft()
            self._shedding = False
            self._room.notify_all()
        if last is not None:
            with self._flushed_cond:
                self._flushed, self._flushed_ts = last
                self._flushed_cond.notify_all()

    def _encode(self, items: list[Any], first: int, unknown: int | None) -> _Rows:
        """The batch's rows, encoded here on the writer thread (never on the caller's).
        `first` is the sequence number of the batch's first event; from event `unknown` on,
        outcomes are not known. Rows go flat into one list per table, the parameters of
        `_transaction`'s multi-row inserts.

        This runs for every event a session saves, so a run of plain events (no outcomes,
        no snapshot: nearly all of them) is encoded by `_encode_run` without a Python-level
        loop of our own; the other items, one at a time by `_encode_one`.
        """
        rows = _Rows(first)
        complete = self._outcomes_complete
        known_below = first + len(items) if unknown is None else unknown
        types = list(map(type, items))
        end = len(items)
        next_pair = _find(types, tuple, 0)
        next_snapshot = _find(types, _Snapshot, 0)
        seq = first  # the next event's
        start = 0
        while True:
            stop = min(next_pair, next_snapshot)
            if stop > start:
                self._encode_run(rows, items, start, stop, seq)
                seq += stop - start
            if stop == end:
                break
            item = items[stop]
            if stop == next_snapshot:
                rows.snapshots.extend((self.id, item.seq, item.ts, item.state))
                next_snapshot = _find(types, _Snapshot, stop + 1)
            else:
                event, outcomes = item
                self._encode_one(rows, stop, seq, event, outcomes, complete and seq < known_below)
                seq += 1
                next_pair = _find(types, tuple, stop + 1)
            start = stop + 1
        if seq > first:  # the batch held events
            rows.last = (seq - 1, rows.events[-2])  # the last row's seq and ts
            complete = complete and seq - 1 < known_below
        rows.complete = complete
        return rows

    def _encode_run(self, rows: _Rows, items: list[Any], start: int, stop: int, seq: int) -> None:
        """Events `items[start:stop]`, numbered from `seq`, none with outcomes: the rows
        built by C-level iteration, then their times checked all at once. Anything amiss
        (an event that does not encode, a time out of range) and the run goes again through
        `_encode_one`, which names the event and says why."""
        run = items[start:stop]
        try:  # each row: payload.encode(event), `(kind, ts, payload)`
            flat = list(itertools.chain.from_iterable(map(payload.encode, run)))
            times: list[Any] = flat[1::3]
            fine = (
                len(flat) == 3 * len(run)
                and set(map(type, times)) == _INT
                and min(times) >= 0
                and max(times) <= TS_MAX
            )
        except Exception:
            fine = False
        if fine:
            rows.events += flat
            return
        for offset, event in enumerate(run):
            self._encode_one(rows, start + offset, seq + offset, event, (), False)

    def _encode_one(
        self,
        rows: _Rows,
        index: int,
        seq: int,
        event: Any,
        outcomes: tuple[ev.Outcome, ...],
        with_outcomes: bool,
    ) -> None:
        """One event's row (and its outcomes' rows, when `with_outcomes`); `_Unsavable`
        naming it if the file cannot hold it."""
        sid = self.id
        try:
            kind, ts, text = payload.encode(event)
            if not isinstance(ts, int) or not 0 <= ts <= TS_MAX:
                raise ValueError(f"time {ts!r} is out of range (0 … {TS_MAX})")
            outcome_rows: list[Any] = []
            if with_outcomes:
                for idx, outcome in enumerate(outcomes):
                    if not 0 <= outcome.ts <= TS_MAX:
                        raise ValueError(f"outcome time {outcome.ts} is out of range")
                    outcome_rows.extend(outcome_row(sid, seq, idx, outcome))
        except Exception as exc:
            what = f"event #{seq} ({getattr(event, 'type', type(event).__name__)})"
            raise _Unsavable(index, f"{what} cannot be saved: {exc}") from None
        rows.events += (kind, ts, text)
        rows.outcomes += outcome_rows

    def _commit(self, conn: sqlite3.Connection, rows: _Rows, status: str | None) -> None:
        """One transaction; while the file is locked, retry with backoff (and say so)."""
        started = self._clock()
        for attempt in itertools.count():
            try:
                self._transaction(conn, rows, status)
            except sqlite3.Error as exc:
                if not is_transient(exc):
                    raise
                if self._delayed_since is None:
                    self._delayed_since = started
                self._delay_reason = str(exc)
                if self._abandon:
                    waited = int(self._clock() - self._delayed_since)
                    raise _GaveUp(f"gave up after {waited} s: {exc}") from None
                self._retry.wait(self._backoff[min(attempt, len(self._backoff) - 1)])
            else:
                self._delayed_since = None
                self._outcomes_complete = rows.complete
                return

    def _transaction(self, conn: sqlite3.Connection, rows: _Rows, status: str | None) -> None:
        sid = self.id
        if self._first_ts is None and rows.events:
            first_ts: int | None = rows.events[1]  # the first row's ts
        else:
            first_ts = self._first_ts
        conn.execute("BEGIN IMMEDIATE")
        try:
            most = self._max_vars
            if rows.events:
                insert_events(conn, sid, rows.first, rows.events, most)
            if rows.outcomes:
                insert_rows(conn, INSERT_OUTCOME, rows.outcomes, most)
            if rows.snapshots:
                insert_rows(conn, INSERT_SNAPSHOT, rows.snapshots, most)
            if rows.last is not None:
                derived = ", derived_seq = :seq" if rows.complete else ""
                conn.execute(
                    "UPDATE sessions SET last_seq = :seq, last_ts = :ts,"
                    f" first_ts = coalesce(first_ts, :first){derived} WHERE id = :id",
                    {"seq": rows.last[0], "ts": rows.last[1], "first": first_ts, "id": sid},
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
        self._first_ts = first_ts


_INT = frozenset({int})


def _find(types: list[type], kind: type, start: int) -> int:
    """Where the next item of type `kind` is, from `start` on; the end if none is."""
    try:
        return types.index(kind, start)
    except ValueError:
        return len(types)


class _Snapshot:
    """A queued snapshot: the engine's state (JSON) after event `seq`."""

    __slots__ = ("seq", "state", "ts")

    def __init__(self, seq: int, ts: int, state: str) -> None:
        self.seq = seq
        self.ts = ts
        self.state = state


class _Rows:
    """One batch, encoded once (a locked file retries the SQL, not the encoding). Each table's
    rows are flat, one value after another, as `insert_rows` binds them; an event row is
    only its `(kind, ts, payload)`, numbered from `first` (`insert_events`)."""

    __slots__ = ("complete", "events", "first", "last", "outcomes", "snapshots")

    def __init__(self, first: int) -> None:
        self.first = first
        self.events: list[Any] = []
        self.outcomes: list[Any] = []
        self.snapshots: list[Any] = []
        self.last: tuple[int, int] | None = None
        self.complete = True


def _describe(exc: BaseException, path: Path) -> str:
    """The one-line reason a user reads: ours as written, SQLite's with the file named."""
    if isinstance(exc, _GaveUp | _Unsavable):
        return str(exc)
    return describe_error(exc, path)
