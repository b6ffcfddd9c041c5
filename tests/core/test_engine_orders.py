"""Order handling: prices, snapping, fees, resting orders, rejections that change nothing."""

from decimal import Decimal as D

from papertrade.core import events as ev


def only(outcomes, kind):
    items = [o for o in outcomes if isinstance(o, kind)]
    assert len(items) == 1, outcomes
    return items[0]


def test_market_buy_fills_at_best_ask_and_pays_taker_fee(driver) -> None:
    driver.quote("BTCUSDT", "59999.9", "60000.0")
    fill = only(driver.order("a", "BTCUSDT", "buy", "0.5"), ev.Fill)
    assert (fill.price, fill.qty, fill.liquidity) == (D("60000.0"), D("0.5"), "taker")
    assert fill.fee == D("0.5") * D(60000) * D("0.0005") == D(15)
    # opening does not change the wallet except for the fee
    assert driver.account().wallet_balance == D(10000) - 15


def test_market_price_falls_back_to_last_trade_then_mark(driver) -> None:
    driver.mark("ETHUSDT", "3000")
    assert only(driver.order("a", "ETHUSDT", "buy", "1"), ev.Fill).price == D(3000)
    driver.trade("ETHUSDT", "3010.5")
    assert only(driver.order("b", "ETHUSDT", "buy", "1"), ev.Fill).price == D("3010.5")


def test_market_order_without_any_price_is_rejected(driver) -> None:
    rej = only(driver.order("a", "SOLUSDT", "buy", "1"), ev.Rejected)
    assert rej.command == "order" and rej.order_id == "a"
    assert "no price for SOLUSDT" in rej.reason
    assert driver.account().positions == ()


def test_unknown_symbol_is_rejected_with_reason(driver) -> None:
    driver.mark("FOOUSDT", "1")
    assert (
        "unknown symbol FOOUSDT"
        in only(driver.order("a", "FOOUSDT", "buy", "1"), ev.Rejected).reason
    )


def test_order_below_min_notional_is_rejected(driver) -> None:
    # BTCUSDT minimum notional is 100 USDT: 0.001 BTC at 60,000 is 60 USDT
    driver.quote("BTCUSDT", "60000", "60000.1")
    rej = only(driver.order("a", "BTCUSDT", "buy", "0.001"), ev.Rejected)
    assert "below the BTCUSDT minimum of 100.00 USDT" in rej.reason


def test_resting_limit_fills_as_maker_when_ask_reaches_it(driver) -> None:
    driver.quote("SOLUSDT", "150.00", "150.01")
    assert driver.order("a", "SOLUSDT", "buy", "10", "149.50") == []
    assert driver.quote("SOLUSDT", "149.60", "149.61") == []  # not reached yet
    fill = only(driver.quote("SOLUSDT", "149.40", "149.50"), ev.Fill)
    # at its own price, maker fee 0.02%: 10 * 149.5 * 0.0002 = 0.299
    assert (fill.price, fill.liquidity, fill.fee) == (D("149.50"), "maker", D("0.299"))


def test_resting_limit_fills_when_a_trade_reaches_it(driver) -> None:
    driver.quote("SOLUSDT", "150.00", "150.01")
    driver.order("a", "SOLUSDT", "sell", "10", "151")
    assert driver.trade("SOLUSDT", "150.99") == []
    assert only(driver.trade("SOLUSDT", "151.00"), ev.Fill).price == D(151)


def test_crossing_limit_fills_at_once_as_taker_at_the_touch(driver) -> None:
    driver.quote("SOLUSDT", "150.00", "150.01")
    fill = only(driver.order("a", "SOLUSDT", "buy", "10", "151"), ev.Fill)
    assert (fill.price, fill.liquidity) == (D("150.01"), "taker")


def test_post_only_that_would_cross_is_rejected(driver) -> None:
    driver.quote("SOLUSDT", "150.00", "150.01")
    rej = only(driver.order("a", "SOLUSDT", "buy", "10", "150.01", post_only=True), ev.Rejected)
    assert rej.reason.startswith("post-only order would take liquidity")
    assert driver.account().open_orders == ()


