"""How one journal row encodes one engine input, losslessly and compactly.

A row keeps `kind` and `ts` in their own columns and the event's other fields as a JSON
array in field order (trailing nulls dropped), decimals as `str(Decimal)` so even the
exponent survives ("60088.0" stays "60088.0": a resumed engine is the original to the digit,
where `core.codec.dumps` would normalise it to "60088"). Key names are
the same on every row, so leaving them out halves the journal (the 5 MB per symbol-hour
budget). Decoding checks every value with the drill format's own checks (`core.codec`'s
table, its memos of texts already checked) straight from the array, field by field in
`FIELDS` order: a replay pays about a JSON parse a row, not the drill edge's object building
(issue 14: replay at least half the engine's own speed). Anything that path doubts (not an
array, too long, a null where a value is required, a check or a cross-field rule failing) goes
through `core.codec.parse_object`, the same edge every drill line goes through, for its exact
words: a damaged row fails loudly instead of replaying wrong, and both paths accept the same
rows with equal events (tests/saves/test_payload_trusted.py).
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
import json
import json.encoder
import operator
from decimal import Decimal
from typing import Any

from papertrade.core import codec
from papertrade.core import events as ev
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


class _Plan:
    """One kind's row as the trusted path reads it: for each stored value in `FIELDS` order,
    the format's memo and check for that field and its default (`codec.REQUIRED` if none)."""

    __slots__ = ("build", "cross", "fields", "steps")

    def __init__(self, kind: str) -> None:
        plan = codec.plan_of(kind)
        self.fields = ("ts", *FIELDS[kind])
        self.steps = tuple(
            (*plan.checks[name], plan.defaults.get(name, codec.REQUIRED)) for name in FIELDS[kind]
        )
        self.cross = plan.post
        self.build: Any = codec.event_class(kind)


_PLANS = {kind: _Plan(kind) for kind in FIELDS}

_MATCHERS = {
    kind: m for kind, names in FIELDS.items() if (m := codec.matcher(kind, names, keyed=False))
}
"""Market rows matched whole (`core.codec.matcher`: what they match, the checks would have
returned exactly)."""
_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_UNSEEN: Any = object()
_call = operator.call
_REQUIRED = codec.REQUIRED
_TS_MIN, _TS_MAX = 0, 253_402_300_799_999  # saves.bounds.TS_MIN/MAX and core.numbers' ts range


class _Doubt(Exception):
    """The trusted path will not take this row whole: the strict path words why."""


def _trusted(kind: str, ts: int, payload: str) -> ev.Event:
    """The row's event, each value through the format's check (memoised per text), or `_Doubt`
    / the check's own error for anything the strict path must look at (market rows `decode`
    matched whole already do not come here)."""
    plan = _PLANS[kind]
    values, end = _SCAN(payload, 0)
    steps = plan.steps
    if end != len(payload) or type(values) is not list or len(values) > len(steps):
        raise _Doubt
    if type(ts) is not int or not _TS_MIN <= ts <= _TS_MAX:
        raise _Doubt
    args = [ts]
    for (memo, check, default), value in zip(steps, values, strict=False):
        if value.__class__ is str:
            got = memo.get(value, _UNSEEN)
            if got is _UNSEEN:
                got = check(value)  # the memo is codec's: filled by the strict path too
                if len(memo) < codec.STR_MEMO:
                    memo[value] = got
        elif value is None:
            got = default
            if got is _REQUIRED:
                raise _Doubt
        else:
            got = check(value)
        args.append(got)
    for _memo, _check, default in steps[len(values) :]:
        if default is _REQUIRED:
            raise _Doubt
        args.append(default)
    if plan.cross is not None:
        if kind == "quote":
            if args[2] > args[3]:
                raise _Doubt
        elif kind == "order" and args[4] is None:
            raise _Doubt  # codec fills a close_position order's qty: its path does it
        elif plan.cross(dict(zip(plan.fields, args, strict=True))) is not None:
            raise _Doubt
    built: ev.Event = plan.build(*args)
    return built


def decode(kind: str, ts: int, payload: str, seq: int = 0) -> ev.Event:
    """Rebuild the engine input of a row; a row that does not validate is corruption.

    The error's message is the reason alone ("price: must be positive"); the journal
    reader adds which session and event it was."""
    matcher = _MATCHERS.get(kind)  # cannot raise: what it matches converts as it is
    if matcher is not None and type(ts) is int and _TS_MIN <= ts <= _TS_MAX:
        matched = codec.match(matcher, payload, ts)
        if matched is not None:
            return matched
    if kind in _PLANS:
        try:
            return _trusted(kind, ts, payload)
        except (
            _Doubt,
            codec.Doubt,
            StopIteration,
            ValueError,
            TypeError,
            ArithmeticError,
            RecursionError,
        ):
            pass  # the strict path below decides, with its words
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
