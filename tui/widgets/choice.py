"""`Choice`: one of a few fixed values on a single line, changed with space or the arrows.

Why not Textual's `Select` in the order ticket: its dropdown is an option list, an overlay and
a label per field, mounted anew each time the ticket opens — a quarter of the ticket's opening
time for two fields that each hold one of two values (Market/Limit, Cross/Isolated). Here the
choices stay visible, as on an exchange's order form, and Enter is left to the ticket
(submit, as its footer says).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


class Choice(Widget, can_focus=True):
    """`options` are (label, value) pairs; `value` is the chosen value."""

    DEFAULT_CSS = """
    Choice { height: 1; width: auto; }
    Choice > .choice--on { text-style: bold reverse; }
    Choice:focus > .choice--on { background: $accent; color: $text; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"choice--on"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space,right", "step(1)", "Next", show=False),
        Binding("left", "step(-1)", "Previous", show=False),
    ]

    value: reactive[str] = reactive("", init=False)

    class Changed(Message):
        """The chosen value changed (by a key, a click or the code)."""

        def __init__(self, choice: Choice, value: str) -> None:
            super().__init__()
            self.choice = choice
            self.value = value

        @property
        def control(self) -> Choice:
            return self.choice

    def __init__(
        self,
        options: Sequence[tuple[str, str]],
        value: str,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        if value not in [v for _, v in options]:
            raise ValueError(f"{value!r} is not one of the choices")
        self.options = list(options)
        self.set_reactive(Choice.value, value)

    def validate_value(self, value: str) -> str:
        if value not in [v for _, v in self.options]:
            raise ValueError(f"{value!r} is not one of the choices")
        return value

    def watch_value(self, value: str) -> None:
        self.post_message(self.Changed(self, value))

    def action_step(self, by: int) -> None:
        values = [v for _, v in self.options]
        self.value = values[(values.index(self.value) + by) % len(values)]

    def on_click(self) -> None:
        self.action_step(1)

    def render(self) -> Text:
        on = self.get_component_rich_style("choice--on", partial=True)
        text = Text()
        for i, (label, value) in enumerate(self.options):
            if i:
                text.append(" ")
            text.append(f" {label} ", style=on if value == self.value else "")
        return text
