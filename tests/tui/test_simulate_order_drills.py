"""The order drills in `examples/drills/` as a user runs them (`papertrade simulate --json`),
every figure worked out by hand from the drill's lines (fees are zero in all four)."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from cli_run import papertrade  # the entry point in-process

ROOT = Path(__file__).parents[2]
DRILLS = ROOT / "examples" / "drills"


def run(name: str) -> list[dict[str, Any]]:
    result = papertrade("simulate", str(DRILLS / name), "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_stop_loss_saves_the_isolated_position_from_the_crash() -> None:
    out = run("stop-loss-isolated-crash.jsonl")
    assert [o["type"] for o in out] == [
        "fill", "fill", "account", "order_triggered", "fill", "account",
    ]  # fmt: skip
    # before the crash the open stop shows its type, trigger and watched price; no qty
    (sl,) = out[2]["open_orders"]
    assert (sl["order_type"], sl["trigger_price"], sl["working_type"]) == (
        "stop_market",
        "57000",
        "contract",
    )
    assert sl["close_position"] is True and "reduce_only" in sl
    # the trade at 56,750 crossed the 57,000 stop; the bid after it was 56,700
    assert {k: out[3][k] for k in ("order_id", "trigger_price", "watched_price")} == {
        "order_id": "btc-sl",
        "trigger_price": "57000",
        "watched_price": "56750",
    }
    fill = out[4]
    assert (fill["side"], fill["qty"], fill["price"]) == ("sell", "0.5", "56700")
    loss = (D(56700) - D(60000)) * D("0.5")  # -1,650: less than the 2,000 isolated margin
    assert D(fill["realized_pnl"]) == loss
    final = out[-1]
    assert "liquidation" not in [o["type"] for o in out]
    assert D(final["wallet_balance"]) == D(10000) + loss
    (eth,) = final["positions"]  # ETH untouched: 10 × (3,300 − 3,000) = 3,000 uPnL
    assert (eth["symbol"], D(eth["unrealized_pnl"])) == ("ETHUSDT", D(3000))


def test_a_trailing_stop_rides_the_rally_and_sells_on_the_turn() -> None:
    out = run("trailing-stop-rally.jsonl")
    assert [o["type"] for o in out] == [
        "fill", "account", "account", "order_triggered", "fill", "account",
    ]  # fmt: skip
    before = out[1]["open_orders"][0]
    # not active yet: no level and no extreme to show
    assert before["order_type"] == "trailing_stop_market"
    assert "trigger_price" not in before and "extreme" not in before
    assert (before["activation_price"], before["callback_rate"]) == ("62000", "2")
    # at the peak: highest 66,000, level 66,000 × (1 − 2/100) = 64,680
    peak = out[2]["open_orders"][0]
    level = D(66000) * (1 - D(2) / 100)
    assert (D(peak["extreme"]), D(peak["trigger_price"])) == (D(66000), level)
    assert D(out[3]["trigger_price"]) == level and out[3]["watched_price"] == "64600"
    fill = out[4]
    assert fill["price"] == "64590"  # the bid after the turn, worse than the 64,600 trade
    assert D(fill["realized_pnl"]) == (D(64590) - D(60000)) * 1
    assert D(out[-1]["wallet_balance"]) == D(10000) + D(4590)
    assert out[-1]["positions"] == [] and out[-1]["open_orders"] == []


def test_a_position_tp_sl_pair_takes_profit_and_the_stop_finds_nothing_to_close() -> None:
    out = run("position-tp-sl.jsonl")
    assert [o["type"] for o in out] == [
        "fill", "account", "account", "order_triggered", "fill", "order_triggered",
        "order_cancelled", "account",
    ]  # fmt: skip
    first = {o["id"]: o for o in out[1]["open_orders"]}
    assert (first["tp"]["trigger_price"], first["tp"]["working_type"]) == ("63000", "contract")
    assert (first["sl"]["trigger_price"], first["sl"]["working_type"]) == ("58000", "mark")
    moved = {o["id"]: o for o in out[2]["open_orders"]}
    assert moved["sl"]["trigger_price"] == "60000"  # amended to break-even, same id
    tp_fill = out[4]
    assert (tp_fill["order_id"], tp_fill["qty"], tp_fill["price"]) == ("tp", "0.5", "63050")
    assert D(tp_fill["realized_pnl"]) == (D(63050) - D(60000)) * D("0.5")  # 1,525
    assert out[5]["order_id"] == "sl" and out[5]["watched_price"] == "59900"
    assert {k: out[6][k] for k in ("order_id", "reason")} == {
        "order_id": "sl",
        "reason": "position_closed",
    }
    assert D(out[-1]["wallet_balance"]) == D(10000) + D(1525)


def test_a_stop_beyond_the_liquidation_price_never_fires() -> None:
    out = run("stop-beyond-liquidation.jsonl")
    assert [o["type"] for o in out] == [
        "fill", "account", "liquidation", "order_cancelled", "account",
    ]  # fmt: skip
    # isolated 20x: margin 60,000 / 20 = 3,000; LP = (60,000 − 3,000) / (1 − 0.004)
    lp = (D(60000) - D(3000)) / (1 - D("0.004"))
    (pos,) = out[1]["positions"]
    assert abs(D(pos["liquidation_price"]) - lp) < D("0.1")
    assert D(56000) < lp < D(57500)  # the stop sits beyond it; 57,200 is the first mark past
    assert (out[2]["mark_price"], D(out[2]["loss"])) == ("57200", D(3000))
    assert {k: out[3][k] for k in ("order_id", "reason")} == {
        "order_id": "late-sl",
        "reason": "BTCUSDT position liquidated",
    }
    assert "order_triggered" not in [o["type"] for o in out]  # not even at 55,000 after
    assert D(out[-1]["wallet_balance"]) == D(7000)


def test_the_report_says_what_triggered_where() -> None:
    result = papertrade("simulate", str(DRILLS / "position-tp-sl.jsonl"))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "TRIGGERED    tp: take_profit_market BTCUSDT at 63100 (trigger 63000)" in text
    assert "open order sl: stop_market sell the whole position when mark price reaches 60000" in (
        text
    )
    assert text.rstrip().endswith("Outcomes: 2 fills, 1 cancelled order, 2 triggered orders")
