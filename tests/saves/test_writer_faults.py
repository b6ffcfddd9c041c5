"""The journal writer under storage faults: a held write lock, a full disk, a read-only file,
an event the file cannot hold, a producer faster than the disk. Real SQLite files, a real
second connection holding the lock; a manual clock measures the delay, so nothing waits for
ten real seconds."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.saves.errors import WriterFailed
from papertrade.saves.locks import SessionLock
from papertrade.saves.paths import lock_dir
from papertrade.saves.store import Store
from papertrade.saves.writer import SessionWriter, connect
from papertrade.saves.writer_health import Saved, WriterHealth, format_ts

SETTINGS = ev.SessionSettings(Decimal("10000"), Decimal("0.0004"), Decimal("0.0001"))
T0 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC


class ManualClock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def quote(n: int) -> ev.Quote:
    return ev.Quote(T0 + n, "BTCUSDT", Decimal("60000.5") + n, Decimal("60001.0") + n)


def wait_until(done: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll a condition the writer thread will make true (a generous bound, not a pace)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "faults.sqlite3")
    yield s
    s.close()


@pytest.fixture
def thread_errors(monkeypatch: pytest.MonkeyPatch) -> list[BaseException | None]:
    """Anything that escapes a thread (it must be nothing)."""
    seen: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_value))
    return seen


@pytest.fixture
def holder(store: Store) -> Iterator[sqlite3.Connection]:
    """Another program's connection to the same file, not yet holding anything."""
    conn = sqlite3.connect(store.path, isolation_level=None, timeout=0)
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


def writer_for(store: Store, name: str, **knobs: Any) -> SessionWriter:
    """A running session's writer built with test knobs (the store's own uses the defaults)."""
    first = store.start_session(name, "binance", ["BTCUSDT"], SETTINGS)
    sid = first.id
    first.close()
    store.conn.execute("UPDATE sessions SET status = 'running' WHERE id = ?", (sid,))
    lock = SessionLock(lock_dir(store.path), sid)
    lock.acquire(name)
    knobs.setdefault("commit_interval", 0.01)
    knobs.setdefault("backoff", (0.002,))
    knobs.setdefault("busy_timeout_ms", 0)
    return SessionWriter(store.path, sid, name, lock, **knobs)


def journal(store: Store, name: str) -> list[ev.Event]:
    return [event for _, event in store.events(name)]


def test_a_held_write_lock_shows_saving_delayed_then_loses_nothing(
    store: Store, holder: sqlite3.Connection, thread_errors: list[BaseException | None]
) -> None:
    clock = ManualClock()
    writer = writer_for(store, "locked", clock=clock, notice_after=0)
    holder.execute("BEGIN IMMEDIATE")  # another program takes the write lock and keeps it
    appended: list[ev.Event] = [quote(n) for n in range(300)]
    for event in appended:
        writer.append(event)
    wait_until(lambda: writer.health.state == "delayed", "the writer to meet the lock")
    clock.advance(12.4)  # twelve and a bit seconds pass while it retries
    assert writer.health == WriterHealth(
        "delayed", 12_400, "saving delayed 12 s: database is locked", 0
    )
    order = ev.PlaceOrder(T0 + 300, "u1", "BTCUSDT", "buy", Decimal("0.01"), "market")
    writer.append(order)  # the user keeps trading meanwhile
    appended.append(order)
    assert writer.flushed_seq == 0 and writer.pending == 301

    holder.execute("COMMIT")  # the other program lets go
    assert writer.flush(timeout=30) == 301
    assert writer.health == WriterHealth("ok")
    assert writer.saved == Saved(301, T0 + 300)
    writer.close()
    assert journal(store, "locked") == appended
    assert store.session("locked").status == "ended"
    assert thread_errors == []


def test_a_brief_lock_is_retried_without_being_reported(
    store: Store, holder: sqlite3.Connection
) -> None:
    clock = ManualClock()
    writer = writer_for(store, "brief", clock=clock, notice_after=1.0)
    holder.execute("BEGIN IMMEDIATE")
    writer.append(quote(1))
    clock.advance(0.5)  # half a second: ordinary contention, not worth a status line
    assert writer.health.state == "ok"
    holder.execute("COMMIT")
    assert writer.flush(timeout=30) == 1
    writer.close()
    assert journal(store, "brief") == [quote(1)]


