"""`AccountPanel`: balances, the cross margin-ratio gauge and what moved the wallet.

Refresh: `update_from(engine)`. Balances come from the engine (derived there, never stored
twice); the gauge is the cross account's margin ratio — at 100 % every cross position is
force-closed — so a trader watching one cross position sees the whole account's risk.
"""

from __future__ import annotations

from papertrade.core.engine import Engine
from papertrade.tui.widgets import fmt
from rich.table import Table
from rich.text import Text
from textual.widget import Widget


class AccountPanel(Widget):
    """Repaints in place (no layout pass): it changes with every mark of a held symbol."""

    DEFAULT_CSS = """
    AccountPanel { height: 10; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._grid: Table = Table.grid()

    def render(self) -> Table:
        return self._grid

    def update_from(self, engine: Engine) -> None:
        acct = engine.acct
        t = engine.totals
        ratio = acct.cross_margin_ratio()
        has_cross = any(p.mode == "cross" for p in acct.positions.values())
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(justify="left", no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        upnl = acct.unrealized_pnl()
        grid.add_row("Wallet", fmt.money(acct.wallet_balance()))
        grid.add_row("Margin balance", fmt.money(acct.margin_balance()))
        grid.add_row("Available", Text(fmt.money(engine.available_balance()), style="bold"))
        grid.add_row("Unrealized PnL", fmt.signed_text(fmt.money(upnl), upnl))
        gauge = fmt.health_bar(ratio if has_cross else None, width=10)
        grid.add_row("Cross ratio", gauge)
        grid.add_row("Realized PnL", fmt.signed_text(fmt.money(t.realized_pnl), t.realized_pnl))
        grid.add_row("Fees", fmt.money(-t.fees))
        grid.add_row("Funding", fmt.signed_text(fmt.money(t.funding), t.funding))
        if t.liquidation_losses:
            grid.add_row(
                Text("Liquidation losses", style="red"),
                Text(fmt.money(-t.liquidation_losses), style="red"),
            )
        self._grid = grid
        self.refresh()
