"""The same trades under the other margin mode: shadow engines and the figures that compare them.

papertrade's lesson is what isolated and cross margin do to *your* money; the plainest way to
show it is to run the trader's own drill or session again with every position in one mode. A
shadow is an ordinary `Engine` fed the same market events and the same commands, each command
first passed through `shadow_command`:

- an order is placed in the shadow's mode at the leverage it was placed at, so an isolated
  shadow position gets exactly the margin the order would get if placed isolated (its initial
  margin; `Engine` sizes it), and a cross one draws on the shared wallet;
- `set_margin_mode` is skipped: the shadow's mode is the point of the shadow;
- `adjust_margin` is kept in an isolated shadow and skipped in a cross one (a cross position
  has no margin of its own to move; the money simply stays in the shared wallet, which is
  what the trader's transfer would amount to in cross).

Everything else (leverage, closes, cancels, position mode, snapshots) passes unchanged. A
command the shadow refuses is a rejection in the shadow only: shadows never touch the real run.

`RunFigures` is the comparison's row: measured after every event, so a drawdown that recovers
before the end still shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import InstrumentBook
from papertrade.core.margin import margin_ratio
from papertrade.core.numbers import ONE, ZERO, money, plain

COLUMNS = ("as_written", "all_isolated", "all_cross")
"""The comparison's runs, in the order the table and the JSON line give them."""

RATIO = Decimal("0.0001")


def shadow_command(command: ev.Event, mode: ev.MarginMode) -> ev.Event | None:
    """The event a shadow in `mode` runs for `command` (None: skipped, see the module doc)."""
    if isinstance(command, ev.PlaceOrder):
        return replace(command, margin_mode=mode)
    if isinstance(command, ev.SetMarginMode):
        return None
    if isinstance(command, ev.AdjustMargin) and mode == "cross":
        return None
    return command


def worst_ratio(engine: Engine) -> Decimal | None:
    """The highest margin ratio anywhere in the account now: the cross account's, or an
    isolated position's own (its maintenance margin over its margin + uPnL)."""
    worst = engine.acct.cross_margin_ratio()
    for pos in engine.acct.positions.values():
        if pos.mode == "isolated":
            ratio = margin_ratio(pos.mm, pos.margin + pos.upnl)
            if ratio is not None and (worst is None or ratio > worst):
                worst = ratio
    return worst


@dataclass(slots=True)
class RunFigures:
    """One column of the comparison. A liquidation counts as a margin ratio of 100 %: the
    ratio reached it at the trigger, whatever the state after the liquidation shows."""

    starting_balance: Decimal
    wallet_balance: Decimal = ZERO
    liquidations: int = 0
    liquidation_loss: Decimal = ZERO
    peak: Decimal = ZERO
    max_drawdown: Decimal = ZERO
    worst_margin_ratio: Decimal | None = None
    margin_balance: Decimal = ZERO
    first_liquidation: ev.Liquidation | None = None
    """Where the first liquidation struck: cross holds on longer, so it comes later and lower."""
    _started: bool = field(default=False, repr=False)

    def observe(self, engine: Engine, outcomes: Iterable[ev.Outcome]) -> None:
        """Take the account's figures after one event."""
        acct = engine.acct
        balance = acct.margin_balance()
        if not self._started:
            self.peak = max(balance, self.starting_balance)
            self._started = True
        self.peak = max(self.peak, balance)
        self.max_drawdown = max(self.max_drawdown, self.peak - balance)
        self.margin_balance = balance
        self.wallet_balance = acct.wallet_balance()
        self.liquidations = engine.totals.liquidations
        self.liquidation_loss = engine.totals.liquidation_losses
        ratio = worst_ratio(engine)
        liquidations = [o for o in outcomes if isinstance(o, ev.Liquidation)]
        if liquidations and self.first_liquidation is None:
            self.first_liquidation = liquidations[0]
        if liquidations:
            ratio = ONE if ratio is None else max(ratio, ONE)
        if ratio is not None and (
            self.worst_margin_ratio is None or ratio > self.worst_margin_ratio
        ):
            self.worst_margin_ratio = min(ratio, ONE)

    def to_json(self) -> dict[str, object]:
        ratio = self.worst_margin_ratio
        first = self.first_liquidation
        return {
            "wallet_balance": plain(money(self.wallet_balance)),
            "margin_balance": plain(money(self.margin_balance)),
            "liquidations": self.liquidations,
            "liquidation_loss": plain(money(self.liquidation_loss)),
            "max_drawdown": plain(money(self.max_drawdown)),
            "worst_margin_ratio": None if ratio is None else plain(ratio.quantize(RATIO)),
            "first_liquidation": None
            if first is None
            else {"ts": first.ts, "symbol": first.symbol, "mark": plain(first.mark_price)},
        }


class ModeComparison:
    """The run as written plus an all-isolated and an all-cross shadow, stepped together.

    `apply` returns the real run's outcomes, so a caller prints them exactly as it would
    without the comparison; the shadows' outcomes only feed their figures."""

    def __init__(
        self,
        settings: ev.SessionSettings,
        instruments: InstrumentBook | None = None,
    ) -> None:
        self.engine = Engine(instruments, settings)
        self.shadows: dict[ev.MarginMode, Engine] = {
            mode: Engine(instruments, settings) for mode in ev.MARGIN_MODES
        }
        self.figures = {name: RunFigures(settings.balance) for name in COLUMNS}

    def apply(self, event: ev.Event) -> list[ev.Outcome]:
        out = self.engine.apply(event)
        self.figures["as_written"].observe(self.engine, out)
        for mode, shadow in self.shadows.items():
            mapped = shadow_command(event, mode)
            shadow_out = shadow.apply(mapped) if mapped is not None else []
            if mapped is None:
                shadow.last_ts = event.ts
            self.figures[f"all_{mode}"].observe(shadow, shadow_out)
        return out

    def to_json(self, ts: int) -> dict[str, object]:
        """The `mode_comparison` line of `simulate --compare-modes --json`."""
        line: dict[str, object] = {"type": "mode_comparison", "ts": ts}
        for name in COLUMNS:
            line[name] = self.figures[name].to_json()
        return line
