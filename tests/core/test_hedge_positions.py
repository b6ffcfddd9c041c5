"""Hedge mode (orders.md §4): a symbol holds a LONG and a SHORT position side by side, each with
its own entry, size and margin; BUY+LONG opens, SELL+LONG reduces, SELL+SHORT opens, BUY+SHORT
reduces. No fees here unless a case says so, so every figure is qty × price arithmetic."""

from decimal import Decimal as D

import pytest

from papertrade.core import events as ev


def one(outcomes, kind):
    (item,) = [o for o in outcomes if isinstance(o, kind)]
    return item


def hedged(driver, balance: str = "10000", taker: str = "0"):
    d = type(driver)(balance=balance, taker=taker, maker="0")
    assert d.apply(ev.SetPositionMode(d.tick(), "hedge")) == []
    d.quote("BTCUSDT", "60000.0", "60000.0")
    d.mark("BTCUSDT", "60000")
    return d


def sides(d):
    return {p.position_side: p for p in d.account().positions if p.symbol == "BTCUSDT"}


def test_a_long_and_a_short_of_one_symbol_live_side_by_side(driver) -> None:
    d = hedged(driver)
    one(d.order("l", "BTCUSDT", "buy", "1", position_side="long", leverage=20), ev.Fill)
    d.quote("BTCUSDT", "61000.0", "61000.0")
    one(d.order("s", "BTCUSDT", "sell", "0.4", position_side="short"), ev.Fill)
    held = sides(d)
    assert (held["long"].side, held["long"].qty, held["long"].entry_price) == ("long", 1, 60000)
    assert (held["short"].side, held["short"].qty, held["short"].entry_price) == (
        "short",
        D("0.4"),
        61000,
    )
    # each side's MM from its own notional at mark 60,000 (tier 1, MMR 0.4 %):
    # long 1 × 60,000 × 0.004 = 240; short 0.4 × 60,000 × 0.004 = 96
    assert (held["long"].maintenance_margin, held["short"].maintenance_margin) == (240, 96)
    # nothing nets: IM long 60,000/20 = 3,000 + short 0.4 × 60,000/20 = 1,200 (cross IM at
    # mark), uPnL long 0, short 0.4 × (61,000 − 60,000) = +400
    assert d.account().available_balance == 10000 + 400 - 3000 - 1200


def test_sell_on_the_long_side_reduces_it_and_realizes_its_own_pnl(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "1", position_side="long", leverage=20)
    d.order("s", "BTCUSDT", "sell", "0.5", position_side="short")
    d.quote("BTCUSDT", "62000.0", "62000.0")
    fill = one(d.order("tp", "BTCUSDT", "sell", "0.3", position_side="long"), ev.Fill)
    assert fill.realized_pnl == D("0.3") * (62000 - 60000)  # 600, the long's own entry
    held = sides(d)
    assert held["long"].qty == D("0.7") and held["short"].qty == D("0.5")
    # a buy on the short side reduces the short: realized 0.2 × (60,000 − 62,000) = −400
    fill = one(d.order("cover", "BTCUSDT", "buy", "0.2", position_side="short"), ev.Fill)
    assert fill.realized_pnl == D("-400")
    assert sides(d)["short"].qty == D("0.3")
    assert d.account().wallet_balance == 10000 + 600 - 400


def test_an_order_without_a_side_is_refused_in_hedge_mode(driver) -> None:
    d = hedged(driver)
    before = d.engine.to_state()
    rej = one(d.order("x", "BTCUSDT", "buy", "0.1"), ev.Rejected)
    assert rej.reason == (
        "hedge mode: say which position the order is for (position_side long or short)"
    )
    assert d.engine.to_state() == {**before, "last_ts": d.engine.last_ts}


def test_reduce_only_is_refused_in_hedge_mode(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "1", position_side="long")
    rej = one(
        d.order("ro", "BTCUSDT", "sell", "0.1", position_side="long", reduce_only=True),
        ev.Rejected,
    )
    assert "reduce_only is not accepted in hedge mode" in rej.reason
    assert sides(d)["long"].qty == 1


