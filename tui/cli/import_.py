"""`papertrade import FILE.jsonl [--name NAME] [--venue VENUE]`: a drill or export as a session.

The whole file is validated first (`core.codec.parse_lines`); a malformed line is reported
with its number, exit 2, and nothing is written. An export's `session` line brings its
settings, venue and (unless `--name` is given) its name back.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from papertrade.core import codec
from papertrade.core.text import plural, printable
from papertrade.tui.cli.drillfile import read_lines
from papertrade.tui.cli.sessions import add_db_option, named, opened_store
from papertrade.tui.errors import UsageError

if TYPE_CHECKING:
    from papertrade.core import events as ev


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `papertrade import` (its summary is in `tui.cli.COMMANDS`)."""
    p.description = "Import FILE (JSON lines: a drill or a `papertrade export`) as a session."
    p.add_argument("file", metavar="FILE.jsonl", help="events file, or - for standard input")
    p.add_argument("--name", help="session name (default: the export's, else generated)")
    p.add_argument("--venue", help="venue (default: the export's, else binance)")
    add_db_option(p)
    p.set_defaults(handler=run)


def _session_line(lines: list[str]) -> dict[str, Any]:
    """The raw first line when it is a `session` line (already validated), else {}."""
    for raw in lines:
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        obj = json.loads(text)
        return obj if obj.get("type") == "session" else {}
    return {}


def run(args: argparse.Namespace) -> int:
    path = args.file
    lines = read_lines(path)
    try:
        settings, events = codec.parse_lines(lines)
    except codec.FormatError as exc:
        raise UsageError(f"{path}:{exc.line}: {exc.message}; nothing imported") from None
    head = _session_line(lines)
    name = named(args.name) if args.name is not None else head.get("name")
    venue = args.venue or head.get("venue") or "binance"
    with opened_store(args) as store:
        if name is not None and args.name is None:
            taken = store.conn.execute("SELECT 1 FROM sessions WHERE name = ?", (name,))
            if taken.fetchone():
                raise UsageError(
                    f"a session named {name!r} already exists; choose another with --name"
                )
        sid = store.import_session(settings, events, name=name, venue=venue)
        info = store.session(sid)
        print(
            f"imported {plural(len(events), 'event')} from {printable(path)} as session "
            f"{printable(info.name)} (id {sid})"
        )
    return 0


# --- `papertrade simulate FILE --save [--name NAME]` (options and call wired in simulate.py) ---


def add_save_options(parser: argparse.ArgumentParser) -> None:
    """The options `simulate` takes to keep its run as a session."""
    parser.add_argument("--save", action="store_true", help="also store the run as a session")
    parser.add_argument("--name", help="with --save: the session's name (default: generated)")
    add_db_option(parser)


def save_run(
    args: argparse.Namespace, settings: ev.SessionSettings, events: Iterable[ev.Event]
) -> None:
    """With `--save`, store the validated run as an `ended` session before it is printed, so
    a refused save (name taken, bad database) exits 2 without output."""
    if not getattr(args, "save", False):
        if getattr(args, "name", None):
            raise UsageError("--name only applies with --save")
        return
    with opened_store(args) as store:
        sid = store.import_session(settings, events, name=named(args.name), venue="binance")
        name = store.session(sid).name
    print(f"saved the run as session {printable(name)} (id {sid})", file=sys.stderr)
