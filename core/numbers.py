"""Exact decimal helpers shared by the whole engine.

Money and prices are `Decimal` built from strings. Every amount that moves a balance is
quantized to `MONEY` (USDT's 8 decimals) so sums never grow unbounded digit tails and a replay
reproduces every balance to the last digit.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation

ZERO = Decimal(0)
ONE = Decimal(1)
MONEY = Decimal("0.00000001")


class BadNumber(ValueError):
    """A value that is not a finite decimal."""


def dec(value: object) -> Decimal:
    """Parse a decimal from a string or int (never from a float, which is already inexact)."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise BadNumber(f"not a number: {value!r}")
    elif isinstance(value, int | str):
        try:
            result = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise BadNumber(f"not a number: {value!r}") from None
    else:
        raise BadNumber(f"not a decimal string: {value!r}")
    if not result.is_finite():
        raise BadNumber(f"not a finite number: {value!r}")
    return result


def money(value: Decimal) -> Decimal:
    """Round an amount that changes a balance to USDT precision (banker's rounding)."""
    return value.quantize(MONEY, rounding=ROUND_HALF_EVEN)


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """Largest multiple of `step` not above `value`."""
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    """Smallest multiple of `step` not below `value`."""
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def round_to(value: Decimal, step: Decimal) -> Decimal:
    """Nearest multiple of `step` (ties to even)."""
    return (value / step).to_integral_value(rounding=ROUND_HALF_EVEN) * step


def plain(value: Decimal) -> str:
    """Render without exponent or trailing zeros: Decimal('1E+4') -> '10000', '1.50' -> '1.5'."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def human(value: Decimal, places: int = 2) -> str:
    """Thousands separators and fixed places, for messages a trader reads ("1,250.00")."""
    q = Decimal(1).scaleb(-places)
    return f"{value.quantize(q, rounding=ROUND_HALF_EVEN):,.{places}f}"
