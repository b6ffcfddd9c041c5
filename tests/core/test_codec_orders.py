"""The drill format's conditional orders, time in force and `amend`: what reads, what is
refused and why, and how open orders and the new outcome print."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from papertrade.core import codec
from papertrade.core import events as ev

HEAD = '{"type":"order","ts":5,"id":"a","symbol":"BTCUSDT","side":"sell",'


def test_every_new_order_field_reads_and_writes_back() -> None:
    line = (
        HEAD + '"qty":"0.1","order_type":"stop_limit","price":"58900","trigger_price":"59000",'
        '"working_type":"mark","price_protect":true,"time_in_force":"GTD",'
        '"good_till":1000000,"reduce_only":true}'
    )
    event = codec.parse_line(line)
    assert event == ev.PlaceOrder(
        5, "a", "BTCUSDT", "sell", D("0.1"), "stop_limit", D(58900), reduce_only=True,
        trigger_price=D(59000), working_type="mark", price_protect=True, time_in_force="GTD",
        good_till=1_000_000,
    )  # fmt: skip
    assert json.loads(codec.dumps(event)) == json.loads(line)


def test_a_position_tp_sl_has_no_qty_and_a_trailing_stop_its_rate() -> None:
    tp = codec.parse_line(
        HEAD + '"order_type":"take_profit_market","trigger_price":"65000","close_position":true}'
    )
    assert isinstance(tp, ev.PlaceOrder) and (tp.qty, tp.close_position) == (0, True)
    assert "qty" not in codec.dumps(tp)
    trail = codec.parse_line(
        HEAD + '"qty":"1","order_type":"trailing_stop_market","callback_rate":"5",'
        '"activation_price":"10500"}'
    )
    assert isinstance(trail, ev.PlaceOrder)
    assert (trail.callback_rate, trail.activation_price) == (5, 10500)


def test_amend_reads_and_needs_something_to_change() -> None:
    assert codec.parse_line('{"type":"amend","ts":3,"id":"sl","trigger_price":"59500"}') == (
        ev.AmendOrder(3, "sl", trigger_price=D(59500))
    )
    with pytest.raises(codec.FormatError, match="needs a new qty, price or trigger_price"):
        codec.parse_line('{"type":"amend","ts":3,"id":"sl"}')


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ('"qty":"1","order_type":"stop_market"', "a stop_market order needs a trigger_price"),
        ('"qty":"1","order_type":"stop_limit","trigger_price":"1"', "needs a price"),
        ('"qty":"1","order_type":"market","trigger_price":"1"', "takes no trigger_price"),
        (
            '"qty":"1","order_type":"stop_market","trigger_price":"1","close_position":true',
            "takes no qty",
        ),
        (
            '"order_type":"stop_limit","trigger_price":"1","price":"1","close_position":true',
            "close_position applies to stop_market and take_profit_market orders only",
        ),
        (
            '"order_type":"stop_market","trigger_price":"1","close_position":true,'
            '"reduce_only":true',
            "takes no reduce_only",
        ),
        ('"order_type":"stop_market","trigger_price":"1"', "missing field 'qty'"),
        ('"qty":"1","order_type":"market","working_type":"mark"', "conditional orders only"),
        ('"qty":"1","order_type":"market","time_in_force":"IOC"', "apply to limit orders"),
        ('"qty":"1","order_type":"limit","price":"1","time_in_force":"GTD"', "needs a good_till"),
        (
            '"qty":"1","order_type":"limit","price":"1","post_only":true,"time_in_force":"IOC"',
            "post_only is time_in_force GTX",
        ),
        ('"qty":"1","order_type":"limit","price":"1","time_in_force":"DAY"', "time_in_force"),
        ('"qty":"1","order_type":"stop","trigger_price":"1"', "order_type"),
        (
            '"qty":"1","order_type":"trailing_stop_market","callback_rate":"5","trigger_price":"1"',
            "takes no trigger_price",
        ),
        ('"qty":"1","order_type":"limit","price":"1","activation_price":"2"', "trailing"),
        ('"qty":"0","order_type":"market"', "field 'qty' must be positive (got 0)"),
    ],
)
def test_malformed_orders_are_refused_with_a_reason(fields: str, message: str) -> None:
    with pytest.raises(codec.FormatError) as err:
        codec.parse_line(HEAD + fields + "}", 7)
    assert err.value.line == 7 and message in err.value.message


def test_open_orders_print_only_the_fields_they_use() -> None:
    plain_limit = ev.OrderState(
        "a", "BTCUSDT", "buy", "limit", D("0.1"), D(59000), False, False, "cross", 20, 5
    )
    assert list(json.loads(codec.dumps(_account(plain_limit)))["open_orders"][0]) == [
        "id", "symbol", "side", "order_type", "qty", "price", "reduce_only", "post_only",
        "margin_mode", "leverage", "ts",
    ]  # fmt: skip
    trailing = ev.OrderState(
        "t", "BTCUSDT", "sell", "trailing_stop_market", D(1), None, True, False, "cross", 20, 5,
        trigger_price=D("10450"), working_type="contract", callback_rate=D(5),
        activation_price=D(10500), extreme=D(11000),
    )  # fmt: skip
    shown = json.loads(codec.dumps(_account(trailing)))["open_orders"][0]
    assert {k: shown[k] for k in ("price", "trigger_price", "extreme", "callback_rate")} == {
        "price": None,
        "trigger_price": "10450",
        "extreme": "11000",
        "callback_rate": "5",
    }


def test_the_triggered_outcome_prints_every_field() -> None:
    out = ev.OrderTriggered(9, "sl", "BTCUSDT", "stop_market", D("59000.0"), D("57000"))
    assert json.loads(codec.dumps(out)) == {
        "type": "order_triggered",
        "ts": 9,
        "order_id": "sl",
        "symbol": "BTCUSDT",
        "order_type": "stop_market",
        "trigger_price": "59000",
        "watched_price": "57000",
    }


def test_exchange_limits_is_a_session_option_left_out_when_off() -> None:
    settings = codec.parse_line('{"type":"session","exchange_limits":true}')
    assert settings == ev.SessionSettings(exchange_limits=True)
    assert "exchange_limits" not in codec.dumps(ev.SessionSettings())


def _account(order: ev.OrderState) -> ev.AccountState:
    return ev.AccountState(1, D(1), D(1), D(1), (), (order,))
