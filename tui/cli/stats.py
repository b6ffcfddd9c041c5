"""`papertrade stats SESSION [--json] [--points N] [--compare-modes]`: how a session went,
computed by replay; `--compare-modes` adds the run all isolated and all cross (the journal
holds every input, so the shadows are recomputed from it, like everything else here).

Definitions are in `saves/stats.py`. `--json` includes the sampled equity curve for plotting.

Signs, the same in the text, the JSON and the terminal's summary: every amount is signed as it
moved the account, so costs are negative (`fees` -51.94, `liquidation_losses` -10000.00,
`funding` negative when paid). `equity_change` = `realized_pnl` + `unrealized_pnl` + `fees` +
`funding` + `liquidation_losses`, exactly; `net_pnl` is the same without the unrealized part.
`clearance_fees` (negative) and `insurance_covered` (positive) are parts of
`liquidation_losses`, shown apart, not added again.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import Any

from papertrade.core.numbers import human, plain
from papertrade.core.text import printable
from papertrade.saves.stats import EQUITY_POINTS, SessionStats
from papertrade.tui.cli.sessions import add_db_option, opened_store
from papertrade.tui.errors import UsageError
from papertrade.tui.service.listing import dec_or_none, fmt_duration


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `papertrade stats` (its summary is in `tui.cli.COMMANDS`)."""
    p.description = "Replay SESSION and report its statistics."
    p.add_argument("session", metavar="SESSION", help="session id or name")
    p.add_argument("--json", action="store_true", help="one JSON object, with the equity curve")
    p.add_argument(
        "--points",
        type=int,
        default=EQUITY_POINTS,
        help=f"equity curve samples (default {EQUITY_POINTS})",
    )
    p.add_argument(
        "--compare-modes",
        action="store_true",
        help="also replay it all isolated and all cross and compare (as simulate does)",
    )
    add_db_option(p)
    p.set_defaults(handler=run)


def stats_json(name: str, s: SessionStats) -> dict[str, Any]:
    return {
        "session": name,
        "start_ts": s.start_ts,
        "end_ts": s.end_ts,
        "starting_balance": plain(s.starting_balance),
        "final_equity": plain(s.final_equity),
        "realized_pnl": plain(s.realized_pnl),
        "equity_change": plain(s.equity_change),
        "unrealized_pnl": plain(s.unrealized_pnl),
        "fees": plain(-s.fees),
        "funding": plain(s.funding),
        "liquidation_losses": plain(-s.liquidation_losses),
        "clearance_fees": plain(-s.clearance_fees),
        "insurance_covered": plain(s.insurance_covered),
        "net_pnl": plain(s.net_pnl),
        "trades": s.trades,
        "closing_trades": s.closing_trades,
        "wins": s.wins,
        "losses": s.losses,
        "win_rate": dec_or_none(s.win_rate),
        "average_win": dec_or_none(s.average_win),
        "average_loss": dec_or_none(s.average_loss),
        "largest_loss": dec_or_none(s.largest_loss),
        "max_drawdown": plain(s.max_drawdown),
        "max_drawdown_pct": dec_or_none(s.max_drawdown_pct),
        "liquidations": s.liquidations,
        "time_in_market_ms": s.time_in_market_ms,
        "time_in_market_pct": dec_or_none(s.time_in_market_pct),
        "equity_curve": [[ts, plain(v)] for ts, v in s.equity_curve],
        **(challenge_json(s) if s.challenge or s.refill else {}),
    }


def challenge_json(s: SessionStats) -> dict[str, Any]:
    """The challenge keys of a session with a loss rule or refills (others have none)."""
    return {
        "challenge_passed": s.passed,
        "rule_breaches": [{"ts": ts, "rule": rule} for ts, rule in s.breaches],
        "wipes": len(s.refills),
        "refills": [{"ts": ts, "amount": plain(amount)} for ts, amount in s.refills],
    }


def _pct(d: Decimal | None) -> str:
    return "--" if d is None else f"{d * 100:.2f}%"


def _usdt(d: Decimal | None) -> str:
    return "--" if d is None else f"{human(d)} USDT"


def report(name: str, s: SessionStats) -> list[str]:
    rows = [
        ("starting balance", _usdt(s.starting_balance)),
        ("final equity", _usdt(s.final_equity)),
        ("equity change", _usdt(s.equity_change)),
        *((f"  {label}", _usdt(value)) for label, value in s.breakdown()),
        ("net realized PnL", _usdt(s.net_pnl)),
        ("trades (fills)", str(s.trades)),
        ("closing trades", f"{s.closing_trades} ({s.wins} won, {s.losses} lost)"),
        ("win rate", _pct(s.win_rate)),
        ("average win", _usdt(s.average_win)),
        ("average loss", _usdt(s.average_loss)),
        ("largest loss", _usdt(s.largest_loss)),
        ("max drawdown", f"{_usdt(s.max_drawdown)} ({_pct(s.max_drawdown_pct)})"),
        ("liquidations", str(s.liquidations)),
        (
            "time in market",
            f"{fmt_duration(s.time_in_market_ms)} ({_pct(s.time_in_market_pct)})",
        ),
        ("equity samples", f"{len(s.equity_curve)} (use --json for the curve)"),
    ]
    from papertrade.tui.widgets import fmt

    if s.challenge:
        rows += [("challenge", fmt.challenge_verdict(s.breaches))]
    if s.refill:
        rows += [("wipes", fmt.wipes_words(s.refills))]
    width = max(len(k) for k, _ in rows)
    return [f"Statistics of session {printable(name)}", *(f"  {k:<{width}}  {v}" for k, v in rows)]


def run(args: argparse.Namespace) -> int:
    if args.points < 2:
        raise UsageError("--points must be at least 2")
    with opened_store(args) as store:
        info = store.session(args.session)
        result = store.stats(info.id, points=args.points)
        comparison = None
        if args.compare_modes:
            from papertrade.saves.store import instruments_for
            from papertrade.tui.cli.simulate_compare import compare_events

            events = (event for _, event in store.events(info.id))
            comparison = compare_events(info.settings, events, instruments_for(info.venue))
    if args.json:
        line = stats_json(info.name, result)
        if comparison is not None:
            line["mode_comparison"] = comparison.to_json(comparison.engine.last_ts)
        sys.stdout.write(json.dumps(line) + "\n")
    else:
        print("\n".join(report(info.name, result)))
        if comparison is not None:
            from papertrade.tui.cli.simulate_compare import table

            print("\n".join(table(comparison)))
    return 0