def test_a_reducing_order_larger_than_its_side_is_refused(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "1", position_side="long")
    d.order("s", "BTCUSDT", "sell", "2", position_side="short")
    rej = one(d.order("x", "BTCUSDT", "sell", "1.5", position_side="long"), ev.Rejected)
    assert rej.reason == (
        "sell 1.5 on the long side would close more than the long BTCUSDT position of 1"
    )
    # a resting closing order counts: 0.8 resting + 0.3 > 1
    d.order("tp", "BTCUSDT", "sell", "0.8", "65000.0", position_side="long")
    rej = one(d.order("y", "BTCUSDT", "sell", "0.3", position_side="long"), ev.Rejected)
    assert rej.reason.endswith("position of 1 (0.8 already in closing orders)")
    # with no short at all, a buy on the short side has nothing to reduce
    d2 = hedged(driver)
    rej = one(d2.order("z", "BTCUSDT", "buy", "0.1", position_side="short"), ev.Rejected)
    assert rej.reason.startswith("no short BTCUSDT position to reduce")


def test_one_way_refuses_a_long_or_short_side_and_accepts_both(driver) -> None:
    d = type(driver)(taker="0", maker="0")
    d.quote("BTCUSDT", "60000.0", "60000.0")
    rej = one(d.order("x", "BTCUSDT", "buy", "0.1", position_side="long"), ev.Rejected)
    assert rej.reason.startswith("position_side long needs hedge mode")
    one(d.order("y", "BTCUSDT", "buy", "0.1", position_side="both"), ev.Fill)
    assert d.position("BTCUSDT").position_side == "both"


def test_switching_mode_is_refused_with_a_position_or_an_order_open(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "0.1", position_side="long")
    rej = one(d.apply(ev.SetPositionMode(d.tick(), "one_way")), ev.Rejected)
    assert rej.reason == (
        "cannot switch to one-way mode with 1 open position: close and cancel everything first"
    )
    one(d.apply(ev.ClosePosition(d.tick(), "BTCUSDT")), ev.Fill)  # the only side: no need to say
    d.order("rest", "BTCUSDT", "buy", "0.1", "50000.0", position_side="long")
    rej = one(d.apply(ev.SetPositionMode(d.tick(), "one_way")), ev.Rejected)
    assert rej.reason.endswith("with 1 open order: close and cancel everything first")
    d.apply(ev.CancelOrder(d.tick(), "rest"))
    assert d.apply(ev.SetPositionMode(d.tick(), "one_way")) == []
    assert d.engine.position_mode == "one_way"


def test_close_names_its_side_when_both_are_open(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "1", position_side="long")
    d.order("s", "BTCUSDT", "sell", "0.5", position_side="short")
    rej = one(d.apply(ev.ClosePosition(d.tick(), "BTCUSDT")), ev.Rejected)
    assert "both a long and a short BTCUSDT position are open" in rej.reason
    fill = one(d.apply(ev.ClosePosition(d.tick(), "BTCUSDT", "short")), ev.Fill)
    assert (fill.side, fill.qty) == ("buy", D("0.5"))
    assert list(sides(d)) == ["long"]
    rej = one(d.apply(ev.ClosePosition(d.tick(), "BTCUSDT", "short")), ev.Rejected)
    assert rej.reason == "no open short BTCUSDT position to close"


def test_closing_a_side_cancels_that_sides_closing_orders_only(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "1", position_side="long")
    d.order("s", "BTCUSDT", "sell", "1", position_side="short")
    d.order("long-tp", "BTCUSDT", "sell", "1", "65000.0", position_side="long")
    d.order("short-tp", "BTCUSDT", "buy", "1", "55000.0", position_side="short")
    out = d.apply(ev.ClosePosition(d.tick(), "BTCUSDT", "long"))
    cancelled = one(out, ev.OrderCancelled)
    assert (cancelled.order_id, cancelled.reason) == (
        "long-tp",
        "long position closed: nothing to reduce",
    )
    assert list(d.engine.orders) == ["short-tp"]


def test_funding_is_paid_by_each_side_on_its_own(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "1", position_side="long")
    d.order("s", "BTCUSDT", "sell", "0.4", position_side="short")
    out = d.apply(ev.Funding(d.tick(), "BTCUSDT", D("0.0001")))
    # long pays 1 × 60,000 × 0.0001 = 6; short receives 0.4 × 60,000 × 0.0001 = 2.4
    assert [o.amount for o in out if isinstance(o, ev.FundingPaid)] == [D("-6"), D("2.4")]
    assert d.account().wallet_balance == 10000 - 6 + D("2.4")


