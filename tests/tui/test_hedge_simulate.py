"""`papertrade simulate` on the hedge-mode drill, as a user runs it (its entry point in-process,
`cli_run.papertrade`): the two sides print as two positions with their `position_side`, one shared
liquidation price (−14,000 / −0.3936 = 35,569.105… on the 0.1 tick), and the readable report
names the mode and each open order's side."""

from __future__ import annotations

import json
from pathlib import Path

from cli_run import papertrade

ROOT = Path(__file__).parents[2]
DRILL = ROOT / "examples" / "drills" / "hedge-mode.jsonl"


def test_hedge_drill_json_shows_both_sides_and_their_shared_price() -> None:
    result = papertrade("simulate", str(DRILL), "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    first = next(x for x in lines if x["type"] == "account")
    assert [(p["position_side"], p["side"], p["qty"]) for p in first["positions"]] == [
        ("long", "long", "1"),
        ("short", "short", "0.6"),
    ]
    assert {p["liquidation_price"] for p in first["positions"]} == {"35569.1"}
    assert [o["position_side"] for o in first["open_orders"]] == ["short", "long"]
    liquidated = [(x["side"], x["qty"]) for x in lines if x["type"] == "liquidation"]
    assert liquidated == [("long", "1"), ("short", "0.6")]
    assert lines[-1]["positions"] == []


def test_hedge_drill_report_names_the_mode_and_the_order_sides() -> None:
    result = papertrade("simulate", str(DRILL))
    assert result.returncode == 0, result.stderr
    assert "taker 0% / maker 0%, hedge mode" in result.stdout.splitlines()[0]
    assert "open order short-tp: buy 0.3 BTCUSDT @ 50000 (cross 20x, short side)" in result.stdout
    assert "open order long-add: buy 0.1 BTCUSDT @ 55000 (cross 20x, long side)" in result.stdout
