"""A journal row decodes through a cheap trusted path, and that path never decides differently
from the strict drill edge.

`payload.decode` matches market rows whole with a pattern and walks the others with the
format's checks (issue 14: replay at engine speed); on any doubt it hands the row to
`core.codec.parse_object`, which is what every row went through before. `strict` below is that
old path, kept here as the reference: for any row text, both must give equal events or the
same error.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.saves import payload
from papertrade.saves.errors import CorruptStoreError
from papertrade.saves.synthetic import random_stream


def strict(kind: str, ts: int, text: str) -> ev.Event:
    """The row through the drill edge only (the decoder as it was before the trusted path)."""
    try:
        event = codec.parse_object(payload.to_object(kind, ts, text))
    except codec.FormatError as exc:
        raise CorruptStoreError(exc.message) from None
    except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise CorruptStoreError(f"does not validate ({type(exc).__name__})") from None
    if isinstance(event, ev.SessionSettings):
        raise CorruptStoreError("a session line where an event belongs")
    return event


def verdict(kind: str, ts: int, text: str, decoder: Any) -> tuple[str, Any]:
    try:
        event = decoder(kind, ts, text)
    except CorruptStoreError as exc:
        return "error", str(exc)
    return "event", (type(event), dataclasses.astuple(event), _reprs(event))


def _reprs(event: ev.Event) -> tuple[str, ...]:
    """The values' texts too: Decimal("1.50") == Decimal("1.5"), but a replay must keep
    the digits it was given."""
    return tuple(repr(getattr(event, f.name)) for f in dataclasses.fields(event))


def read(kind: str, ts: int, text: str) -> ev.Event:
    """The row as a journal's hot loop reads it: its kind's reader (`payload.READERS`, for a
    ts the loop has already checked), then `payload.decode` when the reader doubts it."""
    reader = payload.READERS.get(kind)
    in_range = 0 <= ts <= 253_402_300_799_999
    taken = reader(ts, text) if reader is not None and in_range else None
    return taken if taken is not None else payload.decode(kind, ts, text)


def assert_same(kind: str, ts: int, text: str) -> None:
    expected = verdict(kind, ts, text, strict)
    assert verdict(kind, ts, text, payload.decode) == expected, text
    assert verdict(kind, ts, text, read) == expected, text


# Values a row might hold, good and bad: canonical decimals, the edges of every bound, texts
# the pattern must not take (exponents, zeros, leading zeros, signs, spaces), wrong types.
# fmt: off
ODD_DECIMALS = [
    "0", "0.000", "-0", "-0.0", "1", "-1", "1.0", "0.5", "-0.5", "-0.0001", "1E+2", "1e2",
    "0E-8", "1000000000000", "999999999999.99", "1000000000000.0", "9999999999999", "007.5",
    ".5", "5.", "+5", " 5", "NaN", "Infinity", "-", "1.0000000000000000001",
    "123456789012345678", "1234567890123456789", "0.000000000000000001",
    "0.0000000000000000001", "007", "1..2", ".", "-.5", "5-", "--1", "1.2.3", "-1.5",
    "\u0661\u0662", "\uff11", "1_000", "1 ", "\t1", "1000000000000.000001", "-1.0",
]
# fmt: on
DECIMAL_TEXTS = st.one_of(
    st.decimals(min_value=Decimal("-2"), max_value=Decimal("2e12"), places=4).map(str),
    st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("1e13")).map(str),
    st.sampled_from(ODD_DECIMALS),
)
VALUES = st.one_of(
    DECIMAL_TEXTS,
    st.sampled_from(["BTCUSDT", "ETHUSDT", "btcusdt", " BTCUSDT", "A-B_C.D", "", "X" * 41]),
    st.sampled_from(["buy", "sell", "limit", "market", "cross", "isolated", "one_way", "long"]),
    st.text(max_size=6),
    st.integers(-5, 300),
    st.sampled_from([1_767_225_600_000, 253_402_300_799_999, 253_402_300_800_000, 10**14]),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
)
KINDS = sorted(payload.FIELDS)


@st.composite
def rows(draw: st.DrawFn) -> tuple[str, int, str]:
    kind = draw(st.sampled_from(KINDS))
    size = draw(st.integers(0, len(payload.FIELDS[kind]) + 1))
    values = draw(st.lists(VALUES, min_size=size, max_size=size))
    ts = draw(st.sampled_from([0, 1_767_225_600_000, 253_402_300_799_999, -1, 2**62]))
    return kind, ts, json.dumps(values, separators=(",", ":"))


@settings(max_examples=100, deadline=None)
@given(rows())
def test_any_row_gets_the_strict_paths_verdict(row: tuple[str, int, str]) -> None:
    assert_same(*row)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, int, str]:
    """A recorded row with one character replaced, inserted or removed (disk damage)."""
    kind, ts, text = draw(st.sampled_from(RECORDED))
    at = draw(st.integers(0, len(text)))
    char = draw(st.sampled_from(list('0123456789.-",[]nule Ee+x')))
    how = draw(st.sampled_from(["replace", "insert", "delete"]))
    if how == "insert":
        return kind, ts, text[:at] + char + text[at:]
    if how == "replace":
        return kind, ts, text[:at] + char + text[at + 1 :]
    return kind, ts, text[:at] + text[at + 1 :]


RECORDED = [payload.encode(e) for e in random_stream(11, 400)]


@settings(max_examples=100, deadline=None)
@given(mutated())
def test_a_damaged_recorded_row_gets_the_strict_paths_verdict(row: tuple[str, int, str]) -> None:
    assert_same(*row)


def test_recorded_rows_decode_to_their_events_on_both_paths() -> None:
    for event in random_stream(12, 3000):
        kind, ts, text = payload.encode(event)
        assert_same(kind, ts, text)
        assert payload.decode(kind, ts, text) == event
        assert read(kind, ts, text) == event


# Market rows as the pattern readers (`payload.READERS`) see them: texts they take (with
# the strict path's value, exponent included) and texts they must leave to the strict path,
# which then accepts or words them itself. The reader is asked directly, so a row the
# strict path happens to accept cannot hide a reader that refused what it should take.
TAKEN = [
    ("quote", '["BTCUSDT",".5","5.","007","1"]'),
    ("quote", '["BTCUSDT","1","1"]'),
    ("quote", '["BTCUSDT","999999999999.99","1000000000000","0.000000000000001","2"]'),
    ("quote", '["BTCUSDT","1","2",null,"3"]'),
    ("mark", '["ETHUSDT","3000.10",null,"-0.0001",1767254400000]'),
    ("mark", '["ETHUSDT","3000.10",null,"1"]'),
    ("trade", '["A-B_C.D","123456789012.34567","0.0000000000000001"]'),
    ("funding", '["BTCUSDT","-.5"]'),
]
DOUBTED = [
    ("quote", '["BTCUSDT","0","1"]'),  # zero: the strict path's Decimal(0)
    ("quote", '["BTCUSDT","1","2","0.000","1"]'),
    ("quote", '["BTCUSDT","1..2","3"]'),
    ("quote", '["BTCUSDT",".","3"]'),
    ("quote", '["BTCUSDT","1.0000000000000000001","3"]'),  # 19+ characters
    ("quote", '["BTCUSDT","1000000000000.1","1000000000000.2"]'),  # above the bound
    ("quote", '["BTCUSDT","-1","3"]'),  # `-` where the bound does not go below zero
    ("quote", '["BTCUSDT","2","1"]'),  # bid above ask
    ("quote", '["BTCUSDT", "1","2"]'),  # whitespace in the array
    ("quote", '["BTCUSDT"," 1","2"]'),  # whitespace in the number
    ("quote", '["BTCUSDT","\\u0031","2"]'),  # an escape
    ("quote", '["BTCUSDT","\u0661","2"]'),  # a non-ASCII digit
    ("quote", '["BTCUSDT","1","\\u0661"]'),
    ("quote", '["BTCUSDT","1e2","200"]'),
    ("quote", '["BTCUSDT",null,"2"]'),  # null in a required field
    ("mark", '["BTCUSDT","5",null,"-1"]'),  # the low edge of an inclusive bound
    ("mark", '["BTCUSDT","5",null,"-0.0"]'),
    ("mark", '["BTCUSDT","5",null,"1-"]'),
    ("mark", '["BTCUSDT","5",null,"--1"]'),
    ("mark", '["BTCUSDT","5",null,"1.5"]'),
    ("mark", '["btcusdt","5"]'),
    ("funding", '["BTCUSDT","-"]'),
    ("trade", '["BTCUSDT","1","2",null]'),
]


@pytest.mark.parametrize(("kind", "text"), TAKEN)
def test_a_market_reader_takes_plain_numbers_with_the_strict_paths_values(
    kind: str, text: str
) -> None:
    taken = payload.READERS[kind](7, text)
    assert taken is not None
    assert verdict(kind, 7, text, lambda *_: taken) == verdict(kind, 7, text, strict)


@pytest.mark.parametrize(("kind", "text"), DOUBTED)
def test_a_market_reader_leaves_anything_else_to_the_strict_path(kind: str, text: str) -> None:
    assert payload.READERS[kind](7, text) is None
    assert_same(kind, 7, text)


@pytest.mark.parametrize(
    ("kind", "text", "error"),
    [
        ("quote", '["BTCUSDT","60001","60000"]', "bid 60001 is above ask 60000"),
        ("mark", '["BTCUSDT","0"]', "must be positive"),
        ("mark", '["BTCUSDT","1000000000000.5"]', "must be at most"),
        ("trade", '["BTCUSDT","1","2","3"]', "malformed payload"),
        ("funding", '["BTCUSDT","1.5"]', "must be at most 1"),
        ("mark", '["BTC USDT","1"]', "not a valid symbol"),
        ("order", '["o1","BTCUSDT","buy","1","market",null,null,null,false,true]', "post_only"),
    ],
)
def test_a_row_the_trusted_path_must_not_take_fails_with_the_strict_words(
    kind: str, text: str, error: str
) -> None:
    with pytest.raises(CorruptStoreError, match=error):
        payload.decode(kind, 1, text)
    assert_same(kind, 1, text)


def test_texts_outside_the_pattern_keep_their_strict_values() -> None:
    # A zero size normalises to "0", an exponent is kept as written, a middle null is None.
    quote = payload.decode("quote", 5, '["BTCUSDT","1E+2","100.5","0.000","2"]')
    assert quote == ev.Quote(5, "BTCUSDT", Decimal(100), Decimal("100.5"), Decimal(0), Decimal(2))
    assert (repr(quote.bid), repr(quote.bid_qty)) == ("Decimal('1E+2')", "Decimal('0')")
    mark = payload.decode("mark", 5, '["ETHUSDT","3000.10",null,"-0.0001",1767254400000]')
    assert mark == ev.MarkPrice(
        5, "ETHUSDT", Decimal("3000.10"), None, Decimal("-0.0001"), 1767254400000
    )
    assert repr(mark.price) == "Decimal('3000.10')"


def test_every_event_class_takes_ts_first_as_the_trusted_path_builds_it() -> None:
    for kind, names in payload.FIELDS.items():
        cls = codec.event_class(kind)
        assert [f.name for f in dataclasses.fields(cls)] == ["ts", *names]  # type: ignore[arg-type]


def test_each_market_pattern_has_one_group_per_stored_field() -> None:
    # The market readers unpack the groups straight into the event, in `FIELDS` order.
    for kind in ("quote", "mark", "trade", "funding"):
        assert payload._PATTERNS[kind].groups == len(payload.FIELDS[kind])


@pytest.mark.parametrize(
    "text",
    [text for kind, _, text in RECORDED if kind == "quote"]
    + [text for kind, text in TAKEN + DOUBTED if kind == "quote"]
    + ['["BTCUSDT","1","2",null,null]', '["BTCUSDT","1","2","3"]', '["BTCUSDT","1","2","3","4",]'],
)
def test_the_whole_quote_pattern_matches_a_subset_of_the_general_one_alike(text: str) -> None:
    # `_quote` tries the pattern of a quote with both sizes first: whatever it matches, the
    # general pattern matches with the same groups (so the checks after it are the same).
    whole = payload._WHOLE_QUOTE(text)
    general = payload._QUOTE(text)
    if whole is not None:
        assert general is not None and whole.groups() == general.groups()
    elif general is not None:
        assert None in general.groups()  # a quote without both sizes


# An order row from values each field accepts alone, in every combination the rule across an
# order's fields (`core.codec.order_problem`) looks at: the trusted path
# asks that rule on the built order, and must refuse exactly what the strict path refuses.
ORDER_OPTIONS: dict[str, list[Any]] = {
    "price": ["60000.5"],
    "reduce_only": [False, True],
    "post_only": [False, True],
    "trigger_price": ["59000"],
    "working_type": ["mark"],
    "activation_price": ["61000"],
    "callback_rate": ["1.5"],
    "time_in_force": ["GTC", "IOC", "GTX", "GTD"],
    "good_till": [1_767_225_900_000],
    "close_position": [False, True],
    "price_protect": [True],
    "stop_loss": ["59500"],
}
ORDER_TYPES = ["stop_market", "stop_limit", "take_profit_market", "trailing_stop_market"]


@st.composite
def order_rows(draw: st.DrawFn) -> tuple[str, int, str]:
    """Mostly absent optional fields (null), so that whole orders come out as often as
    refused ones."""
    values: list[Any] = []
    for name in payload.FIELDS["order"]:
        if name == "order_type":
            values.append(draw(st.sampled_from(["market", "limit", *ORDER_TYPES])))
        elif name == "qty":
            values.append(draw(st.sampled_from(["0.5", "0.5", "0", None])))
        elif name in ORDER_OPTIONS:
            values.append(draw(st.sampled_from([None, None, None, *ORDER_OPTIONS[name]])))
        else:
            values.append({"id": "o1", "symbol": "BTCUSDT", "side": "sell"}.get(name))
    while values and values[-1] is None:
        values.pop()
    return "order", 1_767_225_600_000, json.dumps(values, separators=(",", ":"))


@settings(max_examples=100, deadline=None)
@given(order_rows())
def test_an_order_row_gets_the_strict_paths_verdict(row: tuple[str, int, str]) -> None:
    assert_same(*row)


def test_market_and_command_rows_take_the_trusted_path() -> None:
    # Not one recorded row needs the strict path (which would cost a pydantic model each).
    for kind, ts, text in RECORDED:
        if kind != "book":
            assert payload.trusted(kind, ts, text) == payload.decode(kind, ts, text), text


# Orders of ten values (`payload._order`, the usual market and limit order unrolled): rows it
# takes with the strict path's event, and rows it must leave (to `_walk`, then the strict path).
ORDERS_TAKEN = [
    '["o1","BTCUSDT","buy","0.104","limit","60034.0",null,null,false,false]',
    '["o2","ETHUSDT","sell","1.928","market",null,"cross",20,false,false]',
    '["o3","ETHUSDT","sell","1.928","limit","3001.73",null,10,true,true]',
    '["o-4:x","BTCUSDT","buy",".5","market",null,"isolated",null,true,false]',  # id via its check
    '["\\u00e9","BTCUSDT","buy","007","limit","1E+2",null,null,false,false]',
]
ORDERS_DOUBTED = [
    '["o1","BTCUSDT","buy","0.5","market",null,null,null,false,true]',  # post_only market
    '["o1","BTCUSDT","buy","0.5","market","60000",null,null,false,false]',  # market, price
    '["o1","BTCUSDT","buy","0.5","limit",null,null,null,false,false]',  # limit, no price
    '["o1","BTCUSDT","buy","0","limit","1",null,null,false,false]',  # zero qty
    '["o1","BTCUSDT","buy",null,"limit","1",null,null,false,false]',  # no qty
    '["o1","BTCUSDT","buy","0.5","stop_market",null,null,null,false,false]',  # no trigger
    '["","BTCUSDT","buy","0.5","limit","1",null,null,false,false]',  # empty id
    '[" ","BTCUSDT","buy","0.5","limit","1",null,null,false,false]',
    '["o1","BTCUSDT","buy","-0.5","limit","1",null,null,false,false]',
    '["o1","BTCUSDT","buy","0.5","limit","1",null,null,false,0]',
    '["o1","BTCUSDT","buy","0.5","limit","1",null,null,false,false',
    '["o1","BTCUSDT","buy","0.5","limit","1",null,null,false,false,null,null,null,"x"]',
    '["o1","BTCUSDT","hold","0.5","limit","1",null,null,false,false]',
    '["o1","BTCUSDT","buy","0.5","limit","1",null,null,false, false]',
    '["' + "x" * 65 + '","BTCUSDT","buy","0.5","limit","1",null,null,false,false]',
]


@pytest.mark.parametrize("text", ORDERS_TAKEN)
def test_the_order_reader_takes_usual_orders_with_the_strict_paths_values(text: str) -> None:
    taken = payload.READERS["order"](7, text)
    assert isinstance(taken, ev.PlaceOrder)
    assert verdict("order", 7, text, lambda *_: taken) == verdict("order", 7, text, strict)


@pytest.mark.parametrize("text", ORDERS_DOUBTED)
def test_the_order_reader_leaves_anything_else_to_the_strict_path(text: str) -> None:
    assert payload.READERS["order"](7, text) is None
    assert_same("order", 7, text)


def test_an_order_of_ten_values_leaves_the_later_fields_at_the_codecs_defaults() -> None:
    # `_order` builds the order from its first ten values alone: the event class's defaults
    # for the fields after post_only must be what the codec fills in for them.
    plan = codec.plan_of("order")
    later = payload.FIELDS["order"][10:]
    built = ev.PlaceOrder(0, "o", "S", "buy", Decimal(1), "limit", Decimal(1))
    assert {name: getattr(built, name) for name in later} == {
        name: plan.defaults[name] for name in later
    }


def test_a_remembered_size_or_rate_is_the_strict_paths_value_each_time() -> None:
    # The market readers remember sizes and rates by their text: a text read again (and
    # again after its memo started afresh) keeps its own digits, "1.50" never becomes the
    # "1.5" read before it; a refused text is never remembered.
    rows = [
        ("quote", '["BTCUSDT","1","2","1.5","1.50"]'),
        ("quote", '["BTCUSDT","1","2","1.50","1.5"]'),
        ("trade", '["BTCUSDT","1","1.50"]'),
        ("mark", '["BTCUSDT","5",null,"-0.00010"]'),
        ("funding", '["BTCUSDT","-0.00010"]'),
        ("funding", '["BTCUSDT","-0.0001"]'),
        ("quote", '["BTCUSDT","1","2","0.00","1"]'),  # zero: the strict path's Decimal(0)
        ("quote", '["BTCUSDT","1","2","0.00","1"]'),
        ("funding", '["BTCUSDT","-1"]'),  # the low edge: the strict path words it
        ("funding", '["BTCUSDT","-1"]'),
    ]
    for _ in range(2):
        for kind, text in rows:
            assert_same(kind, 7, text)
        for n in range(payload.NUMBER_MEMO_SIZE + 1):  # every memo starts afresh once
            payload.READERS["trade"](7, f'["BTCUSDT","1","{n + 1}"]')
            payload.READERS["funding"](7, f'["BTCUSDT","0.{n + 1:06d}"]')
    assert len(payload._SIZES) < payload.NUMBER_MEMO_SIZE
    assert "0.00" not in payload._SIZES and "-1" not in payload._RATES


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        ('["o1"]', True),
        ('["\u00e9t\u00e91"]', True),
        ('["' + "x" * 64 + '"]', True),
        ('["o-1"]', True),  # by the walk
        ('["' + "x" * 65 + '"]', False),
        ('[""]', False),
        ('[" "]', False),
        ('["o1","o2"]', False),
        ('["o1"]]', False),
        ('["o\\u0031"]', True),  # by the walk
        ("[o1]", False),
        ("[]", False),
    ],
)
def test_the_cancel_reader_takes_plain_ids_with_the_strict_paths_values(
    text: str, taken: bool
) -> None:
    # `_cancel` takes an id of letters and digits itself and leaves the rest to `_walk`: the
    # reader (either way) takes exactly these, and always with the strict path's event.
    assert (payload.READERS["cancel"](7, text) is not None) is taken
    assert_same("cancel", 7, text)
