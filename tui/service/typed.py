"""What the trader types (order-ticket quantities and prices, margin amounts) as exact numbers.

Why one module: every number a trader types crosses one edge, so the rules for it (which
forms are accepted, which are refused and with which words, the bounds) are written once and
shared by the ticket, the dialogs and any command that reads typed amounts.

The rules:
- plain ASCII decimals with `.` for decimals (`0.01`, `1.5e-3`); `_` may group digits
  (`1_000`); any comma is refused, because `1,5` (one and a half in half the world) and
  `1,500` cannot be told apart — the trader is asked to retype rather than guessed at;
- a risk instead of a quantity: `r1%` (1 % of equity, the margin balance) or `r$200` (200 USDT),
  lost at the stop price fees included (`parse_risk`; the quantity comes from
  `core.sizing.size_from_risk`, which needs the stop);
- the bounds of `core.numbers`: a quantity ≤ 1e12, a price ≤ 1e12, a `$` amount or margin
  amount ≤ 1e15, 18 significant digits and decimal places; `NaN`, `Infinity` and `-0` are not
  quantities. Every refusal is a `QuantityError` / `ValueError` whose message the ticket shows
  as typed; nothing else escapes, whatever the text (the ticket parses on every keystroke).
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import TYPE_CHECKING

from papertrade.core.numbers import (
    AMOUNT,
    BALANCE,
    CONTEXT,
    MAX_LEVERAGE,
    MAX_QTY,
    MIN_LEVERAGE,
    ONE,
    PERCENT,
    PRICE,
    QTY,
    ZERO,
    BadNumber,
    Bound,
    floor_to,
    plain,
)
from papertrade.core.sizing import Risk

if TYPE_CHECKING:
    from papertrade.core.instruments import Instrument

DEFAULT_TAKER_FEE = Decimal("0.0005")
"""Binance's default USDⓈ-M taker rate: what `N%` sizing assumes when not told the session's."""

MAX_TYPED_CHARS = 64

USDT = Bound("a $ amount", ZERO, BALANCE.high)


class QuantityError(ValueError):
    """Order-ticket quantity text that cannot become a quantity; the message says why."""


def _shown(text: str) -> str:
    shown = repr(text.strip())
    return shown if len(shown) <= 24 else shown[:21] + "…'"


def _clean(text: str, what: str) -> str:
    """Whitespace trimmed and `_` groupings dropped; commas and over-long text refused."""
    raw = text.strip()
    if len(raw) > MAX_TYPED_CHARS:
        raise QuantityError(f"{what}: too long to be a number ({len(raw)} characters)")
    if "," in raw:
        raise QuantityError(
            f"{what}: use . for decimals and no thousands separators (1.5 or 1500, not 1,5)"
        )
    return raw.replace("_", "")


def _number(text: str, bound: Bound, what: str) -> Decimal:
    try:
        return bound.parse(text)
    except BadNumber as exc:
        message = str(exc)
        if message.startswith(("not a number", "not a finite")):
            raise QuantityError(
                f"not a quantity: {_shown(text)} (try 0.01, $500, 25% or r1%)"
            ) from None
        raise QuantityError(f"{what} {message}") from None


def parse_quantity(
    text: str,
    *,
    price: Decimal | None,
    available: Decimal,
    leverage: int,
    instrument: Instrument | None,
    taker_fee: Decimal = DEFAULT_TAKER_FEE,
    unit_cost: Decimal | None = None,
) -> Decimal:
    """Ticket quantity: `0.01` (base units), `$500` (USDT notional) or `25%` (of the available
    balance, used as margin plus the opening fee at `leverage`). Rounded down to the step size.

    Why the percentage means margin: a trader sizing "a quarter of what I have" thinks in
    money committed, and at 10× a quarter of the balance commits a notional 2.5× the balance.
    Why the fee is inside it: `100%` must be placeable, and the engine holds the taker fee on
    top of the margin, so `qty = available × pct/100 × leverage / (price × (1 + leverage ×
    taker_fee))` — margin `qty × price / leverage` plus fee `qty × price × taker_fee` is then
    exactly the share of the balance asked for (a rebate, a negative fee, is not counted on).
    `unit_cost` is what the engine holds to open one unit (`core.margin.order_cost`: initial
    margin at its assumed price plus the open loss against the mark): when given, it replaces
    `price / leverage`, so `100%` fits when the ask is above the mark or a sell is costed
    above the market, as Binance costs them.
    """
    raw = _clean(text, "quantity")
    if not raw:
        raise QuantityError("enter a quantity: 0.01, $500 (USDT) or 25% (of available)")
    if not MIN_LEVERAGE <= leverage <= MAX_LEVERAGE:
        raise QuantityError(f"leverage must be from {MIN_LEVERAGE} to {MAX_LEVERAGE}x")
    if raw.startswith("$"):
        usdt = _number(raw[1:].strip(), USDT, "a $ amount")
        if price is None or price <= 0:
            raise QuantityError("no price yet: $ amounts need market data")
        qty = usdt / price
    elif raw.endswith("%"):
        try:
            pct = PERCENT.parse(raw[:-1].strip())
        except BadNumber:
            raise QuantityError("a percentage must be above 0 and at most 100") from None
        if price is None or price <= 0:
            raise QuantityError("no price yet: % amounts need market data")
        if available <= 0:
            raise QuantityError("no available balance to take a percentage of")
        fee = max(taker_fee, ZERO)
        with localcontext(CONTEXT):
            if unit_cost is not None and unit_cost > 0:
                qty = available * pct / 100 / (unit_cost + price * fee)
            else:
                qty = available * pct / 100 * leverage / (price * (ONE + leverage * fee))
    else:
        qty = _number(raw, QTY, "quantity")
    if qty > MAX_QTY:
        raise QuantityError(f"that is more than {MAX_QTY:,.0f} units: check the amount")
    if instrument is not None:
        qty = floor_to(qty, instrument.step_size)
        if qty <= 0:
            raise QuantityError(
                f"rounds to 0 at the {instrument.symbol} step of {plain(instrument.step_size)}"
            )
    return qty


RISK_FORMS = "r1% (of equity) or r$200 (USDT)"


def parse_risk(text: str) -> Risk | None:
    """`r1%` / `r$200` as the risk the trader accepts at the stop; None when the text is not
    a risk at all (it is then a quantity for `parse_quantity`)."""
    raw = _clean(text, "risk")
    if raw[:1] not in ("r", "R"):
        return None
    body = raw[1:].strip()
    if body.startswith("$"):
        try:
            return Risk(USDT.parse(body[1:].strip()), "usdt")
        except BadNumber as exc:
            message = str(exc)
            if message.startswith("not a"):
                message = "is a number, as in r$200"
            raise QuantityError(f"a risk in $ {message}") from None
    if body.endswith("%"):
        try:
            return Risk(PERCENT.parse(body[:-1].strip()), "percent")
        except BadNumber:
            raise QuantityError("a risk percentage must be above 0 and at most 100") from None
    raise QuantityError(f"a risk is {RISK_FORMS}, with a stop-loss price")


def parse_decimal(
    text: str, what: str, *, positive: bool = True, bound: Bound | None = None
) -> Decimal:
    """A decimal from user text, or ValueError naming `what` was wrong.

    `bound` defaults to a price's (positive, ≤ 1e12) or, with `positive=False`, a signed
    money amount's (abs ≤ 1e15); either way bounded, so the engine can always format it.
    """
    chosen = bound or (PRICE if positive else AMOUNT)
    try:
        raw = _clean(text, what)
    except QuantityError as exc:
        raise ValueError(str(exc)) from None
    try:
        return chosen.parse(raw)
    except BadNumber as exc:
        message = str(exc)
        if message.startswith(("not a number", "not a finite")):
            raise ValueError(f"{what}: not a number ({_shown(text)})") from None
        raise ValueError(f"{what} {message}") from None


def parse_leverage(text: str, high: int = MAX_LEVERAGE, symbol: str = "") -> int:
    """Typed leverage (`10` or `10x`): a whole number from 1 to `high` (the instrument's cap,
    at most 125), or ValueError saying so. ASCII digits only, checked before `int()`: a pasted
    5,000-digit number would otherwise raise Python's int-str limit error, not a message."""
    raw = text.strip().lower().removesuffix("x").strip()
    if not raw or len(raw) > 4 or not (raw.isascii() and raw.isdigit()):
        raise ValueError("leverage must be a whole number, e.g. 10")
    value = int(raw)
    top = min(high, MAX_LEVERAGE)
    if not MIN_LEVERAGE <= value <= top:
        where = f" for {symbol}" if symbol else ""
        raise ValueError(f"leverage must be between {MIN_LEVERAGE} and {top}x{where}")
    return value


DURATION_UNITS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}
MAX_DURATION_MS = 365 * 86_400_000


def parse_duration(text: str, what: str = "good till") -> int:
    """A span of market time typed as `30m`, `4h` or `2d` (a whole number and a unit), in ms;
    ValueError naming `what` otherwise. At most a year, so a deadline always formats."""
    raw = _clean(text, what).lower()
    unit = DURATION_UNITS.get(raw[-1:]) if raw else None
    digits = raw[:-1]
    if unit is None or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"{what}: type a whole number and m, h or d (30m, 4h, 2d)")
    ms = int(digits) * unit
    if not 0 < ms <= MAX_DURATION_MS:
        raise ValueError(f"{what}: between 1m and 365d")
    return ms
