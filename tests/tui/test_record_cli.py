"""`papertrade record`: the real command, run as a subprocess, saves everything however it ends."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from papertrade.core import codec
from papertrade.feeds.file import FileFeed
from papertrade.saves.store import Store
from papertrade.saves.writer_health import format_ts
from papertrade.tui.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "offline"


def papertrade(*args: str) -> list[str]:
    return [sys.executable, "-m", "papertrade", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def read_drill(path: Path) -> tuple[dict, list]:
    lines = path.read_text().splitlines()
    _, events = codec.parse_lines(lines)
    return json.loads(lines[0]), events


def stored(db: Path) -> tuple[object, list]:
    store = Store.open(db)
    try:
        (info,) = store.sessions()
        return info, [event for _, event in store.events(info.id)]
    finally:
        store.close()


def test_record_sim_for_two_seconds_saves_the_session_and_the_drill(tmp_path: Path) -> None:
    db, out = tmp_path / "rec.db", tmp_path / "rec.jsonl"
    started = time.monotonic()
    proc = subprocess.run(
        papertrade(
            "record", "--feed", "sim", "--symbols", "BTCUSDT,ETHUSDT", "--duration", "2",
            "--db", str(db), "--out", str(out),
        ),
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert 2.0 <= time.monotonic() - started < 10
    head, events = read_drill(out)
    assert head["type"] == "session" and head["venue"] == "sim"
    assert {e.symbol for e in events} == {"BTCUSDT", "ETHUSDT"}
    assert {"quote", "trade", "mark"} <= {e.type for e in events}
    assert 1.5 <= (events[-1].ts - events[0].ts) / 1000 <= 2.5
    info, journal = stored(db)
    assert info.status == "ended" and info.venue == "sim"  # type: ignore[attr-defined]
    assert info.symbols == ("BTCUSDT", "ETHUSDT")  # type: ignore[attr-defined]
    assert head["name"] == info.name  # type: ignore[attr-defined]
    assert journal == events
    assert "recorded" in proc.stderr and "stopped: duration" in proc.stderr


def test_ctrl_c_ends_the_recording_cleanly_with_everything_saved(tmp_path: Path) -> None:
    db, out = tmp_path / "rec.db", tmp_path / "rec.jsonl"
    proc = subprocess.Popen(
        papertrade("record", "--feed", "sim", "--symbols", "SOLUSDT", "--db", str(db),
                   "--out", str(out)),
        cwd=ROOT, env=_env(), stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # the first progress line: recording is under way
        assert line.startswith("recording sim [live]"), line
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
        rest = proc.stderr.read()
    finally:
        proc.kill()
    assert code == 0, rest
    assert "stopped: interrupted" in rest
    _, events = read_drill(out)
    info, journal = stored(db)
    assert events and journal == events
    assert info.status == "ended"  # type: ignore[attr-defined]


def test_an_unpaced_sim_records_simulated_time(tmp_path: Path) -> None:
    out = tmp_path / "hour.jsonl"
    code = main(
        ["record", "--feed", "sim", "--symbols", "BTCUSDT", "--speed", "max",
         "--duration", "600", "--db", str(tmp_path / "rec.db"), "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    _, events = read_drill(out)
    span = events[-1].ts - events[0].ts
    assert 599_000 <= span <= 600_200  # ten simulated minutes (+ the conflation flush)
    quotes = [e for e in events if e.type == "quote"]
    assert len(quotes) <= 600 * 10 + 3


def test_a_file_feed_is_recorded_to_its_end(tmp_path: Path) -> None:
    source = FIXTURES / "btcusdt-2024-08-08-head60.hftbacktest.gz"
    out = tmp_path / "copy.jsonl"
    code = main(
        ["record", "--feed", f"file:{source}", "--speed", "max", "--conflate", "0",
         "--db", str(tmp_path / "rec.db"), "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    _, events = read_drill(out)
    assert events == list(FileFeed(source, speed=0).events())
    info, journal = stored(tmp_path / "rec.db")
    assert journal == events and info.venue == "file"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--feed", "sim", "--symbols", "BTC-USDT"], "not a symbol"),
        (["--feed", "sim", "--symbols", "BTCUSDT,,ETHUSDT"], "not a symbol"),
        (["--feed", "sim", "--symbols", "BTCUSDT,NOPEUSDT"], "unknown symbol for sim: NOPEUSDT"),
        (["--feed", "binance", "--symbols", "NOPEUSDT"], "unknown symbol for binance"),
        (["--feed", "kraken"], "valid feeds: binance, bybit, okx, hyperliquid, sim, file:PATH"),
        (["--feed", "sim", "--duration", "0"], "--duration must be a positive"),
        (["--feed", "sim", "--speed", "warp"], "speed must be a number"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["record", *args, "--db", str(tmp_path / "x.db")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()


async def test_record_a_binance_feed_from_a_local_websocket_server(tmp_path: Path) -> None:
    websockets_server = pytest.importorskip("websockets.asyncio.server")
    now = int(time.time() * 1000)

    def frames(path: str) -> list[dict]:
        if path.startswith("/market"):
            return [
                {"stream": "btcusdt@markPrice@1s", "data": {
                    "e": "markPriceUpdate", "E": now, "s": "BTCUSDT", "p": "61800.25",
                    "i": "61790.1", "r": "0.0001", "T": now + 3_600_000}},
                {"stream": "btcusdt@aggTrade", "data": {
                    "e": "aggTrade", "E": now + 5, "a": 1, "s": "BTCUSDT", "p": "61800.30",
                    "q": "0.006", "f": 1, "l": 1, "T": now + 4, "m": False}},
            ]  # fmt: skip
        return [
            {"stream": "btcusdt@bookTicker", "data": {
                "e": "bookTicker", "u": 10 + i, "s": "BTCUSDT", "b": "61800.20", "B": "2.5",
                "a": "61800.30", "A": str(1 + i), "T": now + i, "E": now + i}}
            for i in range(3)
        ]  # fmt: skip

    async def handler(ws) -> None:
        for frame in frames(ws.request.path):
            await ws.send(json.dumps(frame))
        if ws.request.path.startswith("/market"):
            await ws.send("{not json")  # thrown away, and counted
        await ws.wait_closed()

    out = tmp_path / "live.jsonl"
    async with websockets_server.serve(handler, "127.0.0.1", 0) as server:
        host, port = server.sockets[0].getsockname()[:2]
        proc = await asyncio.create_subprocess_exec(
            *papertrade("record", "--feed", "binance", "--symbols", "BTCUSDT",
                        "--ws-url", f"ws://{host}:{port}", "--duration", "1.5",
                        "--db", str(tmp_path / "rec.db"), "--out", str(out)),
            cwd=ROOT, env=_env(), stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert proc.returncode == 0, err.decode()
    _, events = read_drill(out)
    assert {e.type for e in events} == {"quote", "trade", "mark"}
    mark = next(e for e in events if e.type == "mark")
    assert str(mark.price) == "61800.25" and mark.next_funding_ts == now + 3_600_000
    assert "dropped 1 by the feed" in err.decode()


def test_a_corrupt_file_keeps_what_was_recorded_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "half.jsonl"
    source.write_text(
        '{"type":"quote","ts":1,"symbol":"BTCUSDT","bid":"1","ask":"2"}\n{"type":"quote"\n'
    )
    out = tmp_path / "out.jsonl"
    code = main(
        ["record", "--feed", f"file:{source}", "--speed", "max", "--db", str(tmp_path / "r.db"),
         "--out", str(out)]
    )  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "feed failed" in err and "line 2" in err
    _, events = read_drill(out)
    assert len(events) == 1
    assert stored(tmp_path / "r.db")[1] == events


def test_the_record_command_does_not_import_textual() -> None:
    probe = "import sys, papertrade.tui.cli.record; print('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=_env(), capture_output=True, text=True
    )
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("123", "--name '123' is all digits and would read as a session id"),
        ("", "--name must not be empty"),
        ("   ", "--name must not be empty"),
        ("evil\x1b]0;owned\x07", "--name 'evil\\x1b]0;owned\\x07' contains control characters"),
        ("x" * 65, "--name is 65 characters long; at most 64"),
    ],
    ids=["digits", "empty", "blank", "escape", "long"],
)
def test_a_bad_session_name_exits_2_before_anything_is_created(
    name: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "x.db"
    assert main(["record", "--feed", "sim", "--name", name, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"papertrade record: error: {message}")
    assert "Traceback" not in err and "\x1b" not in err
    assert not db.exists()


def test_a_taken_session_name_exits_2_and_leaves_the_first_session_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "x.db"
    source = FIXTURES / "btcusdt-2024-08-08-head60.hftbacktest.gz"
    args = ["record", "--feed", f"file:{source}", "--speed", "max", "--db", str(db)]
    assert main([*args, "--name", "alpha"]) == 0
    _, first = stored(db)
    capsys.readouterr()
    assert main([*args, "--name", " alpha "]) == 2
    err = capsys.readouterr().err
    assert "papertrade record: error: cannot start a session: " in err
    assert "a session named 'alpha' already exists" in err
    info, journal = stored(db)  # still exactly one session, as it was
    assert info.name == "alpha" and journal == first  # type: ignore[attr-defined]


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make a file unwritable for this process: a mode for users, the immutable flag for root
    (root writes through any mode)."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], check=False).returncode:
        pytest.skip("running as root without chattr +i: cannot make a file read-only")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_a_read_only_database_exits_2_with_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "ro.db"
    Store.open(db).close()
    with read_only(db):
        code = main(["record", "--feed", "sim", "--duration", "1", "--db", str(db)])
    assert code == 2
    err = capsys.readouterr().err
    assert err == (
        f"papertrade record: error: cannot start a session: {db}: "
        "attempt to write a readonly database\n"
    )
    store = Store.open(db)
    try:
        assert store.sessions() == []
    finally:
        store.close()


def _limit_file_size() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (600_000, 600_000))


def test_a_full_disk_ends_record_with_status_1_and_what_was_saved(tmp_path: Path) -> None:
    """Files may not grow past 600 kB (RLIMIT_FSIZE, as a full disk refuses writes): the
    unpaced sim fills that in a moment; record stops, says why and what was saved. Without
    books (`--depth 0`): with them the very first commit is past 600 kB, and nothing is saved."""
    db = tmp_path / "full.db"
    proc = subprocess.run(
        papertrade("record", "--feed", "sim", "--speed", "max", "--duration", "360000",
                   "--depth", "0", "--db", str(db)),
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120,
        preexec_fn=_limit_file_size,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    error, summary = proc.stderr.strip().splitlines()[-2:]
    found = re.fullmatch(
        r"papertrade record: error: journal writer stopped: "
        r"(disk I/O error|database or disk is full) \((.+)\); "
        r"saved up to (.+ UTC) \((\d+) events\)",
        error,
    )
    assert found is not None, error
    assert found.group(2) == str(db)
    assert summary.startswith("received ") and "is kept as interrupted" in summary
    info, journal = stored(db)
    saved = int(found.group(4))
    assert saved > 0 and len(journal) == saved
    assert info.last_seq == saved  # type: ignore[attr-defined]
    assert found.group(3) == format_ts(journal[-1].ts)
    assert info.status == "interrupted"  # type: ignore[attr-defined]


async def test_a_venue_refusing_for_good_ends_record_with_status_1_and_its_words(
    tmp_path: Path,
) -> None:
    websockets_server = pytest.importorskip("websockets.asyncio.server")
    refusal = {"event": "error", "code": "60012", "msg": 'Invalid request: {"op":"subscribe"}'}

    async def handler(ws) -> None:
        await ws.recv()  # the subscription
        await ws.send(json.dumps(refusal))
        await ws.wait_closed()

    async with websockets_server.serve(handler, "127.0.0.1", 0) as server:
        host, port = server.sockets[0].getsockname()[:2]
        proc = await asyncio.create_subprocess_exec(
            *papertrade("record", "--feed", "okx", "--symbols", "BTCUSDT",
                        "--ws-url", f"ws://{host}:{port}", "--duration", "30",
                        "--db", str(tmp_path / "rec.db")),
            cwd=ROOT, env=_env(), stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), timeout=25)
    text = err.decode()
    assert proc.returncode == 1, text
    assert text.rstrip().endswith(
        'stopped: feed failed: OKX error 60012: Invalid request: {"op":"subscribe"}'
    )
    assert "Traceback" not in text


def test_a_database_locked_mid_recording_shows_saving_delayed_and_loses_nothing(
    tmp_path: Path,
) -> None:
    db, out = tmp_path / "rec.db", tmp_path / "rec.jsonl"
    proc = subprocess.Popen(
        papertrade("record", "--feed", "sim", "--symbols", "BTCUSDT", "--db", str(db),
                   "--out", str(out)),
        cwd=ROOT, env=_env(), stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    other = None
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # recording is under way: the session exists
        assert line.startswith("recording sim"), line
        other = sqlite3.connect(db, isolation_level=None, timeout=10)
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        while "saving delayed" not in line:
            line = proc.stderr.readline()
            assert line, "record ended before reporting the delay"
        assert "database is locked" in line
        other.execute("COMMIT")  # let go: the backlog is saved
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        rest = proc.stderr.read()
    finally:
        if other is not None:
            other.close()
        proc.kill()
    assert code == 0, rest
    assert "stopped: interrupted" in rest and "dropped" not in rest
    _, events = read_drill(out)
    info, journal = stored(db)
    assert events and journal == events  # every event of the drill is in the journal too
    assert info.status == "ended"  # type: ignore[attr-defined]
