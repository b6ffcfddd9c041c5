"""One order that flips a position is costed as a close followed by an open: the closing
part realizes its PnL and frees its margin first, then only the new exposure needs margin.
Expected numbers: IM = qty × price / leverage (no fees here), written out per case."""

from decimal import Decimal as D

from papertrade.core import events as ev


def one(outcomes, kind):
    (item,) = [o for o in outcomes if isinstance(o, kind)]
    return item


def flat_market(d, price: str) -> None:
    d.quote("BTCUSDT", price, price)
    d.mark("BTCUSDT", price)


def test_short_then_one_buy_that_flips_costs_only_the_new_long(driver) -> None:
    d = type(driver)(balance="3000", taker="0", maker="0")
    flat_market(d, "60000")
    d.order("s", "BTCUSDT", "sell", "0.5", leverage=20)  # IM 0.5*60000/20 = 1,500
    assert d.account().available_balance == 1500
    # buy 1.1 = close 0.5 (frees 1,500, realizes 0) + open 0.6 long: 0.6*60000/20 = 1,800.
    # 1,800 > the 1,500 available before, but <= the 3,000 available once the short is closed
    fill = one(d.order("flip", "BTCUSDT", "buy", "1.1"), ev.Fill)
    assert (fill.qty, fill.realized_pnl) == (D("1.1"), 0)
    pos = d.position("BTCUSDT")
    assert (pos.side, pos.qty, pos.entry_price) == ("long", D("0.6"), 60000)
    assert d.account().available_balance == 3000 - 1800


def test_flip_ends_exactly_where_a_close_then_an_open_ends(driver) -> None:
    one_order, two_orders = (type(driver)(balance="3000", taker="0", maker="0") for _ in range(2))
    for d in (one_order, two_orders):
        flat_market(d, "60000")
        d.order("s", "BTCUSDT", "sell", "0.5", leverage=20)
        flat_market(d, "61000")  # the short loses 0.5 * 1,000 = 500
    one(one_order.order("flip", "BTCUSDT", "buy", "1.1"), ev.Fill)
    one(two_orders.order("close", "BTCUSDT", "buy", "0.5"), ev.Fill)
    one(two_orders.order("open", "BTCUSDT", "buy", "0.6"), ev.Fill)
    a, b = one_order.account(), two_orders.account()
    # wallet 3,000 - 500; long 0.6 @ 61,000 holds 0.6*61000/20 = 1,830; 2,500 - 1,830 = 670
    assert a.wallet_balance == b.wallet_balance == 2500
    assert a.available_balance == b.available_balance == 670
    assert [(p.side, p.qty, p.entry_price) for p in a.positions] == [
        (p.side, p.qty, p.entry_price) for p in b.positions
    ]


def test_flip_whose_new_side_does_not_fit_is_refused_with_the_post_close_balance(driver) -> None:
    d = type(driver)(balance="3000", taker="0", maker="0")
    flat_market(d, "60000")
    d.order("s", "BTCUSDT", "sell", "0.5", leverage=20)
    before = d.engine.to_state()
    # buy 1.6: close 0.5, open 1.1 costing 1.1*60000/20 = 3,300 > the 3,000 free after closing
    rej = one(d.order("flip", "BTCUSDT", "buy", "1.6"), ev.Rejected)
    assert rej.reason == "insufficient available balance: needs 3,300.00 USDT, 3,000.00 available"
    assert d.engine.to_state() == {**before, "last_ts": d.engine.last_ts}


def test_isolated_flip_reuses_the_freed_isolated_margin(driver) -> None:
    d = type(driver)(balance="3000", taker="0", maker="0")
    flat_market(d, "60000")
    d.order("s", "BTCUSDT", "sell", "0.5", margin_mode="isolated", leverage=20)  # 1,500
    assert d.engine.acct.cross_wallet == 1500
    # close: 1,500 back to the cross wallet (3,000); open 0.6: 1,800 moves to isolated
    one(d.order("flip", "BTCUSDT", "buy", "1.1"), ev.Fill)
    pos = d.position("BTCUSDT")
    assert (pos.side, pos.qty, pos.margin) == ("long", D("0.6"), 1800)
    assert d.engine.acct.cross_wallet == 3000 - 1800
