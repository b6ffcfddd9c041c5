"""The JSON-lines event format: drills, `simulate` input, session exports, the file feed.

One JSON object a line; every line has `type` and `ts` (integer ms UTC, never decreasing);
decimals are JSON strings so nothing passes through a float. This module validates at the
edge and converts to and from the engine's slotted events. It does no I/O: callers hand it
lines and write what it returns.

Speed (issue 14): the format is one table, `_FORMAT`. Market lines (mark, quote, trade,
funding) are decoded by msgspec into Structs made from that table, their decimal and symbol
texts through the table's own checks, remembered per text (`_quick`). Any other line, and
any line that path doubts, is parsed by the standard library's decoder and checked by
walking the table (`_fast`, memoised the same way); only a line the walk will not take goes
to pydantic models built from the same table (`_models`), to word every problem at once.
Measured on the 200,000-line mark/quote benchmark drill, per line against a bare
`json.loads`: pydantic's `validate_python` plus `model_dump` ~3x; the walk ~2x; one
regular expression per line made from the table ~1x; msgspec with the checks ~0.5x.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, Union

from papertrade.core import events as ev
from papertrade.core.conditional import shape_error
from papertrade.core.numbers import (
    AMOUNT,
    BALANCE,
    FEE_RATE,
    MAX_DIGITS,
    MAX_DRILL_LEVERAGE,
    MAX_TS_MS,
    MIN_TS_MS,
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
from papertrade.core.records import Value

if TYPE_CHECKING:
    import msgspec
    from pydantic import BeforeValidator, ValidationError


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


_PLAIN = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
"""A decimal as `str(Decimal)` writes a usual price: what `_bounded`'s check takes without
the general parse (`Bound.parse` would return exactly the same `Decimal(text)`)."""


def _bounded(bound: Bound) -> Callable[[Any], Decimal]:
    low, high, plain_match = bound.low, bound.high, _PLAIN.fullmatch

    def check(value: Any) -> Decimal:
        # Short, plain, non-zero and strictly inside the bound: `Bound.parse` could only
        # return `Decimal(value)` (no digit count to fail, no zero to normalise).
        if value.__class__ is str and len(value) <= MAX_DIGITS and plain_match(value):
            got = Decimal(value)
            if low < got <= high and got:
                return got
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


def _qty_or_zero(value: Any) -> Decimal:
    """A close_position order carries no quantity; the journal stores it as "0"."""
    if value == "0":
        return Decimal(0)
    return _bounded(QTY)(value)


_ALIASES: dict[str, tuple[type, Callable[[Any], Any]]] = {
    "Price": (Decimal, _bounded(PRICE)),
    "Qty": (Decimal, _bounded(QTY)),
    "Size": (Decimal, _bounded(SIZE)),
    "Rate": (Decimal, _bounded(RATE)),
    "FeeRate": (Decimal, _bounded(FEE_RATE)),
    "Balance": (Decimal, _bounded(BALANCE)),
    "Amount": (Decimal, _bounded(AMOUNT)),
    "Symbol": (str, _symbol),
    "Ident": (str, _identifier),
    "Label": (str, _label),
    "Ts": (int, _ts),
    "Leverage": (int, _leverage),
}
"""The checks as pydantic field types, for other edges' models (the feeds' frames): built on
first use through the module's `__getattr__`, so reading a drill never imports pydantic."""

if TYPE_CHECKING:
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
else:

    def __getattr__(name: str) -> Any:
        alias = _ALIASES.get(name)
        if alias is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from typing import Annotated

        from pydantic import BeforeValidator

        made = Annotated[alias[0], BeforeValidator(alias[1])]
        globals()[name] = made
        return made


# --- the format: one definition --------------------------------------------------------------
#
# `_FORMAT` below is the only description of the drill format. The accept path (`_fast`)
# reads it directly: one dict lookup and one check per field, no models. A line it does not
# accept whole goes to pydantic models built *from the same table* on first need, which only
# exist to word the errors exactly (every problem of the line, field by field); a
# differential test (tests/core/test_codec_fast.py) holds the two to the same verdicts and
# equal events. So pydantic is not imported at all while every line is good.


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class _Kind(Value):
    """How one field is checked: a converting check, a set of literal words, or a strict
    bool; `py` is the Python type the check returns (for the error models)."""

    check: Callable[[Any], Any] | None = None
    words: tuple[str, ...] = ()
    strict_bool: bool = False
    py: type = str
    bound: Bound | None = None
    """The range of a decimal field (its check's), for readers that match rows whole."""


