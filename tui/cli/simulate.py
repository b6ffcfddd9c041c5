"""`papertrade simulate FILE.jsonl [--json]`: run the engine over a drill file.

The whole file is validated before anything is printed; a malformed line is reported with its
number and the exit status is 2. A valid command the engine refuses is a `rejected` outcome,
not an error.

The file is streamed (issue 14): each line is decoded, checked and run as it is read, and the
report is written to a spooled temporary file (memory up to `SPOOL_BYTES`, then disk) that is
copied out once the last line has passed. So memory does not grow with the file, each line is
decoded once, and a bad line late in the file still leaves the output empty.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.challenge import Challenge
from papertrade.core.engine import Engine
from papertrade.core.numbers import ZERO, human, plain
from papertrade.core.text import plural, printable
from papertrade.tui.cli.drillfile import DrillFile, stream_drill
from papertrade.tui.cli.import_ import add_save_options, save_run

SPOOL_BYTES = 4 * 1024 * 1024
"""Report text kept in memory before the spool moves to a temporary file."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `papertrade simulate` (its summary is in `tui.cli.COMMANDS`)."""
    p.description = (
        "Run the engine over FILE (JSON lines; '-' reads standard input) and report "
        "fills, rejections, liquidations, funding and the final account."
    )
    p.add_argument("file", metavar="FILE.jsonl", help="events file, or - for standard input")
    p.add_argument("--json", action="store_true", help="one JSON object per outcome line")
    p.add_argument(
        "--compare-modes",
        action="store_true",
        help="also run the drill all isolated and all cross, and compare the three",
    )
    add_save_options(p)  # --save/--name/--db: sessions (tui/cli/import_.py)
    p.set_defaults(handler=run)


def simulate(engine: Engine, events: Iterable[ev.Event]) -> Iterator[ev.Outcome]:
    """Every outcome of the events, then the final account state."""
    apply = engine.apply
    for event in events:
        outcomes = apply(event)
        if outcomes:  # most events have none: no generator hand-off for them
            yield from outcomes
    yield engine.account()


def once(outcomes: Iterable[ev.Outcome]) -> Iterator[ev.Outcome]:
    """`outcomes` without an account state that repeats the one just before it: a drill
    ending with a `snapshot` has that snapshot and then the same final state, which used to
    be printed twice (issue 10, bug 13)."""
    last: ev.Outcome | None = None
    for outcome in outcomes:
        if not (isinstance(outcome, ev.AccountState) and outcome == last):
            yield outcome
        last = outcome


OUTCOME_NAMES: dict[str, tuple[str, str]] = {
    "fill": ("fill", "fills"),
    "rejected": ("rejection", "rejections"),
    "liquidation": ("liquidation", "liquidations"),
    "funding_paid": ("funding payment", "funding payments"),
    "order_cancelled": ("cancelled order", "cancelled orders"),
    "reduce_only_cut": ("reduce-only cut", "reduce-only cuts"),
    "order_triggered": ("triggered order", "triggered orders"),
    "rule_breached": ("rule breached", "rules breached"),
    "refill": ("refill", "refills"),
}
"""Outcome types as the report counts them, singular and plural ("1 fill", "2 fills")."""

# --- output --------------------------------------------------------------------------------


