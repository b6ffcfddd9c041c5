"""What the trader types (order-ticket quantities and prices, margin amounts) as exact numbers.

Why one module: every number a trader types crosses one edge, so the rules for it (which
forms are accepted, which are refused and with which words, the bounds) are written once and
shared by the ticket, the dialogs and any command that reads typed amounts.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from papertrade.core.numbers import floor_to

if TYPE_CHECKING:
    from papertrade.core.instruments import Instrument


class QuantityError(ValueError):
    """Order-ticket quantity text that cannot become a quantity; the message says why."""


def parse_quantity(
    text: str,
    *,
    price: Decimal | None,
    available: Decimal,
    leverage: int,
    instrument: Instrument | None,
) -> Decimal:
    """Ticket quantity: `0.01` (base units), `$500` (USDT notional) or `25%` (of the available
    balance, used as margin at `leverage`). Rounded down to the step size.

    Why the percentage means margin: a trader sizing "a quarter of what I have" thinks in
    money committed, and at 10× a quarter of the balance commits a notional 2.5× the balance.
    """
    raw = text.strip().replace(",", "").replace("_", "")
    if not raw:
        raise QuantityError("enter a quantity: 0.01, $500 (USDT) or 25% (of available)")
    try:
        if raw.startswith("$"):
            usdt = Decimal(raw[1:].strip())
            if not usdt.is_finite() or usdt <= 0:
                raise QuantityError("a $ amount must be a positive number")
            if price is None:
                raise QuantityError("no price yet: $ amounts need market data")
            qty = usdt / price
        elif raw.endswith("%"):
            pct = Decimal(raw[:-1].strip())
            if not pct.is_finite() or pct <= 0 or pct > 100:
                raise QuantityError("a percentage must be above 0 and at most 100")
            if price is None:
                raise QuantityError("no price yet: % amounts need market data")
            if available <= 0:
                raise QuantityError("no available balance to take a percentage of")
            qty = available * pct / 100 * leverage / price
        else:
            qty = Decimal(raw)
            if not qty.is_finite() or qty <= 0:
                raise QuantityError("quantity must be a positive number")
    except InvalidOperation:
        raise QuantityError(f"not a quantity: {text.strip()!r} (try 0.01, $500 or 25%)") from None
    if instrument is not None:
        qty = floor_to(qty, instrument.step_size)
        if qty <= 0:
            raise QuantityError(
                f"rounds to 0 at the {instrument.symbol} step of {instrument.step_size}"
            )
    return qty


def parse_decimal(text: str, what: str, *, positive: bool = True) -> Decimal:
    """A decimal from user text, or ValueError naming `what` was wrong."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{what}: not a number ({text.strip()!r})") from None
    if not value.is_finite() or (positive and value <= 0):
        raise ValueError(f"{what} must be a positive number")
    return value
