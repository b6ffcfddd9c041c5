"""Stops, take-profits and position TP/SL: when they trigger and where they fill.

Trigger rules (Binance New Order doc): stop buy ≥ trigger, stop sell ≤ trigger, take-profit buy
≤ trigger, take-profit sell ≥ trigger, on the watched price (last trade by default, or mark).
Fills after a trigger are at the market after it: the latest quote's bid/ask, but never better
than the price that triggered it. Fees are zero unless a test says otherwise, so realized PnL
is (exit − entry) × qty.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from papertrade.core import events as ev


def place(
    d: Any, id: str, side: ev.Side, order_type: ev.OrderType, qty: str = "1", **kw: Any
) -> list[ev.Outcome]:
    symbol = kw.pop("symbol", "BTCUSDT")
    for name in ("trigger_price", "price", "activation_price", "callback_rate"):
        if name in kw:
            kw[name] = D(kw[name])
    return d.apply(ev.PlaceOrder(d.tick(), id, symbol, side, D(qty), order_type, **kw))


def long_one_btc(d: Any) -> None:
    """Long 1 BTC at the ask 60,000; last trade 60,000."""
    d.quote("BTCUSDT", "59990", "60000")
    d.trade("BTCUSDT", "60000")
    out = d.order("long", "BTCUSDT", "buy", "1")
    assert [type(o) for o in out] == [ev.Fill] and out[0].price == 60000


def fills(out: list[ev.Outcome]) -> list[ev.Fill]:
    return [o for o in out if isinstance(o, ev.Fill)]


def test_sell_stop_fires_on_the_first_trade_at_its_trigger_and_fills_at_the_bid(nofee) -> None:
    long_one_btc(nofee)
    assert place(nofee, "sl", "sell", "stop_market", trigger_price="59000", reduce_only=True) == []
    assert nofee.trade("BTCUSDT", "59000.1") == []  # above the trigger: waits
    nofee.quote("BTCUSDT", "58990", "59000")
    out = nofee.trade("BTCUSDT", "59000")
    assert out[0] == ev.OrderTriggered(
        nofee.ts, "sl", "BTCUSDT", "stop_market", D("59000"), D("59000")
    )
    (fill,) = fills(out)
    # the bid 58,990 is worse than the trade: the stop sells there; (58,990 − 60,000) × 1
    assert (fill.order_id, fill.price, fill.realized_pnl) == ("sl", 58990, -1010)
    assert nofee.account().positions == () and nofee.engine.algo.orders == {}


def test_a_gap_fills_at_the_trade_past_the_trigger_never_at_the_trigger(nofee) -> None:
    long_one_btc(nofee)
    place(nofee, "sl", "sell", "stop_market", trigger_price="59000", reduce_only=True)
    # the quote still says 59,990 (stale); a trade prints at 57,000, far past the stop
    (trig, fill) = nofee.trade("BTCUSDT", "57000")[:2]
    assert isinstance(trig, ev.OrderTriggered) and trig.watched_price == 57000
    assert isinstance(fill, ev.Fill)
    # (57,000 − 60,000) × 1 = −3,000, not the −1,000 a fill at the trigger would show
    assert (fill.price, fill.realized_pnl, fill.liquidity) == (57000, -3000, "taker")


def test_a_gap_with_a_fresh_quote_fills_at_the_new_bid(nofee) -> None:
    long_one_btc(nofee)
    place(nofee, "sl", "sell", "stop_market", trigger_price="59000", reduce_only=True)
    nofee.quote("BTCUSDT", "56800", "56900")  # the book has fallen; no trade yet
    (fill,) = fills(nofee.trade("BTCUSDT", "56950"))
    assert (fill.price, fill.realized_pnl) == (56800, -3200)  # 56,800 − 60,000


@pytest.mark.parametrize(
    ("order_type", "side", "waits_at", "fires_at"),
    [
        ("stop_market", "buy", "60999.9", "61000"),  # buy stop: last ≥ trigger
        ("stop_market", "sell", "59000.1", "59000"),  # sell stop: last ≤ trigger
        ("take_profit_market", "buy", "59000.1", "59000"),  # buy TP: last ≤ trigger
        ("take_profit_market", "sell", "60999.9", "61000"),  # sell TP: last ≥ trigger
    ],
)
def test_each_trigger_rule_fires_exactly_at_its_boundary(
    nofee, order_type: ev.OrderType, side: ev.Side, waits_at: str, fires_at: str
) -> None:
    nofee.trade("BTCUSDT", "60000")
    trigger = "61000" if fires_at == "61000" else "59000"
    assert place(nofee, "c", side, order_type, "0.01", trigger_price=trigger) == []
    assert nofee.trade("BTCUSDT", waits_at) == []
    out = nofee.trade("BTCUSDT", fires_at)
    assert isinstance(out[0], ev.OrderTriggered) and out[0].trigger_price == D(trigger)
    (fill,) = fills(out)
    # no quote: the fill is at the trade that triggered it
    assert (fill.side, fill.qty, fill.price) == (side, D("0.01"), D(fires_at))


@pytest.mark.parametrize(
    ("order_type", "side", "trigger"),
    [
        ("stop_market", "sell", "60000"),  # last 60,000 ≤ 60,000 already
        ("stop_market", "buy", "59000"),
        ("take_profit_market", "sell", "59999.9"),
        ("take_profit_market", "buy", "60000"),
    ],
)
def test_a_trigger_already_reached_is_refused_with_2021(
    nofee, order_type: ev.OrderType, side: ev.Side, trigger: str
) -> None:
    nofee.trade("BTCUSDT", "60000")
    (rej,) = place(nofee, "c", side, order_type, "0.01", trigger_price=trigger)
    assert isinstance(rej, ev.Rejected) and "-2021" in rej.reason
    assert "immediately trigger" in rej.reason and nofee.engine.algo.orders == {}


def test_a_stop_placed_in_an_event_is_armed_for_the_very_next_one(nofee) -> None:
    long_one_btc(nofee)
    place(nofee, "sl", "sell", "stop_market", trigger_price="59500", reduce_only=True)
    out = nofee.trade("BTCUSDT", "59400")  # the first event after the placement
    assert [type(o) for o in out] == [ev.OrderTriggered, ev.Fill]


def test_working_type_mark_watches_marks_and_ignores_trades(nofee) -> None:
    long_one_btc(nofee)
    nofee.mark("BTCUSDT", "60000")
    place(
        nofee, "sl", "sell", "stop_market", trigger_price="59000", working_type="mark",
        reduce_only=True,
    )  # fmt: skip
    assert nofee.trade("BTCUSDT", "58000") == []  # the last price crossed; the mark did not
    nofee.quote("BTCUSDT", "58100", "58200")
    out = nofee.mark("BTCUSDT", "58900")
    assert out[0] == ev.OrderTriggered(
        nofee.ts, "sl", "BTCUSDT", "stop_market", D("59000"), D("58900")
    )
    # sells at the worse of the bid 58,100 and the mark 58,900: 58,100; −1,900
    assert (fills(out)[0].price, fills(out)[0].realized_pnl) == (58100, -1900)


def test_contract_stops_ignore_the_mark(nofee) -> None:
    long_one_btc(nofee)
    place(nofee, "sl", "sell", "stop_market", trigger_price="59000", reduce_only=True)
    assert nofee.mark("BTCUSDT", "58000") == []
    assert "sl" in nofee.engine.algo.orders


def test_a_waiting_stop_holds_no_margin_and_its_limit_order_does_once_triggered(nofee) -> None:
    nofee.quote("BTCUSDT", "59990", "60000")
    nofee.trade("BTCUSDT", "60000")
    before = nofee.account().available_balance
    place(nofee, "sl", "buy", "stop_limit", "0.1", trigger_price="61000", price="60500")
    assert nofee.account().available_balance == before == 10000
    nofee.quote("BTCUSDT", "60990", "61000")
    out = nofee.trade("BTCUSDT", "61000")
    # triggered: a buy limit at 60,500 with the ask at 61,000 does not cross; it rests
    assert [type(o) for o in out] == [ev.OrderTriggered]
    resting = nofee.engine.orders["sl"]
    assert (resting.price, resting.qty) == (60500, D("0.1"))
    # it now holds 0.1 × 60,500 / 20 = 302.5 (a buy below the last price: no open loss)
    assert nofee.account().available_balance == D(10000) - D("302.5")
    (fill,) = fills(nofee.trade("BTCUSDT", "60500"))
    assert (fill.price, fill.liquidity) == (60500, "maker")


def test_a_triggered_order_meets_the_margin_check_then_and_may_be_refused(make_driver) -> None:
    small = make_driver(balance="100", taker="0", maker="0")
    small.trade("BTCUSDT", "60000")
    # 0.05 BTC: 3,000 notional needs 150 margin at 20x; the account has 100
    assert place(small, "brk", "buy", "stop_market", "0.05", trigger_price="60100") == []
    out = small.trade("BTCUSDT", "60100")
    assert isinstance(out[0], ev.OrderTriggered)
    rej = out[1]
    assert isinstance(rej, ev.Rejected)
    assert (rej.command, rej.order_id) == ("trigger", "brk")
    assert "insufficient available balance" in rej.reason
    assert small.account().positions == () and small.engine.algo.orders == {}


def test_close_position_closes_whatever_the_position_is_at_trigger(nofee) -> None:
    long_one_btc(nofee)
    place(
        nofee, "tp", "sell", "take_profit_market", "0", trigger_price="62000", close_position=True
    )
    nofee.order("more", "BTCUSDT", "buy", "0.5")  # at the ask 60,000: now long 1.5
    nofee.quote("BTCUSDT", "62100", "62200")
    out = nofee.trade("BTCUSDT", "62000")
    (fill,) = fills(out)
    # closes 1.5 at the worse of bid 62,100 and trade 62,000: (62,000 − 60,000) × 1.5
    assert (fill.qty, fill.price, fill.realized_pnl) == (D("1.5"), 62000, 3000)
    assert nofee.account().positions == ()


def test_close_position_when_flat_does_nothing_and_says_so(nofee) -> None:
    long_one_btc(nofee)
    place(nofee, "sl", "sell", "stop_market", "0", trigger_price="59000", close_position=True)
    nofee.apply(ev.ClosePosition(nofee.tick(), "BTCUSDT"))
    assert "sl" in nofee.engine.algo.orders  # a position TP/SL outlives the position
    out = nofee.trade("BTCUSDT", "58000")
    assert out == [
        ev.OrderTriggered(nofee.ts, "sl", "BTCUSDT", "stop_market", D("59000"), D("58000")),
        ev.OrderCancelled(nofee.ts, "sl", "position_closed"),
    ]
    assert nofee.account().positions == ()


def test_reduce_only_stops_go_when_the_position_closes(nofee) -> None:
    long_one_btc(nofee)
    place(nofee, "sl", "sell", "stop_market", trigger_price="59000", reduce_only=True)
    out = nofee.apply(ev.ClosePosition(nofee.tick(), "BTCUSDT"))
    assert out[-1] == ev.OrderCancelled(nofee.ts, "sl", "position_closed")
    assert nofee.engine.algo.orders == {}


def test_shape_errors_are_refused_with_a_reason(nofee) -> None:
    nofee.trade("BTCUSDT", "60000")
    cases: list[tuple[dict[str, Any], str]] = [
        (dict(order_type="stop_market"), "needs a trigger_price"),
        (dict(order_type="stop_limit", trigger_price="59000"), "needs a price"),
        (
            dict(order_type="stop_market", trigger_price="59000", close_position=True),
            "takes no qty",
        ),
        (dict(order_type="limit", price="59000", trigger_price="1"), "takes no trigger_price"),
        (dict(order_type="trailing_stop_market"), "needs a callback_rate"),
        (dict(order_type="trailing_stop_market", callback_rate="25"), "outside 0.1"),
        (dict(order_type="stop_market", trigger_price="59000.05"), "-4014"),
    ]
    for kw, words in cases:
        (rej,) = place(nofee, f"x{words}", "sell", **{"qty": "0.01", **kw})
        assert isinstance(rej, ev.Rejected) and words in rej.reason, (kw, rej)
    assert nofee.engine.algo.orders == {}


def test_no_last_price_means_no_contract_stop(nofee) -> None:
    nofee.mark("BTCUSDT", "60000")
    (rej,) = place(nofee, "sl", "sell", "stop_market", "0.01", trigger_price="59000")
    assert isinstance(rej, ev.Rejected) and "no last trade price" in rej.reason


def test_at_most_200_conditional_orders(nofee) -> None:
    nofee.trade("BTCUSDT", "60000")
    for i in range(200):
        assert place(nofee, f"s{i}", "sell", "stop_market", "0.01", trigger_price="50000") == []
    (rej,) = place(nofee, "s200", "sell", "stop_market", "0.01", trigger_price="50000")
    assert isinstance(rej, ev.Rejected) and "at most 200" in rej.reason


def test_price_protect_holds_the_stop_while_mark_and_last_are_apart(nofee) -> None:
    long_one_btc(nofee)
    nofee.mark("BTCUSDT", "60000")
    place(
        nofee, "sl", "sell", "stop_market", trigger_price="59000", reduce_only=True,
        price_protect=True,
    )  # fmt: skip
    # last 55,000 vs mark 60,000: |60,000 − 55,000| / 60,000 = 8.3 % > 5 % trigger_protect
    assert nofee.trade("BTCUSDT", "55000") == []
    assert "sl" in nofee.engine.algo.orders
    nofee.mark("BTCUSDT", "57000")  # now |57,000 − 55,000| / 57,000 = 3.5 %
    out = nofee.trade("BTCUSDT", "55100")
    assert isinstance(out[0], ev.OrderTriggered) and fills(out)[0].price == 55100


def test_liquidation_cancels_the_symbols_conditional_orders(nofee) -> None:
    nofee.mark("BTCUSDT", "60000")
    nofee.trade("BTCUSDT", "60000")
    nofee.order("long", "BTCUSDT", "buy", "1", margin_mode="isolated", leverage=20)
    # a stop beyond the liquidation price: the mark gets there first
    place(nofee, "far", "sell", "stop_market", trigger_price="50000", reduce_only=True)
    out = nofee.mark("BTCUSDT", "55000")
    assert [type(o) for o in out] == [ev.Liquidation, ev.OrderCancelled]
    assert out[1] == ev.OrderCancelled(nofee.ts, "far", "BTCUSDT position liquidated")
    assert nofee.trade("BTCUSDT", "49000") == []  # it never fires


def test_open_orders_show_type_trigger_and_working_type(nofee) -> None:
    long_one_btc(nofee)
    place(
        nofee, "sl", "sell", "stop_limit", trigger_price="59000", price="58900",
        working_type="mark", reduce_only=True,
    )  # fmt: skip
    # no mark yet: a mark-price stop cannot be checked
    assert "no mark price" in nofee.outcomes[-1].reason
    nofee.mark("BTCUSDT", "60000")
    place(
        nofee, "sl", "sell", "stop_limit", trigger_price="59000", price="58900",
        working_type="mark", reduce_only=True,
    )  # fmt: skip
    (state,) = nofee.account().open_orders
    assert (state.order_type, state.trigger_price, state.price, state.working_type) == (
        "stop_limit",
        59000,
        58900,
        "mark",
    )
    assert state.reduce_only and state.time_in_force == "GTC"


def test_a_waiting_stop_locks_the_margin_mode_and_shows_the_current_leverage(nofee) -> None:
    nofee.trade("BTCUSDT", "60000")
    place(nofee, "brk", "buy", "stop_market", "0.01", trigger_price="61000")
    (rej,) = nofee.apply(ev.SetMarginMode(nofee.tick(), "BTCUSDT", "isolated"))
    assert isinstance(rej, ev.Rejected) and "open position or orders" in rej.reason
    assert nofee.apply(ev.SetLeverage(nofee.tick(), "BTCUSDT", 5)) == []
    (state,) = nofee.account().open_orders
    assert (state.margin_mode, state.leverage) == ("cross", 5)
    # it fires at the symbol's settings of the moment: 0.01 × 61,000 / 5 = 122 margin
    nofee.trade("BTCUSDT", "61000")
    assert nofee.position("BTCUSDT").margin == D(122)


def test_a_take_profit_limit_rests_at_its_price_after_the_trigger(nofee) -> None:
    long_one_btc(nofee)
    place(nofee, "tp", "sell", "take_profit_limit", trigger_price="62000", price="62100",
          reduce_only=True)  # fmt: skip
    nofee.quote("BTCUSDT", "61990", "62000")
    out = nofee.trade("BTCUSDT", "62000")
    # a sell limit at 62,100 above the bid 61,990: it rests on the book, holding nothing
    # (reduce-only)
    assert out == [
        ev.OrderTriggered(nofee.ts, "tp", "BTCUSDT", "take_profit_limit", D(62000), D(62000))
    ]
    assert nofee.engine.orders["tp"].price == 62100 and nofee.engine.algo.orders == {}
    (fill,) = fills(nofee.trade("BTCUSDT", "62100"))
    # maker at its own price: (62,100 − 60,000) × 1
    assert (fill.price, fill.liquidity, fill.realized_pnl) == (62100, "maker", 2100)


def test_a_stop_limit_that_crosses_when_triggered_takes_at_the_market_not_its_limit(
    nofee,
) -> None:
    long_one_btc(nofee)
    place(nofee, "sl", "sell", "stop_limit", trigger_price="59000", price="58000",
          reduce_only=True)  # fmt: skip
    nofee.quote("BTCUSDT", "58490", "58500")
    out = nofee.trade("BTCUSDT", "58500")
    # sell limit 58,000 ≤ the market (worse of bid 58,490 and trade 58,500): fills at 58,490
    (fill,) = fills(out)
    assert (fill.price, fill.liquidity, fill.realized_pnl) == (58490, "taker", -1510)


def test_a_hedge_stop_closing_a_side_with_no_position_is_refused(make_driver) -> None:
    # hedge mode's own cases are in test_hedge_conditional*.py
    d = make_driver(taker="0", maker="0")
    d.engine = type(d.engine)(settings=ev.SessionSettings(position_mode="hedge"))
    d.trade("BTCUSDT", "60000")
    (rej,) = place(d, "sl", "sell", "stop_market", "0.01", trigger_price="59000",
                   position_side="long")  # fmt: skip
    assert isinstance(rej, ev.Rejected) and "no long BTCUSDT position to close" in rej.reason
    assert d.engine.algo.orders == {}
