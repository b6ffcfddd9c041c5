"""The order ticket's risk preview: what the order costs and the most it can lose."""

from decimal import Decimal as D

from papertrade.core import events as ev


def order(**kw) -> ev.PlaceOrder:
    base = {
        "ts": 1,
        "id": "p",
        "symbol": "BTCUSDT",
        "side": "buy",
        "qty": D("0.5"),
        "order_type": "market",
    }
    return ev.PlaceOrder(**{**base, **kw})


def test_isolated_market_preview_numbers(driver) -> None:
    driver.quote("BTCUSDT", "59999.9", "60000.0")
    driver.mark("BTCUSDT", "60000")
    p = driver.engine.preview(order(margin_mode="isolated", leverage=10))
    assert p.reason is None and p.fills_now
    assert p.notional == D("0.5") * 60000 == 30000
    assert p.required_margin == D(30000) / 10 == 3000
    assert p.fee == D(30000) * D("0.0005") == 15
    # (3000 - 30000) / (0.5*0.004 - 0.5) = 54216.87 -> 54216.8 on the tick grid
    assert p.liquidation_price == D("54216.8")
    assert p.max_loss == 3000  # isolated: at most its margin
    # previewing changes nothing
    assert driver.account().positions == () and driver.engine.used_ids == set()


def test_cross_preview_puts_the_whole_cross_wallet_at_risk(driver) -> None:
    driver.quote("BTCUSDT", "59999.9", "60000.0")
    driver.mark("BTCUSDT", "60000")
    p = driver.engine.preview(order())
    # cross, 20x: margin 1500, fee 15; everything in the cross wallet backs it: 10000 - 15
    assert (p.margin_mode, p.leverage, p.required_margin) == ("cross", 20, 1500)
    assert p.max_loss == D(10000) - 15
    # cross LP: (0.5*60000 - 9985) / (0.5*(1-0.004)) = 20015/0.498 = 40190.76 -> 40190.7
    assert p.liquidation_price == D("40190.7")


def test_resting_limit_preview_assumes_a_fill_at_its_price(driver) -> None:
    driver.quote("ETHUSDT", "3000.00", "3000.01")
    driver.mark("ETHUSDT", "3000")
    p = driver.engine.preview(
        order(
            symbol="ETHUSDT",
            qty=D(2),
            order_type="limit",
            price=D(2900),
            margin_mode="isolated",
            leverage=5,
        )
    )
    assert not p.fills_now and p.price == 2900
    assert p.fee == D(2) * 2900 * D("0.0002") == D("1.16")  # maker
    assert p.required_margin == D(5800) / 5 == 1160
    # isolated LP: (1160 - 5800) / (2*0.004 - 2) = 2329.32 -> 2329.31 (floor to 0.01)
    assert p.liquidation_price == D("2329.31")


def test_preview_carries_the_rejection_reason(driver) -> None:
    driver.quote("BTCUSDT", "59999.9", "60000.0")
    driver.mark("BTCUSDT", "60000")
    p = driver.engine.preview(order(qty=D(5), leverage=2))
    assert p.reason == "insufficient available balance: needs 150,150.00 USDT, 10,000.00 available"


def test_resting_limit_preview_margin_is_what_the_order_holds(driver) -> None:
    # a buy limit below the ask but above the mark: its initial margin, 0.05 BTC at 94,000,
    # 20x: 0.05*94000/20 = 235, plus the open loss against the mark
    driver.quote("BTCUSDT", "94999.9", "95000.0")
    driver.mark("BTCUSDT", "93000")
    p = driver.engine.preview(order(qty=D("0.05"), order_type="limit", price=D(94000)))
    # buying at 94,000 with the mark at 93,000 also costs the open loss: 0.05 * 1000 = 50
    assert not p.fills_now and p.required_margin == D(235) + 50
    driver.order("real", "BTCUSDT", "buy", "0.05", "94000")
    # and it holds the same while it rests (Binance's cost to open, §1.3): 235 + 50
    assert driver.account().available_balance == D(10000) - 235 - 50
