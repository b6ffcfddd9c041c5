"""The `sessions` table: which sessions exist, what they are called, their status.

Everything here reads or writes one row of `sessions` (the journal extent kept on it
included), never the journal itself. A row read back is validated against `saves.bounds`
and turned into a `SessionInfo`; a row that fails raises `DamagedSession` naming the session.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.challenge import RULE_KEYS, rules_from_state, rules_to_state
from papertrade.core.engine import RULES_VERSION
from papertrade.core.numbers import plain
from papertrade.saves import bounds
from papertrade.saves.errors import (
    AmbiguousSession,
    DamagedSession,
    SessionNotFound,
    StoreError,
)
from papertrade.saves.locks import SessionLock, is_locked
from papertrade.saves.transactions import transaction

STATUSES = ("running", "ended", "interrupted")


@dataclass(slots=True, frozen=True)
class Results:
    """A session's totals over its whole (chained) journal, summed from derived outcomes."""

    fills: int
    realized_pnl: Decimal
    fees: Decimal
    funding: Decimal


@dataclass(slots=True, frozen=True)
class SessionInfo:
    """One row of `papertrade sessions`; money as Decimal, times as ms UTC.

    `fills`/`realized_pnl`/`fees`/`funding` come from the derived outcomes and are `None`
    when those are not derived up to the end of the journal yet (see `Store.derive`).
    """

    id: int
    name: str
    venue: str
    symbols: tuple[str, ...]
    settings: ev.SessionSettings
    status: str
    created_at: int
    ended_at: int | None
    parent_id: int | None
    branch_seq: int | None
    last_seq: int
    first_ts: int | None
    last_ts: int | None
    derived_seq: int
    rules_version: int = 1
    """The engine rules the session was recorded under (`core.engine.RULES_VERSION`)."""
    fills: int | None = None
    realized_pnl: Decimal | None = None
    fees: Decimal | None = None
    funding: Decimal | None = None

    @property
    def events(self) -> int:
        """Journal length, a branch's inherited prefix included (seqs are 1..last_seq)."""
        return self.last_seq


def now_ms() -> int:
    return int(time.time() * 1000)


_RULE_KEYS = {"engine_rules", "exchange_limits", "fill_model", *RULE_KEYS}


def _rules(row: dict[str, Any]) -> tuple[int, bool, dict[str, Any], ev.FillModel]:
    """(engine rules version, exchange limits, challenge rules, fill model) of the `rules`
    column: `{}` before schema 3; rows written before challenge rules or fill models have
    none of their keys (no rules, `touch`). The challenge rules are checked by the drill
    format's own `session` line validators."""
    rules = bounds.json_value(row.get("rules", "{}"), "rules")
    if not isinstance(rules, dict) or set(rules) - _RULE_KEYS:
        raise bounds.OutOfBounds(
            "rules is not an object of engine_rules, exchange_limits, fill_model and "
            "challenge rules"
        )
    challenge = {k: rules[k] for k in RULE_KEYS if k in rules}
    if challenge:
        try:
            codec.parse_object({"type": "session", **challenge})
        except codec.FormatError as exc:
            raise bounds.OutOfBounds(f"rules: {exc.message.removeprefix('session: ')}") from None
    version = rules.get("engine_rules", 1)
    limits = rules.get("exchange_limits", False)
    if type(version) is not int or not 1 <= version <= RULES_VERSION:
        raise bounds.OutOfBounds(
            f"engine_rules {version!r} is not a rules version this papertrade knows "
            f"(1..{RULES_VERSION})"
        )
    if type(limits) is not bool:
        raise bounds.OutOfBounds("exchange_limits is not true or false")
    model = rules.get("fill_model", "touch")
    if model not in ev.FILL_MODELS:
        raise bounds.OutOfBounds(f"fill_model {model!r} is not one of {', '.join(ev.FILL_MODELS)}")
    return version, limits, challenge, model


def _settings(row: dict[str, Any]) -> ev.SessionSettings:
    _, limits, challenge, model = _rules(row)
    settings = ev.SessionSettings(
        balance=bounds.money(row["balance"], "balance"),
        taker_fee=bounds.money(row["taker_fee"], "taker_fee"),
        maker_fee=bounds.money(row["maker_fee"], "maker_fee"),
        exchange_limits=limits,
        fill_model=model,
    )
    return rules_from_state(settings, challenge)


