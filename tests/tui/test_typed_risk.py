"""A risk typed in the ticket's quantity field (`r1%`, `r$200`): read exactly, or refused with
a reason; anything not starting with `r` is left to `parse_quantity`."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from papertrade.core.sizing import Risk
from papertrade.tui.service.typed import QuantityError, parse_risk


@pytest.mark.parametrize(
    ("text", "risk"),
    [
        ("r1%", Risk(Decimal(1), "percent")),
        (" R 0.5 % ", Risk(Decimal("0.5"), "percent")),
        ("r$200", Risk(Decimal(200), "usdt")),
        ("r$1_500", Risk(Decimal(1500), "usdt")),
        ("0.01", None),
        ("$500", None),
        ("25%", None),
    ],
)
def test_a_typed_risk_is_read_exactly(text: str, risk: Risk | None) -> None:
    assert parse_risk(text) == risk


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("r", "a risk is r1% (of equity) or r$200 (USDT)"),
        ("r0%", "above 0 and at most 100"),
        ("r101%", "above 0 and at most 100"),
        ("r$0", "must be positive"),
        ("r$1e20", "at most"),
        ("r$abc", "is a number, as in r$200"),
        ("r$1,000", "use . for decimals"),
    ],
)
def test_a_bad_risk_says_why(text: str, words: str) -> None:
    with pytest.raises(QuantityError, match=re.escape(words)):
        parse_risk(text)
