"""`EventLog`: fills, rejections (with their reason), liquidations, funding and feed changes.

Feed it with `add_outcomes(outcomes)` (engine outcomes) and `add_text(text, style)` (anything
else). Bounded (`max_lines`, 500 by default) so a long session never grows memory. Every line is
a `Text`, never markup: symbols, rejection reasons and server messages are shown verbatim.

One clock (issue 10, bug 13): every stamp is market time, UTC — the time the engine and the
journal run on (a sim at 100×, a recording, a replay all have their own) — and the panel's
subtitle says so. Fills carry their own time; other lines take the market time of the screen's
session (`market_clock`), else the latest time this log has seen; before any market time
exists the stamp is `--:--:--` rather than a wall-clock time that would mix two clocks.

Liquidations (bug 7): each position's line says its part of the loss, and a cross liquidation
adds one line with what the account lost in all (`fmt.with_cross_totals`, shared with
`papertrade simulate`).

Conditional orders (issue 12): a trigger gets its own line (trigger price, the watched price
that crossed it, and which price was watched), and the fill it becomes says the trigger again
with the slippage between them — signed as it cost the trader (a sell stop at 94,000 filled
at 93,850 slipped 150 against). The log remembers each triggered order until its last word
(fill or cancellation), bounded like the lines. Cancellations name their reason in words
(good-till passed, IOC remainder, FOK not fillable whole, position closed).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol, Self, runtime_checkable

from rich.console import RenderableType
from rich.text import Text
from textual import events
from textual.widgets import RichLog

from papertrade.core import events as ev
from papertrade.core.numbers import plain
from papertrade.core.text import printable
from papertrade.tui.service.trading import TradingSession
from papertrade.tui.widgets import fmt

MAX_LINES = 500
MAX_TRIGGERED = 500
CANCEL_WORDS = {
    "expired": "expired (its good-till time passed)",
    "ioc_remainder": "IOC: the part that could not fill at once is cancelled",
    "fok_unfilled": "FOK: could not fill whole at once, nothing filled",
    "position_closed": "position closed: its close-position / reduce-only order goes with it",
}
CLOCK_LABEL = "market time, UTC"
NO_TIME = "--:--:-- "


@runtime_checkable
class _Trading(Protocol):
    """A screen trading a session (the trading screen): its engine's time is market time."""

    session: TradingSession


def describe_cross_total(total: fmt.CrossLiquidated) -> tuple[str, str]:
    return (f"LIQUIDATED cross account: {fmt.cross_total_words(total)}", "bold reverse red")


def slippage(fill: ev.Fill, trigger: Decimal) -> Decimal:
    """How much worse than its trigger price a triggered order filled, per unit: positive
    when it cost the trader (a sell below, a buy above the trigger), negative when it gained."""
    return trigger - fill.price if fill.side == "sell" else fill.price - trigger


def slippage_words(fill: ev.Fill, trigger: Decimal) -> str:
    slip = slippage(fill, trigger)
    if slip.is_zero():
        return f"trigger {plain(trigger)}, filled at the trigger (no slippage)"
    way = "against" if slip > 0 else "in favour"
    share = fmt.pct(abs(slip) / trigger, signed=False)
    return f"trigger {plain(trigger)}, slippage {plain(abs(slip))} {way} ({share})"


_AVG = Decimal("1E-8")
"""The engine's `average_price` precision."""


def describe_fills(fills: Sequence[ev.Fill]) -> str:
    """One line for the fills of one order that walked a book level by level (a toast per
    level would bury the screen): total, average price, count and fees."""
    if len(fills) == 1:
        text, _style = describe(fills[0]) or ("", "")
        return text
    first = fills[0]
    qty = sum((f.qty for f in fills), Decimal(0))
    average = fills[-1].average_price  # the engine's, on an order's last fill of a walk
    if average is None:
        average = (sum((f.qty * f.price for f in fills), Decimal(0)) / qty).quantize(_AVG)
    fees = sum((f.fee for f in fills), Decimal(0))
    pnl = sum((f.realized_pnl for f in fills), Decimal(0))
    realized = f", realized {fmt.money(pnl, 4)}" if pnl else ""
    shown = average.quantize(Decimal(1).scaleb(average.adjusted() - 7))  # 8 digits: a price
    return (
        f"FILL {first.side} {plain(qty)} {first.symbol} @ {plain(shown)} avg over"
        f" {len(fills)} fills ({first.liquidity}, fees {fmt.money(fees, 4)}{realized})"
    )


