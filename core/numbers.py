"""Exact decimal helpers shared by the whole engine, and the one set of bounds for numbers and
times that enter papertrade from outside.

Money and prices are `Decimal` built from strings. Every amount that moves a balance is
quantized to `MONEY` (USDT's 8 decimals) so sums never grow unbounded digit tails and a replay
reproduces every balance to the last digit.

Why bounds: `Decimal` accepts `1E+999999999` and 5,000-digit numbers, and the default context
(28 digits) then raises `InvalidOperation` the first time such a value is quantized or
formatted — one absurd server tick or typed quantity used to kill the terminal. So every edge
(feed parsers, the drill/import codec, the order ticket, CLI options, rows read from disk)
checks values against these bounds, and the engine behind them never meets a number it cannot
format:

| value                          | bound                                                   |
|--------------------------------|---------------------------------------------------------|
| price (mark, index, bid, ask,  | 0 < p ≤ 1e12 (`MAX_PRICE`)                              |
| trade, limit)                  |                                                         |
| quantity (order, trade)        | 0 < q ≤ 1e12 (`MAX_QTY`); book sizes may be 0           |
| every decimal                  | ≤ 18 significant digits and ≤ 18 decimal places         |
| balance                        | 0 < b ≤ 1e15 (`MAX_MONEY`)                              |
| money amount (margin moved)    | abs(m) ≤ 1e15                                           |
| funding rate                   | abs(r) ≤ 1 (`MAX_RATE`, i.e. 100 %)                     |
| fee rate                       | abs(f) ≤ 0.01 (1 %)                                     |
| leverage                       | 1 … 125 (`MAX_LEVERAGE`; drills may ask up to 1000 to   |
|                                | see the engine refuse it)                               |
| `ts` (drills, imports, disk)   | integer ms, 0 … 253402300799999 (9999-12-31T23:59:59.999)|
| `ts` (live feeds)              | 2015-01-01 … now + 1 day (`feeds.base.LiveBounds`)      |

Text is refused before it is parsed when longer than `MAX_NUMBER_CHARS`, and `NaN`,
`Infinity`, `sNaN` are never numbers. `-0` reads as `0`.

The arithmetic context: `CONTEXT` (80 digits, ties to even, the usual traps) is used by every
helper here that quantizes or formats. With inputs inside the bounds, the largest value the
engine can derive (a 1e12 price times a 1e12 quantity, with 18 decimals each) has fewer than 80
digits at 8 decimals, so quantizing and formatting cannot raise; the formatting helpers
(`human`, `plain`) never raise at all, whatever they are given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

ZERO = Decimal(0)
ONE = Decimal(1)
MONEY = Decimal("0.00000001")

MAX_PRICE = Decimal("1e12")
MAX_QTY = Decimal("1e12")
MAX_MONEY = Decimal("1e15")
MAX_RATE = Decimal(1)
MAX_FEE_RATE = Decimal("0.01")
MAX_DIGITS = 18
"""Significant digits and decimal places a number from outside may carry."""
MIN_LEVERAGE = 1
MAX_LEVERAGE = 125
MAX_DRILL_LEVERAGE = 1000
"""Drills may ask for more than any venue bracket allows, to show the engine's refusal."""
MIN_TS_MS = 0
MAX_TS_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z: the last instant `datetime` can print."""
MIN_LIVE_TS_MS = 1_420_070_400_000
"""2015-01-01T00:00:00Z: no venue we read traded perpetuals before."""
LIVE_FUTURE_MS = 86_400_000
"""A live event may be stamped at most one day ahead of our wall clock."""
MAX_NUMBER_CHARS = 64
"""Longest number text parsed at all: 18 digits with sign, point and exponent fit easily."""

CONTEXT = Context(
    prec=80,
    rounding=ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
"""The context of every quantize and format here: wide enough that bounded values never trap."""


class BadNumber(ValueError):
    """A value that is not a finite decimal."""


class OutOfBounds(BadNumber):
    """A finite number outside the documented bounds; the message says which bound."""


def _show(value: object) -> str:
    """A short, escaped rendering of untrusted input for an error message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""ASCII decimal text only: `Decimal` itself also takes `1_000`, Arabic-Indic digits, `NaN`."""

_NON_FINITE = frozenset({"nan", "snan", "inf", "infinity"})

_MAX_EXPONENT = 100
"""`dec` refuses magnitudes past 10**100 (or below 10**-100) outright, so no number it returns
can overflow `CONTEXT` or print a hundred zeros; the tighter `Bound`s then say what fits."""


def dec(value: object) -> Decimal:
    """Parse a decimal from a string or int (never from a float, which is already inexact).

    Finite only, magnitude within 10**±100; every zero (`-0`, `0E+9`) becomes `0` so it never
    prints as "-0"; text longer than `MAX_NUMBER_CHARS` is refused unparsed (a 5,000-digit
    string is an attack, not a price).
    """
    result = _finite(value)
    if not result.is_zero() and abs(result.adjusted()) > _MAX_EXPONENT:
        raise OutOfBounds(f"out of any sensible range: {_show(value)}")
    return result


def _finite(value: object) -> Decimal:
    """`dec` without the magnitude check, for `Bound.parse` to say which bound was broken."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise BadNumber(f"not a number: {value!r}")
    elif isinstance(value, int):
        if abs(value) >= 10**MAX_NUMBER_CHARS:
            raise BadNumber("not a number: an integer with too many digits")
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_NUMBER_CHARS:
            raise BadNumber(f"not a number: {len(text)} characters is too long")
        if not _NUMBER.fullmatch(text):
            word = "a finite number" if text.lstrip("+-").lower() in _NON_FINITE else "a number"
            raise BadNumber(f"not {word}: {_show(value)}")
        result = Decimal(text)
    else:
        raise BadNumber(f"not a decimal string: {_show(value)}")
    if not result.is_finite():
        raise BadNumber(f"not a finite number: {_show(value)}")
    return ZERO if result.is_zero() else result


