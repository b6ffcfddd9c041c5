"""`papertrade` entry point: dispatches subcommands; with none it opens the trading terminal."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from papertrade.core.text import printable
from papertrade.tui.errors import UsageError

__all__ = ["COMMANDS", "UsageError", "build_parser", "main"]

# subcommand name -> module under tui.cli exposing add_parser(subparsers) and run(args)
COMMANDS: dict[str, str] = {
    "simulate": "papertrade.tui.cli.simulate",
    "record": "papertrade.tui.cli.record",
    "sessions": "papertrade.tui.cli.sessions",
    "replay": "papertrade.tui.cli.replay",
    "export": "papertrade.tui.cli.export",
    "import": "papertrade.tui.cli.import_",
    "stats": "papertrade.tui.cli.stats",
    "branch": "papertrade.tui.cli.branch",
    "instruments": "papertrade.tui.cli.instruments",
}


def build_parser() -> argparse.ArgumentParser:
    terminal = importlib.import_module("papertrade.tui.cli.terminal").build_parser()
    options = terminal.format_help().split("options:", 1)[-1]
    parser = argparse.ArgumentParser(
        prog="papertrade",
        description="Paper-trade crypto perpetual futures with an exact margin engine.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="With no COMMAND, papertrade opens the trading terminal (papertrade --feed sim "
        "works offline):\n  " + terminal.format_usage().removeprefix("usage: ") + options,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    known = set(COMMANDS)
    if not args_list or args_list[0] not in known | {"-h", "--help"}:
        # No subcommand: the trading terminal, with its own options.
        app_module = importlib.import_module("papertrade.tui.cli.terminal")
        args = app_module.build_parser().parse_args(args_list)
        return int(app_module.run(args))
    args = parser.parse_args(args_list)
    module = importlib.import_module(COMMANDS[args.command])
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
