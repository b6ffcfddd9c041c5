"""Journal writer under a held write lock: `python benchmarks/writer_stall.py [SECONDS]`.

Another connection holds the database's write lock (BEGIN IMMEDIATE) for SECONDS (default
10) while a producer appends fresh quotes as fast as it can, as a feed would. Prints the
process's resident memory before, at its peak and at the end of the stall, how many events
were queued and dropped, the longest single `append` (what the UI thread would feel), and,
after the lock is released, that everything queued was saved. Before the bounded queue the
same run grew from 73 MB to 411 MB in 10 s (issue 9).

Then the commit cadence under a producer that never waits (what `record --speed max` is):
the longest gap between two commits, sampled from another thread. Before batches were
capped, one transaction took everything queued and commits came seconds apart.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from papertrade.core import events as ev
from papertrade.saves.store import Store
from papertrade.saves.synthetic import symbol_hour

CADENCE_EVENTS = 300_000


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cadence(tmp: Path) -> None:
    base = list(symbol_hour(seed=1))
    events = (base * (CADENCE_EVENTS // len(base) + 1))[:CADENCE_EVENTS]
    with Store.open(tmp / "cadence.sqlite3") as store:
        writer = store.start_session("cadence", "binance", ["BTCUSDT"], ev.SessionSettings())
        commits: list[float] = []
        done = threading.Event()

        def watch() -> None:
            seen = -1
            while not done.is_set():
                if writer.flushed_seq != seen:
                    seen = writer.flushed_seq
                    commits.append(time.perf_counter())
                done.wait(0.002)

        watcher = threading.Thread(target=watch)
        watcher.start()
        start = time.perf_counter()
        for event in events:
            writer.append(event)
        writer.close()
        total = time.perf_counter() - start
        done.set()
        watcher.join()
    gaps = [b - a for a, b in zip([start, *commits[1:]], commits[1:], strict=False)]
    print(
        f"cadence  {len(events) / total:>10,.0f} events/s flat out: {len(commits) - 1} commits,"
        f" longest gap between commits {max(gaps) * 1000:.0f} ms"
        f"   [target <= ~200 ms: {'ok' if max(gaps) <= 0.3 else 'MISSED'}]"
    )


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    with tempfile.TemporaryDirectory() as d:
        cadence(Path(d))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "stall.sqlite3"
        with Store.open(path) as store:
            writer = store.start_session("stall", "binance", ["BTCUSDT"], ev.SessionSettings())
            holder = sqlite3.connect(path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            before = peak = rss_mb()
            appended = longest = 0.0
            n = 0
            start = time.monotonic()
            while time.monotonic() - start < seconds:
                for _ in range(1000):
                    n += 1
                    bid = Decimal(60000 + n % 500) + Decimal("0.1")
                    event = ev.Quote(n, "BTCUSDT", bid, bid + Decimal("0.2"))
                    t = time.perf_counter()
                    writer.append(event)
                    longest = max(longest, time.perf_counter() - t)
                    appended += 1
                peak = max(peak, rss_mb())
            end = rss_mb()
            health = writer.health
            queued = writer.pending
            holder.execute("COMMIT")
            holder.close()
            saved = writer.flush(timeout=60)
            writer.close()
    print(
        f"stall    {seconds:.0f} s with the write lock held: {appended:,.0f} appends,"
        f" {queued:,} queued, {writer.dropped:,} dropped, longest append {longest * 1000:.0f} ms"
    )
    print(f"         RSS {before:.0f} MB before, {peak:.0f} MB peak, {end:.0f} MB at the end")
    print(f"         status during the stall: {health.state}: {health.detail}")
    print(f"         after release: {saved:,} events saved ({writer.saved})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
