"""`papertrade branch SESSION --at SEQ|--at-ts MS [--name NAME]`: "what if" from a saved point.

Creates a session that starts from SESSION's state after event SEQ (or the last event at or
before MS) and can be resumed to trade again on the parent's later market data, without the
parent's later commands.
"""

from __future__ import annotations

import argparse

from papertrade.core.numbers import MAX_TS_MS, MIN_TS_MS
from papertrade.core.text import printable
from papertrade.tui.cli.sessions import add_db_option, named, opened_store
from papertrade.tui.errors import UsageError


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `papertrade branch` (its summary is in `tui.cli.COMMANDS`)."""
    p.description = "Branch SESSION at a sequence number (--at) or a time (--at-ts, ms UTC)."
    p.add_argument("session", metavar="SESSION", help="session id or name")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--at", type=int, metavar="SEQ", help="branch after this event number")
    where.add_argument("--at-ts", type=int, metavar="MS", help="branch at this time (ms UTC)")
    p.add_argument("--name", help="name of the new session (default: <parent>-branch-<seq>)")
    add_db_option(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.at is not None and not 0 <= args.at < 2**63:  # SQLite INTEGER
        raise UsageError("--at must be a sequence number, 0 or more")
    if args.at_ts is not None and not MIN_TS_MS <= args.at_ts <= MAX_TS_MS:
        raise UsageError(
            f"--at-ts must be a time in milliseconds, {MIN_TS_MS} to {MAX_TS_MS} (year 9999)"
        )
    with opened_store(args) as store:
        parent = store.session(args.session)
        sid = store.branch(parent.id, at_seq=args.at, at_ts=args.at_ts, name=named(args.name))
        info = store.session(sid)
        print(
            f"created session {printable(info.name)} (id {sid}): branch of "
            f"{printable(parent.name)} after event {info.branch_seq} of {parent.events}"
        )
    return 0
