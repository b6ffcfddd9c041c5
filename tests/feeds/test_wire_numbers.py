"""Venue numbers: the fast paths of `positive`, `non_negative` and `finite` give exactly what
`Bound.parse` gives.

The fast path (issue 14) accepts text by its form; the property holds it to the bound's own
parser on text near and across every edge of the form: same value to the digit and exponent,
same drop reason, for prices, sizes and rates.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from papertrade.core.numbers import PRICE, RATE, SIZE, BadNumber, Bound
from papertrade.feeds.base import Drop, finite, non_negative, positive, wire_number

BOUNDS = {"bad_price": PRICE, "bad_size": SIZE, "bad_rate": RATE}
PARSERS = {"bad_price": positive, "bad_size": non_negative, "bad_rate": finite}


def reference(text: str, bound: Bound, reason: str) -> tuple[str, object]:
    try:
        value = bound.parse(text)
    except BadNumber:
        return ("drop", reason)
    return ("value", value.as_tuple())


def ours(text: str, reason: str) -> tuple[str, object]:
    try:
        value = PARSERS[reason](text)
    except Drop as drop:
        return ("drop", drop.reason)
    return ("value", value.as_tuple())


NUMBERY = st.one_of(
    st.from_regex(r"\A-?[0-9]{0,14}(\.[0-9]{0,19})?\Z"),
    st.from_regex(r"\A[ +-]?[0-9]{1,3}(\.[0-9]*)?([eE][+-]?[0-9]{1,3})?\Z"),
    st.text(alphabet="0123456789.-+eE ", max_size=22),
)


@settings(max_examples=100, deadline=None)
@given(NUMBERY, st.sampled_from(sorted(BOUNDS)))
@example("999999999999.99999", "bad_price")  # the most the form takes: 12 + 5 digits
@example("999999999999.999999", "bad_price")  # 18 digits: still the form
@example("0.00000000000000001", "bad_size")  # 17 decimals
@example("0.000000000000000001", "bad_size")  # 18 decimals: bound.parse decides
@example("0.000", "bad_price")  # zero is no price
@example("0.000", "bad_size")  # an empty book side is 0
@example("-0.0", "bad_rate")
@example("-0.00050000", "bad_rate")
@example("1", "bad_rate")
@example("1000000000000", "bad_price")  # 1e12 itself: 13 digits, the bound decides
@example("00061800.20", "bad_price")
def test_the_fast_path_agrees_with_the_bound(text: str, reason: str) -> None:
    bound = BOUNDS[reason]
    assert ours(text, reason) == reference(text, bound, reason)


@pytest.mark.parametrize("value", [61800.2, 1, None, ["1"], True])
def test_a_number_that_is_not_a_string_is_an_invalid_field(value: object) -> None:
    for parse in (positive, non_negative, finite, lambda v: wire_number(v, PRICE, "bad_price")):
        with pytest.raises(Drop) as raised:
            parse(value)
        assert raised.value.reason == "invalid_fields"


def test_the_fast_path_keeps_the_digits_as_sent() -> None:
    assert positive("61800.20").as_tuple() == Decimal("61800.20").as_tuple()
    assert non_negative("0.000").as_tuple() == Decimal(0).as_tuple()
