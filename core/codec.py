"""The JSON-lines event format: drills, `simulate` input, session exports, the file feed.

One JSON object a line; every line has `type` and `ts` (integer ms UTC, never decreasing);
decimals are JSON strings so nothing passes through a float. This module validates with
pydantic (the edge) and converts to and from the engine's slotted events. It does no I/O:
callers hand it lines and write what it returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from papertrade.core import events as ev
from papertrade.core.conditional import shape_error
from papertrade.core.numbers import (
    AMOUNT,
    BALANCE,
    FEE_RATE,
    MAX_DRILL_LEVERAGE,
    PERCENT,
    PRICE,
    QTY,
    RATE,
    SIZE,
    BadNumber,
    Bound,
    leverage,
    plain,
    timestamp,
)


class FormatError(ValueError):
    """A line that is not valid drill format; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def _shown(value: Any) -> str:
    """Untrusted JSON for an error message: short, escaped, never raising (a 5,000-digit int
    cannot even be printed under Python's int-str limit)."""
    try:
        text = json.dumps(value)
    except ValueError:
        return f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "…"


def _bounded(bound: Bound) -> Callable[[Any], Decimal]:
    def check(value: Any) -> Decimal:
        if not isinstance(value, str):
            raise ValueError(f'must be a decimal string such as "1.5", got {_shown(value)}')
        try:
            return bound.parse(value)
        except BadNumber as exc:
            raise ValueError(str(exc)) from None

    return check


def _ts(value: Any) -> int:
    try:
        return timestamp(value)
    except BadNumber as exc:
        raise ValueError(str(exc)) from None


def _limit(value: Any) -> ev.Limit:
    """A loss limit: `"500"` (USDT) or `"5%"` (of the equity it is measured from)."""
    if not isinstance(value, str):
        raise ValueError(f'must be a string such as "500" (USDT) or "5%", got {_shown(value)}')
    text = value.strip()
    percent = text.endswith("%")
    try:
        if percent:
            return ev.Limit(PERCENT.parse(text[:-1].strip()), True)
        return ev.Limit(BALANCE.parse(text))
    except BadNumber as exc:
        raise ValueError(str(exc)) from None


def _leverage(value: Any) -> int:
    try:
        return leverage(value, MAX_DRILL_LEVERAGE)
    except BadNumber as exc:
        raise ValueError(str(exc)) from None


