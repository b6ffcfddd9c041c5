"""Cost to open (Binance FAQ "How to Calculate Cost Required to Open a Position"):

    cost = IM + open loss,   IM = qty × assumed price / leverage,
    open loss = qty × |min(0, dir × (mark − order price))|   (dir +1 buy, −1 sell),
    assumed price = order price for a buy; max(last × 1.0015, mark, order price) for a sell.

A resting order holds its cost while it rests, re-derived at the current mark. All numbers
below are written out from these formulas (20x, no fees)."""

from decimal import Decimal as D

from papertrade.core import events as ev


def one(outcomes, kind):
    (item,) = [o for o in outcomes if isinstance(o, kind)]
    return item


def test_resting_buy_above_mark_holds_its_open_loss_while_it_rests(nofee) -> None:
    nofee.quote("BTCUSDT", "60000", "60100")
    nofee.mark("BTCUSDT", "59000")
    nofee.order("b", "BTCUSDT", "buy", "0.1", "60050")  # below the ask: it rests
    # IM 0.1 * 60,050 / 20 = 300.25; open loss 0.1 * (60,050 - 59,000) = 105
    assert nofee.account().available_balance == D(10000) - D("300.25") - 105
    nofee.mark("BTCUSDT", "60100")  # mark above the price: no open loss any more
    assert nofee.account().available_balance == D(10000) - D("300.25")


def test_resting_sell_below_mark_is_sized_at_the_mark_and_holds_the_difference(nofee) -> None:
    nofee.quote("BTCUSDT", "59900", "60000")
    nofee.trade("BTCUSDT", "60000")
    nofee.mark("BTCUSDT", "61000")
    nofee.order("s", "BTCUSDT", "sell", "0.1", "60500")  # above the bid: it rests
    # assumed = max(60,000 * 1.0015 = 60,090, 61,000, 60,500) = 61,000: IM 0.1*61,000/20 = 305
    # open loss = 0.1 * (61,000 - 60,500) = 50
    assert nofee.account().available_balance == D(10000) - 305 - 50


def test_resting_sell_is_sized_at_last_plus_0_15_percent_when_that_is_highest(nofee) -> None:
    nofee.quote("BTCUSDT", "60000", "60500")
    nofee.trade("BTCUSDT", "60400")
    nofee.mark("BTCUSDT", "60000")
    nofee.order("s", "BTCUSDT", "sell", "0.1", "60450")
    # assumed = max(60,400 * 1.0015 = 60,490.6, 60,000, 60,450) = 60,490.6
    # IM 0.1 * 60,490.6 / 20 = 302.453; selling above mark: no open loss
    assert nofee.account().available_balance == D(10000) - D("302.453")


def test_market_sell_cost_uses_the_assumed_price_and_the_open_loss(driver) -> None:
    d = type(driver)(balance="301", taker="0", maker="0")
    d.quote("BTCUSDT", "59990", "60000")
    d.trade("BTCUSDT", "60000")
    d.mark("BTCUSDT", "60000")
    # fills at the bid 59,990; assumed = max(60,000 * 1.0015 = 60,090, 60,000, 59,990)
    # IM 0.1 * 60,090 / 20 = 300.45; open loss 0.1 * (60,000 - 59,990) = 1 -> 301.45 > 301
    rej = one(d.order("s", "BTCUSDT", "sell", "0.1"), ev.Rejected)
    assert rej.reason == "insufficient available balance: needs 301.45 USDT, 301.00 available"
    # a buy of the same size at the ask costs 0.1 * 60,000 / 20 = 300 (no open loss at mark)
    assert one(d.order("b", "BTCUSDT", "buy", "0.1"), ev.Fill).price == 60000


def test_placing_a_resting_order_is_refused_when_its_cost_does_not_fit(driver) -> None:
    d = type(driver)(balance="400", taker="0", maker="0")
    d.quote("BTCUSDT", "60000", "60100")
    d.mark("BTCUSDT", "59000")
    # 0.1 @ 60,050: 300.25 + 105 = 405.25 > 400, though the IM alone (300.25) would fit
    rej = one(d.order("b", "BTCUSDT", "buy", "0.1", "60050"), ev.Rejected)
    assert rej.reason == "insufficient available balance: needs 405.25 USDT, 400.00 available"
    assert d.account().open_orders == ()