_STR_MEMO = 4096
"""Distinct texts remembered per kind of field before the memo starts afresh: prices and
symbols repeat line after line, and the check of a text is a pure function of it (a memo
returns exactly what the check would)."""


def _dec(bound: Bound) -> _Kind:
    return _Kind(check=_bounded(bound), py=Decimal, bound=bound)


PRICE_K = _dec(PRICE)
QTY_K = _dec(QTY)
SIZE_K = _dec(SIZE)
RATE_K = _dec(RATE)
FEE_K = _dec(FEE_RATE)
BALANCE_K = _dec(BALANCE)
AMOUNT_K = _dec(AMOUNT)
SYMBOL_K = _Kind(check=_symbol)
IDENT_K = _Kind(check=_identifier)
LABEL_K = _Kind(check=_label)
TS_K = _Kind(check=_ts, py=int)
LEVERAGE_K = _Kind(check=_leverage, py=int)
LIMIT_K = _Kind(check=_limit, py=ev.Limit)
CLOSE_QTY_K = _Kind(check=_qty_or_zero, py=Decimal)
BOOL_K = _Kind(strict_bool=True, py=bool)
SIDE_K = _Kind(words=("buy", "sell"))
MODE_K = _Kind(words=("isolated", "cross"))
POSITION_MODE_K = _Kind(words=("one_way", "hedge"))
SLOT_K = _Kind(words=("both", "long", "short"))


MAX_BOOK_LEVELS = 1000
"""Most levels one side of a `book` line may carry (venues send 5 … 500)."""


def _levels(value: Any) -> tuple[ev.Level, ...]:
    """One side of a book: a list of `[price, qty]` decimal strings, best first (the order is
    checked per side in `_book_problem`, which knows which side is which)."""
    if not isinstance(value, list):
        raise ValueError(f'must be a list of ["price", "qty"] pairs, got {_shown(value)}')
    if len(value) > MAX_BOOK_LEVELS:
        raise ValueError(f"has {len(value)} levels; at most {MAX_BOOK_LEVELS} are read")
    price, qty = _bounded(PRICE), _bounded(QTY)
    out: list[ev.Level] = []
    for i, level in enumerate(value):
        if not isinstance(level, list) or len(level) != 2:
            raise ValueError(f'level {i + 1} must be a ["price", "qty"] pair, got {_shown(level)}')
        try:
            out.append((price(level[0]), qty(level[1])))
        except ValueError as exc:
            raise ValueError(f"level {i + 1}: {exc}") from None
    return tuple(out)


LEVELS_K = _Kind(check=_levels, py=tuple)
FILL_MODEL_K = _Kind(words=("touch", "book", "queue"))


def _book_problem(d: dict[str, Any]) -> str | None:
    bids: tuple[ev.Level, ...] = d["bids"]
    asks: tuple[ev.Level, ...] = d["asks"]
    for i in range(1, len(bids)):
        if bids[i][0] >= bids[i - 1][0]:
            return f"bids must fall level by level (best first): level {i + 1} is {bids[i][0]}"
    for i in range(1, len(asks)):
        if asks[i][0] <= asks[i - 1][0]:
            return f"asks must rise level by level (best first): level {i + 1} is {asks[i][0]}"
    if bids and asks and bids[0][0] >= asks[0][0]:
        return f"the book is crossed: best bid {bids[0][0]} is not below best ask {asks[0][0]}"
    return None


class _Required:
    """The default of a field every line must carry."""


REQUIRED: Any = _Required()


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class _Field(Value):
    """One field of a line: its name, how it is checked, and its default (or `REQUIRED`)."""

    name: str
    kind: _Kind
    default: Any = REQUIRED
    nullable: bool = False
    """`null` is accepted (and means the default, `None`)."""


def _opt(name: str, kind: _Kind) -> _Field:
    return _Field(name, kind, None, nullable=True)


def _quote_problem(d: dict[str, Any]) -> str | None:
    if d["bid"] > d["ask"]:
        return f"bid {d['bid']} is above ask {d['ask']}"
    return None


def order_problem(order: ev.PlaceOrder) -> str | None:
    """The format's rule across an order's fields, asked of the order built from its checked
    values (the journal's trusted reader asks it too, without a dict of the fields)."""
    if order.order_type == "market" and order.post_only:
        return "post_only applies to limit orders only"
    if order.close_position:
        if order.qty:
            return "a close_position order takes no qty: it closes the position"
    elif not order.qty:
        return "field 'qty' must be positive (got 0)"
    return shape_error(order)