def test_a_full_disk_stops_saving_cleanly_and_says_what_was_saved(
    store: Store, thread_errors: list[BaseException | None]
) -> None:
    def small_disk(path: Path) -> sqlite3.Connection:
        conn = connect(path)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # room for a few kB more
        return conn

    clock = ManualClock()
    writer = writer_for(
        store, "full", connector=small_disk, clock=clock, commit_interval=3600, batch_size=10**6
    )
    first = [quote(n) for n in range(10)]
    for event in first:
        writer.append(event)
    assert writer.flush(timeout=30) == 10
    with contextlib.suppress(WriterFailed):  # the writer thread may meet the full disk
        for n in range(10, 5000):  # ~350 kB: far past the two spare pages
            writer.append(quote(n))  # before the last append: then append says so at once
    # The tenth quote (n = 9) is the last on disk: T0 + 9 ms.
    saved = f"saved up to {format_ts(T0 + 9)} (10 events)"
    assert saved == "saved up to 2026-01-01 00:00:00.009 UTC (10 events)"
    with pytest.raises(WriterFailed) as failed:
        writer.flush(timeout=30)
    message = str(failed.value)
    assert "database or disk is full" in message and message.endswith(saved)
    assert "\n" not in message
    clock.advance(3)
    health = writer.health
    assert health.state == "failed" and health.since_ms == 3000
    assert health.detail.startswith("saving stopped: database or disk is full")
    assert health.detail.endswith(saved)
    assert writer.saved == Saved(10, T0 + 9)
    assert writer.pending == 0  # the unsaveable backlog is freed, not kept
    with pytest.raises(WriterFailed, match="disk is full"):
        writer.append(quote(6000))
    with pytest.raises(WriterFailed, match="disk is full"):
        writer.close()
    info = store.session("full")
    assert info.status == "interrupted" and info.last_seq == 10
    assert journal(store, "full") == first
    assert thread_errors == []
    store.resume("full")[1].close()  # the lock was released: the session can be resumed


def test_a_read_only_file_saves_nothing_and_leaves_the_session_interrupted(
    store: Store, thread_errors: list[BaseException | None]
) -> None:
    def read_only(path: Path) -> sqlite3.Connection:
        return sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )

    writer = writer_for(store, "readonly", connector=read_only)
    writer.append(quote(1))
    with pytest.raises(WriterFailed) as failed:
        writer.close()
    assert "attempt to write a readonly database" in str(failed.value)
    assert str(failed.value).endswith("; nothing saved")
    assert writer.health.state == "failed"
    # The read-only connection could not mark the session; the released lock lets the next
    # open see a `running` session nobody writes, which it reports as interrupted.
    again = Store.open(store.path)
    try:
        assert again.session("readonly").status == "interrupted"
        assert journal(again, "readonly") == []
    finally:
        again.close()
    assert thread_errors == []


def test_an_event_the_file_cannot_hold_stops_after_saving_those_before_it(
    store: Store, thread_errors: list[BaseException | None]
) -> None:
    writer = writer_for(store, "overflow", commit_interval=3600)
    writer.append(quote(1))
    writer.append(quote(2))
    writer.append(ev.MarkPrice(2**63, "BTCUSDT", Decimal("60000")))  # past SQLite's INTEGER
    with pytest.raises(WriterFailed) as failed:
        writer.flush(timeout=30)
    message = str(failed.value)
    assert "event #3 (mark) cannot be saved: time 9223372036854775808 is out of range" in message
    assert message.endswith(f"saved up to {format_ts(T0 + 2)} (2 events)")
    with pytest.raises(WriterFailed):
        writer.close()
    assert journal(store, "overflow") == [quote(1), quote(2)]
    assert store.session("overflow").status == "interrupted"
    assert thread_errors == []


