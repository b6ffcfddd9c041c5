"""`papertrade postmortem SESSION|FILE [--liquidation N] [--json]`: why each liquidation
happened and what would have kept the position alive on the same prices (`core.postmortem`).

SESSION is a saved session (id or name); a path to a drill file (`.jsonl`, or `-` for standard
input) is run as `simulate` would run it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO

from papertrade.core import events as ev
from papertrade.core.numbers import human, plain
from papertrade.core.postmortem import PostMortem, Recorder, Sample, analyse, record, to_json
from papertrade.core.text import plural, printable
from papertrade.tui.cli.sessions import add_db_option, opened_store
from papertrade.tui.errors import UsageError

PLOT_ROWS = 24
"""At most this many rows of the margin-ratio plot (evenly spaced in time, the trigger last)."""
BAR = 40


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `papertrade postmortem` (its summary is in `tui.cli.COMMANDS`)."""
    p.description = (
        "Take each liquidation of SESSION (id or name) or of a drill FILE apart: the margin "
        "ratio up to it, what made the margin balance drop, and what would have kept it alive."
    )
    p.add_argument("source", metavar="SESSION|FILE", help="session id or name, or a drill file")
    p.add_argument("--liquidation", type=int, metavar="N", help="only the Nth liquidation")
    p.add_argument("--json", action="store_true", help="one JSON object per liquidation")
    add_db_option(p)
    p.set_defaults(handler=run)


def _is_file(source: str) -> bool:
    return source == "-" or source.endswith(".jsonl") or Path(source).is_file()


def recorded(args: argparse.Namespace) -> Recorder:
    if _is_file(args.source):
        from papertrade.tui.cli.drillfile import DrillFile, stream_drill

        with DrillFile(args.source) as drill:
            items = stream_drill(drill)
            settings = next(items)
            assert isinstance(settings, ev.SessionSettings)
            return record(settings, _events(items))
    from papertrade.saves.store import instruments_for

    with opened_store(args) as store:
        info = store.session(args.source)
        return record(
            info.settings,
            (event for _, event in store.events(info.id)),
            instruments_for(info.venue),
        )


def _events(items: Iterator[ev.SessionSettings | ev.Event]) -> Iterator[ev.Event]:
    for item in items:
        if not isinstance(item, ev.SessionSettings):
            yield item


def run(args: argparse.Namespace) -> int:
    reports = analyse(recorded(args))
    n = args.liquidation
    if n is not None:
        if not 1 <= n <= len(reports):
            raise UsageError(
                f"--liquidation {n}: {printable(args.source)} has "
                f"{plural(len(reports), 'liquidation')}"
                + (f" (1..{len(reports)})" if reports else "")
            )
        reports = [reports[n - 1]]
    if args.json:
        for report in reports:
            sys.stdout.write(json.dumps(to_json(report), separators=(",", ":")) + "\n")
        return 0
    if not reports:
        sys.stdout.write(f"No liquidation in {printable(args.source)}.\n")
        return 0
    for report in reports:
        write_report(report, sys.stdout)
    return 0


def _time(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _signed(d: Decimal) -> str:
    return ("+" if d > 0 else "") + human(d)


def _spaced(samples: list[Sample]) -> list[Sample]:
    """At most `PLOT_ROWS` samples, evenly spaced in time (the latest at or before each
    step), the first and the trigger always in."""
    if len(samples) <= PLOT_ROWS:
        return samples
    t0, t1 = samples[0].ts, samples[-1].ts
    picked: list[Sample] = []
    i = 0
    for row in range(PLOT_ROWS):
        target = t0 + (t1 - t0) * row // (PLOT_ROWS - 1)
        while i + 1 < len(samples) and samples[i + 1].ts <= target:
            i += 1
        if not picked or picked[-1] is not samples[i]:
            picked.append(samples[i])
    if picked[-1] is not samples[-1]:
        picked.append(samples[-1])
    return picked


def _bar(ratio: Decimal | None) -> str:
    if ratio is None:
        return " " * BAR
    filled = int(min(ratio, Decimal(1)) * BAR)
    return ("█" * filled).ljust(BAR, "·")


def write_report(r: PostMortem, out: IO[str]) -> None:
    where = "cross account" if r.mode == "cross" else f"isolated {r.side} {plain(r.qty)} {r.symbol}"
    lines = [
        f"Liquidation {r.number} at {_time(r.ts)}: {where}, "
        f"{r.symbol} mark {plain(r.trigger_mark)}",
        f"  margin balance {human(r.balance_before)} at {_time(r.start_ts)} → "
        f"{human(r.balance_at_trigger)} at the trigger: a drop of {human(r.drop)} USDT, made of",
    ]
    for symbol, amount in sorted(r.contributions.items()):
        lines.append(f"    {symbol + ' PnL':<22}{_signed(amount):>16}")
    lines += [
        f"    {'funding':<22}{_signed(r.funding):>16}",
        f"    {'fees':<22}{_signed(r.fees):>16}",
        f"    {'margin moved in/out':<22}{_signed(r.margin_moves):>16}",
        f"  the liquidation then took {human(r.liquidation_loss)} USDT",
    ]
    if r.mode == "cross":
        lines.append(f"  cascade: {r.symbol} {r.side} {plain(r.qty)} drained the cross pool")
        for v in r.went_down_with:
            lines.append(
                f"    and took {v.symbol} {v.side} {plain(v.qty)} down with it: worth "
                f"{human(v.notional)} USDT, uPnL {_signed(v.upnl)} a moment before"
            )
    lines.append(f"  margin ratio up to it, {r.symbol} mark against its liquidation price")
    for s in _spaced(r.samples):
        pct = "--" if s.margin_ratio is None else f"{s.margin_ratio * 100:.1f}%"
        mark = "--" if s.mark is None else plain(s.mark)
        liq = "--" if s.liquidation_price is None else plain(s.liquidation_price)
        lines.append(f"    {_time(s.ts)[11:]} {_bar(s.margin_ratio)} {pct:>7}  {mark} / liq {liq}")
    lines.append("  what would have kept it alive on the same prices")
    if r.survive_with_added_margin is not None:
        lines.append(f"    adding {human(r.survive_with_added_margin)} USDT of margin")
    lev = r.survive_at_leverage
    lines.append(
        f"    leverage: {lev}x or less ({r.leverage_note})" if lev else f"    {r.leverage_note}"
    )
    stop = r.stop_that_caps_loss
    if stop is not None:
        lines.append(
            f"    a stop at {plain(stop.price)} ({r.stop_note}): "
            f"loss capped at {human(stop.loss)} USDT"
        )
    else:
        lines.append(f"    {r.stop_note}")
    out.write("\n".join(lines) + "\n\n")
