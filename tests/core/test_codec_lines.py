"""The fast path (msgspec) against the strict path: it only takes what the strict path takes,
with the same event.

`parse_line` first offers a line to `codec._quick`: msgspec decodes mark, quote, trade,
funding and snapshot lines into Structs made from the format table, and each decimal and
symbol text goes through its field's own check. Whatever it refuses goes to `codec._parse`
(the standard decoder, then the table walk or the error models), which is the reference
here. For any text: either the fast path refuses it, or the strict path accepts it with an
equal event (compared by `repr`, so "1.0" and "1" differ); a good line of the fast path's
kinds (no key twice) is taken by it; and `parse_line` gives the strict path's verdict,
error words included. The lines are thrown at it in many shapes: any
key order, spaces, escapes, duplicate keys, nulls, numbers where strings belong, unknown
keys, trailing junk, other kinds.
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


def verdict(parse: Any, text: str) -> tuple[str, str]:
    try:
        return "event", repr(parse(text))
    except codec.FormatError as exc:
        return "error", exc.message


def strict(text: str) -> ev.Event | ev.SessionSettings:
    return codec._parse(text, 1)


def check(text: str) -> bool:
    """Both paths on one text; whether the fast path took it (asserting the contract, and
    that it takes every good line of its kinds: else simulate would be slow, not wrong)."""
    quick = codec._quick(text)
    expected = verdict(strict, text)
    if quick is not None:
        assert expected == ("event", repr(quick)), f"the fast path took {text!r}"
    elif expected[0] == "event" and _kind_of(text) in codec.FAST_KINDS:
        raise AssertionError(f"the fast path left a good line to the strict path: {text!r}")
    assert verdict(codec.parse_line, text) == expected
    return quick is not None


def _kind_of(text: str) -> str | None:
    """The line's `type` if no key repeats (msgspec checks each value of a repeated key, the
    standard decoder keeps the last: such a line may be left to the strict path)."""
    pairs = json.loads(text, object_pairs_hook=lambda p: p)
    keys = [k for k, _v in pairs]
    return dict(pairs)["type"] if len(set(keys)) == len(keys) else None


# fmt: off
DECIMALS = [
    "0", "0.000", "-0", "1", "-1", "1.0", "0.5", "-0.5", "-0.0001", "1E+2", "1e2", "0E-8",
    "1000000000000", "999999999999.99", "1000000000000.0", "9999999999999", "007.5", ".5",
    "5.", "+5", " 5", "NaN", "Infinity", "1.0000000000000000001", "123456789012345678",
    "1234567890123456789", "0.000000000000000001", "0.0000000000000000001", "60000.10",
]
SYMBOLS = ["BTCUSDT", "btcusdt", " ETHUSDT", "A-B_C.D", "", "X" * 41, "BTC/USDT", "BTC\u0661"]
RAW = ['"BTC\\u0041"', '"\\u0031.5"', '"\\ud800"', "1e3", "1.0", "-0", "true", "null",
       "[]", "{}", '"1"', "100000000000000000000000", "NaN"]
# fmt: on
VALUES = st.one_of(
    st.sampled_from(DECIMALS),
    st.decimals(min_value=Decimal("-2"), max_value=Decimal("2e12"), places=3).map(str),
    st.sampled_from(SYMBOLS),
    st.sampled_from([0, 1, 1_767_225_600_000, 253_402_300_799_999, 253_402_300_800_000, -1]),
    st.sampled_from([1.5, True, None]),
)
KINDS = ["mark", "quote", "trade", "funding", "snapshot", "book", "order", "session"]
REQUIRED = {
    kind: {f.name for f in codec._FORMAT[kind][0] if f.default is codec.REQUIRED} for kind in KINDS
}


FITTING = {
    "decimal": st.one_of(
        st.sampled_from(["1", "0.5", "60000.10", "-0.0001", "2", "1.0"]),
        st.decimals(min_value=Decimal("0.001"), max_value=Decimal("0.5"), places=3).map(str),
        st.decimals(min_value=Decimal("-2"), max_value=Decimal("2e12"), places=3).map(str),
    ),
    "symbol": st.sampled_from(["BTCUSDT", "btcusdt", "ETHUSDT", "A-B_C.D"]),
    "ts": st.integers(0, 253_402_300_799_999),
}
"""Values that suit a field, so that many lines are good and the fast path's yes is tested
as often as its no."""


def _fitting(kind: codec._Kind) -> st.SearchStrategy[Any]:
    if kind is codec.SYMBOL_K:
        return FITTING["symbol"]
    if kind.py is int:
        return FITTING["ts"]
    if kind.bound is not None:
        return FITTING["decimal"]
    return VALUES


@st.composite
def raw_value(draw: st.DrawFn, kind: codec._Kind | None = None) -> str:
    roll = draw(st.integers(0, 24))
    if roll == 0:
        return draw(st.sampled_from(RAW))
    value = draw(_fitting(kind) if kind is not None and roll > 1 else VALUES)
    return json.dumps(value, ensure_ascii=draw(st.booleans()))


@st.composite
def lines(draw: st.DrawFn) -> str:
    """A line of any kind: its fields mostly there, in any order, with any values; now and
    then a key twice, an unknown key, spaces, a missing or doubled `type`, junk after it."""
    kind = draw(st.sampled_from(KINDS))
    kinds = codec.field_kinds(kind)
    names = list(kinds)
    pairs = [("type", json.dumps(kind))]
    for name in names:
        if draw(st.integers(0, 14)) if name in REQUIRED[kind] else draw(st.booleans()):
            pairs.append((name, draw(raw_value(kinds[name]))))
    if draw(st.integers(0, 9)) == 0:
        pairs.append((draw(st.sampled_from([*names, "type"])), draw(raw_value())))  # twice
    if draw(st.integers(0, 14)) == 0:
        pairs.append((draw(st.sampled_from(["extra", "Type", "TS", "prices"])), '"1"'))
    if draw(st.integers(0, 19)) == 0:
        pairs.pop(0)
    if draw(st.booleans()):
        pairs = draw(st.permutations(pairs))
    space = draw(st.sampled_from(["", " "]))
    body = f",{space}".join(f'"{k}":{space}{v}' for k, v in pairs)
    tail = draw(st.sampled_from(["", "", "", "", "\n", "\n", " ", "\r\n", " x", ",", "}"]))
    return "{" + space + body + space + "}" + tail


@settings(max_examples=100, deadline=None)
@given(lines())
def test_any_line_the_fast_path_takes_the_strict_path_takes_alike(text: str) -> None:
    check(text)


@pytest.mark.parametrize(
    ("text", "fast"),
    [
        ('{"type":"quote","ts":5,"symbol":"BTCUSDT","bid":"60000.10","ask":"60000.2"}', True),
        ('{"type":"quote","ts":5,"symbol":"BTCUSDT","bid":"2","ask":"1"}', False),
        ('{"type":"quote","ts":5,"symbol":"BTCUSDT","bid":"1","ask":"1"}', True),
        ('{"type":"quote","ts":5,"symbol":"BTCUSDT","bid":"1","ask":"2","ask_qty":"0.000"}', True),
        ('{"type":"quote","ts":5,"symbol":"btcusdt","bid":"1","ask":"2","bid_qty":"3"}', True),
        ('{"type":"mark","ts":5,"symbol":"BTCUSDT","price":"1","funding_rate":"-0.0001"}', True),
        ('{"type":"mark","ts":5,"symbol":"BTCUSDT","price":"1","next_funding_ts":10}', True),
        ('{"type":"mark","ts":5,"symbol":"BTCUSDT","price":"1","index":null}', True),
        ('{"symbol":"BTCUSDT", "price":"1", "type":"mark", "ts":5}', True),
        ('{"type":"mark","ts":5,"ts":6,"symbol":"BTCUSDT","price":"1"}', True),
        ('{"type":"mark","ts":5,"symbol":"BTC\\u0041","price":"1"}', True),
        ('{"type":"mark","ts":5,"symbol":"BTCUSDT","price":"1"}\n', True),
        ('{"type":"mark","ts":5,"symbol":"BTCUSDT","price":"0"}', False),
        ('{"type":"mark","ts":5,"symbol":"BTCUSDT","price":1}', False),
        ('{"type":"mark","ts":253402300800000,"symbol":"BTCUSDT","price":"1"}', False),
        ('{"type":"mark","ts":-1,"symbol":"BTCUSDT","price":"1"}', False),
        ('{"type":"mark","ts":true,"symbol":"BTCUSDT","price":"1"}', False),
        ('{"type":"mark","type":"quote","ts":5,"symbol":"BTCUSDT","price":"1"}', False),
        ('{"type":"funding","ts":5,"symbol":"BTCUSDT","rate":"1"}', True),
        ('{"type":"trade","ts":5,"symbol":"BTCUSDT","price":"1","qty":"1","x":1}', False),
        ('{"type":"trade","ts":5.0,"symbol":"BTCUSDT","price":"1","qty":"1"}', False),
        ('{"type":"trade","ts":5,"symbol":"BTCUSDT","price":"1","qty":"1"} x', False),
        ('{"type":"snapshot","ts":5}', True),
        ('{"type":"cancel","ts":5,"id":"a"}', False),
        ('{"type":"book","ts":5,"symbol":"X","bids":[["1","1"]],"asks":[["2","1"]]}', False),
        ('{"type":"session","balance":"100"}', False),
        ('{"type":"mark","ts":5,"symbol":"BTCUSDT","price":"1"' + " " * 65_536 + "}", False),
    ],
)
def test_edge_lines_get_the_strict_verdict(text: str, fast: bool) -> None:
    """`fast`: the fast path takes the line (the others it leaves to the strict path)."""
    assert check(text) is fast


def test_the_workload_lines_take_the_fast_path_and_equal_the_strict_path() -> None:
    text = '{"type":"mark","ts":1767225600002,"symbol":"BTCUSDT","price":"32450.30"}'
    assert check(text)
    assert codec._quick(text) == ev.MarkPrice(1767225600002, "BTCUSDT", Decimal("32450.30"))
    text = '{"type":"quote","ts":1767225600003,"symbol":"BTCUSDT","bid":"1.5","ask":"1.6"}'
    assert check(text)


def test_the_fast_path_is_made_from_the_format_table() -> None:
    """Every kind whose fields are decimals, a symbol and times is taken (a new field of one
    of them comes along); the others are not."""
    assert set(codec.FAST_KINDS) == {"mark", "quote", "trade", "funding", "snapshot"}
    for kind in codec.FAST_KINDS:
        struct = codec._wire_path().structs[kind]
        assert set(struct.__struct_fields__) == set(codec.field_kinds(kind))


def test_the_memo_stays_bounded_and_right() -> None:
    """More distinct prices than the memo keeps: it starts afresh, and every line still
    gets its own price."""
    for i in range(codec.STR_MEMO + 10):
        price = f"{i + 1}.25"
        text = f'{{"type":"mark","ts":5,"symbol":"BTCUSDT","price":"{price}"}}'
        got = codec._quick(text)
        assert isinstance(got, ev.MarkPrice)
        assert got.price == Decimal(i + 1) + Decimal("0.25")
    assert all(len(memo) <= codec.STR_MEMO + 1 for memo in codec._WIRE_MEMOS.values())


def test_a_refused_text_is_not_remembered() -> None:
    """A text a check refuses raises every time: the memo keeps only what the check
    returned."""
    text = '{"type":"mark","ts":5,"symbol":"BTCUSDT","price":"-1"}'
    for _ in range(2):
        assert codec._quick(text) is None
        assert verdict(codec.parse_line, text)[0] == "error"