def test_a_stalled_writer_drops_market_data_past_the_bound_but_never_a_command(
    store: Store, holder: sqlite3.Connection
) -> None:
    writer = writer_for(store, "bounded", max_queued=100, max_block=0.01, notice_after=0)
    holder.execute("BEGIN IMMEDIATE")
    for n in range(150):
        writer.append(quote(n))
    assert writer.pending == 100 and writer.dropped == 50  # bounded: 100 wait, 50 dropped
    assert writer.last_seq == 100  # dropped events take no sequence number
    order = ev.PlaceOrder(T0 + 200, "u1", "BTCUSDT", "buy", Decimal("0.01"), "market")
    assert writer.append(order) == 101  # a command goes past the bound, never dropped
    funding = ev.Funding(T0 + 201, "BTCUSDT", Decimal("0.0001"))
    assert writer.append(funding) == 102  # nor is funding: it moves the balance
    wait_until(lambda: writer.health.state == "delayed", "the writer to meet the lock")
    assert writer.health.dropped == 50
    assert writer.health.detail.endswith("; 50 market events not saved")

    holder.execute("COMMIT")
    assert writer.flush(timeout=30) == 102
    assert writer.append(quote(300)) == 103  # room again: market data is taken again
    writer.close()
    assert journal(store, "bounded") == [
        *(quote(n) for n in range(100)),
        order,
        funding,
        quote(300),
    ]
    assert writer.health == WriterHealth("ok", 0, "50 market events not saved", 50)


def test_a_producer_faster_than_the_disk_is_slowed_not_dropped(store: Store) -> None:
    bound = 200
    writer = writer_for(store, "fast", max_queued=bound, batch_size=50, max_block=10)
    peak = 0
    events = [quote(n) for n in range(20_000)]
    for event in events:
        writer.append(event)
        peak = max(peak, writer.pending)
    writer.close()
    assert peak <= bound and writer.dropped == 0
    assert journal(store, "fast") == events


def test_dropped_market_data_is_followed_by_a_snapshot_of_the_true_state(
    store: Store, holder: sqlite3.Connection
) -> None:
    engine = Engine()
    writer = writer_for(store, "engine", engine=engine, max_queued=20, max_block=0.0)
    writer.apply(ev.MarkPrice(T0, "BTCUSDT", Decimal("60000")))
    writer.apply(ev.Quote(T0 + 1, "BTCUSDT", Decimal("59999"), Decimal("60001")))
    writer.apply(ev.PlaceOrder(T0 + 1, "u1", "BTCUSDT", "buy", Decimal("0.1"), "market"))
    writer.flush(timeout=30)
    holder.execute("BEGIN IMMEDIATE")
    for n in range(2, 60):  # marks moving the position's value; most are dropped
        writer.apply(ev.MarkPrice(T0 + n, "BTCUSDT", Decimal(60000 + 10 * n)))
    assert writer.dropped == 58 - 20  # the queue (emptied by the flush) holds 20
    holder.execute("COMMIT")
    writer.flush(timeout=30)
    seq = writer.last_seq + 1
    assert writer.apply(ev.Quote(T0 + 100, "BTCUSDT", Decimal("60579"), Decimal("60581"))) == []
    truth = engine.to_state()  # marked at 60590, the last mark the engine saw
    writer.apply(ev.MarkPrice(T0 + 101, "BTCUSDT", Decimal("61000")))
    writer.close()
    # The journal lacks the dropped marks; the snapshot after them carries the true state.
    assert store.engine_at("engine", seq).to_state() == truth


def test_commits_come_every_batch_even_when_the_interval_is_long(store: Store) -> None:
    writer = writer_for(store, "cadence", batch_size=100, commit_interval=3600)
    for n in range(250):
        writer.append(quote(n))
    # Two full batches are committed at once; the 50 left wait for the interval or a flush.
    wait_until(lambda: writer.flushed_seq == 200, "two batches")
    assert writer.pending == 50
    assert writer.flush(timeout=30) == 250
    writer.close()


def test_commits_come_on_the_interval_without_a_flush(store: Store) -> None:
    writer = writer_for(store, "interval", batch_size=100_000, commit_interval=0.05)
    writer.append(quote(1))
    wait_until(lambda: writer.flushed_seq == 1, "the interval commit")
    writer.close()


def test_close_gives_up_on_a_lock_that_is_never_released(
    store: Store, holder: sqlite3.Connection, thread_errors: list[BaseException | None]
) -> None:
    writer = writer_for(store, "stuck")
    holder.execute("BEGIN IMMEDIATE")
    writer.append(quote(1))
    with pytest.raises(WriterFailed) as failed:
        writer.close(timeout=0.05)
    assert "gave up after" in str(failed.value) and "database is locked" in str(failed.value)
    assert str(failed.value).endswith("nothing saved")
    holder.execute("ROLLBACK")
    probe = SessionLock(lock_dir(store.path), store.session("stuck").id)
    assert probe.try_acquire(note_pid=False)  # the writer's lock was released
    probe.release()
    assert thread_errors == []
