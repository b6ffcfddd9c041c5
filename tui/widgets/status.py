"""`FeedStatusBar`: the feed's health, always on screen (live / stale for N s / reconnecting
in N s / offline: why), plus a hint when the venue looks unreachable.

Refresh: `update_from(name, status, now_ms, hint="", extra="")`; `now_ms` is on the clock
of `status.since_ms` (monotonic ms for the bundled feeds). Server text is shown verbatim.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from papertrade.feeds.base import FeedStatus

STYLES = {
    "live": "bold green",
    "connecting": "yellow",
    "waiting": "yellow",
    "stale": "bold yellow",
    "reconnecting": "bold red",
    "failed": "bold reverse red",
    "ended": "dim",
}


class FeedStatusBar(Widget):
    """Repaints itself only (no layout pass) unless its line count changes: it updates at the
    flush rate, and a layout pass would redraw the whole screen each time."""

    DEFAULT_CSS = """
    FeedStatusBar { height: 1; width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    FeedStatusBar.-hint { height: 2; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._last: Text = Text()

    def render(self) -> Text:
        return self._last

    def update_from(
        self, name: str, status: FeedStatus | None, now_ms: int, hint: str = "", extra: str = ""
    ) -> None:
        # One line each, cut with an ellipsis: a long server error must never push the
        # unreachable-venue hint off the bar.
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{name} ", style="bold")
        if status is None:
            text.append("starting", style="yellow")
        else:
            words = status.describe(now_ms)
            if status.state == "failed":
                words = f"offline: {status.detail or 'failed'}"
            text.append(words, style=STYLES.get(status.state, ""))
        if extra:
            text.append(f"  {extra}", style="dim")
        if hint:
            text.append(f"\n{hint}", style="bold yellow")
        if status is not None:
            self.tooltip = f"dropped messages: {status.dropped:,}" + (
                f" · lag {status.lag_ms / 1000:.1f} s" if status.lag_ms is not None else ""
            )
        if text != self._last:
            self._last = text
            self.set_class(bool(hint), "-hint")
            self.refresh()
