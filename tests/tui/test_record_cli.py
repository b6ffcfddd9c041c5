"""`papertrade record`: the real command, run as a subprocess, saves everything however it ends."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from papertrade.core import codec
from papertrade.feeds.file import FileFeed
from papertrade.saves.store import Store
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
    probe = "import sys, tui.cli.record; print('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=_env(), capture_output=True, text=True
    )
    assert result.stdout.strip() == "False", result.stderr
