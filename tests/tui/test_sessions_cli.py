"""The session commands end to end through `tui.cli.main`, on real SQLite files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.numbers import plain
from papertrade.saves.store import Store
from papertrade.saves.synthetic import random_stream
from papertrade.tui.cli import build_parser, main

# Import every command module now, outside any test's capsys: a module that binds
# `sys.stderr` at import (a default argument) would otherwise keep a closed capture stream.
build_parser()

ROOT = Path(__file__).resolve().parents[2]
DRILLS = ROOT / "examples" / "drills"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.sqlite3")


@pytest.fixture
def recorded(db: str) -> str:
    """A live-recorded random session (outcomes and snapshots stored by the writer)."""
    with Store.open(db) as store:
        w = store.start_session(
            "live-run", "binance", ["BTCUSDT", "ETHUSDT"], ev.SessionSettings(), engine=Engine()
        )
        for e in random_stream(42, 4000):
            w.apply(e)
        w.close()
    return "live-run"


def test_export_then_simulate_reproduces_the_replay_line_for_line(
    capsys: pytest.CaptureFixture[str], db: str, recorded: str, tmp_path: Path
) -> None:
    out_file = tmp_path / "live.jsonl"
    code, _, _ = run(capsys, "export", recorded, "--out", str(out_file), "--db", db)
    assert code == 0
    first = json.loads(out_file.read_text().splitlines()[0])
    assert first["type"] == "session" and first["name"] == "live-run"
    code, replayed, err = run(capsys, "replay", recorded, "--headless", "--json", "--db", db)
    assert code == 0, err
    code, simulated, _ = run(capsys, "simulate", str(out_file), "--json")
    assert code == 0
    assert replayed == simulated
    # ... and the human report too, apart from the title line
    _, rep_text, _ = run(capsys, "replay", recorded, "--headless", "--db", db)
    _, sim_text, _ = run(capsys, "simulate", str(out_file))
    assert rep_text.splitlines()[1:] == sim_text.splitlines()[1:]
    # the replay equals what the live session produced
    engine = Engine()
    live = [codec.dumps(o) for e in random_stream(42, 4000) for o in engine.apply(e)]
    assert replayed.splitlines()[:-1] == live


def test_import_of_an_export_round_trips(
    capsys: pytest.CaptureFixture[str], db: str, recorded: str, tmp_path: Path
) -> None:
    out_file = tmp_path / "x.jsonl"
    run(capsys, "export", recorded, "--out", str(out_file), "--db", db)
    code, out, err = run(capsys, "import", str(out_file), "--db", db)
    assert code == 2 and "already exists" in err  # the export carries its name
    code, out, _ = run(capsys, "import", str(out_file), "--name", "copy", "--db", db)
    assert code == 0 and "as session copy" in out
    _, a, _ = run(capsys, "replay", recorded, "--headless", "--json", "--db", db)
    _, b, _ = run(capsys, "replay", "copy", "--headless", "--json", "--db", db)
    assert a == b


def test_import_of_a_malformed_file_names_the_line_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    lines = (DRILLS / "funding.jsonl").read_text().splitlines()
    lines.insert(4, '{"type":"mark","ts":1767225600000,"symbol":"BTCUSDT","price":1.5}')
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    code, _, err = run(capsys, "import", str(bad), "--db", db)
    assert code == 2
    assert ":5:" in err and "price" in err and "nothing imported" in err
    with Store.open(db) as store:
        assert store.sessions() == []


def test_sessions_lists_results_and_stats_reports_them(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    run(capsys, "import", str(DRILLS / "btc-crash-isolated.jsonl"), "--name", "crash", "--db", db)
    code, out, _ = run(capsys, "sessions", "--db", db)
    assert code == 0 and "crash" in out and "ended" in out
    code, out, _ = run(capsys, "sessions", "--json", "--db", db)
    row = json.loads(out.splitlines()[0])
    assert row["name"] == "crash" and row["status"] == "ended" and row["events"] > 0
    code, out, _ = run(capsys, "stats", "crash", "--json", "--db", db)
    stats = json.loads(out)
    engine = Engine(
        settings=codec.parse_lines((DRILLS / "btc-crash-isolated.jsonl").read_text().splitlines())[
            0
        ]
    )
    for e in codec.parse_lines((DRILLS / "btc-crash-isolated.jsonl").read_text().splitlines())[1]:
        engine.apply(e)
    assert stats["fees"] == plain(-engine.totals.fees)  # costs negative (issue 10 bug 12)
    assert stats["liquidations"] == engine.totals.liquidations
    assert len(stats["equity_curve"]) >= 2
    code, out, _ = run(capsys, "stats", "crash", "--db", db)
    assert code == 0 and "max drawdown" in out


def test_csv_export_lists_fills_with_fees_and_pnl(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    run(capsys, "import", str(DRILLS / "funding.jsonl"), "--name", "f", "--db", db)
    code, out, _ = run(capsys, "export", "f", "--format", "csv", "--db", db)
    assert code == 0
    header, *rows = out.splitlines()
    assert header.startswith("seq,ts,time_utc,order_id,symbol,side,qty,price")
    assert rows and all(len(r.split(",")) == len(header.split(",")) for r in rows)


def test_branch_command_creates_a_session_at_the_point(
    capsys: pytest.CaptureFixture[str], db: str, recorded: str
) -> None:
    code, out, _ = run(capsys, "branch", recorded, "--at", "1000", "--name", "alt", "--db", db)
    assert code == 0 and "after event 1000" in out
    with Store.open(db) as store:
        info = store.session("alt")
        assert info.branch_seq == 1000 and info.events == 1000
    code, _, err = run(capsys, "branch", recorded, "--at", "99999", "--db", db)
    assert code == 2 and "outside" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("replay", "live-run"), "--headless"),
        (("replay", "nope", "--headless"), "no session 'nope'"),
        (("stats", "live"), None),  # unique prefix: fine
        (("export", "live-run", "--out", "/nonexistent-dir/x.jsonl"), "cannot write"),
        (("sessions", "--delete", "ghost"), "no session"),
    ],
)
def test_bad_input_is_a_clear_error_with_status_2(
    capsys: pytest.CaptureFixture[str],
    db: str,
    recorded: str,
    argv: tuple[str, ...],
    message: str | None,
) -> None:
    code, _, err = run(capsys, *argv, "--db", db)
    if message is None:
        assert code == 0
    else:
        assert code == 2 and message in err


def test_a_foreign_database_file_is_refused_untouched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"hello" * 1000)
    code, _, err = run(capsys, "sessions", "--db", str(path))
    assert code == 2 and "not a papertrade database" in err
    assert path.read_bytes() == b"hello" * 1000


def test_papertrade_db_env_var_selects_the_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "env.sqlite3"
    monkeypatch.setenv("PAPERTRADE_DB", str(target))
    code, _, _ = run(capsys, "import", str(DRILLS / "funding.jsonl"), "--name", "e")
    assert code == 0 and target.exists()


HOSTILE = "evil\x1b]0;pwned\x07\x1b]52;c;aGk=\x07\x9b31m\u202e"


def test_hostile_session_names_never_reach_the_terminal_as_controls(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    """An imported drill's name with an OSC title, an OSC 52 clipboard write, a C1 CSI and a
    bidi override: every printer shows it escaped."""
    drill = (DRILLS / "funding.jsonl").read_text().splitlines()
    settings, events = codec.parse_lines(drill)
    with Store.open(db) as store:
        sid = store.import_session(settings, events, name=HOSTILE)
    outputs = [
        run(capsys, "sessions", "--db", db),
        run(capsys, "replay", str(sid), "--headless", "--db", db),
        run(capsys, "branch", str(sid), "--at", "2", "--db", db),
        run(capsys, "replay", "no-such\x1b]0;x\x07", "--headless", "--db", db),
    ]
    for _, out, err in outputs:
        for text in (out, err):
            assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text
            assert "\u202e" not in text
    assert "evil\\x1b]0;pwned\\x07" in outputs[0][1]  # still readable, as escapes
    assert "no-such\\x1b]0;x\\x07" in outputs[3][2]


def test_hostile_order_ids_are_escaped_and_csv_cells_are_never_formulas(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    evil_id = '=HYPERLINK("http://x")\x1b]0;t\x07'
    drill = tmp_path / "evil.jsonl"
    drill.write_text(
        "\n".join(
            json.dumps(line)
            for line in (
                {"type": "quote", "ts": 1000, "symbol": "BTCUSDT", "bid": "99.9", "ask": "100"},
                {
                    "type": "order",
                    "ts": 2000,
                    "id": evil_id,
                    "symbol": "BTCUSDT",
                    "side": "buy",
                    "qty": "2",
                    "order_type": "market",
                },
            )
        )
        + "\n"
    )
    code, out, err = run(capsys, "simulate", str(drill))
    assert code == 0 and "\x1b" not in out + err
    assert '=HYPERLINK("http://x")\\x1b]0;t\\x07' in out  # readable, as escapes
    code, _, _ = run(capsys, "import", str(drill), "--name", "evil-ids", "--db", db)
    assert code == 0
    code, out, _ = run(capsys, "export", "evil-ids", "--format", "csv", "--db", db)
    assert code == 0 and "\x1b" not in out
    rows = out.strip().splitlines()[1:]
    assert rows and all(not cell.startswith(("=", "+", "@")) for r in rows for cell in r.split(","))
    assert "'=HYPERLINK" in out
    code, out, _ = run(capsys, "stats", "evil-ids", "--db", db)
    assert code == 0 and "\x1b" not in out


def test_simulate_save_stores_the_run_as_a_session(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    drill = str(DRILLS / "limit-orders.jsonl")
    code, simulated, err = run(
        capsys, "simulate", drill, "--json", "--save", "--name", "lim", "--db", db
    )
    assert code == 0 and "saved the run as session lim" in err
    _, replayed, _ = run(capsys, "replay", "lim", "--headless", "--json", "--db", db)
    assert replayed == simulated
    code, out, err = run(capsys, "simulate", drill, "--save", "--name", "lim", "--db", db)
    assert code == 2 and "already exists" in err and out == ""
    code, _, err = run(capsys, "simulate", drill, "--name", "x")
    assert code == 2 and "--save" in err


def test_sessions_json_into_a_pipe_that_closes_early_ends_quietly(db: str, recorded: str) -> None:
    """`papertrade sessions --json | head -0`: no BrokenPipeError traceback, status 0."""
    import subprocess
    import sys

    script = (
        f"{sys.executable} -m papertrade sessions --json --db {db} | head -c 0; "
        "exit ${PIPESTATUS[0]}"
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert done.returncode == 0


def test_replay_tells_damage_from_a_change_of_rules(
    capsys: pytest.CaptureFixture[str], db: str, recorded: str
) -> None:
    # A stored outcome that the replay cannot reproduce: under the rules it was recorded with
    # that is an error (exit 1); recorded under older engine rules it is expected and said so
    with Store.open(db) as store:
        seq, idx = store.conn.execute(
            "SELECT seq, idx FROM outcomes ORDER BY seq, idx LIMIT 1"
        ).fetchone()
        store.conn.execute(
            'UPDATE outcomes SET payload = \'{"type":"tampered"}\' WHERE seq = ? AND idx = ?',
            (seq, idx),
        )
    code, _, err = run(capsys, "replay", recorded, "--headless", "--db", db)
    assert code == 1 and "outcome 1 differs" in err and "error" in err
    with Store.open(db) as store:
        store.conn.execute("UPDATE sessions SET rules = '{}'")
    code, _, err = run(capsys, "replay", recorded, "--headless", "--db", db)
    assert code == 0
    assert "note: outcome 1 differs" in err and "recorded under engine rules 1" in err
