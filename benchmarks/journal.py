"""Journal benchmark: `python benchmarks/journal.py`.

Prints, each next to a baseline measured in the same run:
1. sustained append throughput through `SessionWriter` (queue + writer thread + 200 ms
   commits, encoding included), against a raw `executemany` of the same, already encoded
   rows in one transaction (SQLite's own ceiling); plus the cost of `append` on the caller's
   thread, which is what the hot path pays. Target: >= 50,000 events/s.
2. replay throughput (`Store.replay`: read, decode, validate, engine) against the engine
   alone over the same events in memory, and raw decoding (`Store.events`).
3. bytes per symbol-hour of a recorded session at the default conflation (10 quotes/s,
   1 mark/s, 5 trades/s), against the same events as a JSON-lines export. Target: <= 5 MB.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.saves import payload
from papertrade.saves.store import Store
from papertrade.saves.synthetic import random_stream, symbol_hour
from papertrade.saves.writer import INSERT_EVENT

APPEND_EVENTS = 300_000
REPLAY_EVENTS = 100_000


def _conflated(events: list[ev.MarketEvent]) -> list[ev.MarketEvent]:
    """Through the real conflator when feeds/ is there (it passes these unchanged)."""
    try:
        from papertrade.feeds.conflate import conflate_events
    except ImportError:
        return events
    return list(conflate_events(events))


def bench_append(tmp: Path) -> None:
    events = list(symbol_hour(seed=1))
    events = (events * (APPEND_EVENTS // len(events) + 1))[:APPEND_EVENTS]
    with Store.open(tmp / "append.sqlite3") as store:
        writer = store.start_session("bench", "binance", ["BTCUSDT"], ev.SessionSettings())
        in_append = 0.0
        start = time.perf_counter()
        for i in range(0, len(events), 1000):
            t = time.perf_counter()
            for e in events[i : i + 1000]:
                writer.append(e)
            in_append += time.perf_counter() - t
        writer.close()
        total = time.perf_counter() - start
    ours = len(events) / total

    with Store.open(tmp / "raw.sqlite3") as store:
        sid = store.start_session("raw", "binance", [], ev.SessionSettings())
        sid.close()
        rows = [(sid.id, n, *payload.encode(e)) for n, e in enumerate(events, start=1)]
        conn = sqlite3.connect(tmp / "raw.sqlite3", isolation_level=None)
        conn.execute("PRAGMA synchronous = NORMAL")
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(INSERT_EVENT, [(r[0], r[1], r[3], r[2], r[4]) for r in rows])
        conn.execute("COMMIT")
        raw = len(rows) / (time.perf_counter() - start)
        conn.close()
    print(
        f"append   {ours:>10,.0f} events/s sustained (writer thread, encode, 200 ms commits)"
        f"   baseline raw executemany {raw:>10,.0f} events/s   ratio {ours / raw:.2f}"
        f"   [target >= 50,000: {'ok' if ours >= 50_000 else 'MISSED'}]"
    )
    print(
        f"         hot-path cost of append(): {in_append / len(events) * 1e6:.2f} us/event"
        f" ({len(events) / in_append:,.0f} appends/s on the caller's thread)"
    )


def bench_replay(tmp: Path) -> None:
    events = list(random_stream(5, REPLAY_EVENTS))
    with Store.open(tmp / "replay.sqlite3") as store:
        sid = store.import_session(ev.SessionSettings(), events, name="r")
        start = time.perf_counter()
        n = sum(1 for _ in store.replay(sid))
        ours = n / (time.perf_counter() - start)
        start = time.perf_counter()
        n = sum(1 for _ in store.events(sid))
        decode = n / (time.perf_counter() - start)
    engine = Engine()
    start = time.perf_counter()
    for e in events:
        engine.apply(e)
    base = len(events) / (time.perf_counter() - start)
    print(
        f"replay   {ours:>10,.0f} events/s (read + decode + engine)"
        f"   baseline engine alone in memory {base:>10,.0f} events/s   ratio {ours / base:.2f}"
    )
    print(f"         decode only (Store.events): {decode:,.0f} events/s")


def bench_size(tmp: Path) -> None:
    events = _conflated(list(symbol_hour(seed=2)))
    path = tmp / "size.sqlite3"
    with Store.open(path) as store:
        empty = path.stat().st_size
        writer = store.start_session("hour", "binance", ["BTCUSDT"], ev.SessionSettings())
        for e in events:
            writer.append(e)
        writer.close()
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size - empty
    export = sum(len(codec.dumps(e)) + 1 for e in events)
    print(
        f"size     {size / 1e6:>10.2f} MB per symbol-hour ({len(events):,} events,"
        f" {size / len(events):.0f} B/event)   baseline JSON-lines export {export / 1e6:.2f} MB"
        f"   ratio {size / export:.2f}   [target <= 5 MB: {'ok' if size <= 5e6 else 'MISSED'}]"
    )


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bench_append(tmp)
        bench_replay(tmp)
        bench_size(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
