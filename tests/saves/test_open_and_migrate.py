"""Opening files that are not ours, damaged or newer fails clearly and touches nothing;
files of an older schema are migrated forward with their data."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.saves import payload, schema
from papertrade.saves.errors import CorruptStoreError, NewerSchemaError, NotAStoreError, StoreError
from papertrade.saves.paths import ENV_VAR
from papertrade.saves.store import Store
from papertrade.saves.synthetic import random_stream
from papertrade.saves.transactions import transaction


def _unchanged_after_failed_open(path: Path, error: type[StoreError], match: str) -> None:
    before = path.read_bytes()
    with pytest.raises(error, match=match):
        Store.open(path)
    assert path.read_bytes() == before
    assert not Path(str(path) + "-wal").exists()


def test_a_text_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_text("these are my notes, not a database\n" * 50)
    _unchanged_after_failed_open(path, NotAStoreError, "not a papertrade database")


def test_another_programs_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE sessions (id INTEGER, cookie TEXT)")
    conn.execute("INSERT INTO sessions VALUES (1, 'x')")
    conn.commit()
    conn.close()
    _unchanged_after_failed_open(path, NotAStoreError, "another program")


def test_a_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema.LATEST + 1}")
    conn.close()
    _unchanged_after_failed_open(path, NewerSchemaError, "newer than this papertrade")


def test_a_damaged_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite3"
    store = Store.open(path)
    w = store.start_session("s", "binance", ["BTCUSDT"], ev.SessionSettings())
    for e in random_stream(4, 2000):
        w.append(e)
    w.close()
    store.close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # smash the schema page, keep the header
    path.write_bytes(bytes(data))
    _unchanged_after_failed_open(path, CorruptStoreError, "damaged")


def _refused_before_sqlite(path: Path, match: str) -> None:
    """Refused with a `StoreError`, and SQLite never got to create a sidecar next to it."""
    siblings = set(path.parent.iterdir())
    with pytest.raises(StoreError, match=match):
        Store.open(path)
    assert set(path.parent.iterdir()) == siblings


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_named_pipe_is_refused_before_sqlite_opens_it(tmp_path: Path) -> None:
    path = tmp_path / "pipe.sqlite3"
    os.mkfifo(path)
    _refused_before_sqlite(path, "is a named pipe, not a papertrade database")


def test_a_directory_is_refused_before_sqlite_opens_it(tmp_path: Path) -> None:
    path = tmp_path / "folder.sqlite3"
    path.mkdir()
    _refused_before_sqlite(path, "is a directory, not a papertrade database")


def test_dev_null_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    devnull = Path(os.devnull)
    if not devnull.exists() or devnull.is_file():
        pytest.skip("no device file at os.devnull on this platform")
    monkeypatch.setenv(ENV_VAR, str(devnull))
    sidecars = [Path(f"{devnull}{suffix}") for suffix in ("-journal", "-wal", "-shm")]
    assert not any(p.exists() for p in sidecars)
    with pytest.raises(StoreError, match="is a device, not a papertrade database"):
        Store.open()
    assert not any(p.exists() for p in sidecars)


def test_an_empty_file_becomes_a_database(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    path.touch()
    with Store.open(path) as store:
        assert store.version == schema.LATEST
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _build_v1(path: Path, events: list[ev.Event]) -> None:
    """A database exactly as papertrade schema 1 wrote it: sessions + events only."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(schema.V1)
    conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    with transaction(conn, path):  # one transaction for the whole fixture, not one per row
        conn.execute(
            "INSERT INTO sessions (id, name, venue, symbols, balance, taker_fee, maker_fee,"
            " status, created_at, ended_at) VALUES (1, 'old', 'binance',"
            " '[\"BTCUSDT\",\"ETHUSDT\"]', '10000', '0.0005', '0.0002', 'ended', 1, 2)"
        )
        conn.executemany(
            "INSERT INTO events VALUES (1, ?, ?, ?, ?)",
            [(seq, *_row(e)) for seq, e in enumerate(events, start=1)],
        )
    conn.close()


def _row(e: ev.Event) -> tuple[int, str, str]:
    kind, ts, text = payload.encode(e)
    return ts, kind, text


def test_a_version_1_file_migrates_to_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    events = list(random_stream(5, 1500))
    _build_v1(path, events)
    with Store.open(path) as store:
        assert store.version == schema.LATEST == 3
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}
        assert {"snapshots", "outcomes"} <= tables
        info = store.session("old")
        assert (info.events, info.first_ts, info.last_ts) == (
            1500,
            events[0].ts,
            events[-1].ts,
        )
        assert info.fills is None  # nothing derived yet in a v1 file
        store.derive("old")
        engine = Engine()
        expected = [o for e in events for o in engine.apply(e)]
        assert [o for _, _, outs in store.replay("old") for o in outs] == expected
        assert store.session("old").fills == engine.totals.fills
        assert store.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_concurrent_first_opens_of_a_new_file_all_succeed(tmp_path: Path) -> None:
    path = tmp_path / "race.sqlite3"
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def opener() -> None:
        barrier.wait()
        try:
            Store.open(path).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store.open(path) as store:
        assert store.version == schema.LATEST
