"""Funding settlement, margin adjustment and per-symbol settings."""

from decimal import Decimal as D

from papertrade.core import events as ev


def one(outcomes, kind):
    (item,) = [o for o in outcomes if isinstance(o, kind)]
    return item


def test_positive_funding_longs_pay_shorts_receive(nofee) -> None:
    nofee.mark("BTCUSDT", "60000")
    nofee.mark("ETHUSDT", "3000")
    nofee.order("l", "BTCUSDT", "buy", "0.2")
    nofee.order("s", "ETHUSDT", "sell", "4", margin_mode="isolated", leverage=5)
    nofee.mark("BTCUSDT", "61000")
    paid = one(nofee.apply(ev.Funding(nofee.tick(), "BTCUSDT", D("0.0001"))), ev.FundingPaid)
    got = one(nofee.apply(ev.Funding(nofee.tick(), "ETHUSDT", D("0.0001"))), ev.FundingPaid)
    assert paid.amount == -(D("0.2") * 61000 * D("0.0001")) == D("-1.22")
    assert got.amount == D(4) * 3000 * D("0.0001") == D("1.2")
    # isolated funding lands in the isolated margin: 4*3000/5 + 1.2 = 2401.2
    assert nofee.position("ETHUSDT").margin == D("2401.2")
    assert nofee.account().wallet_balance == D(10000) - D("1.22") + D("1.2")


def test_negative_funding_and_no_position_means_nothing(nofee) -> None:
    assert nofee.apply(ev.Funding(nofee.tick(), "BTCUSDT", D("0.0003"))) == []
    nofee.mark("BTCUSDT", "50000")
    nofee.order("l", "BTCUSDT", "buy", "0.1")
    got = one(nofee.apply(ev.Funding(nofee.tick(), "BTCUSDT", D("-0.0003"))), ev.FundingPaid)
    assert got.amount == D("0.1") * 50000 * D("0.0003") == D("1.5")


def test_funding_can_liquidate_a_thin_isolated_position(nofee) -> None:
    nofee.mark("BTCUSDT", "60000")
    nofee.order("l", "BTCUSDT", "buy", "0.5", margin_mode="isolated", leverage=100)
    # margin 300; MM at 60000 = 120; a 0.6% funding charge = 180 leaves 120 <= 120
    out = nofee.apply(ev.Funding(nofee.tick(), "BTCUSDT", D("0.006")))
    assert one(out, ev.FundingPaid).amount == -180
    assert one(out, ev.Liquidation).loss == 120


def test_add_and_remove_isolated_margin_within_limits(nofee) -> None:
    nofee.mark("BTCUSDT", "60000")
    nofee.order("l", "BTCUSDT", "buy", "0.5", margin_mode="isolated", leverage=10)
    assert nofee.apply(ev.AdjustMargin(nofee.tick(), "BTCUSDT", D(500))) == []
    assert nofee.position("BTCUSDT").margin == 3500
    # at mark 62000: min(3500 - 124, 3500 + 1000 - 3100) = 1400 removable
    nofee.mark("BTCUSDT", "62000")
    rej = one(
        nofee.apply(ev.AdjustMargin(nofee.tick(), "BTCUSDT", D("-1400.01"))),
        ev.Rejected,
    )
    assert (
        rej.reason
        == "can remove at most 1,400.00 USDT from the BTCUSDT isolated margin (asked 1,400.01)"
    )
    assert nofee.apply(ev.AdjustMargin(nofee.tick(), "BTCUSDT", D(-1400))) == []
    assert nofee.position("BTCUSDT").margin == 2100
    assert nofee.account().wallet_balance == 10000