def _symbols(text: Any) -> tuple[str, ...]:
    value = bounds.json_value(text, "symbols")
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise bounds.OutOfBounds("symbols is not a list of names")
    return tuple(value)


def to_info(row: dict[str, Any], results: Results | None = None) -> SessionInfo:
    """A validated `SessionInfo` of a `sessions` row, or `DamagedSession` saying what is wrong."""
    try:
        status = row["status"]
        if status not in STATUSES:
            raise bounds.OutOfBounds(f"status {status!r} is unknown")
        parent = row["parent_id"]
        branch_seq = row["branch_seq"]
        if (parent is None) != (branch_seq is None):
            raise bounds.OutOfBounds("parent and branch point must be set together")
        info = SessionInfo(
            id=row["id"],
            name=row["name"],
            venue=row["venue"],
            symbols=_symbols(row["symbols"]),
            settings=_settings(row),
            status=status,
            created_at=bounds.ts(row["created_at"], "created_at"),
            ended_at=bounds.optional_ts(row["ended_at"], "ended_at"),
            parent_id=parent,
            branch_seq=None if branch_seq is None else bounds.count(branch_seq, "branch_seq"),
            last_seq=bounds.count(row["last_seq"], "last_seq"),
            first_ts=bounds.optional_ts(row["first_ts"], "first_ts"),
            last_ts=bounds.optional_ts(row["last_ts"], "last_ts"),
            derived_seq=bounds.count(row["derived_seq"], "derived_seq"),
            rules_version=_rules(row)[0],
        )
    except bounds.OutOfBounds as exc:
        raise DamagedSession(str(row.get("name") or row.get("id")), f"session row: {exc}") from None
    if results is None:
        return info
    return replace(
        info,
        fills=results.fills,
        realized_pnl=results.realized_pnl,
        fees=results.fees,
        funding=results.funding,
    )


