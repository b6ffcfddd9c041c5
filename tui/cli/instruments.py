"""`papertrade instruments [--feed VENUE] [--refresh] [--json] [SYMBOL ...]`: the trading rules
the engine uses for a venue (tick, step, minimums, maximum leverage, first bracket).

`--refresh` asks the venue's public REST API for its current rules and marks what differs
from the bundled data; a failed refresh says why and shows the bundled data. Sessions always
trade on the bundled book: a replay recomputes every outcome from it, so a session traded on
fetched rules could not be replayed exactly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from papertrade.core.instruments import VENUES, Instrument, InstrumentBook, bundled
from papertrade.core.numbers import plain
from papertrade.core.text import plural, printable
from papertrade.tui.errors import UsageError


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `papertrade instruments` (its summary is in `tui.cli.COMMANDS`)."""
    p.description = __doc__.split("\n\n")[0] if __doc__ else None
    p.add_argument("symbols", nargs="*", metavar="SYMBOL", help="only these symbols")
    p.add_argument("--feed", default="binance", choices=VENUES, help="venue (default binance)")
    p.add_argument(
        "--refresh", action="store_true", help="fetch the venue's current rules and compare"
    )
    p.add_argument("--rest-url", metavar="URL", help="override the venue's REST base URL")
    p.add_argument("--json", action="store_true", help="one JSON object per instrument")


def _row(inst: Instrument) -> dict[str, object]:
    first = inst.brackets[0]
    return {
        "symbol": inst.symbol,
        "tick_size": plain(inst.tick_size),
        "step_size": plain(inst.step_size),
        "min_qty": plain(inst.min_qty),
        "min_notional": plain(inst.min_notional),
        "max_leverage": inst.max_leverage,
        "first_bracket_cap": plain(first.cap),
        "first_bracket_mmr": plain(first.mmr),
    }


def _compare(bundle: InstrumentBook, fresh: InstrumentBook, symbol: str) -> str:
    old, new = bundle.get(symbol), fresh[symbol]
    if old is None:
        return "new"
    fields = ("tick_size", "step_size", "min_qty", "min_notional")
    changed = [f for f in fields if getattr(old, f) != getattr(new, f)]
    return "changed: " + ", ".join(changed) if changed else "same"


def run(args: argparse.Namespace) -> int:
    book = bundled(args.feed)
    notice = None
    if args.refresh:
        from papertrade.feeds.rest import refresh_instruments

        book, notice = asyncio.run(refresh_instruments(args.feed, args.rest_url))
        if notice:
            print(f"papertrade instruments: {printable(notice)}", file=sys.stderr)
    wanted = [s.strip().upper() for s in args.symbols]
    unknown = [s for s in wanted if s not in book]
    if unknown:
        raise UsageError(f"unknown symbol(s) on {args.feed}: {', '.join(unknown)}")
    symbols = wanted or sorted(book)
    bundle = bundled(args.feed)
    for symbol in symbols:
        row = _row(book[symbol])
        if args.refresh and notice is None:
            row["vs_bundled"] = _compare(bundle, book, symbol)
        if args.json:
            print(json.dumps(row))
            continue
        extra = f"  [{row['vs_bundled']}]" if "vs_bundled" in row else ""
        print(
            f"{row['symbol']:<14} tick {row['tick_size']:<10} step {row['step_size']:<8} "
            f"min qty {row['min_qty']:<8} min notional {row['min_notional']:<6} "
            f"max {row['max_leverage']}x up to {row['first_bracket_cap']} "
            f"(MMR {row['first_bracket_mmr']}){extra}"
        )
    if not args.json:
        source = "refreshed from the venue" if args.refresh and notice is None else "bundled"
        when = f", bundled data as of {bundle.as_of}" if bundle.as_of else ""
        print(f"{plural(len(symbols), 'instrument')} on {args.feed} ({source}{when})")
    return 0
