"""How one journal row encodes one engine input, losslessly and compactly.

A row keeps `kind` and `ts` in their own columns and the event's other fields as a JSON
array in field order (trailing nulls dropped), decimals as `str(Decimal)` so even the
exponent survives ("60088.0" stays "60088.0": a resumed engine is the original to the digit,
where `core.codec.dumps` would normalise it to "60088"). Key names are
the same on every row, so leaving them out halves the journal (the 5 MB per symbol-hour
budget). Decoding checks every value with the drill format's own checks (`core.codec`'s table)
straight from the stored text (issue 14: replay at least half the engine's own speed): a
market row is matched whole by `core.codec.row_pattern`'s pattern (plain character classes),
each number built with `Decimal(text)` and compared with its field's bound; any other row is
split at its commas, each token looked up in a memo of its kind of field (the check's result
per token seen) or taken through the check, and the order's rule across its fields asked once
on the built order. Anything that path doubts (a token that is not one whole JSON value, a null
where a value is required, a check or a cross-field rule failing, a book) goes through
`core.codec.parse_object`, the same edge every drill line goes through, for its exact words: a
damaged row fails loudly instead of replaying wrong, and both paths accept the same rows with
equal events (tests/saves/test_payload_trusted.py).
`to_line` gives `core.codec.dumps(event)`, which is what exports contain.

Books (up to 20 levels a side, ten a second per symbol: the heaviest rows by far) write each
side as one string, best first: levels joined by `,`, each `<k><price tail>:<qty>`, where the
digit `k` (0–9) says how many leading characters the price shares with the previous level's
price (`"94999.90:0.458,6.80:0.457"` is 94999.90 then 94999.80). Nearly half the size of lists
of `["price","qty"]` pairs, lossless to the character (the prices' own text is rebuilt), and
every row still decodes alone (never relative to the previous book). Decoding turns the
string back into the pairs before validating; rows written as pairs read as before.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import json.encoder
import operator
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.numbers import CONTEXT, MAX_DIGITS, QTY
from papertrade.saves.errors import CorruptStoreError

_CLASSES: tuple[type, ...] = (
    ev.MarkPrice,
    ev.Quote,
    ev.Trade,
    ev.Funding,
    ev.Book,
    ev.PlaceOrder,
    ev.CancelOrder,
    ev.AmendOrder,
    ev.ClosePosition,
    ev.AdjustMargin,
    ev.SetLeverage,
    ev.SetMarginMode,
    ev.SetPositionMode,
    ev.Snapshot,
)
FIELDS: dict[str, tuple[str, ...]] = {
    cls.type: tuple(f.name for f in dataclasses.fields(cls) if f.name != "ts")  # type: ignore[attr-defined]
    for cls in _CLASSES
}
KINDS = frozenset(FIELDS)
_COMPACT = (",", ":")


_GETTERS = {kind: operator.attrgetter(*names) for kind, names in FIELDS.items() if names}
_STRING = json.encoder.encode_basestring_ascii  # what json.dumps does to a str (C, escaped)
_ENCODER = json.JSONEncoder(separators=_COMPACT)


def encode(event: ev.Event) -> tuple[str, int, str]:
    """`(kind, ts, payload)` of an input event.

    The text is exactly `json.dumps(values, separators=(",", ":"))` of the field values
    (decimals as `str`, trailing nulls dropped), written out directly: this runs for every
    event a session saves, where json.dumps with options builds an encoder per call and cost
    more than SQLite's insert. Market data, nearly every row, takes a fixed template when its
    fields have their usual types; anything else goes value by value. `%` formatting on
    purpose (noqa UP031): it calls `str(Decimal)`, where an f-string calls the much slower
    `Decimal.__format__`.
    """
    kind = event.type
    t = type(event)
    if t is ev.Quote:
        q: ev.Quote = event  # type: ignore[assignment]
        if type(q.symbol) is str and type(q.bid) is Decimal and type(q.ask) is Decimal:
            if type(q.bid_qty) is Decimal and type(q.ask_qty) is Decimal:
                text = '[%s,"%s","%s","%s","%s"]' % (  # noqa: UP031
                    _STRING(q.symbol), q.bid, q.ask, q.bid_qty, q.ask_qty
                )  # fmt: skip
                return kind, q.ts, text
            if q.bid_qty is None and q.ask_qty is None:
                return kind, q.ts, '[%s,"%s","%s"]' % (_STRING(q.symbol), q.bid, q.ask)  # noqa: UP031
    elif t is ev.MarkPrice:
        m: ev.MarkPrice = event  # type: ignore[assignment]
        if type(m.symbol) is str and type(m.price) is Decimal:
            if m.index is None and m.funding_rate is None and m.next_funding_ts is None:
                return kind, m.ts, '[%s,"%s"]' % (_STRING(m.symbol), m.price)  # noqa: UP031
            if (
                type(m.index) is Decimal
                and type(m.funding_rate) is Decimal
                and type(m.next_funding_ts) is int
            ):
                text = '[%s,"%s","%s","%s",%d]' % (  # noqa: UP031
                    _STRING(m.symbol), m.price, m.index, m.funding_rate, m.next_funding_ts
                )  # fmt: skip
                return kind, m.ts, text
    elif t is ev.Book:
        b: ev.Book = event  # type: ignore[assignment]
        if type(b.symbol) is str:
            return kind, b.ts, '[%s,"%s","%s"]' % (_STRING(b.symbol), _side(b.bids), _side(b.asks))  # noqa: UP031
    elif t is ev.Trade:
        tr: ev.Trade = event  # type: ignore[assignment]
        if type(tr.symbol) is str and type(tr.price) is Decimal and type(tr.qty) is Decimal:
            return kind, tr.ts, '[%s,"%s","%s"]' % (_STRING(tr.symbol), tr.price, tr.qty)  # noqa: UP031
    return kind, event.ts, _values(event)


def _values(event: ev.Event) -> str:
    getter = _GETTERS.get(event.type)
    if getter is None:
        return "[]"
    values = getter(event)
    if type(values) is not tuple:
        values = (values,)
    parts: list[str] = []
    for v in values:
        t = type(v)
        if t is Decimal:
            parts.append('"%s"' % v)  # noqa: UP031 (plain ASCII: nothing to escape)
        elif t is str:
            parts.append(_STRING(v))
        elif v is None:
            parts.append("null")
        elif t is bool:
            parts.append("true" if v else "false")
        elif t is int:
            parts.append(int.__repr__(v))
        elif t is tuple:  # a book side: ((price, qty), ...)
            parts.append('"%s"' % _side(v))  # noqa: UP031
        else:
            parts.append(_ENCODER.encode(str(v) if isinstance(v, Decimal) else v))
    while parts and parts[-1] == "null":
        parts.pop()
    return f"[{','.join(parts)}]"


def _side(levels: tuple[tuple[Decimal, Decimal], ...]) -> str:
    """A book side as one front-coded string (see the module notes): `str(Decimal)` holds
    neither `:` nor `,`."""
    parts = []
    previous = ""
    for price, qty in levels:
        text = str(price)
        k = 0
        limit = min(9, len(text) - 1, len(previous))  # at least one character of its own
        while k < limit and text[k] == previous[k]:
            k += 1
        parts.append("%d%s:%s" % (k, text[k:], qty))  # noqa: UP031
        previous = text
    return ",".join(parts)


def _pairs(side: object) -> object:
    """A book side written back as `["price", "qty"]` pairs, for the codec to validate
    (anything malformed is left for it to refuse in its own words)."""
    if type(side) is not str:
        return side
    if not side:
        return []
    out: list[list[str]] = []
    previous = ""
    for level in side.split(","):
        price, sep, qty = level.partition(":")
        if not sep or not price[:1].isdigit() or int(price[0]) > len(previous):
            return side  # not a side this module wrote: the codec says what is wrong
        previous = previous[: int(price[0])] + price[1:]
        out.append([previous, qty])
    return out


def to_object(kind: str, ts: int, payload: str) -> dict[str, Any]:
    """The drill-format JSON object of a row (what `core.codec.to_dict` gave when recorded)."""
    names = FIELDS.get(kind)
    if names is None:
        raise CorruptStoreError(f"unknown kind {kind!r}")
    try:
        values = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise CorruptStoreError(f"payload is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(values, list) or len(values) > len(names):
        raise CorruptStoreError(f"malformed payload for kind {kind!r}")
    obj: dict[str, Any] = {"type": kind, "ts": ts}
    for name, value in zip(names, values, strict=False):
        if value is not None:
            obj[name] = value
    if kind == "book":
        for name in ("bids", "asks"):
            if name in obj:
                obj[name] = _pairs(obj[name])
    return obj


_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_UNSEEN: Any = object()
_REQUIRED = codec.REQUIRED
_TS_MIN, _TS_MAX = 0, 253_402_300_799_999  # saves.bounds.TS_MIN/MAX and core.numbers' ts range
_SCALARS = frozenset({str, int, bool, type(None)})
_NOT_TAKEN = (ValueError, TypeError, ArithmeticError, codec.Doubt)
_DECIMAL_CHARS = "0123456789.-"
_D = Decimal
MEMO_SIZE = 4096
"""Distinct tokens remembered per kind of field before its memo starts afresh (a command's
symbol, side, type, flags and usual sizes repeat row after row; a memo returns exactly what
the check returned). About 1 MB at most per kind of field."""


class _Field:
    """How the trusted path reads one kind of field (its check and its default): `memo`
    holds the value of every token seen, `admit` takes a token not seen yet. Fields with
    the same check and default share one (an order's price and trigger price)."""

    __slots__ = ("admit", "memo")

    def __init__(self, check: Callable[[Any], Any], default: Any, bound: Any) -> None:
        memo: dict[str, Any] = {}
        self.memo = memo

        def admit(token: str) -> Any:
            """The token's value through the format's check, remembered; `_UNSEEN` for
            anything the trusted path leaves to the strict one. The token is JSON-decoded
            alone: a row whose every token decodes whole is exactly the JSON array of those
            values (no token holds the `,` it was split at), so the value is what the strict
            path's `json.loads` and then its check give."""
            try:
                value, end = _SCAN(token, 0)
            except (StopIteration, ValueError, RecursionError):
                return _UNSEEN
            if end != len(token) or value.__class__ not in _SCALARS:
                return _UNSEEN
            if value is None:  # the strict path drops a null: the field takes its default
                if default is _REQUIRED:
                    return _UNSEEN
                got = default
            else:
                try:
                    got = check(value)
                except _NOT_TAKEN:
                    return _UNSEEN
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[token] = got
            return got

        self.admit = admit
        if bound is None:
            return
        low, high = bound.low, bound.high

        def admit_decimal(token: str) -> Any:
            """A usual decimal (`"60001.5"`) without the JSON decoder and the check's call:
            at most `MAX_DIGITS` characters of digits, `.` and `-` (so no escape, space,
            exponent or non-ASCII digit), non-zero and strictly inside the bound. For such
            a text the format's check returns `Decimal(text)` (its own fast case, and what
            `Bound.parse` returns for it); anything else goes through `admit`."""
            text = token[1:-1]
            if (
                token[:1] == '"'
                and token[-1:] == '"'
                and 0 < len(text) <= MAX_DIGITS
                and not text.strip(_DECIMAL_CHARS)
            ):
                try:
                    got = _D(text)
                    inside = low < got <= high and got
                except ArithmeticError:
                    inside = False
                if inside:
                    if len(memo) >= MEMO_SIZE:
                        memo.clear()
                    memo[token] = got
                    return got
            return admit(token)

        self.admit = admit_decimal


_FIELDS: dict[tuple[Any, Any], _Field] = {}


def _field(kind: str, name: str) -> _Field:
    plan = codec.plan_of(kind)
    how = codec.field_kinds(kind)[name]
    default = plan.defaults.get(name, _REQUIRED)
    key = (how, default)
    # An order's qty is checked by `_bounded(QTY)` unless it is the text "0" (a close_position
    # order's), which is zero and so never taken by `admit_decimal`: its plain texts take
    # the decimal path of the quantity bound.
    bound = QTY if how is codec.CLOSE_QTY_K else how.bound
    if key not in _FIELDS:
        _FIELDS[key] = _Field(plan.checks[name][1], default, bound)
    return _FIELDS[key]


class _Plan:
    """One kind's row as the trusted path reads it: its fields in `FIELDS` order; `tails[n]`:
    the defaults of the fields after a row of `n` values (None when one of them is
    required)."""

    __slots__ = ("build", "cross", "fields", "names", "size", "tails")

    def __init__(self, kind: str) -> None:
        plan = codec.plan_of(kind)
        names = FIELDS[kind]
        self.names = ("ts", *names)
        self.fields = tuple(_field(kind, name) for name in names)
        self.size = len(names)
        defaults = [plan.defaults.get(name, _REQUIRED) for name in names]
        self.tails = tuple(
            None if _REQUIRED in defaults[n:] else tuple(defaults[n:])
            for n in range(len(names) + 1)
        )
        self.cross = plan.post
        self.build: Any = codec.event_class(kind)


_PLANS = {kind: _Plan(kind) for kind in FIELDS if kind != "book"}
"""Books are left to the strict path: their sides are stored as strings it unpacks."""


def _walk(kind: str, plan: _Plan, ts: int, tokens: list[str]) -> ev.Event | None:
    """Any row of `kind`, token by token."""
    if len(tokens) > plan.size:
        return None
    args: list[Any] = [ts]
    append = args.append
    for field, token in zip(plan.fields, tokens, strict=False):
        got = field.memo.get(token, _UNSEEN)
        if got is _UNSEEN:
            got = field.admit(token)
            if got is _UNSEEN:
                return None
        append(got)
    tail = plan.tails[len(tokens)]
    if tail is None:
        return None
    if tail:
        args.extend(tail)
    if plan.cross is not None:
        if kind == "quote":
            if args[2] > args[3]:
                return None
        elif kind == "order":
            if args[4] is None:
                return None  # codec fills a close_position order's qty: its path does it
            order: ev.PlaceOrder = plan.build(*args)
            return None if codec.order_problem(order) is not None else order
        elif plan.cross(dict(zip(plan.names, args, strict=True))) is not None:
            return None
    built: ev.Event = plan.build(*args)
    return built


# --- market rows: one pattern match, then each number's Decimal and its bound ---------------
#
# A market row that `core.codec.row_pattern`'s pattern matches whole holds a symbol as
# `_symbol` returns it, times inside their bound, and numbers written as at most `MAX_DIGITS`
# characters of digits and `.` (and `-` for a rate). For such a text the format's check
# (`codec._bounded`) gives `Decimal(text)` when that is not zero and lies inside the field's
# bound, and refuses it otherwise (more than one `.`, no digit, a misplaced `-`, out of
# bounds), so the readers below build `Decimal(text)` (refused texts raise `ArithmeticError`)
# and compare it with its field's bound, taken from the format's table; a zero and an edge
# of a bound go to the strict path (which turns zero into `Decimal(0)`, whatever its
# exponent). `_DEC` is `Decimal(text)` through a context (`create_decimal`: fewer argument
# checks than `Decimal()`) whose 80 digits never round a number of 18 characters, so the
# value and its exponent are `Decimal(text)`'s. Nearly every row of a journal is one of these;
# sizes and funding rates, which repeat, are remembered from row to row with their values
# (`_numbers`), and so is the symbol's interned text. The groups are the fields after `ts`
# in `FIELDS` order, absent ones None (tests/saves/test_payload_trusted.py holds each
# pattern to that layout).

_PATTERNS = {
    kind: p for kind, names in FIELDS.items() if (p := codec.row_pattern(kind, names)) is not None
}
_QUOTE = _PATTERNS["quote"].fullmatch
_WHOLE_QUOTE = codec.row_pattern("quote", FIELDS["quote"], whole=True).fullmatch  # type: ignore[union-attr]
"""A quote with both sizes, as live quotes come: tried first, its pattern has no optional
part and matches in three quarters of the general one's time."""
_MARK = _PATTERNS["mark"].fullmatch
_TRADE = _PATTERNS["trade"].fullmatch
_FUNDING = _PATTERNS["funding"].fullmatch
_Quote, _MarkPrice, _Trade, _Funding = ev.Quote, ev.MarkPrice, ev.Trade, ev.Funding
_DEC = CONTEXT.create_decimal
_intern = sys.intern


def _limits(kind: str, name: str) -> tuple[Decimal, Decimal]:
    """`(low, high)` of a decimal field's bound in the format's table: a reader takes
    `low < value <= high` (an inclusive low end is left to the strict path)."""
    bound = codec.field_kinds(kind)[name].bound
    assert bound is not None
    return bound.low, bound.high


_NOT_A_NUMBER = ArithmeticError  # what `_DEC` raises for a text `Decimal` refuses


_Memo = dict[str, Decimal]
_Read = Callable[[str], Decimal | None]
NUMBER_MEMO_SIZE = 8192
"""Texts remembered per memo of market numbers before it starts afresh (about 2 MB at most
each). The benchmark's random sizes take some 5,000 texts: a memo of 4,096 started afresh
before most came round again (53 % hits against 82 % at this size)."""


def _numbers(low: Decimal, high: Decimal) -> tuple[_Memo, _Read]:
    """A memo of a bound's numbers, text -> value, and the reader of a text not in it.

    The readers below look a size or a rate up first (`memo.get(text) or read(text)`: every
    remembered value is non-zero): market data repeats them (recorded Binance bookTickers:
    sizes 83 % of the time; the benchmark's random stream 82 %; funding rates nearly always),
    and a repeat then costs a dict lookup, not a `Decimal` and its bound's comparisons. A
    text not seen yet costs that lookup, a call and its store more (about as much as a hit
    saves), which is why prices are not remembered: recorded prices repeat 98.8 %, but the
    random stream's 7 % (12 % with a memo) and a replay must keep up with both. Only a text
    the pattern matched, that `Decimal` takes and that lies strictly inside the bound
    (non-zero) is remembered, with `_DEC(text)` itself, so a hit is what the checks give,
    exponent included."""
    memo: _Memo = {}

    def read(text: str) -> Decimal | None:
        try:
            got = _DEC(text)
        except _NOT_A_NUMBER:
            return None
        if not (low < got <= high and got):
            return None
        if len(memo) >= NUMBER_MEMO_SIZE:
            memo.clear()
        memo[text] = got
        return got

    return memo, read


_SIZE_LIMITS = _limits("quote", "bid_qty")
_RATE_LIMITS = _limits("mark", "funding_rate")
_SIZES, _new_size = _numbers(*_SIZE_LIMITS)
_RATES, _new_rate = _numbers(*_RATE_LIMITS)
_size, _rate = _SIZES.get, _RATES.get
_PRICE_LOW, _PRICE_HIGH = _limits("quote", "bid")
_INDEX_LOW, _INDEX_HIGH = _limits("mark", "index")
for _kind, _name, _limit in [
    ("quote", "ask", (_PRICE_LOW, _PRICE_HIGH)),
    ("mark", "price", (_PRICE_LOW, _PRICE_HIGH)),
    ("trade", "price", (_PRICE_LOW, _PRICE_HIGH)),
    ("quote", "ask_qty", _SIZE_LIMITS),
    ("trade", "qty", _SIZE_LIMITS),
    ("funding", "rate", _RATE_LIMITS),
]:
    assert _limits(_kind, _name) == _limit, (_kind, _name)  # one bound per memo, per constant
assert _PRICE_LOW >= 0  # `_PRICE_LOW < price` then also says price is not zero


def _quote(ts: int, text: str) -> ev.Event | None:
    found = _WHOLE_QUOTE(text) or _QUOTE(text)
    if found is None:
        return None
    symbol, bid_text, ask_text, bid_qty_text, ask_qty_text = found.groups()
    try:
        bid, ask = _DEC(bid_text), _DEC(ask_text)
    except _NOT_A_NUMBER:
        return None
    if not (_PRICE_LOW < bid <= ask <= _PRICE_HIGH):  # bid <= ask: the rule across fields
        return None
    if bid_qty_text is None:
        bid_qty = None
    else:
        bid_qty = _size(bid_qty_text) or _new_size(bid_qty_text)
        if bid_qty is None:
            return None
    if ask_qty_text is None:
        ask_qty = None
    else:
        ask_qty = _size(ask_qty_text) or _new_size(ask_qty_text)
        if ask_qty is None:
            return None
    return _Quote(ts, _intern(symbol), bid, ask, bid_qty, ask_qty)


def _mark(ts: int, text: str) -> ev.Event | None:
    found = _MARK(text)
    if found is None:
        return None
    symbol, price_text, index_text, rate_text, next_ts = found.groups()
    try:
        price = _DEC(price_text)
    except _NOT_A_NUMBER:
        return None
    if not _PRICE_LOW < price <= _PRICE_HIGH:
        return None
    if index_text is None:
        index = None
    else:
        try:
            index = _DEC(index_text)
        except _NOT_A_NUMBER:
            return None
        if not _INDEX_LOW < index <= _INDEX_HIGH:
            return None
    if rate_text is None:
        rate = None
    else:
        rate = _rate(rate_text) or _new_rate(rate_text)
        if rate is None:
            return None
    return _MarkPrice(
        ts, _intern(symbol), price, index, rate, None if next_ts is None else int(next_ts)
    )


def _trade(ts: int, text: str) -> ev.Event | None:
    found = _TRADE(text)
    if found is None:
        return None
    symbol, price_text, qty_text = found.groups()
    try:
        price = _DEC(price_text)
    except _NOT_A_NUMBER:
        return None
    qty = _size(qty_text) or _new_size(qty_text)
    if qty is None or not _PRICE_LOW < price <= _PRICE_HIGH:
        return None
    return _Trade(ts, _intern(symbol), price, qty)


def _funding(ts: int, text: str) -> ev.Event | None:
    found = _FUNDING(text)
    if found is None:
        return None
    symbol, rate_text = found.groups()
    rate = _rate(rate_text) or _new_rate(rate_text)
    if rate is None:
        return None
    return _Funding(ts, _intern(symbol), rate)


_MARKET: dict[str, Callable[[int, str], ev.Event | None]] = {
    "quote": _quote,
    "mark": _mark,
    "trade": _trade,
    "funding": _funding,
}


READERS: dict[str, Callable[[int, str], ev.Event | None]] = dict(_MARKET)
"""The cheapest reader of each kind that has one, `(ts, payload) -> event or None`: what a
journal's hot loop calls first, then `decode` (the market kinds' pattern alone: a row it
doubts goes the whole way, walk and strict path, through `decode`)."""


def trusted(kind: str, ts: int, payload: str) -> ev.Event | None:
    """The event of a row as the writer wrote it, or None for the strict path to decide
    (`ts` must already be in range: a journal reader's hot loop checks it).

    A market row is matched whole by its pattern; any other row (and a market row the
    pattern doubts) is split at its commas and each token looked up in its field's memo, so
    a value seen before costs a dict lookup, not a parse and a check; a token not seen yet
    goes through the format's check (`_Field.admit`). Anything unusual (a comma inside a
    string, a book, a cross-field rule with something to say) is None."""
    market = _MARKET.get(kind)
    if market is not None:
        event = market(ts, payload)
        if event is not None:
            return event
    plan = _PLANS.get(kind)
    if plan is None:
        return None
    return _walk_row(kind, plan, ts, payload)


def _walk_row(kind: str, plan: _Plan, ts: int, payload: str) -> ev.Event | None:
    if payload[:1] != "[" or payload[-1:] != "]":
        return None
    return _walk(kind, plan, ts, payload[1:-1].split(",") if len(payload) > 2 else [])


# --- the usual order: a market or limit order of ten values --------------------------------
#
# `encode` writes a plain order (no conditional field, no stop loss) as its first ten values,
# `reduce_only` and `post_only` being `false` rather than null. `_order` reads such a row
# token by token through the same memos and checks as `_walk` (unrolled: an order row is the
# costliest command to read) and asks the rule across an order's fields in the form it takes
# when every field after `post_only` has its default (None, `tails[10]`): `order_problem` then
# says nothing for a `limit` order with a price and a non-zero qty, and nothing for a `market`
# order without a price, with a non-zero qty and not `post_only` (`shape_error`'s checks of
# the later fields all pass on their defaults). Every other order, and any token it doubts,
# goes through `_walk` as before.

_ORDER = _PLANS["order"]
assert _ORDER.names[1:11] == (
    "id", "symbol", "side", "qty", "order_type", "price",
    "margin_mode", "leverage", "reduce_only", "post_only",
)  # fmt: skip
assert _ORDER.tails[10] is not None and not any(_ORDER.tails[10])
(
    (_, _id_admit),
    (_symbol_memo, _symbol_admit),
    (_side_memo, _side_admit),
    (_qty_memo, _qty_admit),
    (_type_memo, _type_admit),
    (_price_memo, _price_admit),
    (_mode_memo, _mode_admit),
    (_leverage_memo, _leverage_admit),
    (_reduce_memo, _reduce_admit),
    (_post_memo, _post_admit),
) = [(f.memo.get, f.admit) for f in _ORDER.fields[:10]]
_PlaceOrder = ev.PlaceOrder


def _order(ts: int, text: str) -> ev.Event | None:
    tokens = text[1:-1].split(",")
    if len(tokens) != 10 or text[:1] != "[" or text[-1:] != "]":
        return _walk_row("order", _ORDER, ts, text)
    i, s, sd, q, ot, pr, mm, lv, ro, po = tokens
    order_id = i[1:-1]  # an id is new on every order: remembering it would not pay
    if not (i[:1] == '"' and i[-1:] == '"' and order_id.isalnum() and len(order_id) <= 64):
        order_id = _id_admit(i)
        if order_id is _UNSEEN:
            return None
    symbol = _symbol_memo(s, _UNSEEN)
    if symbol is _UNSEEN:
        symbol = _symbol_admit(s)
        if symbol is _UNSEEN:
            return None
    side = _side_memo(sd, _UNSEEN)
    if side is _UNSEEN:
        side = _side_admit(sd)
        if side is _UNSEEN:
            return None
    qty = _qty_memo(q, _UNSEEN)
    if qty is _UNSEEN:
        qty = _qty_admit(q)
        if qty is _UNSEEN:
            return None
    order_type = _type_memo(ot, _UNSEEN)
    if order_type is _UNSEEN:
        order_type = _type_admit(ot)
        if order_type is _UNSEEN:
            return None
    price = _price_memo(pr, _UNSEEN)
    if price is _UNSEEN:
        price = _price_admit(pr)
        if price is _UNSEEN:
            return None
    mode = _mode_memo(mm, _UNSEEN)
    if mode is _UNSEEN:
        mode = _mode_admit(mm)
        if mode is _UNSEEN:
            return None
    leverage = _leverage_memo(lv, _UNSEEN)
    if leverage is _UNSEEN:
        leverage = _leverage_admit(lv)
        if leverage is _UNSEEN:
            return None
    reduce_only = _reduce_memo(ro, _UNSEEN)
    if reduce_only is _UNSEEN:
        reduce_only = _reduce_admit(ro)
        if reduce_only is _UNSEEN:
            return None
    post_only = _post_memo(po, _UNSEEN)
    if post_only is _UNSEEN:
        post_only = _post_admit(po)
        if post_only is _UNSEEN:
            return None
    if qty and (  # neither None (a close_position order's, the codec fills it) nor zero
        (order_type == "limit" and price is not None)
        or (order_type == "market" and price is None and not post_only)
    ):
        order: ev.Event = _PlaceOrder(
            ts, order_id, symbol, side, qty, order_type, price, mode, leverage, reduce_only,
            post_only,
        )  # fmt: skip
        return order
    return _walk_row("order", _ORDER, ts, text)


READERS["order"] = _order

_CANCEL = _PLANS["cancel"]
assert (
    _CANCEL.names == ("ts", "id") and _CANCEL.cross is None and _CANCEL.fields[0].admit is _id_admit
)
_CancelOrder = ev.CancelOrder


def _cancel(ts: int, text: str) -> ev.Event | None:
    """A cancel, `["<id>"]`: an id of letters and digits as `_order` takes it (any other
    through `_walk`)."""
    order_id = text[2:-2]
    if text[:2] == '["' and text[-2:] == '"]' and order_id.isalnum() and len(order_id) <= 64:
        cancel: ev.Event = _CancelOrder(ts, order_id)
        return cancel
    return _walk_row("cancel", _CANCEL, ts, text)


READERS["cancel"] = _cancel

for _kind, _plan in _PLANS.items():
    READERS.setdefault(_kind, functools.partial(_walk_row, _kind, _plan))


def decode(kind: str, ts: int, payload: str, seq: int = 0) -> ev.Event:
    """Rebuild the engine input of a row; a row that does not validate is corruption.

    The error's message is the reason alone ("price: must be positive"); the journal
    reader adds which session and event it was."""
    if type(ts) is int and _TS_MIN <= ts <= _TS_MAX:
        taken = trusted(kind, ts, payload)
        if taken is not None:
            return taken
    try:
        event = codec.parse_object(to_object(kind, ts, payload), seq)
    except codec.FormatError as exc:
        raise CorruptStoreError(exc.message) from None
    except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise CorruptStoreError(f"does not validate ({type(exc).__name__})") from None
    if isinstance(event, ev.SessionSettings):
        raise CorruptStoreError("a session line where an event belongs")
    return event


def to_line(kind: str, ts: int, payload: str) -> str:
    """The row as one drill/export line, byte-identical to `core.codec.dumps` of the event."""
    return codec.dumps(decode(kind, ts, payload))