def _time(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _money(d: Decimal) -> str:
    return human(d)


def describe(outcome: ev.Outcome) -> str:
    """One readable line for an outcome (the account gets its own block)."""
    match outcome:
        case ev.Fill():
            pnl = f"  realized {_money(outcome.realized_pnl)}" if outcome.realized_pnl else ""
            return (
                f"FILL         {printable(outcome.order_id)}: {outcome.side} {plain(outcome.qty)} "
                f"{outcome.symbol} @ {plain(outcome.price)} ({outcome.liquidity}), "
                f"fee {_money(outcome.fee)}{pnl}"
            )
        case ev.Rejected():
            ident = f" {printable(outcome.order_id)}" if outcome.order_id else ""
            return f"REJECTED     {outcome.command}{ident}: {outcome.reason}"
        case ev.Liquidation():
            from papertrade.tui.widgets import fmt

            return f"LIQUIDATION  {fmt.liquidation_words(outcome)}"
        case ev.FundingPaid():
            verb = "received" if outcome.amount >= 0 else "paid"
            return f"FUNDING      {outcome.symbol}: {verb} {_money(abs(outcome.amount))} USDT"
        case ev.OrderCancelled():
            return f"CANCELLED    {printable(outcome.order_id)}: {outcome.reason}"
        case ev.OrderTriggered():
            from papertrade.tui.widgets import fmt

            return (
                f"TRIGGERED    {printable(outcome.order_id)}: {outcome.order_type} "
                f"{outcome.symbol} at {plain(outcome.watched_price)} (trigger "
                f"{plain(outcome.trigger_price)}){fmt.trigger_gap_words(outcome)}"
            )
        case ev.ReduceOnlyCut():
            return (
                f"CUT          {printable(outcome.order_id)}: reduce-only "
                f"{plain(outcome.requested_qty)} {outcome.symbol} cut to the position's "
                f"{plain(outcome.qty)}"
            )
        case ev.RuleBreached():
            from papertrade.tui.widgets import fmt

            return f"RULE         {fmt.rule_words(outcome)}"
        case ev.Refill():
            from papertrade.tui.widgets import fmt

            return f"REFILL       {fmt.refill_words(outcome)}"
        case ev.AccountState():
            return "ACCOUNT"
    raise AssertionError(outcome)


def account_block(state: ev.AccountState) -> list[str]:
    lines = [
        f"Account at {_time(state.ts)}",
        f"  wallet balance     {_money(state.wallet_balance):>16} USDT",
        f"  margin balance     {_money(state.margin_balance):>16} USDT",
        f"  available balance  {_money(state.available_balance):>16} USDT",
    ]
    if state.cross_margin_ratio is not None:
        lines.append(f"  cross margin ratio {state.cross_margin_ratio * 100:>15.2f}%")
    if state.positions:
        lines.append(
            "  positions:  symbol        side    qty          entry        mark         "
            "mode      lev  margin        uPnL          liq. price"
        )
        for p in state.positions:
            liq = plain(p.liquidation_price) if p.liquidation_price is not None else "--"
            mark = plain(p.mark_price) if p.mark_price is not None else "--"
            lines.append(
                f"              {p.symbol:<13} {p.side:<7} {plain(p.qty):<12} "
                f"{plain(p.entry_price):<12} {mark:<12} {p.margin_mode:<9} {p.leverage:>3}x "
                f"{_money(p.margin):<13} {_money(p.unrealized_pnl):<13} {liq}"
            )
    else:
        lines.append("  no open positions")
    for o in state.open_orders:
        lines.append(f"  open order {printable(o.id)}: {order_words(o)}")
    return lines


def order_words(o: ev.OrderState) -> str:
    """An open order as the report shows it; a plain limit order reads as it always did."""
    flags = " reduce-only" if o.reduce_only else ""
    qty = "the whole position" if o.close_position else f"{plain(o.qty)} {o.symbol}"
    kind = "" if o.order_type == "limit" else f"{o.order_type} "
    price = "" if o.price is None else f" @ {plain(o.price)}"
    text = f"{kind}{o.side} {qty}{price}"
    if o.order_type == "trailing_stop_market":
        level = "not active yet" if o.trigger_price is None else f"at {plain(o.trigger_price)}"
        extreme = "" if o.extreme is None else f", {'high' if o.side == 'sell' else 'low'} "
        text += (
            f" trailing {plain(o.callback_rate or ZERO)}% on {o.working_type} price "
            f"({level}{extreme}{'' if o.extreme is None else plain(o.extreme)})"
        )
    elif o.trigger_price is not None:
        text += f" when {o.working_type} price reaches {plain(o.trigger_price)}"
    if o.time_in_force not in ("GTC", "GTX"):
        till = f" till {o.good_till}" if o.good_till is not None else ""
        text += f" {o.time_in_force}{till}"
    hedge = f", {o.position_side} side" if o.position_side != "both" else ""
    return f"{text} ({o.margin_mode} {o.leverage}x{hedge}){flags}"


def write_outcomes(outcomes: Iterable[ev.Outcome], json_mode: bool, out: IO[str]) -> None:
    """Print outcomes as JSON lines or as a readable report (shared with `replay`)."""
    if json_mode:
        for outcome in once(outcomes):
            out.write(codec.dumps(outcome) + "\n")
        return
    from papertrade.tui.widgets import fmt  # rich: only the readable report needs it

    counts: dict[str, int] = {}
    for item in fmt.with_cross_totals(once(outcomes)):
        if isinstance(item, fmt.CrossLiquidated):
            words = fmt.cross_total_words(item)
            out.write(f"{_time(item.ts)}  LIQUIDATION  cross account {words}\n")
            continue
        counts[item.type] = counts.get(item.type, 0) + 1
        if isinstance(item, ev.AccountState):
            out.write("\n".join(account_block(item)) + "\n")
        else:
            out.write(f"{_time(item.ts)}  {describe(item)}\n")
    counts.pop("account", None)
    summary = (
        ", ".join(
            plural(n, *OUTCOME_NAMES.get(kind, (kind,))) for kind, n in sorted(counts.items())
        )
        or "no outcomes"
    )
    out.write(f"Outcomes: {summary}\n")


def write_challenge(challenge: Challenge, json_mode: bool, out: IO[str]) -> None:
    """The verdict of a drill with challenge rules: passed or not, and the wipes refilled."""
    if json_mode:
        line = {
            "type": "challenge",
            "ts": challenge.last_ts,
            "passed": challenge.passed if challenge.judged else None,
            "breaches": [{"ts": ts, "rule": rule} for ts, rule in challenge.breaches],
            "wipes": len(challenge.refills),
            "refills": [{"ts": ts, "amount": plain(a)} for ts, a in challenge.refills],
        }
        out.write(json.dumps(line, separators=(",", ":")) + "\n")
        return
    from papertrade.tui.widgets import fmt

    if challenge.judged:
        out.write(f"Challenge: {fmt.challenge_verdict(challenge.breaches)}\n")
    if challenge.settings.refill:
        out.write(f"Wipes: {fmt.wipes_words(challenge.refills)}\n")


def run(args: argparse.Namespace) -> int:
    gc.freeze()  # what start-up made stays: no collection walks it again, nor the one at exit
    with (
        DrillFile(args.file, again=bool(getattr(args, "save", False))) as drill,
        tempfile.SpooledTemporaryFile(SPOOL_BYTES, "w+", encoding="utf-8", newline="") as spool,
    ):
        items = stream_drill(drill)
        settings = next(items)
        assert isinstance(settings, ev.SessionSettings)
        # only the readable report's header counts the events: --json pays nothing for it
        counted = None if args.json else _Counted(items)
        events: Iterable[ev.Event] = items if counted is None else counted  # type: ignore[assignment]
        if args.compare_modes:
            from papertrade.core.shadow import ModeComparison
            from papertrade.tui.cli.simulate_compare import compared, write_comparison

            comparison = ModeComparison(settings)
            engine = comparison.engine
            write_outcomes(compared(comparison, events), args.json, spool)
            write_comparison(comparison, args.json, spool)
        else:
            engine = Engine(settings=settings)
            write_outcomes(simulate(engine, events), args.json, spool)
        if engine.challenge is not None:
            write_challenge(engine.challenge, args.json, spool)
        # --save: store the run as a session (exit 2 on error, before anything is printed)
        save_run(args, settings, _events(stream_drill(drill)))
        if counted is not None:
            sys.stdout.write(
                f"Simulating {plural(counted.n, 'event')} from {args.file}: starting balance "
                f"{_money(settings.balance)} USDT, taker {settings.taker_fee * 100}% / "
                f"maker {settings.maker_fee * 100}%"
                + (", hedge mode" if settings.position_mode == "hedge" else "")
                + "\n\n"
            )
        spool.seek(0)
        shutil.copyfileobj(spool, sys.stdout)
    return 0


class _Counted:
    """The events of a streamed drill, counted as they pass (the report's header needs it)."""

    def __init__(self, items: Iterator[ev.SessionSettings | ev.Event]) -> None:
        self._items = items
        self.n = 0

    def __iter__(self) -> Iterator[ev.Event]:
        # after the settings `stream_drill` yields events only (a late `session` line is an
        # error), so nothing is filtered on the way
        n = 0
        try:
            for n, item in enumerate(self._items, start=1):  # noqa: B007 (counted after)
                yield item  # type: ignore[misc]
        finally:
            self.n = n


def _events(items: Iterator[ev.SessionSettings | ev.Event]) -> Iterator[ev.Event]:
    for item in items:
        if not isinstance(item, ev.SessionSettings):
            yield item
