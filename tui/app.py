"""`PapertradeApp`: the composition root of the terminal — a feed, a `TradingSession`, screens.

Thin on purpose (STYLE.md §11): it runs the feed in a named worker, routes worker errors to the
user, and saves the session on quit. Everything the trader does is a `TradingScreen` action
that calls `TradingSession`.

Feed policy: the main feed runs in `@work(group="feed", exclusive=True, exit_on_error=False)`;
every event is conflated (latest quote wins, extremes kept: `feeds/conflate.py`) and applied
with `TradingSession.on_market` — a plain state update, no message per tick. A symbol added
later gets its own feed worker (group "feed-extra") instead of restarting the main feed: the
protocol has no dynamic subscription, and a restart would re-seed the `sim` prices of every
symbol (and, live, drop and redo every subscription) — a second small feed disturbs nothing.
A `file:` feed already plays every symbol it holds, so adding one just shows it.

A replay taken over from the sessions screen moves the terminal onto the branch
(`adopt_take_over`): the current session is saved as `ended`, and the recorded market becomes
the only feed; `space`/`+`/`-` then pace it (bindings enabled only while `recorded` is set).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from papertrade.feeds.base import Feed, FeedStatus
from papertrade.feeds.conflate import DEFAULT_PER_SECOND, conflate
from papertrade.feeds.pacing import faster, slower, speed_label
from papertrade.feeds.registry import feed_kind, open_feed
from papertrade.tui.screens.trading import TradingScreen
from papertrade.tui.service.trading import TradingSession
from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from papertrade.saves.store import Store
    from papertrade.tui.service.recorded import RecordedMarketFeed
    from papertrade.tui.service.takeover import TakeOver

FeedFactory = Callable[[Sequence[str]], Feed]
# Short enough to survive an 80-column bar; the log gets the whole sentence once.
OFFLINE_HINT = "unreachable · try --feed sim (works offline)"
OFFLINE_LOG = (
    "The venue cannot be reached (no network?). papertrade keeps retrying; "
    "`papertrade --feed sim` trades a simulated market offline."
)
CONNECT_GRACE_MS = 5000


@dataclass(slots=True)
class FeedConfig:
    """How to open feeds: a spec (`binance`, `sim`, `file:PATH`) and its options."""

    spec: str = "binance"
    ws_url: str | None = None
    speed: str | float = 1.0
    seed: int = 0
    per_second: int = DEFAULT_PER_SECOND
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return feed_kind(self.spec)

    def open(self, symbols: Sequence[str]) -> Feed:
        syms = [] if self.kind == "file" else list(symbols)
        return open_feed(
            self.spec, syms, ws_url=self.ws_url, speed=self.speed, seed=self.seed, **self.options
        )


class PapertradeApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "papertrade"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
        # Recorded-market pacing after a take-over: kept out of the footer (which it would
        # overflow at 120 columns); the take-over log line, the status bar and help say them.
        Binding("space", "toggle_market", "Pause/play", show=False),
        Binding("plus,equals_sign", "market_faster", "Faster", key_display="+", show=False),
        Binding("minus", "market_slower", "Slower", key_display="-", show=False),
    ]

    def __init__(
        self,
        session: TradingSession,
        feed: FeedConfig | None = None,
        *,
        writer: Any = None,
        store: Any = None,
        session_name: str = "",
        feed_factory: FeedFactory | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.session = session
        self.feed_config = feed or FeedConfig()
        self.writer = writer
        self.store = store
        self.session_name = session_name
        self.feed_factory: FeedFactory = feed_factory or self.feed_config.open
        self.feeds: dict[str, Feed] = {}
        self.wall_clock = wall_clock
        self._log_lines: list[tuple[str, str]] = []
        self._last_state: str | None = None
        self._started_ms = _mono_ms()
        self._session_closed = False
        self._told_offline = False
        self.saved_status: str | None = None
        self.quitting = False
        self.recorded: RecordedMarketFeed | None = None
        """The feed when it is a replay's recorded market (a take-over): it can be paced."""
        self._adopted_store: Store | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.push_screen(TradingScreen(self.session))
        # Everything built so far (widgets, instruments, stylesheet) lives as long as the app:
        # moving it out of the collector's sight keeps full collections (which the Decimal-heavy
        # feed triggers often) from pausing the UI for tens of milliseconds.
        gc.freeze()
        self.run_feed(self.session.tracked_symbols())

    @property
    def trading(self) -> TradingScreen:
        for screen in self.screen_stack:
            if isinstance(screen, TradingScreen):
                return screen
        raise LookupError("no trading screen")

    # --- feeds ----------------------------------------------------------------------------

    @work(group="feed", exclusive=True, exit_on_error=False, name="feed")
    async def run_feed(self, symbols: list[str]) -> None:
        await self._pump("main", symbols)

    @work(group="feed-extra", exit_on_error=False, name="feed (added symbol)")
    async def run_extra_feed(self, symbol: str) -> None:
        await self._pump(symbol, [symbol])

    async def _pump(self, key: str, symbols: list[str]) -> None:
        feed = self.feed_factory(symbols)
        self.feeds[key] = feed
        self.log_line(f"feed {feed.name}: {', '.join(symbols) or 'every symbol of the file'}")
        session = self.session
        try:
            async for event in conflate(feed, self.feed_config.per_second):
                session.on_market(event)
        finally:
            await feed.aclose()

    def subscribe(self, symbol: str) -> None:
        """Make sure the feeds deliver `symbol` (called after a watchlist add)."""
        if symbol in self.feeds or self.feed_config.kind == "file":
            return
        main = self.feeds.get("main")
        if main is not None and symbol in getattr(main, "symbols", ()):
            return
        self.run_extra_feed(symbol)

    def feed_status_args(self) -> tuple[str, FeedStatus | None, int, str, str]:
        """What the status bar shows; also logs every change of the main feed's state."""
        feed = self.feeds.get("main")
        now = _mono_ms()
        status = feed.status if feed is not None else None
        name = feed.name if feed is not None else self.feed_config.spec
        hint = ""
        if status is not None:
            if status.state != self._last_state:
                self._last_state = status.state
                words = status.describe(now)
                style = "green" if status.state == "live" else "yellow"
                self.log_line(f"feed {name}: {words}", style)
            venue = self.feed_config.kind not in ("sim", "file")
            waiting = status.state == "connecting" and now - self._started_ms > CONNECT_GRACE_MS
            if venue and (status.state in ("reconnecting", "failed") or waiting):
                hint = OFFLINE_HINT
                if not self._told_offline:
                    self._told_offline = True
                    self.log_line(OFFLINE_LOG, "bold yellow")
            for key, extra in self.feeds.items():
                if key != "main" and extra.status.state in ("reconnecting", "failed"):
                    hint = f"{key}: {extra.status.describe(now)}"
        counts = f"{self.session.events_in:,} events"
        if self.recorded is not None:
            counts = f"{speed_label(self.recorded.speed)} · {counts}"
            if self.recorded.paused and not hint:
                hint = "recorded market PAUSED · space plays it"
        error = self.session.journal_error
        if error:
            hint = f"NOT SAVING: {error}"
        return name, status, now, hint, counts

    def log_line(self, text: str, style: str = "") -> None:
        self._log_lines.append((text, style))
        del self._log_lines[:-200]

    def take_log_lines(self) -> list[tuple[str, str]]:
        out, self._log_lines = self._log_lines, []
        return out

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's end reaches the user: errors as toasts and log lines."""
        worker = event.worker
        if event.state == WorkerState.ERROR:
            text = f"{worker.name} stopped: {type(worker.error).__name__}: {worker.error}"
            self.log_line(text, "bold red")
            self.notify(text, title="Worker failed", severity="error", markup=False, timeout=15)
        elif event.state == WorkerState.SUCCESS and (worker.group or "").startswith("feed"):
            self.log_line(f"{worker.name}: the feed ended", "dim")
        else:
            pass  # pending/running/cancelled: nothing to tell the trader

    # --- other screens (built by another module, imported lazily) --------------------------

    def _screen_context(self) -> dict[str, Any]:
        writer = self.writer
        return {
            "db_path": getattr(self.store, "path", None),
            "path": getattr(self.store, "path", None),
            "store_path": getattr(self.store, "path", None),
            "store": self.store,
            "session_id": getattr(writer, "id", None),
            "session": getattr(writer, "id", None),
            "session_name": self.session_name,
            "engine": self.session.engine,
        }

    def _build(self, module: str, cls_name: str) -> Any:
        """Construct `module.cls_name`, passing the keyword arguments it names that we know."""
        if importlib.util.find_spec(module) is None:
            return None
        cls = getattr(importlib.import_module(module), cls_name, None)
        if cls is None:
            return None
        params = inspect.signature(cls).parameters
        context = self._screen_context()
        kwargs = {k: v for k, v in context.items() if k in params}
        return cls(**kwargs)

    def open_sessions(self) -> None:
        try:
            screen = self._build("papertrade.tui.screens.sessions", "SessionsScreen")
        except Exception as exc:
            self.notify(f"sessions screen failed: {exc}", severity="error", markup=False)
            return
        if screen is None:
            self.notify("the sessions screen is not available in this build", severity="warning")
            return
        self.push_screen(screen)

    # --- a replay's take-over: trading on recorded prices --------------------------------

    def adopt_take_over(self, taken: TakeOver) -> None:
        """Move this terminal onto a replay's take-over, as `papertrade replay` + `t` does.

        One terminal journals one session, so the current one is saved as `ended` and its
        feeds stop; the branch then gets a fresh `TradingScreen` (every trading key) with the
        recorded market as its only feed, run by the same feed worker as any feed. The
        screens above the trading screen (sessions list, replay) are popped. `taken.store`
        feeds the recording and is closed with the branch (`close_session`), unless it is
        this app's own store, which its opener closes.
        """
        from papertrade.tui.replay_app import BranchTrading  # it builds on this module

        self.close_session("ended")
        if self.saved_status != "ended":
            self.notify(f"{self.session_name}: {self.saved_status}", severity="error", markup=False)
        branch = BranchTrading.of(taken)
        self.feeds.clear()
        self._session_closed, self.saved_status, self._last_state = False, None, None
        self.session, self.writer, self.session_name = branch.session, taken.writer, taken.name
        self.feed_config, self.feed_factory = branch.feed, branch.feed.open
        self.wall_clock, self.recorded = branch.clock, taken.feed
        self._adopted_store = None if taken.store is self.store else taken.store
        for line, style in branch.greeting:
            self.log_line(line, style)
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(TradingScreen(self.session))
        self.run_feed(self.session.tracked_symbols())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Market pacing only for a recorded market, on the trading screen itself (not
        under a ticket or dialog, where `space` is typing)."""
        if action.startswith("market_") or action == "toggle_market":
            return self.recorded is not None and isinstance(self.screen, TradingScreen)
        return super().check_action(action, parameters)

    def action_toggle_market(self) -> None:
        feed = self.recorded
        if feed is None:
            return
        if feed.paused:
            feed.resume()
        else:
            feed.pause()
        self.log_line(f"recorded market {'paused' if feed.paused else 'playing'}", "dim")

    def action_market_faster(self) -> None:
        if self.recorded is not None:
            self.recorded.speed = faster(self.recorded.speed)

    def action_market_slower(self) -> None:
        if self.recorded is not None:
            self.recorded.speed = slower(self.recorded.speed)

    # --- quitting -------------------------------------------------------------------------

    def stop_feeds(self) -> None:
        if self.is_running:
            self.workers.cancel_group(self, "feed")
            self.workers.cancel_group(self, "feed-extra")

    def close_session(self, status: str = "ended") -> None:
        """Stop the feeds and save: flush the journal, final snapshot, release the lock."""
        if self._session_closed:
            return
        self._session_closed = True
        self.stop_feeds()
        if self.writer is not None:
            try:
                self.writer.close(status)
                self.saved_status = status
            except Exception as exc:
                self.saved_status = f"failed: {exc}"
        if self._adopted_store is not None:  # a take-over's recording: read no more
            if self.recorded is not None:
                self.recorded.close()
            self._adopted_store.close()
            self._adopted_store = None

    async def action_quit(self) -> None:
        """Stop trading, save, then show the session summary (if that screen exists).

        The journal is flushed before the summary reads it; the session is closed as `ended`
        when the app exits (`on_unmount`), after the summary.
        """
        self.quitting = True
        self.stop_feeds()
        try:
            summary = self._build("papertrade.tui.screens.summary", "SummaryScreen")
            if summary is not None and self.writer is not None:
                self.writer.flush()
        except Exception:
            summary = None
        if summary is None:
            self.finish()
            return
        self.push_screen(summary, lambda _: self.finish())

    def finish(self) -> None:
        """Close the session as `ended` (flush, final snapshot, unlock) and exit."""
        self.close_session("ended")
        self.exit(0)


def _mono_ms() -> int:
    return int(time.monotonic() * 1000)
