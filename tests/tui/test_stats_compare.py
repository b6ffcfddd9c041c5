"""`papertrade stats SESSION --compare-modes`: the comparison recomputed from a saved journal
(a real SQLite file, the command's entry point in-process: `cli_run.papertrade`)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.tui.test_simulate_cli import DRILLS, papertrade


def test_stats_recomputes_the_mode_comparison_from_the_journal(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite3")
    drill = str(DRILLS / "mode-comparison.jsonl")
    saved = papertrade("simulate", drill, "--save", "--name", "habit", "--db", db)
    assert saved.returncode == 0, saved.stderr
    result = papertrade("stats", "habit", "--db", db, "--compare-modes", "--json")
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    comparison = line["mode_comparison"]
    # as in the drill (hand-computed in tests/core/test_shadow.py): isolated keeps 8,000
    # and ends at 11,000 with ETH's 3,000; cross loses all 10,000
    assert comparison["as_written"]["margin_balance"] == "11000"
    assert comparison["all_isolated"]["liquidation_loss"] == "2000"
    assert comparison["all_cross"]["wallet_balance"] == "0"
    assert comparison["all_cross"]["liquidations"] == 2
    assert line["final_equity"] == "11000"  # the stats themselves unchanged

    text = papertrade("stats", "habit", "--db", db, "--compare-modes")
    assert text.returncode == 0, text.stderr
    wallet = next(x for x in text.stdout.splitlines() if x.startswith("  wallet balance"))
    assert wallet.split()[-3:] == ["8,000.00", "8,000.00", "0.00"]


def test_stats_without_the_option_has_no_comparison(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite3")
    drill = str(DRILLS / "mode-comparison.jsonl")
    assert papertrade("simulate", drill, "--save", "--name", "x", "--db", db).returncode == 0
    result = papertrade("stats", "x", "--db", db, "--json")
    assert "mode_comparison" not in json.loads(result.stdout)
