"""`TerminalHost`: what the screens ask of the app that hosts them.

Why a protocol: the app imports the screens (it composes them), so the screens must not import
the app back. They name the few things they need from it here, and `host(screen)` checks at
run time that the app provides them — a screen hosted elsewhere (a bare test app) gets a clear
error instead of an attribute guessed with `getattr`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from textual.screen import Screen

    from papertrade.feeds.base import FeedStatus
    from papertrade.tui.service.alerts import PriceAlerts
    from papertrade.tui.service.config import Config
    from papertrade.tui.service.recorded import RecordedMarketFeed
    from papertrade.tui.service.takeover import TakeOver

StatusArgs = tuple[str, "FeedStatus | None", int, str, str]


@runtime_checkable
class TerminalHost(Protocol):
    """The trading terminal app (`papertrade.tui.app.PapertradeApp`) as its screens see it."""

    session_name: str
    quitting: bool
    wall_clock: Callable[[], float]
    pacing_clock: Callable[[], float] | None
    """The clock replays opened in this terminal are paced by (None: the monotonic clock)."""
    db_path: str | None
    config: Config
    """The user's config file (`confirm_close`, keys)."""
    price_alerts: PriceAlerts
    """The armed price alerts of the session being traded."""

    @property
    def trading_live(self) -> bool:
        """Whether a trading session is open (a take-over would end it: ask first)."""
        ...

    @property
    def trading_session_id(self) -> int | None:
        """The id of the session being traded and journaled, if any."""
        ...

    @property
    def recorded(self) -> RecordedMarketFeed | None:
        """The feed when it is a replay's recorded market (a branch): space, + and - pace it."""
        ...

    def feed_status_args(self) -> StatusArgs: ...

    def subscribe(self, symbol: str) -> None: ...

    def unsubscribe(self, symbol: str) -> None: ...

    def open_sessions(self) -> None: ...

    def flush_journal(self) -> None:
        """Commit what the session being traded has journaled so far (a screen about to
        read it from the store: the post-mortem). Blocks: call it off the UI loop."""
        ...

    def adopt_take_over(self, taken: TakeOver) -> None: ...

    def finish(self) -> None: ...


def host(screen: Screen[Any]) -> TerminalHost:
    """The app hosting `screen`, as a `TerminalHost` (TypeError if it is not one)."""
    app = screen.app
    if not isinstance(app, TerminalHost):
        raise TypeError(f"{type(screen).__name__} needs the papertrade terminal app as its host")
    return app
