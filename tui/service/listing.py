"""The saved sessions as the command line and the sessions screen list them, and the words
both use for times and spans.

One listing, one error policy (`Store.list_sessions`): a damaged session is listed as damaged,
with the reason, and never hides the others. The CLI prints it (`papertrade sessions`), the
screen draws it; neither derives, catches or formats on its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from papertrade.core.numbers import plain
from papertrade.saves.listing import SessionRow
from papertrade.saves.store import Store

__all__ = ["SessionRow", "dec_or_none", "fmt_duration", "fmt_ts", "load_sessions", "row_json"]


def fmt_ts(ts: int | None) -> str:
    """A UTC time to the second, or `--`."""
    if ts is None:
        return "--"
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(ms: int) -> str:
    """`1h02m`, `3m05s`, `12s`."""
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def dec_or_none(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


def load_sessions(db_path: Path | str | None) -> list[SessionRow]:
    """Every session, oldest first, results derived where missing (the screen calls this in
    a worker thread: it opens its own connection)."""
    with Store.open(db_path) as store:
        return store.list_sessions()


def row_json(row: SessionRow) -> dict[str, Any]:
    """One session for `papertrade sessions --json`; a damaged one carries `damaged`."""
    info = row.info
    if info is None:
        return {"id": row.id, "name": row.name, "damaged": row.damaged}
    return {
        "id": info.id,
        "name": info.name,
        "venue": info.venue,
        "symbols": list(info.symbols),
        "status": info.status,
        "balance": plain(info.settings.balance),
        "taker_fee": plain(info.settings.taker_fee),
        "maker_fee": plain(info.settings.maker_fee),
        "created_at": info.created_at,
        "ended_at": info.ended_at,
        "first_ts": info.first_ts,
        "last_ts": info.last_ts,
        "events": info.events,
        "fills": info.fills,
        "realized_pnl": dec_or_none(info.realized_pnl),
        "fees": dec_or_none(info.fees),
        "funding": dec_or_none(info.funding),
        "parent": info.parent_id,
        "branch_seq": info.branch_seq,
        "damaged": row.damaged,
    }
