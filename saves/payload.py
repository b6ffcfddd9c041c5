"""How one journal row encodes one engine input, losslessly and compactly.

A row keeps `kind` and `ts` in their own columns and the event's other fields as a JSON
array in field order (trailing nulls and unset newer flags dropped), decimals as
`str(Decimal)` so even the exponent survives ("60088.0" stays "60088.0": a resumed engine
is the original to the digit, where `core.codec.dumps` would normalise it to "60088"). Key
names are the same on every row, so leaving them out halves the journal (the 5 MB per symbol-hour
budget); decoding puts them back and validates through `core.codec.parse_object`, the same
edge every drill line goes through, so a damaged row fails loudly instead of replaying wrong.
`to_line` gives `core.codec.dumps(event)`, which is what exports contain.
"""

from __future__ import annotations

import dataclasses
import json
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
    ev.PlaceOrder,
    ev.CancelOrder,
    ev.AmendOrder,
    ev.ClosePosition,
    ev.AdjustMargin,
    ev.SetLeverage,
    ev.SetMarginMode,
    ev.Snapshot,
)
FIELDS: dict[str, tuple[str, ...]] = {
    cls.type: tuple(f.name for f in dataclasses.fields(cls) if f.name != "ts")  # type: ignore[attr-defined]
    for cls in _CLASSES
}
KINDS = frozenset(FIELDS)
_FALSE_DROPPED = frozenset({"close_position", "price_protect"})
"""Flags added after the first journals: left out at the tail when false, like nulls, so an
order without them is stored exactly as before they existed."""
_COMPACT = (",", ":")


def encode(event: ev.Event) -> tuple[str, int, str]:
    """`(kind, ts, payload)` of an input event."""
    kind = event.type
    values: list[Any] = [
        str(v) if isinstance(v, Decimal) else v
        for v in (getattr(event, name) for name in FIELDS[kind])
    ]
    names = FIELDS[kind]
    while values and (
        values[-1] is None or (values[-1] is False and names[len(values) - 1] in _FALSE_DROPPED)
    ):
        values.pop()
    return kind, event.ts, json.dumps(values, separators=_COMPACT)


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
    return obj


def decode(kind: str, ts: int, payload: str, seq: int = 0) -> ev.Event:
    """Rebuild the engine input of a row; a row that does not validate is corruption.

    The error's message is the reason alone ("price: must be positive"); the journal
    reader adds which session and event it was."""
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