def _order_problem(d: dict[str, Any]) -> str | None:
    market_post_only = d["order_type"] == "market" and d["post_only"]  # worded first
    if d["qty"] is None and not d["close_position"] and not market_post_only:
        return "missing field 'qty'"  # (building the order would fill it in)
    return order_problem(_build("order", dict(d)))  # type: ignore[arg-type]


def _amend_problem(d: dict[str, Any]) -> str | None:
    if d["qty"] is None and d["price"] is None and d["trigger_price"] is None:
        return "an amend needs a new qty, price or trigger_price"
    return None


def _adjust_problem(d: dict[str, Any]) -> str | None:
    return "amount must not be zero" if d["amount"] == 0 else None


_TS = _Field("ts", TS_K)
_ORDER_TYPES = _Kind(
    words=(
        "market",
        "limit",
        "stop_market",
        "stop_limit",
        "take_profit_market",
        "take_profit_limit",
        "trailing_stop_market",
    )
)

_FORMAT: dict[str, tuple[tuple[_Field, ...], Callable[[dict[str, Any]], str | None] | None]] = {
    "session": (
        (
            _Field("ts", TS_K, 0),
            _Field("balance", BALANCE_K, Decimal("10000")),
            _Field("taker_fee", FEE_K, Decimal("0.0005")),
            _Field("maker_fee", FEE_K, Decimal("0.0002")),
            _Field("exchange_limits", BOOL_K, False),
            _opt("name", LABEL_K),
            _opt("venue", LABEL_K),
            _Field("position_mode", POSITION_MODE_K, "one_way"),
            _opt("max_daily_loss", LIMIT_K),
            _opt("max_drawdown", LIMIT_K),
            _opt("max_leverage", LEVERAGE_K),
            _opt("max_position_notional", BALANCE_K),
            _Field("refill", BOOL_K, False),
            _Field("fill_model", FILL_MODEL_K, "touch"),
        ),
        None,
    ),
    "mark": (
        (
            _TS,
            _Field("symbol", SYMBOL_K),
            _Field("price", PRICE_K),
            _opt("index", PRICE_K),
            _opt("funding_rate", RATE_K),
            _opt("next_funding_ts", TS_K),
        ),
        None,
    ),
    "quote": (
        (
            _TS,
            _Field("symbol", SYMBOL_K),
            _Field("bid", PRICE_K),
            _Field("ask", PRICE_K),
            _opt("bid_qty", SIZE_K),
            _opt("ask_qty", SIZE_K),
        ),
        _quote_problem,
    ),
    "trade": (
        (_TS, _Field("symbol", SYMBOL_K), _Field("price", PRICE_K), _Field("qty", QTY_K)),
        None,
    ),
    "funding": ((_TS, _Field("symbol", SYMBOL_K), _Field("rate", RATE_K)), None),
    "book": (
        (_TS, _Field("symbol", SYMBOL_K), _Field("bids", LEVELS_K), _Field("asks", LEVELS_K)),
        _book_problem,
    ),
    "order": (
        (
            _TS,
            _Field("id", IDENT_K),
            _Field("symbol", SYMBOL_K),
            _Field("side", SIDE_K),
            _opt("qty", CLOSE_QTY_K),
            _Field("order_type", _ORDER_TYPES),
            _opt("price", PRICE_K),
            _opt("margin_mode", MODE_K),
            _opt("leverage", LEVERAGE_K),
            _Field("reduce_only", BOOL_K, False),
            _Field("post_only", BOOL_K, False),
            _opt("position_side", SLOT_K),
            _opt("trigger_price", PRICE_K),
            _opt("working_type", _Kind(words=("contract", "mark"))),
            _opt("close_position", BOOL_K),
            _opt("activation_price", PRICE_K),
            _opt("callback_rate", PRICE_K),  # percent; the engine keeps it within 0.1 … 20
            _opt("price_protect", BOOL_K),
            _opt("time_in_force", _Kind(words=("GTC", "IOC", "FOK", "GTX", "GTD"))),
            _opt("good_till", TS_K),
            _opt("stop_loss", PRICE_K),
        ),
        _order_problem,
    ),
    "cancel": ((_TS, _Field("id", IDENT_K)), None),
    "amend": (
        (
            _TS,
            _Field("id", IDENT_K),
            _opt("qty", QTY_K),
            _opt("price", PRICE_K),
            _opt("trigger_price", PRICE_K),
        ),
        _amend_problem,
    ),
    "close": ((_TS, _Field("symbol", SYMBOL_K), _opt("position_side", SLOT_K)), None),
    "adjust_margin": (
        (
            _TS,
            _Field("symbol", SYMBOL_K),
            _Field("amount", AMOUNT_K),
            _opt("position_side", SLOT_K),
        ),
        _adjust_problem,
    ),
    "set_leverage": ((_TS, _Field("symbol", SYMBOL_K), _Field("leverage", LEVERAGE_K)), None),
    "set_margin_mode": ((_TS, _Field("symbol", SYMBOL_K), _Field("margin_mode", MODE_K)), None),
    "set_position_mode": ((_TS, _Field("position_mode", POSITION_MODE_K)), None),
    "snapshot": ((_TS,), None),
}
INPUT_TYPES = tuple(_FORMAT)
_LINE_MODELS = _FORMAT  # the input types, for `to_dict`