def test_adding_more_than_available_or_to_cross_is_rejected(nofee) -> None:
    nofee.mark("BTCUSDT", "60000")
    nofee.order("c", "BTCUSDT", "buy", "0.1")
    assert (
        "cross position"
        in one(nofee.apply(ev.AdjustMargin(nofee.tick(), "BTCUSDT", D(1))), ev.Rejected).reason
    )
    nofee.mark("ETHUSDT", "3000")
    nofee.order("i", "ETHUSDT", "buy", "1", margin_mode="isolated", leverage=10)
    rej = one(nofee.apply(ev.AdjustMargin(nofee.tick(), "ETHUSDT", D(20000))), ev.Rejected)
    # cross wallet 10000 - 300 (ETH isolated) = 9700; cross MM 0.1*60000*0.004 = 24;
    # available 9700 - 0.1*60000/20 (300) = 9400; max addable min(9700 - 0 - 24, 9400) = 9400
    assert rej.reason.startswith(
        "can add at most 9,400.00 USDT to the ETHUSDT isolated margin (asked 20,000.00)"
    )


def test_margin_mode_change_is_rejected_with_position_or_orders(nofee) -> None:
    nofee.quote("SOLUSDT", "150", "150.01")
    assert nofee.apply(ev.SetMarginMode(nofee.tick(), "SOLUSDT", "isolated")) == []
    assert nofee.engine.symbol_setting("SOLUSDT") == ("isolated", 20)
    nofee.order("r", "SOLUSDT", "buy", "1", "140")
    rej = one(nofee.apply(ev.SetMarginMode(nofee.tick(), "SOLUSDT", "cross")), ev.Rejected)
    assert "while it has an open position or orders" in rej.reason


def test_leverage_defaults_bounds_and_cap(nofee) -> None:
    assert nofee.engine.symbol_setting("BTCUSDT") == ("cross", 20)
    rej = one(nofee.apply(ev.SetLeverage(nofee.tick(), "BTCUSDT", 151)), ev.Rejected)
    assert rej.reason == "leverage 151x is outside 1x..150x for BTCUSDT"
    big = type(nofee)(balance="1000000", taker="0", maker="0")
    big.mark("BTCUSDT", "100000")
    big.order("l", "BTCUSDT", "buy", "4", leverage=50)  # 400,000 notional
    rej = one(big.apply(ev.SetLeverage(big.tick(), "BTCUSDT", 125)), ev.Rejected)
    assert "exceeds the 300,000.00 USDT maximum at 125x" in rej.reason
    assert big.apply(ev.SetLeverage(big.tick(), "BTCUSDT", 100)) == []
    assert big.position("BTCUSDT").leverage == 100


def test_lowering_cross_leverage_needs_margin(nofee) -> None:
    nofee.mark("ETHUSDT", "3000")
    nofee.order("l", "ETHUSDT", "buy", "60", leverage=20)  # IM 9000 of 10000
    rej = one(nofee.apply(ev.SetLeverage(nofee.tick(), "ETHUSDT", 10)), ev.Rejected)
    # at 10x the IM would be 18000: 8000 short
    assert rej.reason == "insufficient margin for 10x on ETHUSDT: 8,000.00 USDT short"
    assert nofee.engine.symbol_setting("ETHUSDT") == ("cross", 20)


def test_take_profit_orders_do_not_count_as_exposure_for_leverage(nofee) -> None:
    big = type(nofee)(balance="1000000", taker="0", maker="0")
    big.quote("BTCUSDT", "99999.9", "100000.0")
    big.mark("BTCUSDT", "100000")
    big.order("l", "BTCUSDT", "buy", "2", leverage=50)  # 200,000 notional
    big.order("tp", "BTCUSDT", "sell", "2", "110000", reduce_only=True)
    big.order("tp2", "BTCUSDT", "sell", "1", "120000")  # closes part of the long too
    # at 150x the cap is 300,000: the long (200,000) fits, the sells only close it
    assert big.apply(ev.SetLeverage(big.tick(), "BTCUSDT", 150)) == []
    assert big.apply(ev.SetLeverage(big.tick(), "BTCUSDT", 50)) == []
    # a resting buy that grows the long does count: 2*100,000 + 2*90,000 = 380,000 > 300,000
    big.order("add", "BTCUSDT", "buy", "2", "90000")
    rej = one(big.apply(ev.SetLeverage(big.tick(), "BTCUSDT", 125)), ev.Rejected)
    assert rej.reason == (
        "BTCUSDT position of 380,000.00 USDT exceeds the 300,000.00 USDT maximum at 125x"
    )
