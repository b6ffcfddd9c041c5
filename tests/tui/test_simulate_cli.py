"""`papertrade simulate` as a user runs it: the first test runs the real console script in a
subprocess; the rest call the same entry point in-process (`cli_run.papertrade`: the same
output, errors and status, without an interpreter start per call)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

from cli_run import papertrade

DRILLS = Path(__file__).parents[2] / "examples" / "drills"


def console_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "papertrade", *args],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
    )


def test_json_output_is_one_outcome_per_line_then_the_account() -> None:
    result = console_script("simulate", str(DRILLS / "funding.jsonl"), "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [x["type"] for x in lines] == [
        "fill",
        "fill",
        "funding_paid",
        "funding_paid",
        "account",  # the drill's closing snapshot is the final account: said once
    ]
    btc, eth = lines[0], lines[1]
    # BTC: buy 0.2 at the ask 60000.0, taker 0.05%: 0.2*60000*0.0005 = 6
    assert (btc["price"], btc["fee"], btc["liquidity"]) == ("60000", "6", "taker")
    # ETH: sell 4 at the bid 2999.99: fee 4*2999.99*0.0005 = 5.99998
    assert (eth["price"], eth["fee"]) == ("2999.99", "5.99998")
    assert lines[2] == {
        "type": "funding_paid",
        "ts": 1767254400000,
        "symbol": "BTCUSDT",
        "amount": "-1.22",
    }  # -(0.2 * 61000 * 0.0001)
    assert lines[3]["amount"] == "1.22"  # 4 * 3050 * 0.0001
    final = lines[-1]
    assert D(final["wallet_balance"]) == D(10000) - 6 - D("5.99998") - D("1.22") + D("1.22")
    eth_pos = next(p for p in final["positions"] if p["symbol"] == "ETHUSDT")
    assert set(eth_pos) >= {
        "symbol",
        "side",
        "qty",
        "entry_price",
        "mark_price",
        "margin_mode",
        "leverage",
        "margin",
        "maintenance_margin",
        "unrealized_pnl",
        "liquidation_price",
    }
    # isolated short at 5x: margin 4*2999.99/5 = 2399.992, plus 1.22 funding received
    assert D(eth_pos["margin"]) == D("2399.992") + D("1.22")


def test_readable_report_tells_the_story() -> None:
    result = papertrade("simulate", str(DRILLS / "btc-crash-isolated.jsonl"))
    assert result.returncode == 0
    assert (
        "LIQUIDATION  isolated long 0.5 BTCUSDT at mark 56000: the account lost this "
        "position's margin, 2,000.00 USDT; nothing else" in result.stdout
    )
    assert re.search(r"wallet balance +8,000\.00 USDT", result.stdout)


def test_malformed_file_is_refused_before_anything_runs(tmp_path: Path) -> None:
    drill = tmp_path / "bad.jsonl"
    drill.write_text(
        '{"type":"mark","ts":5,"symbol":"BTCUSDT","price":"1"}\n'
        '{"type":"order","ts":6,"id":"a","symbol":"BTCUSDT","side":"buy","qty":"1"}\n'
    )
    result = papertrade("simulate", str(drill), "--json")
    assert result.returncode == 2 and result.stdout == ""
    assert f"{drill}:2: order: missing field 'order_type'" in result.stderr


def test_missing_file_and_stdin() -> None:
    missing = papertrade("simulate", "/nonexistent/drill.jsonl")
    assert missing.returncode == 2 and "cannot read /nonexistent/drill.jsonl" in missing.stderr
    piped = papertrade("simulate", "-", "--json", stdin='{"type":"snapshot","ts":3}\n')
    assert json.loads(piped.stdout.splitlines()[0])["wallet_balance"] == "10000"


def test_same_file_gives_identical_output_bit_for_bit() -> None:
    runs = {
        papertrade("simulate", str(DRILLS / "btc-crash-cross.jsonl"), "--json").stdout
        for _ in range(2)
    }
    assert len(runs) == 1


def test_cross_liquidation_says_each_positions_part_and_what_the_account_lost() -> None:
    """Issue 10 bug 7: "lost -18.00" for a position in profit beside "lost 9,988". In the
    drill the cross wallet holds 10,000 (no fees) when BTC (0.5 long from 60,000) is marked
    at 40,000 and ETH (10 long from 3,000) at 3,000: BTC's own loss 0.5 x 20,000 = 10,000
    is the whole wallet, ETH's part is 0, and the account lost 10,000 in all."""
    result = papertrade("simulate", str(DRILLS / "btc-crash-cross.jsonl"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "cross long 0.5 BTCUSDT at mark 40000: its part of the account's loss 10,000.00" in out
    assert "cross long 10 ETHUSDT at mark 3000: its part of the account's loss 0.00 USDT" in out
    assert (
        "LIQUIDATION  cross account lost 10,000.00 USDT in all, the whole cross wallet "
        "(BTCUSDT 10,000.00 + ETHUSDT 0.00); 2 cross positions closed, winners too" in out
    )
    assert "-0.00" not in out and "lost -" not in out


def test_the_final_account_is_printed_once_and_counts_read_as_english() -> None:
    """Issue 10 bug 13: the last `account` block came twice (the drill's closing snapshot,
    then the final state); "2 fill", "1 liquidation" counts."""
    result = papertrade("simulate", str(DRILLS / "btc-crash-isolated.jsonl"))
    assert result.returncode == 0, result.stderr
    blocks = [line for line in result.stdout.splitlines() if line.startswith("Account at")]
    assert len(blocks) == len(set(blocks))
    assert result.stdout.rstrip().endswith("Outcomes: 2 fills, 1 liquidation")


def test_large_partial_liquidation_drill_reads_as_a_cut_then_a_bankruptcy_close() -> None:
    result = papertrade("simulate", str(DRILLS / "large-partial-liquidation.jsonl"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # 21.385 cut at 67,183.6: realized 21.385 x -2,816.4 = -60,228.714, fee 17,959.016075
    assert (
        "LIQUIDATION  cross long 21.385 BTCUSDT at mark 67183.6, partial: 178.615 BTCUSDT "
        "stays open; lost 78,187.73 USDT, clearance fee 17,959.02 included" in out
    )
    # the rest at 70,000 - 621,812.269925 / 178.615; fee 178.615 x that x 0.0125
    # (cross: its bankruptcy price is where its share of the wallet runs out; with one position
    # that share is the whole wallet)
    assert (
        "(closed at 66518.70072544, where its share of the wallet runs out; clearance fee "
        "148,515.47 paid" in out
    )
    lines = [
        json.loads(x)
        for x in papertrade(
            "simulate", str(DRILLS / "large-partial-liquidation.jsonl"), "--json"
        ).stdout.splitlines()
    ]
    liqs = [x for x in lines if x["type"] == "liquidation"]
    assert [(x["qty"], x["remaining_qty"], x["insurance_covered"]) for x in liqs] == [
        ("21.385", "178.615", "0"),
        ("178.615", "0", liqs[1]["clearance_fee"]),
    ]


def test_compare_modes_json_line_tells_the_margin_modes_story() -> None:
    result = papertrade(
        "simulate", str(DRILLS / "mode-comparison.jsonl"), "--compare-modes", "--json"
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[-2]["type"] == "account"  # the normal output first, unchanged
    line = lines[-1]
    assert line["type"] == "mode_comparison" and line["ts"] == 1767226080001
    # hand-computed in tests/core/test_shadow.py: isolated loses BTC's 2,000 at 56,000 and
    # keeps 8,000 (+3,000 on ETH); cross holds to 40,000 and then loses all 10,000
    assert line["all_isolated"]["wallet_balance"] == "8000"
    assert line["all_isolated"]["liquidations"] == 1
    assert line["all_isolated"]["first_liquidation"]["mark"] == "56000"
    assert line["all_cross"]["wallet_balance"] == "0"
    assert line["all_cross"]["liquidation_loss"] == "10000"
    assert line["all_cross"]["liquidations"] == 2
    assert line["all_cross"]["first_liquidation"]["mark"] == "40000"
    assert line["as_written"]["margin_balance"] == "11000"


def test_compare_modes_table_reads_side_by_side() -> None:
    result = papertrade("simulate", str(DRILLS / "btc-crash-cross.jsonl"), "--compare-modes")
    assert result.returncode == 0, result.stderr
    rows = {
        line.split("  ")[1].strip(): line.split()[-3:]
        for line in result.stdout.splitlines()
        if line.startswith("  ") and not line.startswith("   ")
    }
    assert rows["wallet balance"] == ["0.00", "8,000.00", "0.00"]
    assert rows["liquidation loss"] == ["10,000.00", "2,000.00", "10,000.00"]
    assert rows["liquidations"] == ["2", "1", "2"]
