"""What an order costs in hedge mode: an opening order costs its own side's initial margin
(IM = qty × assumed price / leverage, plus open loss, margin.md §1.3) with no netting against
the other side; an order that reduces its side costs nothing; resting orders hold margin per
side. No fees; 20x throughout."""

from decimal import Decimal as D

from papertrade.core import events as ev


def one(outcomes, kind):
    (item,) = [o for o in outcomes if isinstance(o, kind)]
    return item


def hedged(driver, balance: str = "10000", bid: str = "60000.0", ask: str = "60000.0"):
    d = type(driver)(balance=balance, taker="0", maker="0")
    d.apply(ev.SetPositionMode(d.tick(), "hedge"))
    d.quote("BTCUSDT", bid, ask)
    d.mark("BTCUSDT", "60000")
    return d


def test_opening_the_other_side_costs_its_whole_margin(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "1", position_side="long", leverage=20)
    assert d.account().available_balance == 10000 - 3000  # 1 × 60,000 / 20
    one(d.order("s", "BTCUSDT", "sell", "0.5", position_side="short"), ev.Fill)
    # one-way would have closed half the long and freed 1,500; hedge opens a short: 1,500 more
    assert d.account().available_balance == 7000 - 1500


def test_an_opening_order_that_only_netting_could_pay_for_is_refused(driver) -> None:
    d = hedged(driver, balance="1000")
    d.order("l", "BTCUSDT", "buy", "0.3", position_side="long", leverage=20)  # IM 900
    before = d.engine.to_state()
    rej = one(d.order("s", "BTCUSDT", "sell", "0.3", position_side="short"), ev.Rejected)
    assert rej.reason == "insufficient available balance: needs 900.00 USDT, 100.00 available"
    assert d.engine.to_state() == {**before, "last_ts": d.engine.last_ts}


def test_resting_orders_hold_margin_per_side_and_closing_ones_hold_none(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "1", position_side="long", leverage=20)  # 3,000
    d.order("s", "BTCUSDT", "sell", "1", position_side="short")  # 3,000
    assert d.account().available_balance == 4000
    # closing orders on each side: a sell on the long side, a buy on the short side
    d.order("long-tp", "BTCUSDT", "sell", "1", "65000.0", position_side="long")
    d.order("short-tp", "BTCUSDT", "buy", "1", "55000.0", position_side="short")
    assert d.account().available_balance == 4000
    # an opening buy on the long side below the mark: 0.2 × 59,000 / 20 = 590
    d.order("long-add", "BTCUSDT", "buy", "0.2", "59000.0", position_side="long")
    assert d.account().available_balance == 4000 - 590
    # an opening sell on the short side is sized at max(price, mark, last × 1.0015): its own
    # 61,000 here (no trade yet): 0.2 × 61,000 / 20 = 610. The long-side buy does not net it.
    d.order("short-add", "BTCUSDT", "sell", "0.2", "61000.0", position_side="short")
    assert d.account().available_balance == 4000 - 590 - 610


def test_a_resting_buy_above_the_mark_holds_its_open_loss(driver) -> None:
    d = hedged(driver, bid="60000.0", ask="60010.0")
    d.mark("BTCUSDT", "59990")
    d.order("l", "BTCUSDT", "buy", "0.1", "60000.0", position_side="long", leverage=20)
    assert "l" in d.engine.orders  # below the ask: it rests
    # IM 0.1 × 60,000 / 20 = 300, open loss 0.1 × (60,000 − 59,990) = 1
    assert d.account().available_balance == 10000 - 301


def test_closing_orders_together_never_exceed_their_side_and_go_with_it(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "1", position_side="long", leverage=20)
    d.order("tp", "BTCUSDT", "sell", "0.6", "61000.0", position_side="long")
    rej = one(d.order("big", "BTCUSDT", "sell", "0.5", position_side="long"), ev.Rejected)
    assert rej.reason.endswith("position of 1 (0.6 already in closing orders)")
    one(d.order("part", "BTCUSDT", "sell", "0.4", position_side="long"), ev.Fill)  # 0.6 + 0.4
    assert {p.position_side: p.qty for p in d.account().positions} == {"long": D("0.6")}
    out = d.apply(ev.ClosePosition(d.tick(), "BTCUSDT", "long"))
    cancelled = one(out, ev.OrderCancelled)
    assert (cancelled.order_id, cancelled.reason) == (
        "tp",
        "long position closed: nothing to reduce",
    )
    assert d.engine.orders == {}
