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
from typing import TYPE_CHECKING

from papertrade.core.text import plural, printable
from papertrade.saves.paths import ENV_VAR
from papertrade.tui.errors import UsageError

if TYPE_CHECKING:
    from papertrade.saves.store import Store
    from papertrade.tui.service.listing import SessionRow

# The store (sqlite-utils) and the application layer are imported where they are used:
# `simulate` shares `add_db_option` and must start without them (issue 14).

# --- shared by the session commands --------------------------------------------------------


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None,
        help=f"session database (default: ${ENV_VAR}, else papertrade.sqlite3 in the user data "
        "directory)",
    )


def named(text: str | None) -> str | None:
    """`--name` checked by the one rule for session names (a usage error, exit 2, if bad)."""
    from papertrade.tui.service.setup import SetupError, check_name

    try:
        return check_name(text)
    except SetupError as exc:
        raise UsageError(str(exc)) from None


@contextmanager
def opened_store(args: argparse.Namespace) -> Iterator[Store]:
    """The store named by `--db`; any `StoreError` becomes a usage error (exit 2)."""
    from papertrade.saves.errors import StoreError
    from papertrade.saves.store import Store

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


# --- the command ---------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `papertrade sessions` (its summary is in `tui.cli.COMMANDS`)."""
    p.description = (
        "List saved sessions: name, venue, time span, events, fills, realized PnL "
        "and status (running, ended, interrupted)."
    )
    p.add_argument("--json", action="store_true", help="one JSON object per session")
    p.add_argument("--delete", metavar="SESSION", help="delete a session (id or name) instead")
    add_db_option(p)
    p.set_defaults(handler=run)


def _table(rows: list[SessionRow]) -> list[str]:
    from papertrade.core.numbers import human
    from papertrade.tui.service.listing import fmt_duration, fmt_ts

    header = (
        f"{'ID':>4}  {'NAME':<32} {'VENUE':<9} {'START (UTC)':<19} {'SPAN':>7} "
        f"{'EVENTS':>9} {'FILLS':>6} {'REALIZED PNL':>14}  STATUS"
    )
    lines = [header]
    for row in rows:
        i = row.info
        if i is None:
            lines.append(
                f"{row.id:>4}  {printable(row.name, 32):<32} damaged: {printable(row.damaged)}"
            )
            continue
        span = (
            fmt_duration(i.last_ts - i.first_ts)
            if i.first_ts is not None and i.last_ts is not None
            else "--"
        )
        fills = "--" if i.fills is None else str(i.fills)
        pnl = "--" if i.realized_pnl is None else human(i.realized_pnl)
        status = i.status + (f" (branch of {i.parent_id} at {i.branch_seq})" if i.parent_id else "")
        if row.damaged:
            status += f" · damaged: {printable(row.damaged)}"
        lines.append(
            f"{i.id:>4}  {printable(i.name, 32):<32} {printable(i.venue, 9):<9} "
            f"{fmt_ts(i.first_ts):<19} {span:>7} "
            f"{i.events:>9} {fills:>6} {pnl:>14}  {status}"
        )
    return lines


def run(args: argparse.Namespace) -> int:
    from papertrade.tui.service.listing import row_json

    with opened_store(args) as store:
        if args.delete:
            info = store.session(args.delete)
            store.delete(info.id)
            events = plural(info.events, "event")
            print(f"deleted session {printable(info.name)} (id {info.id}, {events})")
            return 0
        rows = store.list_sessions()
        if args.json:
            for row in rows:
                sys.stdout.write(json.dumps(row_json(row)) + "\n")
        elif not rows:
            print(f"no sessions in {printable(store.path)}")
        else:
            print("\n".join(_table(rows)))
    return 0
