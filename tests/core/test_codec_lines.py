"""Market lines matched whole (`codec.matcher`) get exactly the table walk's verdict.

`parse_line` takes a mark, quote, trade or funding line in the compact shape `dumps` writes
with one regular expression made from the format table (issue 14: `simulate` at about the
cost of a JSON parse). The reference here is the path every line took before: `json.loads`
then `parse_object`. For any line, both give the same event, values written the same way
(`repr`, so "1.0" and "1" differ), or both refuse it with the same words.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertrade.core import codec
from papertrade.core import events as ev


def walked(text: str) -> ev.Event | ev.SessionSettings:
    """The line without the whole-line pattern: parsed, then the table walk (or its models)."""
    return codec.parse_object(codec._DECODER.decode(text))


def verdict(parse: Any, text: str) -> tuple[str, str]:
    try:
        return "event", repr(parse(text))
    except codec.FormatError as exc:
        return "error", exc.message


# fmt: off
DECIMALS = [
    "0", "0.000", "-0", "1", "-1", "1.0", "0.5", "-0.5", "-0.0001", "1E+2", "1e2", "0E-8",
    "1000000000000", "999999999999.99", "1000000000000.0", "9999999999999", "007.5", ".5",
    "5.", "+5", " 5", "NaN", "1.0000000000000000001", "123456789012345678",
    "1234567890123456789", "0.000000000000000001", "0.0000000000000000001", "60000.10",
]
# fmt: on
VALUES = st.one_of(
    st.sampled_from(DECIMALS),
    st.decimals(min_value=Decimal("-2"), max_value=Decimal("2e12"), places=3).map(str),
    st.sampled_from(["BTCUSDT", "btcusdt", " ETHUSDT", "A-B_C.D", "", "X" * 41, "BTC\\u0041"]),
    st.sampled_from([0, 1, 1_767_225_600_000, 253_402_300_799_999, 10**14, -1, 1.5, True]),
    st.none(),
)
MARKET = ["mark", "quote", "trade", "funding", "snapshot"]


@st.composite
def lines(draw: st.DrawFn) -> str:
    """A line in `dumps`' key order, some fields left out, any values (raw JSON for symbols
    with escapes)."""
    kind = draw(st.sampled_from(MARKET))
    names = [n for n in codec.field_kinds(kind) if n != "ts"]
    parts = [f'"type":"{kind}"', f'"ts":{json.dumps(draw(VALUES))}']
    for name in names:
        if draw(st.integers(0, 4)):
            value = draw(VALUES)
            raw = '"BTC\\u0041"' if value == "BTC\\u0041" else json.dumps(value)
            parts.append(f'"{name}":{raw}')
    return "{" + ",".join(parts) + "}"


@settings(max_examples=100, deadline=None)
@given(lines())
def test_any_market_line_gets_the_walks_verdict(text: str) -> None:
    assert verdict(codec.parse_line, text) == verdict(walked, text)


@pytest.mark.parametrize(
    "text",
    [
        '{"type":"quote","ts":5,"symbol":"BTCUSDT","bid":"60000.10","ask":"60000.2"}',
        '{"type":"quote","ts":5,"symbol":"BTCUSDT","bid":"2","ask":"1"}',
        '{"type":"quote","ts":5,"symbol":"BTCUSDT","bid":"1","ask":"2","ask_qty":"0.000"}',
        '{"type":"mark","ts":5,"symbol":"BTCUSDT","price":"1","funding_rate":"-0.0001"}',
        '{"type":"mark","ts":5,"symbol":"BTCUSDT","price":"1","next_funding_ts":10}',
        '{"type":"mark","ts":5,"symbol":"BTCUSDT","price":"1","index":null}',
        '{"type":"funding","ts":5,"symbol":"BTCUSDT","rate":"1"}',
        '{"type":"trade","ts":5,"symbol":"BTCUSDT","price":"1","qty":"1","x":1}',
        '{"type":"trade","ts":5.0,"symbol":"BTCUSDT","price":"1","qty":"1"}',
        '{"type":"snapshot","ts":5}',
    ],
)
def test_edge_lines_get_the_walks_verdict(text: str) -> None:
    assert verdict(codec.parse_line, text) == verdict(walked, text)


def test_the_workload_lines_take_the_pattern_and_equal_the_walk() -> None:
    text = '{"type":"mark","ts":1767225600002,"symbol":"BTCUSDT","price":"32450.30"}'
    m = codec._LINE_MATCHERS["mark"]
    assert m.pattern.fullmatch(text) is not None
    assert repr(codec.parse_line(text)) == repr(walked(text))
    assert codec.parse_line(text) == ev.MarkPrice(1767225600002, "BTCUSDT", Decimal("32450.30"))