def _limit(value: Decimal) -> str:
    return f"{int(value):,}" if value == value.to_integral_value() else plain(value)


@dataclass(frozen=True, slots=True)
class Bound:
    """A documented range for one kind of number: `low < x` (or `low <= x` when
    `low_inclusive`) and `x <= high`, at most `MAX_DIGITS` digits and decimal places."""

    what: str
    low: Decimal
    high: Decimal
    low_inclusive: bool = False

    def check(self, value: Decimal, short: bool = False) -> Decimal:
        """`value` if inside the bound, else `OutOfBounds` with words a user can act on.
        `short`: it was written in at most `MAX_DIGITS` characters without an exponent, so
        it cannot have too many digits or places (the costly count is skipped)."""
        if value > self.high:
            raise OutOfBounds(f"must be at most {_limit(self.high)} (got {_short(value)})")
        if value < self.low or (value == self.low and not self.low_inclusive):
            if self.low == 0:
                word = "zero or more" if self.low_inclusive else "positive"
                raise OutOfBounds(f"must be {word} (got {_short(value)})")
            raise OutOfBounds(f"must be at least {_limit(self.low)} (got {_short(value)})")
        if short or value.is_zero():
            return value
        if value.adjusted() < -MAX_DIGITS:
            raise OutOfBounds(f"must have at most {MAX_DIGITS} decimal places")
        _sign, digits, exponent = value.normalize(CONTEXT).as_tuple()
        assert isinstance(exponent, int)
        if len(digits) > MAX_DIGITS:
            raise OutOfBounds(f"must have at most {MAX_DIGITS} significant digits")
        if exponent < -MAX_DIGITS:
            raise OutOfBounds(f"must have at most {MAX_DIGITS} decimal places")
        return value

    def parse(self, value: object) -> Decimal:
        """Parse (as `dec`) then check; `BadNumber` / `OutOfBounds` say what is wrong."""
        short = (
            type(value) is str
            and len(value) <= MAX_DIGITS
            and "e" not in value
            and "E" not in value
        )
        return self.check(_finite(value), short)


def _short(value: Decimal) -> str:
    """A number for an error message: plain when short, else in exponent form."""
    text = plain(value)
    return text if len(text) <= 24 else f"{value:.6E}"


