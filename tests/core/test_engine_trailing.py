"""Trailing stops: activation, the tracked extreme, the level it sets, and Binance's FAQ.

A sell trailing stop tracks the highest watched price since activation and fires at or below
highest × (1 − callback); a buy tracks the lowest and fires at or above lowest × (1 + callback).
Fees are zero, so realized PnL is (exit − entry) × qty.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from papertrade.core import events as ev


def trailing(d: Any, id: str, side: ev.Side, qty: str, rate: str, **kw: Any) -> list[ev.Outcome]:
    if "activation_price" in kw:
        kw["activation_price"] = D(kw["activation_price"])
    return d.apply(
        ev.PlaceOrder(
            d.tick(),
            id,
            "BTCUSDT",
            side,
            D(qty),
            "trailing_stop_market",
            callback_rate=D(rate),
            **kw,
        )
    )


def state(d: Any, id: str) -> ev.OrderState:
    return next(o for o in d.account().open_orders if o.id == id)


def test_binance_faq_example_fires_at_10450(nofee) -> None:
    """FAQ 360042299292: price 10,000, callback 5 %, activation 10,500; the price peaks at
    11,000, so the order fires when it falls to 11,000 × (1 − 0.05) = 10,450."""
    nofee.trade("BTCUSDT", "10000")
    nofee.order("long", "BTCUSDT", "buy", "1")  # at the last trade, 10,000
    assert trailing(nofee, "ts", "sell", "1", "5", activation_price="10500", reduce_only=True) == []
    s = state(nofee, "ts")
    assert (s.extreme, s.trigger_price, s.activation_price) == (None, None, 10500)  # not active
    assert nofee.trade("BTCUSDT", "10400") == []
    assert nofee.trade("BTCUSDT", "10500") == []  # activates, tracks 10,500
    assert (state(nofee, "ts").extreme, state(nofee, "ts").trigger_price) == (10500, 9975)
    assert nofee.trade("BTCUSDT", "11000") == []  # the peak
    assert (state(nofee, "ts").extreme, state(nofee, "ts").trigger_price) == (11000, 10450)
    assert nofee.trade("BTCUSDT", "10450.1") == []  # just above the level
    out = nofee.trade("BTCUSDT", "10450")
    assert out[0] == ev.OrderTriggered(
        nofee.ts, "ts", "BTCUSDT", "trailing_stop_market", D("10450"), D("10450")
    )
    fill = out[1]
    assert isinstance(fill, ev.Fill)
    assert (fill.price, fill.realized_pnl) == (10450, 450)  # (10,450 − 10,000) × 1


def test_without_activation_price_it_tracks_from_the_current_price(nofee) -> None:
    nofee.trade("BTCUSDT", "60000")
    # a buy trailing stop (e.g. to enter on a rebound): lowest × 1.01
    assert trailing(nofee, "tb", "buy", "0.01", "1") == []
    assert (state(nofee, "tb").extreme, state(nofee, "tb").trigger_price) == (60000, 60600)
    assert nofee.trade("BTCUSDT", "59000") == []  # new low: level 59,000 × 1.01 = 59,590
    assert state(nofee, "tb").trigger_price == 59590
    assert nofee.trade("BTCUSDT", "59589.9") == []
    out = nofee.trade("BTCUSDT", "59600")
    assert isinstance(out[0], ev.OrderTriggered) and out[0].trigger_price == 59590
    assert isinstance(out[1], ev.Fill) and out[1].price == 59600


def test_activation_on_the_wrong_side_is_refused_with_2021(nofee) -> None:
    nofee.trade("BTCUSDT", "60000")
    cases: list[tuple[ev.Side, str]] = [("sell", "60000"), ("sell", "59000"), ("buy", "60000")]
    for side, activation in cases:
        (rej,) = trailing(nofee, f"t{side}{activation}", side, "0.01", "1",
                          activation_price=activation)  # fmt: skip
        assert isinstance(rej, ev.Rejected) and "-2021" in rej.reason


def test_callback_rate_bounds_are_0_1_and_20_percent(nofee) -> None:
    nofee.trade("BTCUSDT", "60000")
    assert trailing(nofee, "lo", "sell", "0.01", "0.1", activation_price="61000") == []
    assert trailing(nofee, "hi", "sell", "0.01", "20", activation_price="61000") == []
    for rate in ("0.09", "20.1"):
        (rej,) = trailing(nofee, f"bad{rate}", "sell", "0.01", rate, activation_price="61000")
        assert isinstance(rej, ev.Rejected) and "outside 0.1 … 20 %" in rej.reason


def test_a_mark_price_trailing_stop_rides_the_mark(nofee) -> None:
    nofee.mark("BTCUSDT", "60000")
    nofee.trade("BTCUSDT", "60000")
    nofee.order("long", "BTCUSDT", "buy", "1")
    trailing(nofee, "ts", "sell", "1", "2", working_type="mark", reduce_only=True)
    nofee.mark("BTCUSDT", "65000")  # level 65,000 × 0.98 = 63,700
    assert nofee.trade("BTCUSDT", "63000") == []  # trades do not move it
    assert state(nofee, "ts").trigger_price == 63700
    out = nofee.mark("BTCUSDT", "63700")
    assert isinstance(out[0], ev.OrderTriggered)
    fill = out[1]
    # no quote: the worse of the last trade 63,000 and the mark 63,700 for a sell, 63,000
    assert isinstance(fill, ev.Fill) and (fill.price, fill.realized_pnl) == (63000, 3000)
