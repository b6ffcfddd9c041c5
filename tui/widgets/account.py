"""`AccountPanel`: balances, the cross margin-ratio gauge and what moved the wallet.

Refresh: `update_from(engine)`. Balances come from the engine (derived there, never stored
twice); the gauge is the cross account's margin ratio — at 100 % every cross position is
force-closed — so a trader watching one cross position sees the whole account's risk.

Two shapes, chosen by the room it is given (so the screen's layout alone decides): a column of
labelled rows, or — in three lines or fewer, on a small terminal — one strip that leads with what
a trader must never lose sight of: available balance, the cross margin ratio, uPnL.

Under a trading session it also shows the same trades in the other margin modes (the session's
`LiveShadows`): "all isolated: 9,120.00 · all cross: 0.00 (1 liq)" — each run's equity and its
liquidations so far. A replay has no shadows and shows no such line.

The position mode shows only when it is hedge (a long and a short of one symbol side by side):
one-way is what every account starts in, and the panel stays as it always was for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from papertrade.core.engine import Engine
from papertrade.tui.service.shadows import Standing
from papertrade.tui.widgets import fmt

COMPACT_LINES = 3
"""At this many content lines or fewer the panel draws the strip instead of the column (two
lines of figures, and the margin-mode comparison under a trading session)."""


@dataclass(frozen=True, slots=True)
class Figures:
    wallet: Decimal
    margin_balance: Decimal
    available: Decimal
    upnl: Decimal
    cross_ratio: Decimal | None
    realized: Decimal
    fees: Decimal
    funding: Decimal
    liquidation_losses: Decimal
    hedge: bool = False
    modes: tuple[Standing, ...] = ()
    """The all-isolated and all-cross shadows (none under a replay)."""


class AccountPanel(Widget):
    """Repaints in place (no layout pass): it changes with every mark of a held symbol."""

    DEFAULT_CSS = """
    AccountPanel { height: 10; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.figures: Figures | None = None

    def update_from(self, engine: Engine, modes: Sequence[Standing] = ()) -> None:
        acct = engine.acct
        t = engine.totals
        has_cross = any(p.mode == "cross" for p in acct.positions.values())
        figures = Figures(
            wallet=acct.wallet_balance(),
            margin_balance=acct.margin_balance(),
            available=engine.available_balance(),
            upnl=acct.unrealized_pnl(),
            cross_ratio=acct.cross_margin_ratio() if has_cross else None,
            realized=t.realized_pnl,
            fees=-t.fees,
            funding=t.funding,
            liquidation_losses=-t.liquidation_losses,
            hedge=engine.position_mode == "hedge",
            modes=tuple(modes),
        )
        if figures != self.figures:
            # A liquidation adds a row: then the panel's height changes, so lay out again.
            rows_moved = (self.figures is None) or (
                bool(self.figures.liquidation_losses) != bool(figures.liquidation_losses)
                or self.figures.hedge != figures.hedge
                or len(self.figures.modes) != len(figures.modes)
            )
            self.figures = figures
            self.refresh(layout=rows_moved)

    def render(self) -> RenderableType:
        f = self.figures
        if f is None:
            return Text("waiting for the account…", style="dim")
        if self.content_size.height <= COMPACT_LINES:
            return self._strip(f)
        return self._column(f)

    @staticmethod
    def _column(f: Figures) -> Table:
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(justify="left", no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        rows: list[tuple[str | Text, Text]] = []
        if f.hedge:
            rows.append(("Position mode", Text("hedge", style="bold cyan")))
        rows += [
            ("Wallet", Text(fmt.money(f.wallet))),
            ("Margin balance", Text(fmt.money(f.margin_balance))),
            ("Available", Text(fmt.money(f.available), style="bold")),
            ("Unrealized PnL", fmt.signed_text(fmt.money(f.upnl), f.upnl)),
            ("Cross ratio", fmt.health_bar(f.cross_ratio, width=6)),
            ("Realized PnL", fmt.signed_text(fmt.money(f.realized), f.realized)),
            ("Fees", fmt.signed_text(fmt.money(f.fees), f.fees)),
            ("Funding", fmt.signed_text(fmt.money(f.funding), f.funding)),
        ]
        if f.liquidation_losses:
            loss = Text(fmt.money(f.liquidation_losses), style="red")
            rows.append((Text("Liquidations", style="red"), loss))
        for standing in f.modes:
            # the count goes with the value: the label column is too narrow for both
            value = Text(f"{standing.liquidations} liq ", style="red")
            if not standing.liquidations:
                value = Text()
            value.append(fmt.money(standing.equity), style="")
            rows.append((Text(f"All {standing.mode}", style="dim"), value))
        for label, value in rows:
            value.justify = "right"  # a Text keeps its own justification over the column's
            grid.add_row(label, value)
        return grid

    @staticmethod
    def _strip(f: Figures) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if f.hedge:
            text.append("HEDGE ", style="bold cyan")
        text.append("Available ", style="dim")
        text.append(fmt.money(f.available), style="bold")
        text.append("  Cross ratio ", style="dim")
        text.append_text(fmt.health_bar(f.cross_ratio, width=5))
        text.append("  uPnL ", style="dim")
        text.append_text(fmt.signed_text(fmt.money(f.upnl), f.upnl))
        text.append("\nWallet ", style="dim")
        text.append(fmt.money(f.wallet))
        text.append("  Realized ", style="dim")
        text.append_text(fmt.signed_text(fmt.money(f.realized), f.realized))
        text.append("  Fees ", style="dim")
        text.append_text(fmt.signed_text(fmt.money(f.fees), f.fees))
        text.append("  Funding ", style="dim")
        text.append_text(fmt.signed_text(fmt.money(f.funding), f.funding))
        if f.liquidation_losses:
            text.append("  Liq. ", style="red")
            text.append(fmt.money(f.liquidation_losses), style="red")
        if f.modes:
            text.append("\n")
            text.append_text(mode_line(f.modes))
        return text


def _standing(standing: Standing) -> Text:
    text = Text(fmt.money(standing.equity))
    if standing.liquidations:
        text.append(f" ({standing.liquidations} liq)", style="red")
    return text


def mode_line(modes: Sequence[Standing]) -> Text:
    """ "all isolated: 9,120.00 · all cross: 0.00 (1 liq)": equity, and liquidations if any."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, standing in enumerate(modes):
        if i:
            text.append(" · ", style="dim")
        text.append(f"all {standing.mode}: ", style="dim")
        text.append_text(_standing(standing))
    return text
