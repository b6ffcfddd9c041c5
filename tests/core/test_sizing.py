"""Sizing from risk and the losses of an entry, against the rules worked out by hand.

Every expected figure below is written out from the formulas (README "Sizing from risk";
margin.md §1.7 for the liquidation prices), in Decimal, not taken from the module.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP
from decimal import Decimal as D

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from papertrade.core import events as ev
from papertrade.core.instruments import bundled
from papertrade.core.sizing import Risk, SizingError, loss_scenarios, size_from_risk

BTC = bundled("binance")["BTCUSDT"]  # step 0.001, tick 0.1, tier 1: MMR 0.4 %, cum 0


def floor(value: D, step: str) -> D:
    return (value / D(step)).to_integral_value(ROUND_DOWN) * D(step)


def test_one_percent_of_ten_thousand_with_a_600_stop_buys_0_151_btc() -> None:
    # risk 1 % of 10,000 = 100 USDT; loss per BTC = 600 + 60,000 × 0.0005 + 59,400 × 0.0005
    per_unit = D(600) + D(30) + D("29.7")
    assert per_unit == D("659.7")
    expected = floor(D(100) / per_unit, "0.001")  # 0.15158… → 0.151
    assert expected == D("0.151")
    sized = size_from_risk(
        Risk(D(1), "percent"),
        equity=D(10000),
        side="buy",
        entry=D(60000),
        stop=D(59400),
        taker_fee=D("0.0005"),
        leverage=20,
        available=D(10000),
        instrument=BTC,
    )
    assert (sized.qty, sized.wanted, sized.cap, sized.budget) == (expected, expected, None, 100)
    assert sized.loss_at_stop == D("0.151") * per_unit  # 99.6147, within the 100 asked


def test_a_tight_stop_is_capped_by_what_the_available_balance_buys_at_the_leverage() -> None:
    # r$200 with a 60 USDT stop on a short: per BTC 60 + 30 + 30.03 = 120.03 → 1.666 BTC wanted
    per_unit = D(60) + D(60000) * D("0.0005") + D(60060) * D("0.0005")
    wanted = floor(D(200) / per_unit, "0.001")
    assert wanted == D("1.666")
    # 1,000 USDT available at 20x: one BTC holds 60,000 / 20 + 30 (fee) = 3,030 → 0.330 BTC
    capped = floor(D(1000) / (D(60000) / 20 + D(30)), "0.001")
    assert capped == D("0.330")
    sized = size_from_risk(
        Risk(D(200), "usdt"),
        equity=D(10000),
        side="sell",
        entry=D(60000),
        stop=D(60060),
        taker_fee=D("0.0005"),
        leverage=20,
        available=D(1000),
        instrument=BTC,
    )
    assert (sized.qty, sized.wanted, sized.cap) == (capped, wanted, "available")


@pytest.mark.parametrize(
    ("side", "stop", "risk", "words"),
    [
        ("buy", "60000", "100", "at the entry price"),
        ("buy", "60100", "100", "must be below the entry"),
        ("sell", "59900", "100", "must be above the entry"),
        ("buy", "59400", "0.5", "below the BTCUSDT minimum"),  # 0.5 / 659.7 → 0.000 BTC
    ],
)
def test_a_stop_on_the_wrong_side_or_a_risk_too_small_says_why(
    side: ev.Side, stop: str, risk: str, words: str
) -> None:
    with pytest.raises(SizingError, match=words):
        size_from_risk(
            Risk(D(risk), "usdt"),
            equity=D(10000),
            side=side,
            entry=D(60000),
            stop=D(stop),
            taker_fee=D("0.0005"),
            leverage=20,
            available=D(10000),
            instrument=BTC,
        )


def test_cross_liquidation_takes_every_cross_position_and_the_whole_pot(driver) -> None:
    """Three cross positions: ETH long 2 @ 3,000 (mark now 2,900), SOL long 20 @ 150 (mark
    now 155), and a BTC long 0.5 @ 60,000 about to be bought; 20x, taker 0.05 %."""
    d = driver
    for symbol, bid, ask in (("ETHUSDT", "2999.99", "3000"), ("SOLUSDT", "149.99", "150")):
        d.quote(symbol, bid, ask)
        d.trade(symbol, ask)
        d.mark(symbol, ask)
    d.order("eth", "ETHUSDT", "buy", "2")  # fee 2 × 3,000 × 0.0005 = 3
    d.order("sol", "SOLUSDT", "buy", "20")  # fee 20 × 150 × 0.0005 = 1.5
    d.mark("ETHUSDT", "2900")  # uPnL −200, MM 2 × 2,900 × 0.004 = 23.2
    d.mark("SOLUSDT", "155")  # uPnL +100, MM 20 × 155 × 0.005 = 15.5
    d.quote("BTCUSDT", "59990", "60000")
    d.trade("BTCUSDT", "60000")
    d.mark("BTCUSDT", "60000")
    before = d.engine.to_state()
    order = ev.PlaceOrder(d.ts, "x", "BTCUSDT", "buy", D("0.5"), "market")
    got = loss_scenarios(d.engine, order, D(59400), D(60000))
    assert d.engine.to_state() == before  # read only
    assert got is not None

    wallet = D(10000) - D(3) - D("1.5")  # 9,995.5
    # cross LP of BTC, the others held: W* = wallet − fee − TMM1 + UPNL1
    w_star = wallet - D(15) - (D("23.2") + D("15.5")) + (D(-200) + D(100))
    lp = (D("0.5") * D(60000) - w_star) / (D("0.5") * (1 - D("0.004")))
    lp = floor(lp, "0.1")  # a long's first triggering tick
    assert lp == D("40478.3")
    assert got.here.mode == "cross" and got.here.price == lp
    # every position is tier 1: no partial cut passes, all three close at bankruptcy and the
    # cross pot goes, from its value before the trade: wallet + every cross uPnL
    assert got.here.loss == wallet + D(-200) + D(100) == D("9895.5")
    assert set(got.here.taken) == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
    assert got.here.taken[0] == "BTCUSDT"

    # isolated instead: margin 0.5 × 60,000 / 20 = 1,500; LP = (30,000 − 1,500) / (0.5 × 0.996)
    iso_lp = floor((D(30000) - D(1500)) / (D("0.5") * D("0.996")), "0.1")
    assert iso_lp == D("57228.9")
    assert (got.other.mode, got.other.price, got.other.loss) == ("isolated", iso_lp, D(1515))
    assert got.other.taken == ("BTCUSDT",)
    # at the stop: 0.5 × (600 + 30 + 29.7)
    assert got.loss_at_stop == D("329.85") and not got.stop_after_liquidation


def test_a_short_whose_stop_is_past_its_isolated_liquidation_is_flagged(driver) -> None:
    d = driver
    d.quote("BTCUSDT", "59990", "60000")
    d.trade("BTCUSDT", "60000")
    d.mark("BTCUSDT", "60000")
    order = ev.PlaceOrder(d.ts, "x", "BTCUSDT", "sell", D("0.2"), "market", margin_mode="isolated",
                          leverage=50)  # fmt: skip
    got = loss_scenarios(d.engine, order, D(62000), D(59990))
    assert got is not None
    # margin 0.2 × 59,990 / 50 = 239.96; short LP = (Q·EP + W) / (Q × (1 + MMR)), rounded up
    margin = D("0.2") * D(59990) / 50
    lp = (D("0.2") * D(59990) + margin) / (D("0.2") * D("1.004"))
    lp = (lp / D("0.1")).to_integral_value(ROUND_UP) * D("0.1")
    assert got.here.price == lp == D("60946.1")  # 12,237.96 / 0.2008 = 60,946.01…
    assert got.stop_after_liquidation  # 62,000 is beyond 60,946.1: the stop never fires
    assert got.here.loss == margin + D("0.2") * D(59990) * D("0.0005")


@settings(max_examples=80, deadline=None)
@given(
    entry=st.decimals(min_value=1000, max_value=200000, places=1),
    distance=st.decimals(min_value=D("0.1"), max_value=5000, places=1),
    risk=st.decimals(min_value=10, max_value=5000, places=2),
    side=st.sampled_from(["buy", "sell"]),
)
def test_the_sized_loss_never_exceeds_the_risk_and_one_step_more_would(
    entry: D, distance: D, risk: D, side: ev.Side
) -> None:
    """Uncapped (a balance too large to cap), the loss at the stop of the sized quantity is
    at most the risk, and one more step would cost more than it."""
    stop = entry - distance if side == "buy" else entry + distance
    assume(stop > 0)
    try:
        sized = size_from_risk(
            Risk(risk, "usdt"),
            equity=D(10) ** 9,
            side=side,
            entry=entry,
            stop=stop,
            taker_fee=D("0.0005"),
            leverage=1,
            available=D(10) ** 12,
            instrument=BTC,
        )
    except SizingError as exc:
        assert "minimum" in str(exc) or "largest" in str(exc)
        return
    per_unit = distance + entry * D("0.0005") + stop * D("0.0005")
    if sized.cap is None:
        assert sized.qty * per_unit <= risk < (sized.qty + D("0.001")) * per_unit
    else:
        assert sized.qty < sized.wanted and sized.wanted * per_unit <= risk