def test_isolated_sides_keep_their_own_margin_and_liquidation_price(driver) -> None:
    d = hedged(driver)
    d.apply(ev.SetMarginMode(d.tick(), "BTCUSDT", "isolated"))
    d.order("l", "BTCUSDT", "buy", "0.5", position_side="long", leverage=10)
    d.order("s", "BTCUSDT", "sell", "0.5", position_side="short")
    held = sides(d)
    # each takes 0.5 × 60,000 / 10 = 3,000 of isolated margin
    assert held["long"].margin == held["short"].margin == 3000
    assert d.account().wallet_balance == 10000
    # isolated long LP = (Q·EP − W) / (Q·(1 − MMR)) = (30,000 − 3,000) / 0.498 = 54,216.86…
    # rounded down to the tick; short (30,000 + 3,000) / 0.502 = 65,737.05… rounded up
    assert held["long"].liquidation_price == D("54216.8")
    assert held["short"].liquidation_price == D("65737.1")
    # a fall to 54,216.8 liquidates the long alone; the short keeps its own margin
    out = d.mark("BTCUSDT", "54216.8")
    liq = one(out, ev.Liquidation)
    assert (liq.side, liq.qty, liq.margin_mode) == ("long", D("0.5"), "isolated")
    assert list(sides(d)) == ["short"]
    assert sides(d)["short"].margin == 3000


def test_adjusting_isolated_margin_names_the_side_when_both_are_open(driver) -> None:
    d = hedged(driver)
    d.apply(ev.SetMarginMode(d.tick(), "BTCUSDT", "isolated"))
    d.order("l", "BTCUSDT", "buy", "0.1", position_side="long", leverage=10)
    d.order("s", "BTCUSDT", "sell", "0.1", position_side="short")
    rej = one(d.apply(ev.AdjustMargin(d.tick(), "BTCUSDT", D("100"))), ev.Rejected)
    assert "say which to adjust" in rej.reason
    assert d.apply(ev.AdjustMargin(d.tick(), "BTCUSDT", D("100"), "short")) == []
    held = sides(d)
    # 0.1 × 60,000 / 10 = 600 each, then 100 more on the short
    assert (held["long"].margin, held["short"].margin) == (600, 700)


@pytest.mark.parametrize("side", ["long", "short"])
def test_leverage_is_per_symbol_and_moves_both_sides(driver, side) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "0.1", position_side="long", leverage=20)
    d.order("s", "BTCUSDT", "sell", "0.1", position_side="short")
    assert d.apply(ev.SetLeverage(d.tick(), "BTCUSDT", 10)) == []
    assert sides(d)[side].leverage == 10
    # cross IM at mark: 0.1 × 60,000 / 10 = 600 a side
    assert sides(d)[side].margin == 600


def test_an_isolated_side_liquidated_cancels_only_its_own_orders(driver) -> None:
    # Binance cancels the orders of the liquidated position (orders.md §3.2); in hedge mode
    # an isolated side is a position of its own, so the other side's orders stay.
    d = hedged(driver)
    d.apply(ev.SetMarginMode(d.tick(), "BTCUSDT", "isolated"))
    d.order("l", "BTCUSDT", "buy", "0.5", position_side="long", leverage=10)
    d.order("s", "BTCUSDT", "sell", "0.5", position_side="short")
    # a take-profit on the long (sell 0.2 at 70,000, rests) and a cover on the short (buy 0.2
    # at 50,000, rests)
    assert d.order("l-tp", "BTCUSDT", "sell", "0.2", "70000.0", position_side="long") == []
    assert d.order("s-tp", "BTCUSDT", "buy", "0.2", "50000.0", position_side="short") == []
    # long LP 54,216.8 as in the test above
    out = d.mark("BTCUSDT", "54216.8")
    cancelled = [o.order_id for o in out if isinstance(o, ev.OrderCancelled)]
    assert cancelled == ["l-tp"]
    assert [o.id for o in d.account().open_orders] == ["s-tp"]
