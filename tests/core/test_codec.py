"""The JSON-lines drill format: strict validation with line numbers, and round trips."""

import json
from decimal import Decimal as D

import pytest

from papertrade.core import codec
from papertrade.core import events as ev


def test_parses_every_input_type_into_engine_events() -> None:
    lines = [
        '{"type":"session","balance":"5000","taker_fee":"0.0004","maker_fee":"0"}',
        '{"type":"mark","ts":1,"symbol":"btcusdt","price":"60000","funding_rate":"0.0001","next_funding_ts":28800000}',
        '{"type":"quote","ts":2,"symbol":"BTCUSDT","bid":"59999.9","ask":"60000","bid_qty":"1.5"}',
        '{"type":"trade","ts":3,"symbol":"BTCUSDT","price":"60000","qty":"0.01"}',
        '{"type":"funding","ts":4,"symbol":"BTCUSDT","rate":"-0.0002"}',
        '{"type":"order","ts":5,"id":"a","symbol":"BTCUSDT","side":"sell","qty":"0.1","order_type":"limit","price":"61000","post_only":true,"margin_mode":"isolated","leverage":3}',
        '{"type":"cancel","ts":6,"id":"a"}',
        '{"type":"close","ts":7,"symbol":"BTCUSDT"}',
        '{"type":"adjust_margin","ts":8,"symbol":"BTCUSDT","amount":"-10.5"}',
        '{"type":"set_leverage","ts":9,"symbol":"BTCUSDT","leverage":7}',
        '{"type":"set_margin_mode","ts":10,"symbol":"BTCUSDT","margin_mode":"cross"}',
        '{"type":"snapshot","ts":11}',
    ]
    settings, events = codec.parse_lines(lines)
    assert settings == ev.SessionSettings(D(5000), D("0.0004"), D(0))
    assert events[0] == ev.MarkPrice(1, "BTCUSDT", D(60000), None, D("0.0001"), 28800000)
    assert events[4] == ev.PlaceOrder(
        5, "a", "BTCUSDT", "sell", D("0.1"), "limit", D(61000), "isolated", 3, False, True
    )
    assert [e.type for e in events] == [
        "mark",
        "quote",
        "trade",
        "funding",
        "order",
        "cancel",
        "close",
        "adjust_margin",
        "set_leverage",
        "set_margin_mode",
        "snapshot",
    ]
    # writing them back and reading again is the identity
    again = codec.parse_lines([codec.dumps(settings)] + [codec.dumps(e) for e in events])
    assert again == (settings, events)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: invalid JSON"),
        ('{"type":"bogus","ts":1}', 'line 2: unknown type "bogus"'),
        ('{"type":"mark","symbol":"BTCUSDT","price":"1"}', "line 2: missing field 'ts'"),
        ('{"type":"mark","ts":1,"symbol":"BTCUSDT"}', "line 2: mark: missing field 'price'"),
        ('{"type":"mark","ts":1,"symbol":"BTCUSDT","price":60000}', "must be a decimal string"),
        ('{"type":"mark","ts":1,"symbol":"BTCUSDT","price":"0"}', "must be positive"),
        ('{"type":"mark","ts":1,"symbol":"BTCUSDT","price":"Infinity"}', "not a finite number"),
        (
            '{"type":"trade","ts":1,"symbol":"BTCUSDT","price":"1","qty":"1","side":"x"}',
            "unknown field 'side'",
        ),
        (
            '{"type":"order","ts":1,"id":"a","symbol":"X","side":"buy","qty":"1","order_type":"limit"}',
            "a limit order needs a price",
        ),
        (
            '{"type":"order","ts":1,"id":"a","symbol":"X","side":"hold","qty":"1","order_type":"market"}',
            "'side'",
        ),
        ('{"type":"quote","ts":1,"symbol":"X","bid":"2","ask":"1"}', "bid 2 is above ask 1"),
        ('{"type":"mark","ts":-1,"symbol":"X","price":"1"}', "'ts'"),
        ("[1,2]", "expected a JSON object"),
        ('{"type":"session","balance":"10"}', "a 'session' line may only be the first line"),
    ],
)
def test_malformed_lines_are_refused_with_their_line_number(line: str, message: str) -> None:
    first = '{"type":"mark","ts":0,"symbol":"BTCUSDT","price":"1"}'
    with pytest.raises(codec.FormatError) as info:
        codec.parse_lines([first, line])
    assert message in str(info.value)
    assert info.value.line == 2


def test_decreasing_ts_is_refused() -> None:
    with pytest.raises(codec.FormatError, match="line 3: ts 5 is before the previous line's ts 9"):
        codec.parse_lines(
            [
                '{"type":"snapshot","ts":1}',
                '{"type":"snapshot","ts":9}',
                '{"type":"snapshot","ts":5}',
            ]
        )


def test_outcomes_serialize_with_every_field_and_decimals_as_strings() -> None:
    fill = ev.Fill(
        1, "a", "BTCUSDT", "buy", D("0.50"), D("60000.0"), D("15.00000000"), D(0), "taker"
    )
    assert json.loads(codec.dumps(fill)) == {
        "type": "fill",
        "ts": 1,
        "order_id": "a",
        "symbol": "BTCUSDT",
        "side": "buy",
        "qty": "0.5",
        "price": "60000",
        "fee": "15",
        "realized_pnl": "0",
        "liquidity": "taker",
    }
    rej = ev.Rejected(2, "close", None, "no open BTCUSDT position to close")
    assert json.loads(codec.dumps(rej))["order_id"] is None


