"""Tier-1 positions go whole, at the bankruptcy price (margin balance 0); the clearance fee on
that close has nothing left to come from, so the insurance fund covers it and the wallet stops
at 0. Numbers from margin.md §5.1 and the BTCUSDT clearance rate 0.0125."""

import json
from decimal import Decimal as D
from typing import Any

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.saves.stats import compute_stats

from .conftest import Driver

RATE = D("0.0125")


def test_isolated_tier1_long_closes_whole_at_its_bankruptcy_price(nofee: Driver) -> None:
    nofee.mark("BTCUSDT", "60000")
    nofee.order("a", "BTCUSDT", "buy", "0.5", margin_mode="isolated", leverage=10)
    # margin 3,000; LP 54,216.87 -> 54,216.8 on the tick; BP = 60,000 - 3,000 / 0.5 = 54,000
    (liq,) = nofee.mark("BTCUSDT", "54216.8")
    assert isinstance(liq, ev.Liquidation)
    fee = D("0.5") * 54000 * RATE  # 337.5
    assert (liq.qty, liq.remaining_qty, liq.price, liq.mark_price) == (
        D("0.5"),
        0,
        54000,
        D("54216.8"),
    )
    assert (liq.loss, liq.clearance_fee, liq.insurance_covered) == (3000, fee, fee)
    # realized at the bankruptcy price: 0.5 x (54,000 - 60,000) = -3,000
    assert liq.realized_pnl == D("0.5") * (54000 - 60000)
    assert nofee.account().wallet_balance == 7000


def test_cross_tier1_close_takes_the_wallet_to_exactly_zero(nofee: Driver) -> None:
    nofee.mark("BTCUSDT", "60000")
    nofee.order("a", "BTCUSDT", "buy", "1", leverage=20)
    # LP = (60,000 - 10,000) / (1 - 0.004) = 50,200.80...; at 50,000 the balance is 0
    (liq,) = nofee.mark("BTCUSDT", "50000")
    assert isinstance(liq, ev.Liquidation)
    # the cross bankruptcy price of a lone position: 60,000 - 10,000 / 1 = 50,000
    assert (liq.price, liq.loss) == (50000, 10000)
    assert liq.clearance_fee == liq.insurance_covered == 1 * 50000 * RATE  # 625
    assert nofee.account().wallet_balance == 0


def test_short_bankruptcy_price_is_above_entry(nofee: Driver) -> None:
    nofee.mark("ETHUSDT", "3000")
    nofee.order("s", "ETHUSDT", "sell", "10", margin_mode="isolated", leverage=10)
    # margin 3,000 (10 x 3,000 / 10); BP = 3,000 + 3,000 / 10 = 3,300
    out = nofee.mark("ETHUSDT", "3400")  # a gap past the bankruptcy price
    (liq,) = [o for o in out if isinstance(o, ev.Liquidation)]
    assert (liq.side, liq.price, liq.loss) == ("short", 3300, 3000)
    assert liq.insurance_covered == liq.clearance_fee == 10 * 3300 * RATE  # 412.5
    assert nofee.account().wallet_balance == 7000  # never more than the margin


def test_summary_breakdown_shows_clearance_and_cover_and_still_adds_up(nofee: Driver) -> None:
    nofee.mark("BTCUSDT", "60000")
    nofee.order("a", "BTCUSDT", "buy", "0.5", margin_mode="isolated", leverage=10)
    nofee.mark("BTCUSDT", "54216.8")
    end = nofee.account()
    stats = compute_stats(
        nofee.outcomes,
        [],
        starting_balance=D(10000),
        start_ts=None,
        end_ts=None,
        end_account=end,
    )
    parts = dict(stats.breakdown())
    assert parts["liquidation losses"] == -3000  # the position's own realized loss
    assert parts["clearance fees"] == -D("337.5")
    assert parts["insurance covered"] == D("337.5")
    assert sum(parts.values()) == stats.equity_change == -3000


def test_an_old_liquidation_line_still_reads_and_a_new_one_carries_every_field() -> None:
    old = json.loads(
        '{"type":"liquidation","ts":5,"symbol":"BTCUSDT","margin_mode":"isolated",'
        '"side":"long","qty":"0.5","mark_price":"56000","loss":"2000"}'
    )
    fields: dict[str, Any] = {k: v for k, v in old.items() if k != "type"}
    for name in ("qty", "mark_price", "loss"):
        fields[name] = D(fields[name])
    line = ev.Liquidation(**fields)
    assert (line.clearance_fee, line.insurance_covered, line.remaining_qty) == (0, 0, 0)
    assert line.price is None and line.realized_pnl == -2000
    new = json.loads(codec.dumps(ev.Liquidation(5, "BTCUSDT", "cross", "long", D(1), D(9), D(3))))
    assert {"clearance_fee", "insurance_covered", "price", "remaining_qty"} <= new.keys()
