"""`HelpScreen`: every key of the trading screen, and the margin-mode idea in two lines."""

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
    ("c", "close the selected position at market"),
    ("m", "switch margin mode (cross / isolated) of the selected symbol"),
    ("l", "set leverage of the selected symbol"),
    ("a", "add or remove isolated margin of the selected position"),
    ("x / X", "cancel the selected order / cancel all orders"),
    ("/", "add a symbol to the watchlist"),
    ("delete", "remove the selected symbol from the watchlist"),
    ("tab / shift+tab", "next / previous panel"),
    ("↑ ↓ / j k", "move within a panel"),
    ("ctrl+p", "command palette (every action)"),
    ("S", "saved sessions"),
    ("?", "this help"),
    ("q", "quit (the session is saved)"),
    (
        "space / + -",
        "after a replay take-over: pause or play / speed up or slow down the recorded market",
    ),
)

COLUMNS = (
    "Watchlist Δ sess.: price change since this session first saw the symbol. Health: margin "
    "ratio (isolated: the position's own; cross: the whole cross account's) — liquidation at "
    "100 %; yellow from 50 %, red from 80 %."
)

MODES = (
    "Isolated: the position has its own margin; the most it can lose is that margin. "
    "Cross: every cross position shares the cross balance; a loss draws on all of it, and "
    "when it runs out every cross position is liquidated, winners too."
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
        with VerticalScroll(classes="dialog", id="help"):
            yield Static(Text("papertrade — keys", style="bold"))
            yield Static(table)
            yield Static(Text(COLUMNS))
            yield Static(Text(MODES, style="italic"))
            yield Static("esc / ? to close", classes="dim")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
