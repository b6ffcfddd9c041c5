"""The JSON-lines event format: drills, `simulate` input, session exports, the file feed.

One JSON object a line; every line has `type` and `ts` (integer ms UTC, never decreasing);
decimals are JSON strings so nothing passes through a float. This module validates with
pydantic (the edge) and converts to and from the engine's slotted events. It does no I/O:
callers hand it lines and write what it returns.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Annotated, Any, Literal

from papertrade.core import events as ev
from papertrade.core.numbers import BadNumber, dec, plain
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    ValidationError,
    model_validator,
)


class FormatError(ValueError):
    """A line that is not valid drill format; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def _decimal(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(f'must be a decimal string such as "1.5", got {json.dumps(value)}')
    try:
        return dec(value)
    except BadNumber as exc:
        raise ValueError(str(exc)) from None


def _positive(value: Any) -> Decimal:
    d = _decimal(value)
    if d <= 0:
        raise ValueError(f"must be positive, got {value}")
    return d


def _symbol(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError('must be a non-empty symbol string such as "BTCUSDT"')
    text = value.strip().upper()
    if len(text) > 40 or not all(c.isalnum() or c in "-_." for c in text):
        raise ValueError(f"is not a valid symbol: {json.dumps(value)}")
    return text


def _identifier(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise ValueError("must be a non-empty string of at most 64 characters")
    return value


Dec = Annotated[Decimal, BeforeValidator(_decimal)]
PosDec = Annotated[Decimal, BeforeValidator(_positive)]
Symbol = Annotated[str, BeforeValidator(_symbol)]
Ident = Annotated[str, BeforeValidator(_identifier)]
Ts = Annotated[StrictInt, Field(ge=0)]


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ts: Ts


class SessionLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["session"]
    ts: Ts = 0
    balance: PosDec = Decimal("10000")
    taker_fee: Dec = Decimal("0.0005")
    maker_fee: Dec = Decimal("0.0002")
    name: str | None = None
    venue: str | None = None

    @model_validator(mode="after")
    def _fees(self) -> SessionLine:
        for fee in (self.taker_fee, self.maker_fee):
            if not Decimal("-0.01") <= fee <= Decimal("0.01"):
                raise ValueError(f"fee rate {fee} is outside -1%..1%")
        return self


class MarkLine(_Line):
    type: Literal["mark"]
    symbol: Symbol
    price: PosDec
    index: PosDec | None = None
    funding_rate: Dec | None = None
    next_funding_ts: Ts | None = None


class QuoteLine(_Line):
    type: Literal["quote"]
    symbol: Symbol
    bid: PosDec
    ask: PosDec
    bid_qty: Dec | None = None
    ask_qty: Dec | None = None

    @model_validator(mode="after")
    def _not_crossed(self) -> QuoteLine:
        if self.bid > self.ask:
            raise ValueError(f"bid {self.bid} is above ask {self.ask}")
        return self


class TradeLine(_Line):
    type: Literal["trade"]
    symbol: Symbol
    price: PosDec
    qty: PosDec


class FundingLine(_Line):
    type: Literal["funding"]
    symbol: Symbol
    rate: Dec


class OrderLine(_Line):
    type: Literal["order"]
    id: Ident
    symbol: Symbol
    side: Literal["buy", "sell"]
    qty: PosDec
    order_type: Literal["market", "limit"]
    price: PosDec | None = None
    margin_mode: Literal["isolated", "cross"] | None = None
    leverage: Annotated[StrictInt, Field(ge=1, le=1000)] | None = None
    reduce_only: StrictBool = False
    post_only: StrictBool = False

    @model_validator(mode="after")
    def _price_matches_type(self) -> OrderLine:
        if self.order_type == "limit" and self.price is None:
            raise ValueError("a limit order needs a price")
        if self.order_type == "market" and self.price is not None:
            raise ValueError("a market order takes no price")
        if self.order_type == "market" and self.post_only:
            raise ValueError("post_only applies to limit orders only")
        return self


class CancelLine(_Line):
    type: Literal["cancel"]
    id: Ident


class CloseLine(_Line):
    type: Literal["close"]
    symbol: Symbol


class AdjustMarginLine(_Line):
    type: Literal["adjust_margin"]
    symbol: Symbol
    amount: Dec

    @model_validator(mode="after")
    def _nonzero(self) -> AdjustMarginLine:
        if self.amount == 0:
            raise ValueError("amount must not be zero")
        return self


class SetLeverageLine(_Line):
    type: Literal["set_leverage"]
    symbol: Symbol
    leverage: Annotated[StrictInt, Field(ge=1, le=1000)]


class SetMarginModeLine(_Line):
    type: Literal["set_margin_mode"]
    symbol: Symbol
    margin_mode: Literal["isolated", "cross"]


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
    "close": CloseLine,
    "adjust_margin": AdjustMarginLine,
    "set_leverage": SetLeverageLine,
    "set_margin_mode": SetMarginModeLine,
    "snapshot": SnapshotLine,
}
INPUT_TYPES = tuple(_LINE_MODELS)

_ADAPTERS = {name: TypeAdapter(model) for name, model in _LINE_MODELS.items()}


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
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
                balance=data["balance"], taker_fee=data["taker_fee"], maker_fee=data["maker_fee"]
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
            return ev.PlaceOrder(**data)
        case CancelLine():
            return ev.CancelOrder(**data)
        case CloseLine():
            return ev.ClosePosition(**data)
        case AdjustMarginLine():
            return ev.AdjustMargin(**data)
        case SetLeverageLine():
            return ev.SetLeverage(**data)
        case SetMarginModeLine():
            return ev.SetMarginMode(**data)
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
    if kind not in _ADAPTERS:
        known = ", ".join(INPUT_TYPES)
        raise FormatError(line, f"unknown type {json.dumps(kind)} (expected one of: {known})")
    if "ts" not in obj and kind != "session":
        raise FormatError(line, "missing field 'ts'")
    try:
        model = _ADAPTERS[kind].validate_python(obj)
    except ValidationError as exc:
        raise FormatError(line, f"{kind}: {_describe(exc)}") from None
    return _to_event(model)


def parse_line(text: str, line: int = 1) -> ev.Event | ev.SessionSettings:
    """Parse one JSON line of the drill format."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(line, f"invalid JSON: {exc.msg} at column {exc.colno}") from None
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
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: _jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    return value


_DEFAULTS_DROPPED = {"reduce_only": False, "post_only": False}


def to_dict(item: ev.Event | ev.SessionSettings | ev.Outcome) -> dict[str, Any]:
    """The JSON object of an input event, session line or outcome (decimals as strings).

    Inputs drop fields left at their defaults so exports read like hand-written drills;
    outcomes keep every field (`null` included) so the output schema is fixed.
    """
    out: dict[str, Any] = {"type": item.type}
    is_input = item.type in _LINE_MODELS
    if isinstance(item, ev.SessionSettings):
        out["ts"] = 0
    for name in item.__dataclass_fields__:
        value = getattr(item, name)
        if is_input and (value is None or _DEFAULTS_DROPPED.get(name, object()) == value):
            continue
        out[name] = _jsonable(value)
    return out


def dumps(item: ev.Event | ev.SessionSettings | ev.Outcome) -> str:
    """One compact JSON line."""
    return json.dumps(to_dict(item), separators=(",", ":"))
