"""`papertrade sessions [--json] [--delete SESSION]`: the saved sessions and their results.

Also home of the helpers every session command shares (`--db`, opening the store, turning
store errors into exit status 2), so each command module stays about its own job.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from papertrade.core.numbers import human, plain
from papertrade.saves.errors import SessionLocked, StoreError
from papertrade.saves.paths import ENV_VAR
from papertrade.saves.store import SessionInfo, Store
from papertrade.tui.errors import UsageError

# --- shared by the session commands --------------------------------------------------------


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None,
        help=f"session database (default: ${ENV_VAR}, else papertrade.sqlite3 in the user data "
        "directory)",
    )


@contextmanager
def opened_store(args: argparse.Namespace) -> Iterator[Store]:
    """The store named by `--db`; any `StoreError` becomes a usage error (exit 2)."""
    try:
        store = Store.open(getattr(args, "db", None))
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    try:
        yield store
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()


def fmt_ts(ts: int | None) -> str:
    if ts is None:
        return "--"
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(ms: int) -> str:
    seconds = ms // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def dec_or_none(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


# --- the command ---------------------------------------------------------------------------


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sessions",
        help="list saved sessions with their results",
        description="List saved sessions: name, venue, time span, events, fills, realized PnL "
        "and status (running, ended, interrupted).",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per session")
    p.add_argument("--delete", metavar="SESSION", help="delete a session (id or name) instead")
    add_db_option(p)
    p.set_defaults(handler=run)


def session_json(info: SessionInfo) -> dict[str, Any]:
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
    }


def _listing(store: Store) -> list[SessionInfo]:
    """Every session, deriving the outcomes of finished ones not derived yet (cached)."""
    out = []
    for info in store.sessions():
        if info.fills is None and info.status != "running":
            try:
                store.derive(info.id)
                info = store.session(info.id)
            except SessionLocked:
                pass
        out.append(info)
    return out


def _table(infos: list[SessionInfo]) -> list[str]:
    header = (
        f"{'ID':>4}  {'NAME':<32} {'VENUE':<9} {'START (UTC)':<19} {'SPAN':>7} "
        f"{'EVENTS':>9} {'FILLS':>6} {'REALIZED PNL':>14}  STATUS"
    )
    lines = [header]
    for i in infos:
        span = (
            fmt_duration(i.last_ts - i.first_ts)
            if i.first_ts is not None and i.last_ts is not None
            else "--"
        )
        fills = "--" if i.fills is None else str(i.fills)
        pnl = "--" if i.realized_pnl is None else human(i.realized_pnl)
        status = i.status + (f" (branch of {i.parent_id} at {i.branch_seq})" if i.parent_id else "")
        lines.append(
            f"{i.id:>4}  {i.name:<32} {i.venue:<9} {fmt_ts(i.first_ts):<19} {span:>7} "
            f"{i.events:>9} {fills:>6} {pnl:>14}  {status}"
        )
    return lines


def run(args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        if args.delete:
            info = store.session(args.delete)
            store.delete(info.id)
            print(f"deleted session {info.name} (id {info.id}, {info.events} events)")
            return 0
        infos = _listing(store)
        if args.json:
            for info in infos:
                sys.stdout.write(json.dumps(session_json(info)) + "\n")
        elif not infos:
            print(f"no sessions in {store.path}")
        else:
            print("\n".join(_table(infos)))
    return 0
