"""What a value read back from the file may be; anything else is damage, said in words.

The store wrote every row itself, through validated events, so a row that breaks these bounds
was changed behind papertrade's back (hand edits, bit rot, a foreign tool). It is refused
here, with the session and event named, before it can reach the engine or a printer as a
`decimal.InvalidOperation`, a `KeyError` or a date past year 9999.

Bounds (documented for users in `saves/__init__.py`):
- timestamps: integer ms UTC, 0 … 253402300799999 (1970-01-01 … 9999-12-31T23:59:59.999);
- money and rates: decimal strings that parse to a finite `Decimal`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from papertrade.core.numbers import BadNumber, dec

TS_MIN = 0
TS_MAX = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z: the last instant `datetime` can print."""


class OutOfBounds(ValueError):
    """One value outside what the store ever writes; the message says which and why."""


def ts_problem(value: Any, what: str = "ts") -> str | None:
    """What is wrong with a timestamp from the file, or None when it is within bounds."""
    if not isinstance(value, int) or isinstance(value, bool):
        return f"{what} {value!r} is not an integer time"
    if not TS_MIN <= value <= TS_MAX:
        return f"{what} {value} is out of range ({TS_MIN} … {TS_MAX})"
    return None


def ts(value: Any, what: str = "ts") -> int:
    """A timestamp from the file, checked against `TS_MIN … TS_MAX`."""
    problem = ts_problem(value, what)
    if problem is not None:
        raise OutOfBounds(problem)
    return int(value)


def optional_ts(value: Any, what: str) -> int | None:
    return None if value is None else ts(value, what)


def money(value: Any, what: str) -> Decimal:
    """A decimal column from the file: a string that parses to a finite `Decimal`."""
    if not isinstance(value, str):
        raise OutOfBounds(f"{what} {value!r} is not a decimal string")
    try:
        return dec(value)
    except BadNumber:
        raise OutOfBounds(f"{what} {value!r} is not a finite number") from None


def count(value: Any, what: str) -> int:
    """A sequence number or count column: a non-negative integer."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise OutOfBounds(f"{what} {value!r} is not a count")
    return value


def json_value(text: Any, what: str) -> Any:
    """JSON text from the file; nesting deep enough to exhaust the parser counts as damage."""
    if not isinstance(text, str):
        raise OutOfBounds(f"{what} is not text")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise OutOfBounds(f"{what} is not valid JSON ({type(exc).__name__})") from None
