"""Small modal dialogs of the trading screen: leverage, isolated margin, confirm, add symbol.

Each validates inline and returns a plain value (or None when cancelled); the trading screen
turns it into an engine command. Untrusted text (symbols, reasons) is shown as `Text`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import ClassVar, TypeVar

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.geometry import Size
from textual.renderables.background_screen import BackgroundScreen
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from papertrade.tui.service.typed import parse_decimal
from papertrade.tui.widgets import fmt

R = TypeVar("R")


class _Still:
    """Lines rendered once, replayed on every later paint."""

    def __init__(self, lines: list[list[Segment]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        newline = Segment.line()
        for line in self.lines:
            yield from line
            yield newline


class StillBackdrop(ModalScreen[R]):
    """A modal whose dimmed backdrop is a still of the screen below, taken when it opens.

    Why (issue 10, bug 13: dialogs took 1-2 s to open): Textual paints a translucent modal's
    backdrop by rendering the whole screen below and tinting every segment, on every paint
    of the modal — five or more while it opens, and again for each keystroke, with the
    trading screen's tables and chart behind. Here the tinted screen is rendered once per
    size and replayed; the market behind stands still while the dialog is up (the ticket
    shows live prices itself).
    """

    _backdrop: tuple[Size, _Still] | None = None

    def render(self) -> RenderableType:
        base = super().render()
        if not isinstance(base, BackgroundScreen):
            return base
        size = self.size
        if self._backdrop is None or self._backdrop[0] != size:
            console = self.app.console
            options = console.options.update_dimensions(size.width, size.height)
            below = console.render(base.screen._compositor, options)
            lines = list(
                Segment.split_and_crop_lines(
                    tint(below, base.color), size.width, include_new_lines=False
                )
            )
            self._backdrop = (size, _Still(lines[: size.height]))
        return self._backdrop[1]


def tint(segments: Iterable[Segment], color: Color) -> Iterator[Segment]:
    """`BackgroundScreen.process_segments`, with each distinct style tinted once.

    A screen of tables repeats a handful of styles across thousands of segments; Textual's
    own tint blends colours per segment, which was most of a dialog's opening time."""
    tinted: dict[Style | None, Style] = {}
    for segment in segments:
        text, style, control = segment
        if control:
            yield segment
            continue
        new = tinted.get(style)
        if new is None:
            new = next(iter(BackgroundScreen.process_segments([Segment(" ", style)], color))).style
            assert new is not None
            tinted[style] = new
        yield Segment(text, new)


class _Dialog(StillBackdrop[object]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)

    def error(self, text: str) -> None:
        self.query_one(".dialog-error", Static).update(Text(text))


class LeverageModal(_Dialog):
    """Set a symbol's leverage (1..the instrument's maximum)."""

    def __init__(self, symbol: str, current: int, maximum: int) -> None:
        super().__init__()
        self.symbol, self.current, self.maximum = symbol, current, maximum

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(f"Leverage for {self.symbol}", style="bold"))
            yield Static(f"now {self.current}x · allowed 1-{self.maximum}x", classes="dim")
            yield Input(str(self.current), id="leverage", compact=True)
            yield Static(classes="dialog-error")
            yield Static("enter apply · esc cancel", classes="dim")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        text = event.value.strip().lower().removesuffix("x")
        if not text.isdigit() or not 1 <= int(text) <= self.maximum:
            self.error(f"enter a whole number from 1 to {self.maximum}")
            return
        self.dismiss(int(text))


class MarginModal(_Dialog):
    """Add (+) or remove (−) isolated margin: `+100`, `100` add; `-50` removes."""

    def __init__(self, symbol: str, margin: Decimal, addable: Decimal, removable: Decimal) -> None:
        super().__init__()
        self.symbol, self.margin = symbol, margin
        self.addable, self.removable = addable, removable

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(f"Isolated margin of {self.symbol}", style="bold"))
            yield Static(
                f"now {fmt.money(self.margin)} USDT · can add up to {fmt.money(self.addable)}"
                f" · can remove up to {fmt.money(self.removable)}",
                classes="dim",
            )
            yield Input(placeholder="+100 adds · -50 removes", id="amount", compact=True)
            yield Static(classes="dialog-error")
            yield Static("enter apply · esc cancel", classes="dim")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        try:
            amount = parse_decimal(event.value.replace("+", ""), "amount", positive=False)
        except ValueError as exc:
            self.error(str(exc))
            return
        if amount == 0:
            self.error("enter a non-zero amount")
            return
        self.dismiss(amount)


class ConfirmModal(_Dialog):
    """Yes/no: `y` or enter confirms, `n` or escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "yes", "Yes"),
        Binding("n,escape", "cancel", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.question, style="bold"))
            yield Static("y / enter: yes · n / esc: no", classes="dim")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class AddSymbolModal(_Dialog):
    """Fuzzy search of the venue's bundled instruments; enter adds the highlighted one."""

    def __init__(self, symbols: Sequence[str], exclude: Sequence[str] = ()) -> None:
        super().__init__()
        self.symbols = [s for s in symbols if s not in set(exclude)]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text("Add a symbol to the watchlist", style="bold"))
            yield Input(placeholder="type to search, e.g. doge", id="search", compact=True)
            yield OptionList(id="matches")
            yield Static(classes="dialog-error")
            yield Static("enter add · up/down choose · esc cancel", classes="dim")

    def on_mount(self) -> None:
        self._filter("")
        self.query_one(Input).focus()

    def _filter(self, query: str) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        if query.strip():
            matcher = Matcher(query.strip().upper())
            scored = sorted(
                ((matcher.match(s), s) for s in self.symbols), key=lambda x: (-x[0], x[1])
            )
            found = [s for score, s in scored if score > 0]
        else:
            found = sorted(self.symbols)
        options.add_options([Option(Text(s), id=s) for s in found[:50]])
        if found:
            options.highlighted = 0

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._filter(event.value)

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        options = self.query_one(OptionList)
        if key in ("down", "up") and self.focused is self.query_one(Input):
            if key == "down":
                options.action_cursor_down()
            else:
                options.action_cursor_up()
            getattr(event, "stop", lambda: None)()

    @on(Input.Submitted)
    def _submit(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None or not options.option_count:
            self.error("no matching symbol")
            return
        option = options.get_option_at_index(options.highlighted)
        self.dismiss(option.id)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
