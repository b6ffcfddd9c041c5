"""The codec's accept path against its error path: the same verdict and equal events.

The drill format is one table (`codec._FORMAT`). Good lines are taken by a plain walk over it;
a line that walk will not take goes to pydantic models built from the same table, which word
every problem. Two paths may drift only if one of them reads the table differently, so this
throws random lines, mostly near-valid, at both: whenever the walk accepts, the models accept
with the very same event (compared by `repr`, so `1.0` and `1` differ); whenever the walk
doubts, the models refuse the line.
"""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from papertrade.core import codec

ANYTHING: list[Any] = [
    None, True, False, 0, 1, -1, 5, 1.5, 10**16, "", " ", "0", "1", "-1", "0.5", "1e3",
    " 2 ", "NaN", "abc", "BTCUSDT", "x" * 65, [], {}, ["buy"],
]  # fmt: skip
GOOD: dict[str, list[Any]] = {
    "decimal": ["1", "0.5", "60000", "60000.0", "0.000000000000000001", "-0.5", "0", "2", "-0",
                1, 1.5, " 3 ", "1e2"],
    "symbol": ["BTCUSDT", "btcusdt", " ETHUSDT ", "BTC-1", "BTC\u0661", "a" * 41],
    "ident": ["a", "o-1", " ", "x" * 64],
    "label": ["name", "", "n" * 201],
    "int": [0, 1, 5, 125, 1000, 1001, 253402300799999, 253402300800000, True, "1", 1.0],
    "bool": [True, False, 0, 1, "true"],
    "words": [
        "buy", "sell", "isolated", "cross", "both", "long", "short", "one_way", "hedge",
        "market", "limit", "stop_market", "stop_limit", "take_profit_market",
        "take_profit_limit", "trailing_stop_market", "contract", "mark", "GTC", "IOC",
        "FOK", "GTX", "GTD", "hold", "BUY", 1,
    ],
}  # fmt: skip


def _pool(kind: codec._Kind) -> list[Any]:
    if kind.words:
        return list(kind.words) + GOOD["words"][:4]
    if kind.strict_bool:
        return GOOD["bool"]
    if kind.py is int:
        return GOOD["int"]
    if kind is codec.SYMBOL_K:
        return GOOD["symbol"]
    if kind is codec.IDENT_K:
        return GOOD["ident"]
    if kind is codec.LABEL_K:
        return GOOD["label"]
    return GOOD["decimal"]


GOOD_LINES: list[dict[str, Any]] = [
    {"type": "mark", "ts": 1, "symbol": "BTCUSDT", "price": "60000"},
    {"type": "quote", "ts": 1, "symbol": "BTCUSDT", "bid": "1", "ask": "2"},
    {"type": "order", "ts": 1, "id": "a", "symbol": "X", "side": "buy", "qty": "1",
     "order_type": "market"},
    {"type": "order", "ts": 1, "id": "b", "symbol": "X", "side": "sell", "qty": "1",
     "order_type": "limit", "price": "2", "margin_mode": "isolated", "leverage": 5},
    {"type": "order", "ts": 1, "id": "c", "symbol": "X", "side": "sell",
     "order_type": "stop_market", "trigger_price": "2", "close_position": True},
    {"type": "amend", "ts": 1, "id": "a", "price": "2"},
    {"type": "adjust_margin", "ts": 1, "symbol": "X", "amount": "-5"},
    {"type": "session", "balance": "100", "position_mode": "hedge"},
]  # fmt: skip
"""Good lines to start from: random fields alone rarely make a valid order."""