def _symbol(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError('must be a non-empty symbol string such as "BTCUSDT"')
    text = value.strip().upper()
    if len(text) > 40 or not all((c.isalnum() and c.isascii()) or c in "-_." for c in text):
        raise ValueError(f"is not a valid symbol: {_shown(value)}")
    return text


def _identifier(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise ValueError("must be a non-empty string of at most 64 characters")
    return value


def _label(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise ValueError("must be a string of at most 200 characters")
    return value


Price = Annotated[Decimal, BeforeValidator(_bounded(PRICE))]
Qty = Annotated[Decimal, BeforeValidator(_bounded(QTY))]
Size = Annotated[Decimal, BeforeValidator(_bounded(SIZE))]
Rate = Annotated[Decimal, BeforeValidator(_bounded(RATE))]
FeeRate = Annotated[Decimal, BeforeValidator(_bounded(FEE_RATE))]
Balance = Annotated[Decimal, BeforeValidator(_bounded(BALANCE))]
Amount = Annotated[Decimal, BeforeValidator(_bounded(AMOUNT))]
Symbol = Annotated[str, BeforeValidator(_symbol)]
Ident = Annotated[str, BeforeValidator(_identifier)]
Label = Annotated[str, BeforeValidator(_label)]
Ts = Annotated[int, BeforeValidator(_ts)]
Leverage = Annotated[int, BeforeValidator(_leverage)]
LossLimit = Annotated[ev.Limit, BeforeValidator(_limit)]


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ts: Ts


class SessionLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["session"]
    ts: Ts = 0
    balance: Balance = Decimal("10000")
    taker_fee: FeeRate = Decimal("0.0005")
    maker_fee: FeeRate = Decimal("0.0002")
    exchange_limits: StrictBool = False
    name: Label | None = None
    venue: Label | None = None
    position_mode: Literal["one_way", "hedge"] = "one_way"
    max_daily_loss: LossLimit | None = None
    max_drawdown: LossLimit | None = None
    max_leverage: Leverage | None = None
    max_position_notional: Balance | None = None
    refill: StrictBool = False


class MarkLine(_Line):
    type: Literal["mark"]
    symbol: Symbol
    price: Price
    index: Price | None = None
    funding_rate: Rate | None = None
    next_funding_ts: Ts | None = None


class QuoteLine(_Line):
    type: Literal["quote"]
    symbol: Symbol
    bid: Price
    ask: Price
    bid_qty: Size | None = None
    ask_qty: Size | None = None

    @model_validator(mode="after")
    def _not_crossed(self) -> QuoteLine:
        if self.bid > self.ask:
            raise ValueError(f"bid {self.bid} is above ask {self.ask}")
        return self


class TradeLine(_Line):
    type: Literal["trade"]
    symbol: Symbol
    price: Price
    qty: Qty


class FundingLine(_Line):
    type: Literal["funding"]
    symbol: Symbol
    rate: Rate


def _qty_or_zero(value: Any) -> Decimal:
    """A close_position order carries no quantity; the journal stores it as "0"."""
    if value == "0":
        return Decimal(0)
    return _bounded(QTY)(value)


class OrderLine(_Line):
    type: Literal["order"]
    id: Ident
    symbol: Symbol
    side: Literal["buy", "sell"]
    qty: Annotated[Decimal, BeforeValidator(_qty_or_zero)] | None = None
    order_type: Literal[
        "market",
        "limit",
        "stop_market",
        "stop_limit",
        "take_profit_market",
        "take_profit_limit",
        "trailing_stop_market",
    ]
    price: Price | None = None
    margin_mode: Literal["isolated", "cross"] | None = None
    leverage: Leverage | None = None
    reduce_only: StrictBool = False
    post_only: StrictBool = False
    position_side: Literal["both", "long", "short"] | None = None
    trigger_price: Price | None = None
    working_type: Literal["contract", "mark"] | None = None
    close_position: StrictBool | None = None
    activation_price: Price | None = None
    callback_rate: Price | None = None  # percent; the engine keeps it within 0.1 … 20
    price_protect: StrictBool | None = None
    time_in_force: Literal["GTC", "IOC", "FOK", "GTX", "GTD"] | None = None
    good_till: Ts | None = None

    @model_validator(mode="after")
    def _fields_match_type(self) -> OrderLine:
        if self.order_type == "market" and self.post_only:
            raise ValueError("post_only applies to limit orders only")
        if self.close_position:
            if self.qty:
                raise ValueError("a close_position order takes no qty: it closes the position")
        elif self.qty is None:
            raise ValueError("missing field 'qty'")
        elif not self.qty:
            raise ValueError("field 'qty' must be positive (got 0)")
        problem = shape_error(_to_event(self))  # type: ignore[arg-type]
        if problem is not None:
            raise ValueError(problem)
        return self


class CancelLine(_Line):
    type: Literal["cancel"]
    id: Ident


class AmendLine(_Line):
    type: Literal["amend"]
    id: Ident
    qty: Qty | None = None
    price: Price | None = None
    trigger_price: Price | None = None

    @model_validator(mode="after")
    def _something(self) -> AmendLine:
        if self.qty is None and self.price is None and self.trigger_price is None:
            raise ValueError("an amend needs a new qty, price or trigger_price")
        return self


class CloseLine(_Line):
    type: Literal["close"]
    symbol: Symbol
    position_side: Literal["both", "long", "short"] | None = None


class AdjustMarginLine(_Line):
    type: Literal["adjust_margin"]
    symbol: Symbol
    amount: Amount
    position_side: Literal["both", "long", "short"] | None = None

    @model_validator(mode="after")
    def _nonzero(self) -> AdjustMarginLine:
        if self.amount == 0:
            raise ValueError("amount must not be zero")
        return self


class SetLeverageLine(_Line):
    type: Literal["set_leverage"]
    symbol: Symbol
    leverage: Leverage


class SetMarginModeLine(_Line):
    type: Literal["set_margin_mode"]
    symbol: Symbol
    margin_mode: Literal["isolated", "cross"]


class SetPositionModeLine(_Line):
    type: Literal["set_position_mode"]
    position_mode: Literal["one_way", "hedge"]


class SnapshotLine(_Line):
    type: Literal["snapshot"]


_LINE_MODELS: dict[str, type[BaseModel]] = {
    "session": SessionLine,
    "mark": MarkLine,
    "quote": QuoteLine,
    "trade": TradeLine,
    "funding": FundingLine,
    "order": OrderLine,
    "cancel": CancelLine,
    "amend": AmendLine,
    "close": CloseLine,
    "adjust_margin": AdjustMarginLine,
    "set_leverage": SetLeverageLine,
    "set_margin_mode": SetMarginModeLine,
    "set_position_mode": SetPositionModeLine,
    "snapshot": SnapshotLine,
}
INPUT_TYPES = tuple(_LINE_MODELS)

_ADAPTERS = {name: TypeAdapter(model) for name, model in _LINE_MODELS.items()}


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(_shown(p)[1:-1] if isinstance(p, str) else str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            parts.append(f"missing field '{loc}'")
        elif err["type"] == "extra_forbidden":
            parts.append(f"unknown field '{loc}'")
        elif loc:
            parts.append(f"field '{loc}' {msg}" if msg.startswith("must") else f"'{loc}': {msg}")
        else:
            parts.append(msg)
    return "; ".join(parts)


def _to_event(model: BaseModel) -> ev.Event | ev.SessionSettings:
    data = model.model_dump(exclude={"type"})
    match model:
        case SessionLine():
            return ev.SessionSettings(
                balance=data["balance"],
                taker_fee=data["taker_fee"],
                maker_fee=data["maker_fee"],
                position_mode=data["position_mode"],
                exchange_limits=data["exchange_limits"],
                max_daily_loss=model.max_daily_loss,
                max_drawdown=model.max_drawdown,
                max_leverage=data["max_leverage"],
                max_position_notional=data["max_position_notional"],
                refill=data["refill"],
            )
        case MarkLine():
            return ev.MarkPrice(**data)
        case QuoteLine():
            return ev.Quote(**data)
        case TradeLine():
            return ev.Trade(**data)
        case FundingLine():
            return ev.Funding(**data)
        case OrderLine():
            data["qty"] = data["qty"] or Decimal(0)
            return ev.PlaceOrder(**data)
        case CancelLine():
            return ev.CancelOrder(**data)
        case AmendLine():
            return ev.AmendOrder(**data)
        case CloseLine():
            return ev.ClosePosition(**data)
        case AdjustMarginLine():
            return ev.AdjustMargin(**data)
        case SetLeverageLine():
            return ev.SetLeverage(**data)
        case SetMarginModeLine():
            return ev.SetMarginMode(**data)
        case SetPositionModeLine():
            return ev.SetPositionMode(**data)
        case SnapshotLine():
            return ev.Snapshot(**data)
    raise AssertionError(f"unhandled model {type(model).__name__}")


def parse_object(obj: Any, line: int = 1) -> ev.Event | ev.SessionSettings:
    """Validate one decoded JSON object and build its event."""
    if not isinstance(obj, dict):
        raise FormatError(line, "expected a JSON object")
    kind = obj.get("type")
    if kind is None:
        raise FormatError(line, "missing field 'type'")
    if not isinstance(kind, str) or kind not in _ADAPTERS:
        known = ", ".join(INPUT_TYPES)
        raise FormatError(line, f"unknown type {_shown(kind)} (expected one of: {known})")
    if "ts" not in obj and kind != "session":
        raise FormatError(line, "missing field 'ts'")
    try:
        model = _ADAPTERS[kind].validate_python(obj)
    except ValidationError as exc:
        raise FormatError(line, f"{kind}: {_describe(exc)}") from None
    return _to_event(model)


MAX_LINE_CHARS = 65_536
"""Longest drill line read: real lines are a few hundred characters."""
MAX_JSON_INT_DIGITS = 20
"""A JSON integer (a `ts`, a leverage) longer than this is refused before Python converts it
(ts needs 15 digits; 4,300+ would hit the interpreter's int-str limit)."""


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise _TooLong(f"an integer with {len(text.lstrip('-'))} digits is far out of range")
    return int(text)


def _json_constant(name: str) -> Any:
    raise _TooLong(f"{name} is not a number JSON allows")


class _TooLong(ValueError):
    """A JSON literal refused while decoding (its message is the whole story)."""


def parse_line(text: str, line: int = 1) -> ev.Event | ev.SessionSettings:
    """Parse one JSON line of the drill format.

    Never raises anything but `FormatError`: lines past `MAX_LINE_CHARS`, nesting deep enough
    to exhaust the parser, `NaN` / `Infinity` literals and huge integers are refused by name.
    """
    if len(text) > MAX_LINE_CHARS:
        raise FormatError(line, f"line longer than {MAX_LINE_CHARS:,} characters")
    try:
        obj = json.loads(text, parse_int=_json_int, parse_constant=_json_constant)
    except json.JSONDecodeError as exc:
        raise FormatError(line, f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    except _TooLong as exc:
        raise FormatError(line, str(exc)) from None
    except (ValueError, RecursionError):
        raise FormatError(line, "invalid JSON: nested too deeply or too large") from None
    return parse_object(obj, line)


def parse_lines(
    lines: Iterable[str],
) -> tuple[ev.SessionSettings, list[ev.Event]]:
    """Validate a whole drill up front: settings plus events, or the first `FormatError`.

    Blank lines and lines starting with `#` are skipped so drills can carry comments.
    """
    settings: ev.SessionSettings | None = None
    events: list[ev.Event] = []
    last_ts = -1
    seen_any = False
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        item = parse_line(text, number)
        if isinstance(item, ev.SessionSettings):
            if seen_any:
                raise FormatError(number, "a 'session' line may only be the first line")
            settings = item
            seen_any = True
            continue
        seen_any = True
        if item.ts < last_ts:
            raise FormatError(number, f"ts {item.ts} is before the previous line's ts {last_ts}")
        last_ts = item.ts
        events.append(item)
    return settings or ev.SessionSettings(), events


def iter_events(lines: Iterable[str]) -> Iterator[ev.Event | ev.SessionSettings]:
    """Stream-parse (for large files and feeds): same checks as `parse_lines`, lazily."""
    last_ts = -1
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        item = parse_line(text, number)
        if not isinstance(item, ev.SessionSettings):
            if item.ts < last_ts:
                raise FormatError(number, f"ts {item.ts} is before the previous ts {last_ts}")
            last_ts = item.ts
        yield item


# --- writing ---------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, ev.Limit):
        return str(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, ev.OrderState):
        return {
            k: _jsonable(getattr(value, k))
            for k in value.__dataclass_fields__
            if _ORDER_STATE_OPTIONAL.get(k, object()) != getattr(value, k)
        }
    if hasattr(value, "__dataclass_fields__"):
        return {k: _jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    return value


_DEFAULTS_DROPPED = {
    "reduce_only": False,
    "post_only": False,
    "close_position": False,
    "price_protect": False,
    "exchange_limits": False,
    "refill": False,
}
_ORDER_STATE_OPTIONAL = {
    "position_side": "both",  # an open order's side is news only in hedge mode
    "time_in_force": "GTC",
    "good_till": None,
    "trigger_price": None,
    "working_type": None,
    "close_position": False,
    "price_protect": False,
    "activation_price": None,
    "callback_rate": None,
    "extreme": None,
}
"""Fields of an open order that only some orders have: written only when they say something,
so the `account` line of a drill without them reads as it always did."""
_SESSION_DEFAULTS_DROPPED = {"position_mode": "one_way"}
_OUTCOME_OPTIONAL = {"after_gap_ms": None, "price_move": None}
"""Outcome fields written only when set: a liquidation or a trigger that was not the first
price after a gap reads as it always did."""


def to_dict(item: ev.Event | ev.SessionSettings | ev.Outcome) -> dict[str, Any]:
    """The JSON object of an input event, session line or outcome (decimals as strings).

    Inputs drop fields left at their defaults so exports read like hand-written drills;
    outcomes keep every field (`null` included) so the output schema is fixed.
    """
    out: dict[str, Any] = {"type": item.type}
    is_input = item.type in _LINE_MODELS
    if isinstance(item, ev.SessionSettings):
        out["ts"] = 0
    dropped = _SESSION_DEFAULTS_DROPPED if isinstance(item, ev.SessionSettings) else {}
    for name in item.__dataclass_fields__:
        value = getattr(item, name)
        if is_input and (value is None or _DEFAULTS_DROPPED.get(name, object()) == value):
            continue
        if dropped.get(name, object()) == value:
            continue
        if name in _OUTCOME_OPTIONAL and value is None:
            continue
        if is_input and name == "qty" and getattr(item, "close_position", False):
            continue
        out[name] = _jsonable(value)
    return out


def dumps(item: ev.Event | ev.SessionSettings | ev.Outcome) -> str:
    """One compact JSON line."""
    return json.dumps(to_dict(item), separators=(",", ":"))