PRICE = Bound("price", ZERO, MAX_PRICE)
QTY = Bound("quantity", ZERO, MAX_QTY)
SIZE = Bound("size", ZERO, MAX_QTY, low_inclusive=True)
BALANCE = Bound("balance", ZERO, MAX_MONEY)
AMOUNT = Bound("amount", -MAX_MONEY, MAX_MONEY, low_inclusive=True)
RATE = Bound("funding rate", -MAX_RATE, MAX_RATE, low_inclusive=True)
FEE_RATE = Bound("fee rate", -MAX_FEE_RATE, MAX_FEE_RATE, low_inclusive=True)
PERCENT = Bound("percentage", ZERO, Decimal(100))


def timestamp(value: object, low: int = MIN_TS_MS, high: int = MAX_TS_MS) -> int:
    """An event time in integer milliseconds UTC inside `low … high`, else `OutOfBounds`.

    Never a bool or a float (`1e3` from JSON is inexact by the time we see it).
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise OutOfBounds(f"must be whole milliseconds (an integer), got {_show(value)}")
    if not low <= value <= high:
        shown = str(value) if abs(value) < 10**30 else "a number with too many digits"
        raise OutOfBounds(f"must be between {low} and {high} ms (got {shown})")
    return value


def leverage(value: object, high: int = MAX_LEVERAGE) -> int:
    """A leverage: a whole number from 1 to `high` (125, the highest any venue offers)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise OutOfBounds(f"must be a whole number, got {_show(value)}")
    if not MIN_LEVERAGE <= value <= high:
        shown = str(value) if abs(value) < 10**30 else "a number with too many digits"
        raise OutOfBounds(f"must be from {MIN_LEVERAGE} to {high} (got {shown})")
    return value


# --- arithmetic and formatting ----------------------------------------------------------------


def money(value: Decimal) -> Decimal:
    """Round an amount that changes a balance to USDT precision (banker's rounding)."""
    with localcontext(CONTEXT):
        return value.quantize(MONEY, rounding=ROUND_HALF_EVEN)


def quantize(value: Decimal, step: Decimal) -> Decimal:
    """`value` to the exponent of `step` (ties to even) in `CONTEXT`, e.g. a ratio to 0.0001."""
    with localcontext(CONTEXT):
        return value.quantize(step, rounding=ROUND_HALF_EVEN)


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """Largest multiple of `step` not above `value`."""
    with localcontext(CONTEXT):
        return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    """Smallest multiple of `step` not below `value`."""
    with localcontext(CONTEXT):
        return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def round_to(value: Decimal, step: Decimal) -> Decimal:
    """Nearest multiple of `step` (ties to even)."""
    with localcontext(CONTEXT):
        return (value / step).to_integral_value(rounding=ROUND_HALF_EVEN) * step


_PLAIN_MAX_EXP = 40
"""Beyond 10**40 (or below 10**-40) `plain` falls back to exponent form rather than print
forty zeros; bounded values never get there."""


def plain(value: Decimal) -> str:
    """Render without exponent or trailing zeros: Decimal('1E+4') -> '10000', '1.50' -> '1.5'.

    Never raises: non-finite values print as `NaN` / `Infinity`, absurd magnitudes in
    exponent form.
    """
    if not value.is_finite():
        return str(value)
    if value.is_zero():
        return "0"
    if abs(value.adjusted()) > _PLAIN_MAX_EXP:
        return f"{value:E}"
    with localcontext(CONTEXT):
        return format(value.normalize(), "f")


def human(value: Decimal, places: int = 2) -> str:
    """Thousands separators and fixed places, for messages a trader reads ("1,250.00").

    Never raises (non-finite values as `NaN` / `Infinity`, absurd magnitudes in exponent form)
    and never shows `-0.00`: a value that rounds to zero is zero.
    """
    if not value.is_finite():
        return str(value)
    places = max(0, min(places, MAX_DIGITS))
    if not value.is_zero() and value.adjusted() > _PLAIN_MAX_EXP:
        return f"{value:.{places}E}"
    with localcontext(CONTEXT):
        shown = value.quantize(ONE.scaleb(-places), rounding=ROUND_HALF_EVEN)
    if shown.is_zero():
        shown = shown.copy_abs()
    return f"{shown:,.{places}f}"