@st.composite
def lines(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    if draw(st.booleans()):
        obj = dict(draw(st.sampled_from(GOOD_LINES)))
        kind = obj["type"]
        fields, _post = codec._FORMAT[kind]
        for _ in range(draw(st.integers(0, 2))):
            f = draw(st.sampled_from(fields))
            obj[f.name] = draw(st.sampled_from([*_pool(f.kind), None]))
        return kind, obj
    kind = draw(st.sampled_from(codec.INPUT_TYPES))
    fields, _post = codec._FORMAT[kind]
    obj = {"type": kind}
    for f in fields:
        if f.default is codec.REQUIRED:
            present = draw(st.integers(0, 19)) > 0  # usually there
        else:
            present = draw(st.booleans())
        if present:
            wild = draw(st.integers(0, 9)) == 0
            obj[f.name] = draw(st.sampled_from(ANYTHING if wild else _pool(f.kind)))
    if draw(st.integers(0, 14)) == 0:
        obj[draw(st.sampled_from(["side", "extra", "qty", "price", "Type"]))] = "1"
    return kind, obj


def _verdicts(kind: str, obj: dict[str, Any]) -> bool:
    """Both paths on one line; whether it was accepted (asserting they agree)."""
    try:
        fast: dict[str, Any] | None = codec._fast(kind, dict(obj))
    except (codec._Doubt, ValueError, TypeError):
        fast = None
    try:
        slow: dict[str, Any] | None = codec._slow(kind, dict(obj), 1)
    except codec.FormatError:
        slow = None
    if fast is None:
        assert slow is None, f"the models accept what the walk doubts: {obj}"
        return False
    assert slow is not None, f"the walk accepts what the models refuse: {obj}"
    assert repr(codec._build(kind, fast)) == repr(codec._build(kind, slow))
    return True


@settings(max_examples=100, deadline=None)
@given(lines())
def test_the_accept_path_and_the_error_models_agree(line: tuple[str, dict[str, Any]]) -> None:
    _verdicts(*line)


def test_every_one_field_change_of_a_good_line_gets_one_verdict() -> None:
    """Exhaustive where hypothesis samples: every field of every starting line set to every
    value of its pool and of the wild pool, or dropped; both verdicts must occur per type."""
    seen: set[tuple[str, bool]] = set()
    for good in GOOD_LINES:
        kind = good["type"]
        fields, _post = codec._FORMAT[kind]
        seen.add((kind, _verdicts(kind, good)))
        for f in fields:
            dropped = {k: v for k, v in good.items() if k != f.name}
            seen.add((kind, _verdicts(kind, dropped)))
            for value in _pool(f.kind) + ANYTHING:
                seen.add((kind, _verdicts(kind, {**good, f.name: value})))
        seen.add((kind, _verdicts(kind, {**good, "extra": "1"})))
    kinds = {line["type"] for line in GOOD_LINES}
    assert seen == {(k, ok) for k in kinds for ok in (True, False)}


def test_a_good_mark_line_never_imports_pydantic() -> None:
    """The point of the accept path: reading good lines costs no pydantic import (checked
    in a fresh interpreter, since this one has imported it)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from papertrade.core import codec\n"
        'codec.parse_line(\'{"type":"mark","ts":1,"symbol":"BTCUSDT","price":"1"}\')\n'
        "print('pydantic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


_DIGITS = st.text("0123456789", max_size=14)
# The language of `[+-]?[0-9]{0,14}(\.[0-9]{0,14})?`, built from parts: `st.from_regex` spent
# seconds generating it.
_SHORT_DECIMALS = st.builds(
    lambda sign, whole, places: sign + whole + ("" if places is None else "." + places),
    st.sampled_from(["", "+", "-"]),
    _DIGITS,
    st.none() | _DIGITS,
)


@settings(max_examples=100, deadline=None)
@given(_SHORT_DECIMALS)
@example("1234567890.12345678")  # 18 digits in 19 characters: counted, accepted
@example("1234567890.123456789")  # 19 digits in 20 characters: counted, refused
@example("0.00000000000000001")  # 17 places in 19 characters
def test_a_short_decimal_skips_only_a_digit_count_that_cannot_fail(text: str) -> None:
    """`Bound.parse` skips counting digits for text of at most 18 characters without an
    exponent; counting them anyway gives the same verdict and value for every bound
    (texts up to 29 characters: both sides of the cut-off)."""
    from decimal import Decimal

    from papertrade.core import numbers as n

    for bound in (n.PRICE, n.QTY, n.SIZE, n.RATE, n.AMOUNT):
        try:
            fast: Decimal | str = bound.parse(text)
        except n.BadNumber as exc:
            fast = str(exc)
        try:
            full: Decimal | str = bound.check(n._finite(text))  # digits counted
        except n.BadNumber as exc:
            full = str(exc)
        assert repr(fast) == repr(full)
