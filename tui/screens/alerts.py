"""`AlertModal`: set a price alert on one symbol (`A` on the trading screen).

One input, typed the way a trader says it: `96000` (above or below, whichever side of the
mark it is on), `above 96000`, `below 90000`, `>96000`, `<90000`. The dialog arms the alert
through the session's `PriceAlerts` (passed in as `arm`), so every refusal — a bad number, a
price the mark already meets — is shown inline and the dialog stays open. `mark` is read
again on enter: the market moves while the trader types.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from papertrade.core.numbers import plain
from papertrade.tui.service.alerts import Direction, PriceAlert, parse_alert

Arm = Callable[[Direction, Decimal], PriceAlert]
Mark = Callable[[], Decimal | None]


class AlertModal(ModalScreen[PriceAlert | None]):
    """Returns the armed alert, or None when cancelled."""

    DEFAULT_CSS = "AlertModal { align: center middle; }"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, symbol: str, mark: Mark, armed: Sequence[PriceAlert], arm: Arm) -> None:
        super().__init__()
        self.symbol, self.mark, self.armed, self.arm = symbol, mark, list(armed), arm

    def compose(self) -> ComposeResult:
        mark = self.mark()
        now = f"mark {plain(mark)} when opened" if mark is not None else "no mark yet"
        armed = ", ".join(f"{a.direction} {plain(a.price)}" for a in self.armed)
        with Vertical(classes="dialog"):
            yield Static(Text(f"Price alert for {self.symbol}", style="bold"))
            yield Static(Text(f"{now} · armed: {armed or 'none'}"), classes="dim")
            yield Input(placeholder="96000 · above 96000 · below 90000", id="alert", compact=True)
            yield Static(classes="dialog-error")
            yield Static("enter arm (toast + bell once, then gone) · esc cancel", classes="dim")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        try:
            direction, price = parse_alert(event.value, self.mark())
            alert = self.arm(direction, price)
        except ValueError as exc:
            self.query_one(".dialog-error", Static).update(Text(str(exc)))
            return
        self.dismiss(alert)