_MARK = '{"type":"mark","ts":1,"symbol":"BTCUSDT","price":"60000"'


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            _MARK.replace('"60000"', '"1e400"') + "}",
            "field 'price' must be at most 1,000,000,000,000",
        ),
        (_MARK.replace('"60000"', '"1E+999999999"') + "}", "must be at most 1,000,000,000,000"),
        (_MARK.replace('"60000"', '"99999999999999999999"') + "}", "must be at most"),
        (_MARK.replace('"60000"', '"-0"') + "}", "field 'price' must be positive (got 0)"),
        (_MARK.replace('"60000"', '"NaN"') + "}", "not a finite number"),
        (_MARK.replace('"60000"', '"1.0000000000000000001"') + "}", "18 significant digits"),
        (_MARK.replace('"60000"', '"' + "9" * 5000 + '"') + "}", "too long"),
        (_MARK.replace('"60000"', "1E+999999999") + "}", "must be a decimal string"),
        (_MARK.replace('"60000"', "NaN") + "}", "NaN is not a number JSON allows"),
        (_MARK.replace('"60000"', "-Infinity") + "}", "-Infinity is not a number JSON allows"),
        (_MARK + ',"funding_rate":"1.5"}', "field 'funding_rate' must be at most 1"),
        (_MARK + ',"funding_rate":"-1.5"}', "field 'funding_rate' must be at least -1"),
        (_MARK + ',"next_funding_ts":253402300800000}', "must be between 0 and 253402300799999"),
        (_MARK.replace('"ts":1', '"ts":253402300800000') + "}", "'ts'"),
        (_MARK.replace('"ts":1', '"ts":9223372036854775808') + "}", "253402300799999"),
        (_MARK.replace('"ts":1', '"ts":' + "7" * 5000) + "}", "integer with 5000 digits"),
        (_MARK.replace('"ts":1', '"ts":1e3') + "}", "whole milliseconds"),
        (_MARK.replace('"ts":1', '"ts":true') + "}", "whole milliseconds"),
        ('{"type":["mark"],"ts":1}', 'unknown type ["mark"]'),
        ('{"type":{"t":"mark"},"ts":1}', 'unknown type {"t": "mark"}'),
        ('{"type":7,"ts":1}', "unknown type 7"),
        ("[" * 100_000 + "]" * 100_000, "longer than 65,536 characters"),
        ('{"type":"mark","ts":' + "[" * 20_000 + "]" * 20_000 + "}", "nested too deeply"),
        (
            '{"type":"trade","ts":1,"symbol":"X","price":"1","qty":"1000000000000.5"}',
            "field 'qty' must be at most 1,000,000,000,000",
        ),
        ('{"type":"quote","ts":1,"symbol":"X","bid":"1","ask":"2","bid_qty":"-1"}', "zero or more"),
        ('{"type":"funding","ts":1,"symbol":"X","rate":"2"}', "field 'rate' must be at most 1"),
        (
            '{"type":"adjust_margin","ts":1,"symbol":"X","amount":"-1e16"}',
            "at least -1,000,000,000,000,000",
        ),
        ('{"type":"set_leverage","ts":1,"symbol":"X","leverage":1001}', "from 1 to 1000"),
        ('{"type":"set_leverage","ts":1,"symbol":"X","leverage":0}', "from 1 to 1000"),
        ('{"type":"set_leverage","ts":1,"symbol":"X","leverage":"5"}', "whole number"),
        ('{"type":"mark","ts":1,"symbol":"BTC\u0661USDT","price":"1"}', "not a valid symbol"),
    ],
)
def test_out_of_bounds_and_hostile_values_are_refused_by_name(line: str, message: str) -> None:
    with pytest.raises(codec.FormatError) as info:
        codec.parse_lines(['{"type":"snapshot","ts":0}', line])
    assert info.value.line == 2
    assert message in info.value.message
    assert len(info.value.message) < 300  # never the hostile value in full


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"type":"session","balance":"1000000000000001"}', "at most 1,000,000,000,000,000"),
        ('{"type":"session","balance":"-5"}', "field 'balance' must be positive"),
        ('{"type":"session","taker_fee":"0.02"}', "field 'taker_fee' must be at most 0.01"),
        ('{"type":"session","name":"' + "n" * 201 + '"}', "at most 200 characters"),
    ],
)
def test_session_settings_are_bounded_too(line: str, message: str) -> None:
    with pytest.raises(codec.FormatError, match="line 1") as info:
        codec.parse_lines([line])
    assert message in info.value.message


def test_values_at_the_bounds_are_accepted_exactly() -> None:
    settings, events = codec.parse_lines(
        [
            '{"type":"session","balance":"1000000000000000","taker_fee":"0.01","maker_fee":"-0.01"}',
            '{"type":"mark","ts":0,"symbol":"X","price":"0.000000000000000001","funding_rate":"-1"}',
            '{"type":"trade","ts":1,"symbol":"X","price":"1000000000000","qty":"1000000000000"}',
            '{"type":"quote","ts":2,"symbol":"X","bid":"1","ask":"1","bid_qty":"-0","ask_qty":"0"}',
            '{"type":"set_leverage","ts":253402300799999,"symbol":"X","leverage":1000}',
        ]
    )
    assert settings.balance == D("1e15") and settings.maker_fee == D("-0.01")
    assert events[0] == ev.MarkPrice(0, "X", D("1e-18"), None, D(-1), None)
    assert events[1] == ev.Trade(1, "X", D("1e12"), D("1e12"))
    quote = events[2]
    assert isinstance(quote, ev.Quote) and quote.bid_qty == 0 and not quote.bid_qty.is_signed()
    assert events[3] == ev.SetLeverage(253402300799999, "X", 1000)