def describe(outcome: ev.Outcome, trigger: Decimal | None = None) -> tuple[str, str] | None:
    """(text, style) of one outcome for the log; None for outcomes not worth a line.
    `trigger`: for the fill of a triggered order, the trigger price it is compared with."""
    if isinstance(outcome, ev.Fill):
        pnl = f", realized {fmt.money(outcome.realized_pnl, 4)}" if outcome.realized_pnl else ""
        slip = f"; {slippage_words(outcome, trigger)}" if trigger is not None else ""
        return (
            f"FILL {outcome.side} {plain(outcome.qty)} {outcome.symbol} @ {plain(outcome.price)}"
            f" ({outcome.liquidity}, fee {fmt.money(outcome.fee, 4)}{pnl}){slip}",
            "green" if outcome.side == "buy" else "red",
        )
    if isinstance(outcome, ev.OrderTriggered):
        return (
            f"TRIGGERED {printable(outcome.order_id)} {outcome.order_type} {outcome.symbol}: "
            f"trigger {plain(outcome.trigger_price)} crossed at {plain(outcome.watched_price)}"
            f"{fmt.trigger_gap_words(outcome)}",
            "bold magenta",
        )
    if isinstance(outcome, ev.Rejected):
        return (f"REJECTED {outcome.command}: {outcome.reason}", "bold yellow")
    if isinstance(outcome, ev.Liquidation):
        return (f"LIQUIDATED {fmt.liquidation_words(outcome)}", "bold reverse red")
    if isinstance(outcome, ev.FundingPaid):
        verb = "received" if outcome.amount > 0 else "paid"
        return (f"FUNDING {outcome.symbol}: {verb} {fmt.money(abs(outcome.amount), 4)} USDT", "")
    if isinstance(outcome, ev.OrderCancelled):
        words = CANCEL_WORDS.get(outcome.reason, outcome.reason)
        return (f"CANCELLED {printable(outcome.order_id)}: {printable(words)}", "dim")
    if isinstance(outcome, ev.RuleBreached):
        return (f"RULE BREACHED {fmt.rule_words(outcome)}", "bold reverse yellow")
    if isinstance(outcome, ev.Refill):
        return (f"REFILL {fmt.refill_words(outcome)}", "bold yellow")
    if isinstance(outcome, ev.ReduceOnlyCut):
        return (
            f"REDUCE-ONLY {printable(outcome.order_id)} {outcome.symbol}: cut from "
            f"{plain(outcome.requested_qty)} to {plain(outcome.qty)}, the position's size",
            "yellow",
        )
    return None


class EventLog(RichLog):
    DEFAULT_CSS = """
    EventLog { height: 1fr; }
    """
    clock: Callable[[], float] = time.time
    """Kept for callers that set it; stamps no longer use it (one clock: market time)."""
    market_clock: Callable[[], int | None] | None = None
    """Market time in ms for lines without their own (None/0: not known yet)."""

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
        self._latest_ts: int | None = None
        self._kept: deque[Text] = deque(maxlen=max_lines)
        """Every line written (bounded like the log): a new width wraps them again."""
        self._wrapped_at = 0
        self._triggered: dict[str, Decimal] = {}
        """Trigger price of each triggered order whose fill may still come (insertion order:
        the oldest is forgotten first past MAX_TRIGGERED)."""

    def on_resize(self, event: events.Resize) -> None:
        """Lines are wrapped when written; a new width (the small layout's full-width log
        after the wide layout's side column) wraps them again instead of keeping them in a
        30-cell strip."""
        super().on_resize(event)  # the lines written before the first size are written now
        width = event.size.width
        if not width:
            return
        if self._wrapped_at and width != self._wrapped_at and self._kept:
            self.clear()
            for line in self._kept:
                super().write(line)
        self._wrapped_at = width

    def write(
        self,
        content: RenderableType | object,
        width: int | None = None,
        expand: bool = False,
        shrink: bool = True,
        scroll_end: bool | None = None,
        animate: bool = False,
    ) -> Self:
        # Kept once: before the log has a size, RichLog defers the line and writes it again
        # through here when the size is known.
        if isinstance(content, Text) and self._size_known:
            self._kept.append(content)
        return super().write(content, width, expand, shrink, scroll_end, animate)

    def on_mount(self) -> None:
        self.border_subtitle = CLOCK_LABEL
        screen = self.screen
        if self.market_clock is None and isinstance(screen, _Trading):
            engine = screen.session.engine
            self.market_clock = lambda: engine.last_ts or None

    def market_now(self) -> int | None:
        """The market time (ms) a line without its own is stamped with, if any is known."""
        now = self.market_clock() if self.market_clock is not None else None
        return now or self._latest_ts

    def add_text(self, text: str, style: str = "", ts: int | None = None) -> None:
        when = ts or self.market_now()
        if ts:
            self._latest_ts = max(ts, self._latest_ts or 0)
        line = Text(_stamp(when) if when else NO_TIME, style="dim")
        line.append(Text(text, style=style))
        self.write(line)

    def add_outcomes(self, outcomes: Iterable[ev.Outcome]) -> None:
        for item in fmt.with_cross_totals(outcomes):
            if isinstance(item, fmt.CrossLiquidated):
                self.add_text(*describe_cross_total(item), ts=item.ts)
                continue
            trigger = self._triggered.get(item.order_id) if isinstance(item, ev.Fill) else None
            if isinstance(item, ev.OrderTriggered):
                self._triggered.pop(item.order_id, None)
                self._triggered[item.order_id] = item.trigger_price
                while len(self._triggered) > MAX_TRIGGERED:
                    del self._triggered[next(iter(self._triggered))]
            elif isinstance(item, ev.OrderCancelled):
                self._triggered.pop(item.order_id, None)
            described = describe(item, trigger)
            if described is not None:
                self.add_text(*described, ts=item.ts)


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S ")