class Catalogue:
    """The sessions table of one open database (same connection and thread as its `Store`)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, locks: Path) -> None:
        self.conn = conn
        self.path = path
        self.locks = locks

    # --- reading ---------------------------------------------------------------------------

    def row(self, sid: int) -> dict[str, Any]:
        """One session's row by column name. Read with the connection itself: opening a
        terminal reads its session's row before the first frame, and the first sqlite-utils
        query costs ~0.14 s of imports there (it brings numpy in when numpy is installed)."""
        cur = self.conn.execute("SELECT * FROM sessions WHERE id = ?", (sid,))
        found = cur.fetchone()
        if found is None:
            raise SessionNotFound(f"no session with id {sid}")
        return {d[0]: value for d, value in zip(cur.description, found, strict=True)}

    def all_rows(self) -> Iterator[dict[str, Any]]:
        """Every session row, oldest first."""
        yield from self._query("SELECT * FROM sessions ORDER BY id")

    def _query(self, sql: str, params: tuple[object, ...] = ()) -> Iterator[dict[str, Any]]:
        """Rows as dicts by column name, through sqlite-utils (the project's SQLite toolkit).

        Imported on the first query, not with the module: `--help`, `simulate`, the writer
        thread and a terminal's first frame never pay for it (it imports numpy when numpy is
        installed)."""
        import sqlite_utils

        yield from sqlite_utils.Database(self.conn).query(sql, params)

    def name_of(self, sid: int) -> str:
        found = self.conn.execute("SELECT name FROM sessions WHERE id = ?", (sid,)).fetchone()
        return str(found[0]) if found else str(sid)

    def info(self, sid: int) -> SessionInfo:
        """The session without totals (see `Journal.results` for those)."""
        return to_info(self.row(sid))

    def resolve(self, ref: str | int) -> int:
        """A session id from an id, an exact name, or an unambiguous name prefix."""
        text = str(ref).strip()
        if not text:
            raise SessionNotFound("no session given")
        by_name = self.conn.execute("SELECT id FROM sessions WHERE name = ?", (text,)).fetchone()
        if by_name:
            return int(by_name[0])
        if text.isdigit():
            by_id = self.conn.execute("SELECT id FROM sessions WHERE id = ?", (int(text),))
            found = by_id.fetchone()
            if found:
                return int(found[0])
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        matches = self.conn.execute(
            "SELECT id, name FROM sessions WHERE name LIKE ? ESCAPE '\\' ORDER BY id",
            (escaped + "%",),
        ).fetchall()
        if len(matches) == 1:
            return int(matches[0][0])
        if len(matches) > 1:
            names = ", ".join(m[1] for m in matches[:8])
            raise AmbiguousSession(f"{text!r} matches several sessions: {names}")
        raise SessionNotFound(f"no session {text!r} (see `papertrade sessions`)")

    # --- names -----------------------------------------------------------------------------

    def _taken(self, name: str) -> bool:
        return bool(self.conn.execute("SELECT 1 FROM sessions WHERE name = ?", (name,)).fetchone())

    def free_name(self, base: str, suffix: str = "-") -> str:
        """`base`, or `base<suffix>2`, `…3`: the first that no session has."""
        name, n = base, 1
        while self._taken(name):
            n += 1
            name = f"{base}{suffix}{n}"
        return name

    def check_name(self, name: str) -> str:
        name = name.strip()
        if not name:
            raise StoreError("a session name must not be empty")
        if name.isdigit():
            raise StoreError(f"session name {name!r} is all digits and would read as an id")
        if self._taken(name):
            raise StoreError(f"a session named {name!r} already exists")
        return name

    # --- writing (each inside the caller's `transaction` unless it says otherwise) ----------

    def insert(
        self,
        name: str | None,
        venue: str,
        symbols: Iterable[str],
        settings: ev.SessionSettings,
        status: str,
        parent_id: int | None = None,
        branch_seq: int | None = None,
    ) -> tuple[int, str]:
        """Insert a session row; returns `(id, final name)`."""
        if name is None:
            final = self.free_name(f"{venue}-{datetime.now(UTC):%Y-%m-%d-%H%M}")
        else:
            final = self.check_name(name)
        cur = self.conn.execute(
            "INSERT INTO sessions (name, venue, symbols, balance, taker_fee, maker_fee, status,"
            " created_at, parent_id, branch_seq, last_seq, derived_seq, rules)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                final,
                venue,
                json.dumps(list(dict.fromkeys(symbols))),
                plain(settings.balance),
                plain(settings.taker_fee),
                plain(settings.maker_fee),
                status,
                now_ms(),
                parent_id,
                branch_seq,
                branch_seq or 0,
                branch_seq or 0,
                json.dumps(
                    {
                        "engine_rules": RULES_VERSION,
                        "exchange_limits": settings.exchange_limits,
                        **rules_to_state(settings),
                        # written only when not touch: a touch session's row reads as before
                        **(
                            {"fill_model": settings.fill_model}
                            if settings.fill_model != "touch"
                            else {}
                        ),
                    }
                ),
            ),
        )
        return int(cur.lastrowid or 0), final

    def set_running(self, sid: int) -> None:
        self.conn.execute(
            "UPDATE sessions SET status = 'running', ended_at = NULL WHERE id = ?", (sid,)
        )

    def mark_interrupted(self) -> None:
        """`running` with no live writer lock means that writer died: say so (own commit)."""
        running = self.conn.execute("SELECT id FROM sessions WHERE status = 'running'").fetchall()
        for (sid,) in running:
            if not is_locked(self.locks, sid):
                self.conn.execute(
                    "UPDATE sessions SET status = 'interrupted'"
                    " WHERE id = ? AND status = 'running'",
                    (sid,),
                )

    def delete(self, sid: int) -> None:
        """Remove a session and everything derived from it, in one transaction of its own.

        Refused while a writer holds it or while branches point at it."""
        name = self.name_of(sid)
        children = self.conn.execute(
            "SELECT name FROM sessions WHERE parent_id = ?", (sid,)
        ).fetchall()
        if children:
            names = ", ".join(c[0] for c in children)
            raise StoreError(f"session {name} has branches ({names}); delete them first")
        lock = SessionLock(self.locks, sid)
        lock.acquire(name)
        try:
            with transaction(self.conn, self.path):
                for table in ("outcomes", "snapshots", "events"):
                    self.conn.execute(f"DELETE FROM {table} WHERE session_id = ?", (sid,))
                self.conn.execute("DELETE FROM sessions WHERE id = ?", (sid,))
        finally:
            lock.release()
        lock.path.unlink(missing_ok=True)
