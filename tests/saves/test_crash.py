"""`kill -9` in the middle of recording: the file stays sound, nothing flushed is lost, the
session reads as `interrupted`, and resuming continues from exactly the recorded state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from papertrade.core.engine import Engine
from papertrade.saves.store import Store
from papertrade.saves.synthetic import random_stream

ROOT = Path(__file__).resolve().parents[2]
SEED = 11

CHILD = textwrap.dedent(
    """
    import sys
    from papertrade.core import events as ev
    from papertrade.core.engine import Engine
    from papertrade.saves.store import Store
    from papertrade.saves.synthetic import random_stream

    store = Store.open(sys.argv[1])
    writer = store.start_session(
        "crash", "binance", ["BTCUSDT", "ETHUSDT"], ev.SessionSettings(), engine=Engine(),
        snapshot_every=1000,
    )
    for n, event in enumerate(random_stream(int(sys.argv[2]), 10**7), start=1):
        writer.apply(event)
        if n % 250 == 0:
            print(writer.flushed_seq, n, flush=True)
    """
)


def test_sigkill_mid_stream_loses_only_the_unflushed_tail(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(SEED)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert child.stdout is not None
    flushed = 0
    for line in child.stdout:
        flushed, _appended = map(int, line.split())
        if flushed >= 12_000:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL

    with Store.open(db) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        info = store.session("crash")
        assert info.status == "interrupted"
        assert info.events >= flushed  # everything the child knew was flushed survived
        recorded = info.events
        expected = list(random_stream(SEED, recorded + 500))
        assert [e for _, e in store.events("crash")] == expected[:recorded]

        engine, writer = store.resume("crash", snapshot_every=1000)
        reference = Engine()
        for event in expected[:recorded]:
            reference.apply(event)
        assert engine.to_state() == reference.to_state()
        assert store.session("crash").status == "running"
        for event in expected[recorded:]:
            assert writer.apply(event) == reference.apply(event)
        writer.close()

        info = store.session("crash")
        assert info.status == "ended" and info.events == recorded + 500
        fresh = Engine()
        live = [o for e in expected for o in fresh.apply(e)]
        assert [o for _, _, outs in store.replay("crash") for o in outs] == live
        assert info.fills == fresh.totals.fills and info.realized_pnl == fresh.totals.realized_pnl