# --- the accept path ---------------------------------------------------------------------------


class _Doubt(Exception):
    """The accept path will not take this line whole: the error models word why."""


def _fast_check(kind: _Kind) -> Callable[[Any], Any]:
    if kind.check is not None:
        return kind.check
    if kind.strict_bool:

        def boolean(value: Any) -> Any:
            if type(value) is bool:
                return value
            raise _Doubt

        return boolean
    words = frozenset(kind.words)

    def word(value: Any) -> Any:
        if type(value) is str and value in words:
            return value
        raise _Doubt

    return word


def _nullable(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def or_none(value: Any) -> Any:
        return None if value is None else check(value)

    return or_none


_MEMOS: dict[_Kind, dict[str, Any]] = {}
"""Per kind of field: string value -> what its check returned (words start filled in)."""


def _memo_of(kind: _Kind) -> dict[str, Any]:
    return _MEMOS.setdefault(kind, {w: w for w in kind.words})


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class _Plan(Value):
    """A type's fields as the accept path walks them: the line's own keys, each to its memo
    (strings already checked) and its check."""

    checks: dict[str, tuple[dict[str, Any], Callable[[Any], Any]]]
    required: frozenset[str]
    defaults: dict[str, Any]
    post: Callable[[dict[str, Any]], str | None] | None


def _plan(
    kind: str, fields: tuple[_Field, ...], post: Callable[[dict[str, Any]], str | None] | None
) -> _Plan:
    checks = {
        f.name: (
            _memo_of(f.kind),
            _nullable(_fast_check(f.kind)) if f.nullable else _fast_check(f.kind),
        )
        for f in fields
    }
    checks["type"] = ({kind: kind}, _fast_check(_Kind(words=(kind,))))  # matched already
    return _Plan(
        checks,
        frozenset(f.name for f in fields if f.default is REQUIRED),
        {f.name: f.default for f in fields if f.default is not REQUIRED},
        post,
    )


_PLANS = {name: _plan(name, fields, post) for name, (fields, post) in _FORMAT.items()}


def _fast(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """The fields of a good line, checked and converted, defaults filled in; `_Doubt` (or the
    check's `ValueError`) for anything else."""
    plan = _PLANS[kind]
    if not plan.required <= obj.keys():
        raise _Doubt
    data = plan.defaults.copy()
    checks = plan.checks
    for name, value in obj.items():
        entry = checks.get(name)
        if entry is None:
            raise _Doubt  # a field the format does not have
        memo, check = entry
        if value.__class__ is str:
            got = memo.get(value, _UNSEEN)
            if got is _UNSEEN:
                got = check(value)
                if len(memo) >= _STR_MEMO:
                    memo.clear()
                memo[value] = got
            data[name] = got
        else:
            data[name] = check(value)
    del data["type"]
    if plan.post is not None and plan.post(data) is not None:
        raise _Doubt
    return data


_UNSEEN: Any = object()
STR_MEMO = _STR_MEMO
Doubt = _Doubt


def plan_of(kind: str) -> _Plan:
    """The accept path's plan of an input type, for a reader of rows already in field order
    (`saves.payload`'s trusted path walks the same checks and memos)."""
    return _PLANS[kind]


def field_kinds(kind: str) -> dict[str, _Kind]:
    """How each field of an input type is checked, by name."""
    return {f.name: f.kind for f in _FORMAT[kind][0]}


def event_class(kind: str) -> Callable[..., ev.Event]:
    """The engine's event class of an input type."""
    return _EVENTS[kind]


# --- the error path: pydantic models built from `_FORMAT` ----------------------------------------


@cache
def _models() -> dict[str, Any]:
    """One pydantic `TypeAdapter` a type, from `_FORMAT` (imported and built on first need)."""
    from typing import Annotated
    from typing import Literal as Lit

    from pydantic import BeforeValidator, ConfigDict, StrictBool, TypeAdapter, create_model
    from pydantic import model_validator as after

    def annotation(f: _Field) -> Any:
        k = f.kind
        if k.check is not None:
            base: Any = Annotated[k.py, BeforeValidator(k.check)]
        elif k.strict_bool:
            base = StrictBool
        else:
            base = Lit[k.words]
        return base | None if f.nullable else base

    adapters: dict[str, Any] = {}
    for name, (fields, post) in _FORMAT.items():
        specs: dict[str, Any] = {}
        ordered = list(fields)
        if name != "session":  # `ts` first, as the lines' common base declared it
            specs["ts"] = (annotation(fields[0]), ...)
            ordered = ordered[1:]
            specs["type"] = (Lit[name], ...)
        else:
            specs["type"] = (Lit[name], ...)
        for f in ordered:
            specs[f.name] = (annotation(f), ... if f.default is REQUIRED else f.default)
        validators: dict[str, Any] = {}
        if post is not None:

            def check(self: Any, post: Callable[[dict[str, Any]], str | None] = post) -> Any:
                problem = post({k: v for k, v in self.__dict__.items() if k != "type"})
                if problem is not None:
                    raise ValueError(problem)
                return self

            validators["_after"] = after(mode="after")(check)
        model = create_model(
            f"{name.title().replace('_', '')}Line",
            __config__=ConfigDict(extra="forbid", frozen=True),
            __validators__=validators,
            **specs,
        )
        adapters[name] = TypeAdapter(model)
    return adapters


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


def _slow(kind: str, obj: dict[str, Any], line: int) -> dict[str, Any]:
    """The error path: the same line through the models, for the words of every problem."""
    from pydantic import ValidationError

    try:
        model = _models()[kind].validate_python(obj)
    except ValidationError as exc:
        raise FormatError(line, f"{kind}: {_describe(exc)}") from None
    # the fields as validated (not `model_dump`, which would turn a `Limit` into a dict)
    return {name: getattr(model, name) for name in type(model).model_fields if name != "type"}


def _build(kind: str, data: dict[str, Any]) -> ev.Event | ev.SessionSettings:
    """The engine's event of a checked line (`data`: its fields but `type`)."""
    if kind == "session":
        return ev.SessionSettings(
            balance=data["balance"],
            taker_fee=data["taker_fee"],
            maker_fee=data["maker_fee"],
            position_mode=data["position_mode"],
            exchange_limits=data["exchange_limits"],
            max_daily_loss=data["max_daily_loss"],
            max_drawdown=data["max_drawdown"],
            max_leverage=data["max_leverage"],
            max_position_notional=data["max_position_notional"],
            refill=data["refill"],
            fill_model=data["fill_model"],
        )
    if kind == "order":
        data["qty"] = data["qty"] or Decimal(0)
    return _EVENTS[kind](**data)


_EVENTS: dict[str, Callable[..., ev.Event]] = {
    "mark": ev.MarkPrice,
    "quote": ev.Quote,
    "trade": ev.Trade,
    "funding": ev.Funding,
    "book": ev.Book,
    "order": ev.PlaceOrder,
    "cancel": ev.CancelOrder,
    "amend": ev.AmendOrder,
    "close": ev.ClosePosition,
    "adjust_margin": ev.AdjustMargin,
    "set_leverage": ev.SetLeverage,
    "set_margin_mode": ev.SetMarginMode,
    "set_position_mode": ev.SetPositionMode,
    "snapshot": ev.Snapshot,
}


def parse_object(obj: Any, line: int = 1) -> ev.Event | ev.SessionSettings:
    """Validate one decoded JSON object and build its event."""
    if not isinstance(obj, dict):
        raise FormatError(line, "expected a JSON object")
    kind = obj.get("type")
    if kind is None:
        raise FormatError(line, "missing field 'type'")
    if not isinstance(kind, str) or kind not in _FORMAT:
        known = ", ".join(INPUT_TYPES)
        raise FormatError(line, f"unknown type {_shown(kind)} (expected one of: {known})")
    if "ts" not in obj and kind != "session":
        raise FormatError(line, "missing field 'ts'")
    try:
        data = _fast(kind, obj)
    except (_Doubt, ValueError, TypeError):
        data = _slow(kind, obj, line)
    return _build(kind, data)


# --- journal row patterns: market rows at about the cost of a JSON parse ---------------------
#
# Nearly every row of a journal is a mark, quote, trade or funding in the one compact array
# `saves.payload.encode` writes. For those kinds a regular expression made from `_FORMAT`
# matches the whole row: each number a plain run of at most `MAX_DIGITS` characters of
# digits and `.` (and `-` where its bound goes below zero), so no space, exponent, escape,
# underscore or non-ASCII digit; the symbol only what `_symbol` returns unchanged; a time only
# an integer inside the ts bound. The pattern leaves each number's value to its reader, which
# builds `Decimal(text)` (refusing "1..2", "-") and compares it with the field's bound
# (`field_kinds`), leaving zero to the strict way; for such a text `_bounded` returns that very
# `Decimal(text)`. Simple character classes on purpose: lookaheads that kept each number
# inside its bound cost the pattern twice the time. (Drill lines take msgspec instead.)


def _decimal_token(bound: Bound) -> str:
    chars = "-0-9." if bound.low < 0 else "0-9."
    return rf'"([{chars}]{{1,{MAX_DIGITS}}})"'


_TOKEN_SYMBOL = r'"([A-Z0-9._-]{1,40})"'
_TOKEN_TS = r"(0|[1-9][0-9]{0,13})"  # below 10**14: inside the ts bound


def row_pattern(
    kind: str, names: tuple[str, ...], *, whole: bool = False
) -> re.Pattern[str] | None:
    """The pattern of a journal row of `kind`: the array of `names`' values (trailing nulls
    dropped; the row's ts is kept beside it), one group per name, in order, an absent one
    None. None for a kind it cannot match (a cross-field rule other than a quote's: the
    reader checks that one, a field that is not a symbol, a decimal or a time, an optional
    field whose default is not None, a required field after an optional one). `whole`: only
    the rows that hold every one of `names` (no null, none left out), whose pattern has no
    optional part and matches in three quarters of the time.

    A decimal group's text is a number only once `Decimal` takes it and it lies inside its
    field's bound (`field_kinds`)."""
    fields, post = _FORMAT[kind]
    if post is not None and kind != "quote":
        return None
    kinds = {f.name: f for f in fields}
    tokens: list[tuple[str, bool]] = []
    values: list[str] = []  # each value's token, for a `whole` row
    for name in names:
        f = kinds[name]
        token = _decimal_token(f.kind.bound) if f.kind.bound is not None else None
        if f.kind is SYMBOL_K:
            token = _TOKEN_SYMBOL
        elif f.kind is TS_K:
            token = _TOKEN_TS
        required = f.default is REQUIRED
        if token is None or (not required and f.default is not None):
            return None
        if tokens and required and not tokens[-1][1]:
            return None  # a required value after an optional one: not a trailing-null shape
        tokens.append((token if required else f"(?:null|{token})", required))
        values.append(token)
    if whole:
        return re.compile(rf"\[{','.join(values)}\]")
    text = ""
    for token, required in reversed(tokens):
        text = f",{token}{text}" if required else f"(?:,{token}{text})?"
    return re.compile(rf"\[{text[1:]}\]")


def _fields_of(cls: Any) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


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


_DECODER = json.JSONDecoder(parse_int=_json_int, parse_constant=_json_constant)
"""Made once: `json.loads` with options builds a decoder per call."""
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


# --- the fast path: market lines decoded by msgspec ------------------------------------------
#
# Nearly every line of a drill is a mark, quote, trade or funding. For those kinds msgspec
# decodes the line into a Struct made from `_FORMAT` (`_wire_struct`): the JSON types, the
# unknown and missing fields and the time's bounds are checked in C, and each decimal and
# symbol text goes through its field's own check once, remembered after (`_Memo`). Whatever
# msgspec refuses or a check doubts (other kinds, comments, a number where a string belongs,
# a zero price, a crossed quote, bad JSON) goes the strict way, `_parse` below, which accepts
# or words the error; so this path only ever takes a line `_parse` would take, with the same
# event (tests/core/test_codec_lines.py). Measured on the 200,000-line benchmark drill: about
# half a bare `json.loads` per line, where one regular expression per line (the previous
# fast path) cost as much as the parse.


class _Memo(dict[Any, Any]):
    """One kind of field's texts, each to what its check returned (a check is a pure function
    of the text); `None`, an absent optional field, to `None`. A text the check refuses
    raises its error and is not kept."""

    __slots__ = ("check",)

    def __init__(self, check: Callable[[Any], Any]) -> None:
        super().__init__({None: None})
        self.check = check

    def __missing__(self, text: str) -> Any:
        got = self.check(text)
        if len(self) >= _STR_MEMO:
            self.clear()
            self[None] = None
        self[text] = got
        return got


_WIRE_TS = "ts"
"""A time in a Struct's spec, made `Annotated[int, msgspec.Meta(ge=MIN_TS_MS, le=MAX_TS_MS)]`
when the Structs are made: an integer (not a bool, not a float) inside the bounds."""
_WIRE_MEMOS: dict[_Kind, _Memo] = {}


def _wire(kind: _Kind) -> tuple[Any, _Memo | None] | None:
    """How the fast path decodes a field of `kind`: its type in the Struct's spec, and the
    memo its text goes through (None: the type is the whole check); None if the fast path
    does not take the kind (a word, a bool, an identifier, book levels: their lines go the
    other way)."""
    if kind is TS_K:
        return _WIRE_TS, None
    if kind.bound is not None or kind is SYMBOL_K:
        assert kind.check is not None
        memo = _WIRE_MEMOS.get(kind)
        if memo is None:
            memo = _WIRE_MEMOS[kind] = _Memo(kind.check)
        return str, memo
    return None


class _WireSpec(NamedTuple):
    """A fast-path kind as the table gives it, before msgspec is imported: each field's
    `(name, type)` or `(name, type | None, None)`, and the function making its event."""

    spec: tuple[tuple[Any, ...], ...]
    convert: Callable[[Any], ev.Event]


def _wire_spec(kind: str) -> _WireSpec | None:
    """The Struct a line of `kind` decodes into, fields in the event's order, and the
    function making its event; None for a kind with anything but decimals, a symbol and
    times, an optional field whose default is not None, or a cross-field rule other than
    a quote's (bid not above ask)."""
    fields, post = _FORMAT[kind]
    if post is not None and kind != "quote":
        return None
    by_name = {f.name: f for f in fields}
    names = tuple(f.name for f in _fields_of(_EVENTS[kind]))
    spec: list[tuple[Any, ...]] = []
    memos: list[_Memo | None] = []
    args: list[str] = []  # each field's value, as Python source
    for i, name in enumerate(names):
        f = by_name[name]
        wire = _wire(f.kind)
        if wire is None or (f.default is not REQUIRED and f.default is not None):
            return None
        required = f.default is REQUIRED
        spec.append((name, wire[0]) if required else (name, wire[0], None))
        memos.append(wire[1])
        if wire[1] is None:
            args.append(f"s.{name}")
        else:  # an absent optional field is None without a lookup
            args.append(
                f"m{i}[s.{name}]" if required else f"(None if s.{name} is None else m{i}[s.{name}])"
            )
    rule = "\n    if e.bid > e.ask:\n        raise Doubt" if kind == "quote" else ""
    cls = _EVENTS[kind]
    scope: dict[str, Any] = {"build": cls, "new": object.__new__, "Doubt": _Doubt}
    scope.update((f"m{i}", memo) for i, memo in enumerate(memos) if memo is not None)
    # The event built field by field, each value one expression, as `dataclasses` writes an
    # `__init__` (a loop over the fields cost twice the rest of the line) but in place:
    # calling the class (its `__init__`, a frame of its own) cost ~1.7k instructions a
    # line. Only for a class whose `__init__` does nothing else (mutable, no `__post_init__`,
    # every field set here); any other is called.
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    if params.frozen or hasattr(cls, "__post_init__"):
        body = f"e = build({', '.join(args)})"
    else:
        body = "e = new(build)" + "".join(
            f"\n    e.{name} = {arg}" for name, arg in zip(names, args, strict=True)
        )
    exec(f"def convert(s):\n    {body}{rule}\n    return e\n", scope)
    return _WireSpec(tuple(spec), scope["convert"])


_WIRE_SPECS = {kind: found for kind in _EVENTS if (found := _wire_spec(kind)) is not None}
FAST_KINDS = tuple(_WIRE_SPECS)
"""The input types the fast path takes."""


class _Wire(NamedTuple):
    structs: dict[str, type[msgspec.Struct]]
    """Each fast kind's Struct."""
    decode: Callable[[str], Any]
    convert: dict[type, Callable[[Any], ev.Event]]
    """A decoded Struct's class to the function making its event."""


@cache
def _wire_path() -> _Wire:
    """The fast path's Structs and decoder, made on first use: msgspec (about 15 ms to
    import) is only needed where drill lines are read, never on the terminal's way to its
    first frame."""
    import msgspec

    ts = Annotated[int, msgspec.Meta(ge=MIN_TS_MS, le=MAX_TS_MS)]

    def typed(field: tuple[Any, ...]) -> tuple[Any, ...]:
        kind = ts if field[1] is _WIRE_TS else field[1]
        return (field[0], kind) if len(field) == 2 else (field[0], kind | None, None)

    structs = {
        kind: msgspec.defstruct(
            f"_{kind.title()}Line",
            [typed(f) for f in found.spec],
            tag_field="type",
            tag=kind,
            forbid_unknown_fields=True,
            gc=False,  # texts, ints and None only: no cycle, so never tracked (cheaper lines)
        )
        for kind, found in _WIRE_SPECS.items()
    }
    decode = msgspec.json.Decoder(Union[tuple(structs.values())]).decode  # noqa: UP007
    convert = {structs[kind]: found.convert for kind, found in _WIRE_SPECS.items()}
    return _Wire(structs, decode, convert)


def _quick(text: str) -> ev.Event | None:
    """The event of a market line the fast path takes whole (`text` may keep its newline),
    else None: the line then goes the way every other line goes."""
    if len(text) > MAX_LINE_CHARS:
        return None
    wire = _wire_path()
    try:
        decoded = wire.decode(text)
        return wire.convert[decoded.__class__](decoded)
    except (ValueError, _Doubt):  # msgspec.DecodeError is a ValueError
        return None


def parse_line(text: str, line: int = 1) -> ev.Event | ev.SessionSettings:
    """Parse one JSON line of the drill format.

    Never raises anything but `FormatError`: lines past `MAX_LINE_CHARS`, nesting deep enough
    to exhaust the parser, `NaN` / `Infinity` literals and huge integers are refused by name.
    """
    event = _quick(text)
    return _parse(text, line) if event is None else event


def _parse(text: str, line: int) -> ev.Event | ev.SessionSettings:
    """`parse_line` without the fast path: the standard decoder, then the table walk or the
    error models (the reference the fast path is held to)."""
    if len(text) > MAX_LINE_CHARS:
        raise FormatError(line, f"line longer than {MAX_LINE_CHARS:,} characters")
    try:
        obj, end = _SCAN(text, 0)  # the decoder's own scanner, without its wrapper's calls
    except (StopIteration, ValueError, RecursionError):
        end = -1  # the whole decoder again, below, for its exact error
    if end == len(text):
        return parse_object(obj, line)
    try:
        obj = _DECODER.decode(text)
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
    items = stream(lines)
    settings = next(items)
    assert isinstance(settings, ev.SessionSettings)
    return settings, list(items)  # type: ignore[arg-type]  # events only after the settings


def stream(lines: Iterable[str]) -> Iterator[ev.SessionSettings | ev.Event]:
    """A drill's settings (its `session` line's, else the defaults), then its events, each
    decoded and checked as its line comes (a line may keep its newline); `FormatError` at
    the first bad one. Over the whole drill: a `session` line may only be the first line,
    blank lines and lines starting with `#` are skipped, times never go back.

    A market line the fast path takes (`_quick`, written out: it is `simulate`'s loop) is
    never blank, a comment or a session line, so it skips those questions.
    """
    settings_given = False
    last_ts = -1
    _, decode, converts = _wire_path()
    for number, raw in enumerate(lines, start=1):
        event: ev.Event | None = None
        if len(raw) <= MAX_LINE_CHARS:
            try:
                wire = decode(raw)
                event = converts[wire.__class__](wire)
            except (ValueError, _Doubt):
                pass
        if event is None:
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            item = _parse(text, number)  # takes all `_quick` would, with the same event
            if isinstance(item, ev.SessionSettings):
                if settings_given:
                    raise FormatError(number, "a 'session' line may only be the first line")
                settings_given = True
                yield item
                continue
            event = item
        if not settings_given:
            settings_given = True
            yield ev.SessionSettings()
        if event.ts < last_ts:
            raise FormatError(number, f"ts {event.ts} is before the previous line's ts {last_ts}")
        last_ts = event.ts
        yield event
    if not settings_given:
        yield ev.SessionSettings()


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
    "queue_ahead": None,
}
"""Fields of an open order that only some orders have: written only when they say something,
so the `account` line of a drill without them reads as it always did."""
_SESSION_DEFAULTS_DROPPED = {"position_mode": "one_way", "fill_model": "touch"}
_OUTCOME_OPTIONAL = {
    "after_gap_ms": None,
    "price_move": None,
    "average_price": None,
    "note": None,
    "position_side": None,
}
"""Outcome fields written only when set: a liquidation or a trigger that was not the first
price after a gap, or a fill of the touch model or in one-way mode, reads as it always did."""


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
