"""`papertrade` entry point: dispatches subcommands; with none it opens the trading terminal."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from papertrade.core.text import printable
from papertrade.tui.errors import UsageError

__all__ = ["COMMANDS", "Command", "UsageError", "build_parser", "main"]


class Command(NamedTuple):
    """A subcommand: the module under `tui.cli` that has `add_arguments(parser)` and
    `run(args)`, and its one-line summary for `papertrade --help`.

    The summary lives here, not in the module, so listing the commands imports none of them:
    each command imports only its own module (and `--help` none), which keeps start-up fast.
    A named tuple, not a dataclass: `--help` then never imports `dataclasses` (and
    `inspect`, `ast`, `dis` with it), a fifth of its instructions.
    """

    module: str
    summary: str


COMMANDS: dict[str, Command] = {
    "simulate": Command(
        "papertrade.tui.cli.simulate",
        "run the margin engine over a JSON-lines file of events (a drill or an export)",
    ),
    "record": Command(
        "papertrade.tui.cli.record",
        "record a feed (a venue, sim or file:PATH) into a saved session",
    ),
    "sessions": Command("papertrade.tui.cli.sessions", "list saved sessions with their results"),
    "replay": Command(
        "papertrade.tui.cli.replay", "recompute a saved session's outcomes from its journal"
    ),
    "export": Command(
        "papertrade.tui.cli.export", "write a session as a drill (jsonl) or its fills (csv)"
    ),
    "import": Command(
        "papertrade.tui.cli.import_", "store a drill or an exported session as a session"
    ),
    "stats": Command(
        "papertrade.tui.cli.stats",
        "a session's PnL, fees, funding, win rate, drawdown and equity curve",
    ),
    "postmortem": Command(
        "papertrade.tui.cli.postmortem",
        "take a liquidation apart: why it happened and what would have kept it alive",
    ),
    "branch": Command(
        "papertrade.tui.cli.branch",
        "start a new session from a saved session's state at a chosen point",
    ),
    "instruments": Command(
        "papertrade.tui.cli.instruments",
        "the trading rules (tick, step, minimums, leverage) of a venue's instruments",
    ),
}


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `commands`, only those subcommands, with their options,
    so only their modules are imported and only their parsers built (a command line names
    one command: building the other nine parsers cost `simulate` ~10M instructions); with
    none (`--help`), every command listed by its summary and the terminal's options shown
    under them."""
    wanted = list(COMMANDS if commands is None else commands)
    epilog = None
    if commands is None or not wanted:
        terminal = importlib.import_module("papertrade.tui.cli.terminal").build_parser()
        options = terminal.format_help().split("options:", 1)[-1]
        epilog = (
            "With no COMMAND, papertrade opens the trading terminal (papertrade --feed sim "
            "works offline):\n  " + terminal.format_usage().removeprefix("usage: ") + options
        )
    parser = argparse.ArgumentParser(
        prog="papertrade",
        description="Paper-trade crypto perpetual futures with an exact margin engine.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=epilog,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in wanted or COMMANDS:
        command = COMMANDS[name]
        p = sub.add_parser(name, help=command.summary)
        if wanted:
            importlib.import_module(command.module).add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    known = set(COMMANDS)
    if not args_list or args_list[0] not in known | {"-h", "--help"}:
        # No subcommand: the trading terminal, with its own options.
        app_module = importlib.import_module("papertrade.tui.cli.terminal")
        args = app_module.build_parser().parse_args(args_list)
        return int(app_module.run(args))
    chosen = [name for name in args_list[:1] if name in known]  # none for -h: the epilog
    args = build_parser(chosen).parse_args(args_list)
    module = importlib.import_module(COMMANDS[args.command].module)
    try:
        return int(module.run(args))
    except UsageError as exc:
        print(f"papertrade {args.command}: error: {printable(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `papertrade sessions --json | head`: the reader left; say nothing more, quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
