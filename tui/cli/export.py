"""`papertrade export SESSION [--format jsonl|csv] [--out PATH]`: a session as a file.

jsonl is the drill format (a `session` line, then every input), so `papertrade simulate` on
it reproduces the session and `papertrade import` brings it back. csv is the fills with fees
and PnL, for spreadsheets. Written to a temporary file and renamed, so a failed export never
leaves half a file behind.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from papertrade.core import events as ev
from papertrade.core.numbers import ZERO, plain
from papertrade.core.text import csv_cell, plural
from papertrade.saves.store import Store
from papertrade.tui.cli.sessions import add_db_option, opened_store
from papertrade.tui.errors import UsageError
from papertrade.tui.service.listing import fmt_ts

FORMATS = ("jsonl", "csv")
CSV_COLUMNS = (
    "seq",
    "ts",
    "time_utc",
    "order_id",
    "symbol",
    "side",
    "qty",
    "price",
    "liquidity",
    "fee",
    "realized_pnl",
    "net_pnl",
    "cumulative_net_pnl",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `papertrade export` (its summary is in `tui.cli.COMMANDS`)."""
    p.description = (
        "Export SESSION: jsonl is the drill format that `simulate` and `import` "
        "read; csv lists the fills with fees and PnL."
    )
    p.add_argument("session", metavar="SESSION", help="session id or name")
    p.add_argument("--format", choices=FORMATS, default="jsonl", help="default: jsonl")
    p.add_argument("--out", metavar="PATH", help="output file (default: standard output)")
    add_db_option(p)
    p.set_defaults(handler=run)


def fill_rows(store: Store, ref: str | int) -> Iterator[list[str]]:
    """CSV rows of the session's fills, recomputed by replay (so always complete)."""
    cumulative = ZERO
    for seq, _, outcomes in store.replay(ref):
        for o in outcomes:
            if isinstance(o, ev.Fill):
                net = o.realized_pnl - o.fee
                cumulative += net
                yield [
                    str(seq),
                    str(o.ts),
                    fmt_ts(o.ts),
                    o.order_id,
                    o.symbol,
                    o.side,
                    plain(o.qty),
                    plain(o.price),
                    o.liquidity,
                    plain(o.fee),
                    plain(o.realized_pnl),
                    plain(net),
                    plain(cumulative),
                ]


def write_export(store: Store, ref: str | int, fmt: str, out: TextIO) -> None:
    if fmt == "jsonl":
        for line in store.export_lines(ref):
            out.write(line + "\n")
    else:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        # cells from outside (order ids, symbols) printable and never a spreadsheet formula
        writer.writerows([csv_cell(cell) for cell in row] for row in fill_rows(store, ref))


def run(args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        info = store.session(args.session)
        if args.out is None:
            write_export(store, info.id, args.format, sys.stdout)
            return 0
        target = Path(args.out)
        if target.is_dir():
            raise UsageError(f"{target} is a directory")
        try:
            fd, tmp = tempfile.mkstemp(prefix=".export-", dir=target.parent or Path("."))
        except OSError as exc:
            raise UsageError(f"cannot write to {target.parent}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                write_export(store, info.id, args.format, fh)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        events = plural(info.events, "event")
        print(f"exported session {info.name} ({events}) to {target}", file=sys.stderr)
    return 0
