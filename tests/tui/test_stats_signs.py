"""`papertrade stats` uses the summary's sign convention (issue 10, bug 12: the summary said
"Fees -30" and `stats` "fees 51.94"): costs negative in the text and the JSON, `-0.00` never,
and the parts of the equity change (bug 10) add up.

`examples/drills/funding.jsonl` by hand: 10,000 USDT, taker 0.05 %. BTC long 0.2 at the ask
60,000 (fee 6) and ETH short 4 at the bid 2,999.99 (fee 5.99998); marked BTC 61,000 (uPnL
+200) and ETH 3,050 (uPnL -4 x 50.01 = -200.04); funding at 0.01 %: BTC pays 1.22, ETH
receives 1.22. Equity change = 0 realized - 0.04 unrealized - 11.99998 fees + 0 funding =
-12.03998.
"""

from __future__ import annotations

import json
from pathlib import Path

from cli_run import papertrade  # the entry point in-process

ROOT = Path(__file__).resolve().parents[2]
DRILL = ROOT / "examples" / "drills" / "funding.jsonl"


def test_stats_text_and_json_show_costs_negative_and_parts_that_add_up(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    assert papertrade("import", str(DRILL), "--name", "f", "--db", db).returncode == 0
    text = papertrade("stats", "f", "--db", db)
    assert text.returncode == 0, text.stderr
    rows = {
        k.strip(): v.strip()
        for k, v in (line.rsplit("  ", 1) for line in text.stdout.splitlines()[1:])
    }
    assert rows["equity change"] == "-12.04 USDT"
    assert rows["realized PnL"] == "0.00 USDT"
    assert rows["unrealized PnL at end"] == "-0.04 USDT"
    assert rows["fees"] == "-12.00 USDT"
    assert rows["funding"] == "0.00 USDT"  # -1.22 + 1.22: zero, not -0.00
    assert rows["liquidation losses"] == "0.00 USDT"
    assert "-0.00" not in text.stdout
    out = papertrade("stats", "f", "--json", "--db", db)
    data = json.loads(out.stdout)
    assert data["fees"] == "-11.99998"
    assert data["unrealized_pnl"] == "-0.04"
    assert data["equity_change"] == "-12.03998"
    assert data["liquidation_losses"] == "0"
