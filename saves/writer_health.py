"""How saving is going, in words for the user: the journal writer's health and what is saved.

Kept apart from the writer so a status bar, `record` and tests can import the vocabulary
(`WriterHealth`, `Saved`, `format_ts`) without the thread machinery.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

TS_MAX = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z: a time the file can hold and every reader can print."""
_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED (primary result codes)


def is_transient(exc: BaseException) -> bool:
    """SQLite refused because another connection holds a lock: retrying can succeed."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    return "locked" in str(exc) or "busy" in str(exc)


def format_ts(ts: int) -> str:
    """An event time as the user reads it: `2026-12-01 18:49:41.123 UTC`."""
    moment = datetime.fromtimestamp(min(max(ts, 0), TS_MAX) / 1000, UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} UTC"


@dataclasses.dataclass(frozen=True, slots=True)
class Saved:
    """What is on disk: every event up to `seq` (the session's event count), the last at `ts`."""

    seq: int
    ts: int | None

    def __str__(self) -> str:
        if self.seq <= 0 or self.ts is None:
            return "nothing saved"
        return f"saved up to {format_ts(self.ts)} ({self.seq} events)"


@dataclasses.dataclass(frozen=True, slots=True)
class WriterHealth:
    """What a status bar shows about saving.

    `state`: "ok", "delayed" (the file is locked by someone else; retrying) or "failed"
    (saving stopped for good). `since_ms`: how long it has been in that state (0 when ok).
    `detail`: one line for the user, empty when ok and nothing was dropped. `dropped`: market
    events dropped because saving stalled with the queue full.
    """

    state: Literal["ok", "delayed", "failed"]
    since_ms: int = 0
    detail: str = ""
    dropped: int = 0


def ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def describe_error(exc: BaseException, path: Path) -> str:
    """One line without a traceback: SQLite's own words and the file, or the error's."""
    if isinstance(exc, sqlite3.Error | OSError):
        return f"{exc} ({path})"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
