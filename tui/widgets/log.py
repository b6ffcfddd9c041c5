"""`EventLog`: fills, rejections (with their reason), liquidations, funding and feed changes.

Feed it with `add_outcomes(outcomes)` (engine outcomes) and `add_text(text, style)` (anything
else). Bounded (`max_lines`, 500 by default) so a long session never grows memory. Every line is
a `Text`, never markup: symbols, rejection reasons and server messages are shown verbatim.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from papertrade.core import events as ev
from papertrade.core.numbers import plain
from papertrade.tui.widgets import fmt
from rich.text import Text
from textual.widgets import RichLog

MAX_LINES = 500


def describe(outcome: ev.Outcome) -> tuple[str, str] | None:
    """(text, style) of one outcome for the log; None for outcomes not worth a line."""
    if isinstance(outcome, ev.Fill):
        pnl = f", realized {fmt.money(outcome.realized_pnl, 4)}" if outcome.realized_pnl else ""
        return (
            f"FILL {outcome.side} {plain(outcome.qty)} {outcome.symbol} @ {plain(outcome.price)}"
            f" ({outcome.liquidity}, fee {fmt.money(outcome.fee, 4)}{pnl})",
            "green" if outcome.side == "buy" else "red",
        )
    if isinstance(outcome, ev.Rejected):
        return (f"REJECTED {outcome.command}: {outcome.reason}", "bold yellow")
    if isinstance(outcome, ev.Liquidation):
        return (
            f"LIQUIDATED {outcome.margin_mode} {outcome.side} {plain(outcome.qty)} "
            f"{outcome.symbol} at mark {plain(outcome.mark_price)}: lost "
            f"{fmt.money(outcome.loss)} USDT",
            "bold reverse red",
        )
    if isinstance(outcome, ev.FundingPaid):
        verb = "received" if outcome.amount > 0 else "paid"
        return (f"FUNDING {outcome.symbol}: {verb} {fmt.money(abs(outcome.amount), 4)} USDT", "")
    if isinstance(outcome, ev.OrderCancelled):
        return (f"CANCELLED {outcome.order_id}: {outcome.reason}", "dim")
    return None


class EventLog(RichLog):
    DEFAULT_CSS = """
    EventLog { height: 1fr; }
    """
    clock: Callable[[], float] = time.time
    """Wall clock for lines without a market time (tests pin it)."""

    def __init__(
        self, *, id: str | None = None, classes: str | None = None, max_lines: int = MAX_LINES
    ) -> None:
        super().__init__(
            id=id,
            classes=classes,
            max_lines=max_lines,
            wrap=True,
            markup=False,
            auto_scroll=True,
            min_width=20,
        )

    def add_text(self, text: str, style: str = "", ts: int | None = None) -> None:
        stamp = datetime.fromtimestamp(ts / 1000 if ts else self.clock(), UTC)
        line = Text(stamp.strftime("%H:%M:%S "), style="dim")
        line.append(Text(text, style=style))
        self.write(line)

    def add_outcomes(self, outcomes: Iterable[ev.Outcome]) -> None:
        for outcome in outcomes:
            described = describe(outcome)
            if described is not None:
                self.add_text(*described, ts=outcome.ts)
