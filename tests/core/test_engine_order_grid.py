"""Orders off the instrument's grid are rejected, as Binance does (-1111 for a quantity off
the step, -4014 for a price off the tick), never silently rounded; a reduce-only order larger
than its position is cut to it, and the cut is its own outcome."""

from decimal import Decimal as D

from papertrade.core import events as ev


def only(outcomes, kind):
    items = [o for o in outcomes if isinstance(o, kind)]
    assert len(items) == 1, outcomes
    return items[0]


def test_off_step_quantity_is_rejected_not_rounded(driver) -> None:
    driver.quote("ETHUSDT", "3000", "3000.01")
    # ETHUSDT step 0.001: 0.0119 is off the step
    rej = only(driver.order("a", "ETHUSDT", "buy", "0.0119"), ev.Rejected)
    assert rej.reason == (
        "quantity 0.0119 is not a multiple of the ETHUSDT step 0.001 ETH (Binance -1111: "
        "precision is over the maximum defined for this asset)"
    )
    assert driver.account().positions == () and "a" not in driver.engine.used_ids
    # on the step it fills as asked: 0.011 ETH = 33 USDT, above the 20 USDT minimum
    assert only(driver.order("a", "ETHUSDT", "buy", "0.011"), ev.Fill).qty == D("0.011")


def test_quantity_below_one_step_is_rejected(driver) -> None:
    driver.quote("ETHUSDT", "3000", "3000.01")
    rej = only(driver.order("a", "ETHUSDT", "buy", "0.0009"), ev.Rejected)
    assert "not a multiple of the ETHUSDT step 0.001 ETH" in rej.reason


def test_trailing_zeros_are_on_the_step(driver) -> None:
    driver.quote("SOLUSDT", "150.00", "150.01")
    assert only(driver.order("a", "SOLUSDT", "buy", "1.500"), ev.Fill).qty == D("1.5")


def test_off_tick_limit_price_is_rejected_on_tick_rests(driver) -> None:
    driver.quote("BTCUSDT", "60000.0", "60000.1")
    rej = only(driver.order("buy", "BTCUSDT", "buy", "0.01", "59000.06"), ev.Rejected)
    assert rej.reason == (
        "price 59000.06 is not a multiple of the BTCUSDT tick 0.1 (Binance -4014: price not "
        "increased by tick size)"
    )
    assert driver.order("sell", "BTCUSDT", "sell", "0.01", "61000.1") == []
    assert {o.id: o.price for o in driver.account().open_orders} == {"sell": D("61000.1")}


def test_market_reduce_only_larger_than_the_position_is_cut_and_says_so(driver) -> None:
    driver.quote("SOLUSDT", "150.00", "150.01")
    driver.order("a", "SOLUSDT", "buy", "3")
    out = driver.order("r", "SOLUSDT", "sell", "10", reduce_only=True)
    cut = only(out, ev.ReduceOnlyCut)
    assert (cut.order_id, cut.symbol, cut.requested_qty, cut.qty) == ("r", "SOLUSDT", 10, 3)
    assert out.index(cut) < out.index(only(out, ev.Fill))
    assert only(out, ev.Fill).qty == 3 and driver.account().positions == ()


def test_resting_reduce_only_cut_at_placement_and_again_at_fill(driver) -> None:
    driver.quote("SOLUSDT", "150.00", "150.01")
    driver.order("a", "SOLUSDT", "buy", "3")
    cut = only(
        driver.order("tp", "SOLUSDT", "sell", "5", "160", reduce_only=True), ev.ReduceOnlyCut
    )
    assert (cut.requested_qty, cut.qty) == (5, 3)
    assert [o.qty for o in driver.account().open_orders] == [3]
    driver.order("part", "SOLUSDT", "sell", "1")  # the long shrinks to 2 while tp rests
    out = driver.trade("SOLUSDT", "160")
    cut = only(out, ev.ReduceOnlyCut)
    assert (cut.order_id, cut.requested_qty, cut.qty) == ("tp", 3, 2)
    assert only(out, ev.Fill).qty == 2 and driver.account().positions == ()


def test_reduce_only_that_fits_reports_no_cut(driver) -> None:
    driver.quote("SOLUSDT", "150.00", "150.01")
    driver.order("a", "SOLUSDT", "buy", "3")
    out = driver.order("r", "SOLUSDT", "sell", "2", reduce_only=True)
    assert [type(o) for o in out] == [ev.Fill]
