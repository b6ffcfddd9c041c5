"""`HelpScreen`: every key of the trading screen, what the less obvious columns mean, and the
margin-mode idea in two lines — all of it on an 80×24 terminal without scrolling."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("b / s", "buy / sell the selected symbol (order ticket)"),
    ("c / r / C", "close the position (asks how much) / reverse it / close all"),
    ("m / l", "margin mode (cross / isolated) / leverage of the symbol"),
    ("a / t / B", "isolated margin / TP and SL / SL to break-even"),
    ("x / X / e", "cancel the selected order / all orders / amend it"),
    ("/ / delete", "add a symbol to / remove it from the watchlist"),
    ("A / P", "price alert / post-mortem of the last liquidation (← → others)"),
    ("1-4 / d", "watchlist / chart / orders / log (one shown if small) / depth"),
    ("o / f", "orders: open > history > trades / only the selected symbol"),
    ("tab, j k", "next panel / row (shift+tab, ↑ ↓); ← → more columns"),
    ("ctrl+p / S", "command palette (every action) / saved sessions"),
    ("? / q", "this help / quit (the session is saved)"),
    ("space + -", "a branch's recorded market: pause or play, faster, slower"),
)

COLUMNS = (
    "Δ sess.: change since this session first saw the symbol. To liq: distance to the "
    "liquidation price; Health: margin ratio (isolated: the position's own, cross: the whole "
    "cross account's), liquidation at 100 %. Break-even: entry ± fees paid / size. Next "
    "funding: rate × mark × size, paid (−) or received (+), and when."
)

MODES = (
    "Isolated: the position has its own margin, the most it can lose. Cross: every cross "
    "position shares the cross balance; when it runs out all of them are liquidated."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss_help", "Close"),
    ]

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, what in KEYS:
            table.add_row(key, what)
        title = Text("papertrade — keys", style="bold")
        title.append("   esc or ? closes", style="dim")
        with VerticalScroll(classes="dialog", id="help"):
            yield Static(title)
            yield Static(table)
            yield Static(Text(COLUMNS, style="dim"))
            yield Static(Text(MODES, style="italic"))

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
