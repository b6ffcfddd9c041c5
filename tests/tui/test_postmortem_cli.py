"""`papertrade postmortem` as a user runs it (its entry point in-process, `cli_run.papertrade`)
over a drill and over a session saved in a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.tui.test_simulate_cli import DRILLS, papertrade


def test_json_takes_the_cross_liquidation_apart() -> None:
    result = papertrade("postmortem", str(DRILLS / "btc-crash-cross.jsonl"), "--json")
    assert result.returncode == 0, result.stderr
    [line] = [json.loads(x) for x in result.stdout.splitlines()]
    # hand-computed in tests/core/test_postmortem.py: 10,000 → 0, all of it BTC's
    assert line["drop"] == "10000"
    assert line["contributions"] == {"BTCUSDT": "-10000", "ETHUSDT": "0"}
    assert (line["funding"], line["fees"], line["margin_moves"]) == ("0", "0", "0")
    assert line["survive_with_added_margin"] == "200.01"
    assert line["survive_at_leverage"] is None
    assert line["stop_that_caps_loss"] == {"price": "44000", "loss": "8000"}
    assert [v["symbol"] for v in line["went_down_with"]] == ["ETHUSDT"]


def test_text_report_names_the_cascade_and_plots_the_ratio() -> None:
    result = papertrade("postmortem", str(DRILLS / "btc-crash-cross.jsonl"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "a drop of 10,000.00 USDT" in out
    assert "BTCUSDT long 0.5 drained the cross pool" in out
    assert "took ETHUSDT long 10 down with it: worth 30,000.00 USDT" in out
    assert "█" * 40 + "  100.0%  40000 / liq 40401.6" in out
    assert "adding 200.01 USDT of margin" in out


def test_a_saved_session_is_taken_apart_like_its_drill(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite3")
    drill = str(DRILLS / "btc-crash-isolated.jsonl")
    saved = papertrade("simulate", drill, "--save", "--name", "crash", "--db", db)
    assert saved.returncode == 0, saved.stderr
    result = papertrade("postmortem", "crash", "--db", db, "--liquidation", "1", "--json")
    assert result.returncode == 0, result.stderr
    [line] = [json.loads(x) for x in result.stdout.splitlines()]
    assert (line["margin_mode"], line["mark_price"], line["drop"]) == ("isolated", "56000", "2000")
    assert line["survive_at_leverage"] == 2
    assert line["stop_that_caps_loss"] == {"price": "58000", "loss": "1000"}


def test_a_liquidation_number_out_of_range_is_a_clear_error() -> None:
    result = papertrade(
        "postmortem", str(DRILLS / "btc-crash-isolated.jsonl"), "--liquidation", "2"
    )
    assert result.returncode == 2
    assert "has 1 liquidation (1..1)" in result.stderr
    assert result.stdout == ""


def test_a_run_without_liquidations_says_so() -> None:
    result = papertrade("postmortem", str(DRILLS / "funding.jsonl"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("No liquidation in ")
