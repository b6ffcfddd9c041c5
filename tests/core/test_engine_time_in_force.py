"""Time in force (GTC, IOC, FOK, GTX, GTD) and the exchange's price and size limits.

BTCUSDT limits in the bundled data (Binance exchangeInfo fixtures): percent-price
band mark × 0.95 … mark × 1.05, market take bound 5 %, market max qty 120, limit max qty 1000.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from papertrade.core import events as ev

T0 = 1_700_000_000_000


def limit(d: Any, id: str, side: ev.Side, qty: str, price: str, **kw: Any) -> list[ev.Outcome]:
    return d.apply(ev.PlaceOrder(d.tick(), id, "BTCUSDT", side, D(qty), "limit", D(price), **kw))


@pytest.fixture
def market(nofee) -> Any:
    nofee.mark("BTCUSDT", "60000")
    nofee.quote("BTCUSDT", "59990", "60000")
    return nofee


def test_ioc_that_crosses_fills_at_once(market) -> None:
    (fill,) = limit(market, "i", "buy", "0.1", "60010", time_in_force="IOC")
    assert isinstance(fill, ev.Fill) and (fill.price, fill.liquidity) == (60000, "taker")


def test_ioc_and_fok_that_do_not_cross_are_cancelled_whole(market) -> None:
    out = limit(market, "i", "buy", "0.1", "59000", time_in_force="IOC")
    assert out == [ev.OrderCancelled(market.ts, "i", "ioc_remainder")]
    out = limit(market, "f", "sell", "0.1", "60500", time_in_force="FOK")
    assert out == [ev.OrderCancelled(market.ts, "f", "fok_unfilled")]
    assert market.engine.orders == {} and market.account().available_balance == 10000
    (rej,) = limit(market, "i", "buy", "0.1", "59000")  # the id is spent
    assert isinstance(rej, ev.Rejected) and "already in use" in rej.reason


def test_gtx_is_post_only(market) -> None:
    (rej,) = limit(market, "x", "buy", "0.1", "60000", time_in_force="GTX")
    assert isinstance(rej, ev.Rejected) and "post-only order would take" in rej.reason
    assert limit(market, "y", "buy", "0.1", "59980", time_in_force="GTX") == []
    assert market.engine.orders["y"].post_only
    (state,) = market.account().open_orders  # GTX shows as its alias, as it always did
    assert state.post_only and state.time_in_force == "GTC"


def test_gtd_must_reach_more_than_600_seconds_ahead(market) -> None:
    ts = market.ts + 1000  # the next order's stamp
    (rej,) = limit(market, "g", "buy", "0.1", "59000", time_in_force="GTD", good_till=ts + 600_000)
    assert isinstance(rej, ev.Rejected) and "more than 600 s" in rej.reason
    ts = market.ts + 1000
    assert limit(market, "g2", "buy", "0.1", "59000", time_in_force="GTD",
                 good_till=ts + 600_001) == []  # fmt: skip


def test_gtd_expires_on_the_first_event_at_its_time_before_that_event_can_fill_it(market) -> None:
    ts = market.ts + 1000
    good_till = ts + 700_000
    limit(market, "g", "buy", "0.1", "59000", time_in_force="GTD", good_till=good_till)
    assert market.account().open_orders[0].good_till == good_till
    assert market.apply(ev.Trade(good_till - 1, "BTCUSDT", D("59500"), D("1"))) == []
    # a trade at 59,000 stamped at good_till would fill it: it has expired first
    out = market.apply(ev.Trade(good_till, "BTCUSDT", D("59000"), D("1")))
    assert out == [ev.OrderCancelled(good_till, "g", "expired")]
    assert market.account().available_balance == 10000


def test_a_gtd_stop_limit_expires_while_waiting(market) -> None:
    market.trade("BTCUSDT", "60000")
    ts = market.ts + 1000
    out = market.apply(
        ev.PlaceOrder(
            ts, "sg", "BTCUSDT", "sell", D("0.1"), "stop_limit", D("58900"),
            trigger_price=D("59000"), time_in_force="GTD", good_till=ts + 600_500,
        )
    )  # fmt: skip
    assert out == []
    out = market.apply(ev.MarkPrice(ts + 600_500, "BTCUSDT", D("60000")))
    assert out == [ev.OrderCancelled(ts + 600_500, "sg", "expired")]


def test_size_limits_apply_to_market_and_limit_orders(make_driver) -> None:
    rich = make_driver(balance="100000000", taker="0", maker="0")
    rich.engine.settings = ev.SessionSettings(D(100000000), D(0), D(0), exchange_limits=True)
    rich.mark("BTCUSDT", "10")  # a cheap market so only the size limits speak
    rich.quote("BTCUSDT", "9.9", "10")
    (rej,) = rich.order("m", "BTCUSDT", "buy", "120.001")
    assert isinstance(rej, ev.Rejected) and "maximum of 120 BTC for a market order" in rej.reason
    (rej,) = limit(rich, "l", "buy", "1000.001", "9.9")
    assert isinstance(rej, ev.Rejected) and "maximum of 1000 BTC for a limit order" in rej.reason
    assert limit(rich, "ok", "buy", "1000", "9.9") == []


def banded(make_driver) -> Any:
    d = make_driver(taker="0", maker="0")
    d.engine.settings = ev.SessionSettings(D(10000), D(0), D(0), exchange_limits=True)
    d.mark("BTCUSDT", "60000")
    return d


def test_limit_prices_outside_the_percent_band_are_refused(make_driver) -> None:
    d = banded(make_driver)
    # band: 60,000 × 0.95 = 57,000 … 60,000 × 1.05 = 63,000 (both ends allowed)
    assert limit(d, "lo", "buy", "0.01", "57000") == []
    assert limit(d, "hi", "sell", "0.01", "63000") == []
    cases: list[tuple[ev.Side, str]] = [("buy", "56999.9"), ("sell", "63000.1")]
    for side, price in cases:
        (rej,) = limit(d, f"x{price}", side, "0.01", price)
        assert isinstance(rej, ev.Rejected)
        assert "outside the BTCUSDT band 57000 … 63000" in rej.reason


def test_a_market_order_may_not_fill_past_the_take_bound(make_driver) -> None:
    d = banded(make_driver)
    # buys may fill up to 60,000 × 1.05 = 63,000, sells down to 57,000
    d.quote("BTCUSDT", "56990", "63000.1")
    (rej,) = d.order("b", "BTCUSDT", "buy", "0.01")
    assert isinstance(rej, ev.Rejected) and "more than 5 % from mark 60000" in rej.reason
    (rej,) = d.order("s", "BTCUSDT", "sell", "0.01")
    assert isinstance(rej, ev.Rejected) and "would fill at 56990" in rej.reason
    d.quote("BTCUSDT", "57000", "63000")
    assert [type(o) for o in d.order("b2", "BTCUSDT", "buy", "0.01")] == [ev.Fill]


def test_without_exchange_limits_the_old_rules_stand(market) -> None:
    assert limit(market, "far", "buy", "0.01", "30000") == []
    assert limit(market, "big", "buy", "1000.001", "1") == []  # above LOT_SIZE, far below
    assert "exchange_limits" not in market.engine.to_state()["settings"]
