"""`PostMortemScreen`: why a liquidation happened, in numbers that add up, and what would have
kept the position alive on the same prices (`core.postmortem`, the same report as
`papertrade postmortem`).

Opened from the trading screen (`P`, or the palette's "Post-mortem of the last liquidation")
on the last liquidation; `←`/`→` step through the session's others. The session's journal is
read on a thread worker (`service.postmortem`), after the caller's `before_read` has committed
what the live session has not written yet, so the UI loop never waits on it.

Layout: at 120 columns the two plots (margin ratio, price against the liquidation price) stack
on the left and the account of the drop sits on the right; narrower, the plots share a row
above it and the account scrolls.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from papertrade.core.numbers import plain
from papertrade.core.postmortem import PostMortem
from papertrade.tui.service.postmortem import session_postmortems
from papertrade.tui.widgets.footer import SteadyFooter
from papertrade.tui.widgets.postmortem import PricePlot, RatioPlot, breakdown


def _clock(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


class PostMortemScreen(Screen[None]):
    """One liquidation of a saved session taken apart; `escape`/`q` goes back."""

    DEFAULT_CSS = """
    PostMortemScreen #pm-title { height: 1; background: $panel; padding: 0 1; }
    PostMortemScreen #pm-body { height: 1fr; }
    PostMortemScreen #pm-plots { width: 1fr; }
    PostMortemScreen RatioPlot, PostMortemScreen PricePlot { height: 1fr; width: 1fr; }
    PostMortemScreen #pm-text { width: 60; padding: 0 1; }
    PostMortemScreen.-narrow #pm-body { layout: vertical; }
    PostMortemScreen.-narrow #pm-plots { layout: horizontal; height: 9; width: 1fr; }
    PostMortemScreen.-narrow #pm-text { width: 1fr; height: 1fr; }
    """
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # type: ignore[misc]
        (0, "-narrow"),
        (120, "-wide"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back"),
        Binding("left,left_square_bracket", "step(-1)", "Earlier", key_display="←"),
        Binding("right,right_square_bracket", "step(1)", "Later", key_display="→"),
    ]

    def __init__(
        self,
        db_path: Path | str | None,
        session: int | str,
        *,
        before_read: Callable[[], object] | None = None,
        number: int | None = None,
    ) -> None:
        """`number` is the liquidation to open on (1-based; None: the last one)."""
        super().__init__()
        self.db_path = db_path
        self.session = session
        self.before_read = before_read
        self.number = number
        self.reports: list[PostMortem] | None = None
        """Every liquidation of the session, once read (None while reading)."""

    @property
    def shown(self) -> PostMortem | None:
        if not self.reports or self.number is None:
            return None
        return self.reports[self.number - 1]

    def compose(self) -> ComposeResult:
        yield Static("Post-mortem: reading the session…", id="pm-title")
        with Horizontal(id="pm-body"):
            with Vertical(id="pm-plots"):
                yield RatioPlot(id="pm-ratio")
                yield PricePlot(id="pm-price")
            with VerticalScroll(id="pm-text"):
                yield Static(id="pm-breakdown")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self._read()

    @work(thread=True, group="postmortem", exclusive=True, exit_on_error=False)
    def _read(self) -> list[PostMortem]:
        if self.before_read is not None:
            self.before_read()
        return session_postmortems(self.db_path, self.session)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "postmortem":
            return
        if event.state == WorkerState.SUCCESS and isinstance(event.worker.result, list):
            self.reports = event.worker.result
            count = len(self.reports)
            if self.number is None or not 1 <= self.number <= count:
                self.number = count or None
            self._show()
        elif event.state == WorkerState.ERROR:
            text = Text(f"cannot read the session: {event.worker.error}", style="bold red")
            self.query_one("#pm-title", Static).update(text)
        else:
            pass  # still reading

    def _show(self) -> None:
        report = self.shown
        title = self.query_one("#pm-title", Static)
        if report is None:
            title.update(Text("Post-mortem: no liquidation in this session yet", style="bold"))
            return
        assert self.reports is not None and self.number is not None
        where = "cross account" if report.mode == "cross" else f"isolated {report.symbol}"
        text = Text(f"Post-mortem {self.number}/{len(self.reports)}", style="bold")
        text.append(f" · {where} · {report.symbol} mark {plain(report.trigger_mark)}")
        text.append(f" at {_clock(report.ts)} UTC", style="dim")
        title.update(text)
        self.query_one(RatioPlot).show(report)
        self.query_one(PricePlot).show(report)
        self.query_one("#pm-breakdown", Static).update(breakdown(report))

    def action_step(self, delta: int) -> None:
        if not self.reports or self.number is None:
            return
        number = self.number + delta
        if 1 <= number <= len(self.reports):
            self.number = number
            self._show()

    def action_back(self) -> None:
        self.dismiss(None)