def test_resting_orders_hold_margin_and_cancel_releases_it(driver) -> None:
    driver.quote("SOLUSDT", "150.00", "150.01")
    driver.order("a", "SOLUSDT", "buy", "20", "148", leverage=10)
    # held: 20 * 148 / 10 = 296
    assert driver.account().available_balance == D(10000) - 296
    assert only(driver.apply(ev.CancelOrder(driver.tick(), "a")), ev.OrderCancelled).reason == (
        "cancelled by user"
    )
    assert driver.account().available_balance == D(10000)


def test_cancel_of_unknown_order_is_rejected(driver) -> None:
    rej = only(driver.apply(ev.CancelOrder(driver.tick(), "nope")), ev.Rejected)
    assert (rej.command, rej.order_id, rej.reason) == (
        "cancel",
        "nope",
        "no open order with id nope",
    )


def test_insufficient_balance_rejects_in_trader_words_and_changes_nothing(driver) -> None:
    driver.quote("BTCUSDT", "59999.9", "60000.0")
    driver.mark("BTCUSDT", "60000")
    before = driver.engine.to_state()
    # 1 BTC at 60,000, 5x: margin 12,000 + taker fee 30 = 12,030 > 10,000 available
    rej = only(driver.order("a", "BTCUSDT", "buy", "1", leverage=5), ev.Rejected)
    assert rej.reason == "insufficient available balance: needs 12,030.00 USDT, 10,000.00 available"
    assert driver.engine.to_state() == {**before, "last_ts": driver.engine.last_ts}
    assert driver.engine.symbol_setting("BTCUSDT") == ("cross", 20)  # leverage change rolled back


def test_duplicate_order_id_is_rejected(driver) -> None:
    driver.quote("SOLUSDT", "150.00", "150.01")
    driver.order("a", "SOLUSDT", "buy", "1")
    assert "already in use" in only(driver.order("a", "SOLUSDT", "buy", "1"), ev.Rejected).reason


def test_leverage_caps_position_notional_by_bracket(driver) -> None:
    big = type(driver)(balance="1000000")
    big.quote("BTCUSDT", "99999.9", "100000.0")
    # at 150x BTC may hold at most 300,000 USDT; 4 BTC = 400,000
    rej = only(big.order("a", "BTCUSDT", "buy", "4", leverage=150), ev.Rejected)
    assert "above the 300,000.00 USDT maximum at 150x" in rej.reason
    assert only(big.order("b", "BTCUSDT", "buy", "4", leverage=100), ev.Fill).qty == 4


def test_reduce_only_without_position_is_rejected_and_is_cut_to_size(driver) -> None:
    driver.quote("SOLUSDT", "150.00", "150.01")
    assert (
        "no long SOLUSDT position"
        in only(driver.order("r", "SOLUSDT", "sell", "1", reduce_only=True), ev.Rejected).reason
    )
    driver.order("a", "SOLUSDT", "buy", "3")
    fill = only(driver.order("r2", "SOLUSDT", "sell", "10", reduce_only=True), ev.Fill)
    assert fill.qty == 3 and driver.account().positions == ()


def test_resting_reduce_only_is_cancelled_when_position_closes(driver) -> None:
    driver.quote("SOLUSDT", "150.00", "150.01")
    driver.order("a", "SOLUSDT", "buy", "3")
    driver.order("tp", "SOLUSDT", "sell", "3", "160", reduce_only=True)
    out = driver.apply(ev.ClosePosition(driver.tick(), "SOLUSDT"))
    assert only(out, ev.OrderCancelled).order_id == "tp"
    assert driver.account().open_orders == ()


def test_order_on_opposite_side_of_position_needs_margin_only_for_the_excess(driver) -> None:
    small = type(driver)(balance="1000", taker="0", maker="0")
    small.quote("ETHUSDT", "3000", "3000")
    small.order("a", "ETHUSDT", "buy", "6", leverage=20)  # IM 6*3000/20 = 900
    assert small.account().available_balance == 100
    # selling 6 closes the long: no new margin needed even though 100 < 900
    assert only(small.order("b", "ETHUSDT", "sell", "6"), ev.Fill).qty == 6
