"""`PapertradeApp`: the composition root of the terminal — a feed, a `TradingSession`, screens.

Thin on purpose (STYLE.md §11): it runs the feed in a named worker, routes worker errors to the
user, and saves the session on quit. Everything the trader does is a `TradingScreen` action
that calls `TradingSession`; the screens reach the app only through `screens/host.py`'s
`TerminalHost` protocol, so no screen imports this module.

Feed policy: the main feed runs in `@work(group="feed", exclusive=True, exit_on_error=False)`;
every event is conflated (latest quote wins, extremes kept: `feeds/conflate.py`) and applied
with `TradingSession.on_market` — a plain state update, no message per tick. A symbol added
to the watchlist is subscribed on the running feed (`Feed.add_symbol`), so a symbol has
exactly one price path whatever the watchlist does.

Two ways in, one way to trade a replay:
- `papertrade [--feed …]`: a live (or simulated) session on the `TradingScreen`.
- `papertrade replay SESSION`: the app opens on the `ReplayScreen` with no session of its own.
In both, `t` on a replay hands a `TakeOver` to `adopt_take_over`, the one place a take-over
is traded: the current session (if any) is saved as `ended`, and the branch gets a fresh
`TradingScreen` with the recorded market as its only feed; `space`/`+`/`-` then pace it.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.keys import _normalize_key_list
from textual.worker import Worker, WorkerState

from papertrade.core.text import plural, printable
from papertrade.feeds.base import Feed, FeedStatus, Subscribable
from papertrade.feeds.conflate import conflate
from papertrade.feeds.pacing import faster, slower, speed_label
from papertrade.tui.screens.host import StatusArgs
from papertrade.tui.screens.trading import TradingScreen
from papertrade.tui.service.alerts import FiredAlert, PriceAlerts
from papertrade.tui.service.config import Config, load_config
from papertrade.tui.service.market import FeedConfig
from papertrade.tui.service.shadows import journal_shadows
from papertrade.tui.service.trading import TradingSession
from papertrade.tui.widgets.log import EventLog
from papertrade.tui.widgets.table import KeyedTable

if TYPE_CHECKING:
    from textual.screen import Screen

    from papertrade.saves.store import Store
    from papertrade.saves.writer import SessionWriter
    from papertrade.tui.service.recorded import RecordedMarketFeed
    from papertrade.tui.service.takeover import TakeOver

FeedFactory = Callable[[Sequence[str]], Feed]


@dataclass(frozen=True, slots=True)
class ReplayStart:
    """Open the terminal on the replay of `session` (an id or name), at `speed`, maybe paused."""

    session: str | int
    speed: float = 1.0
    paused: bool = False


# Short enough to survive an 80-column bar; the log gets the whole sentence once.
OFFLINE_HINT = "unreachable · try --feed sim (works offline)"
OFFLINE_LOG = (
    "The venue cannot be reached (no network?). papertrade keeps retrying; "
    "`papertrade --feed sim` trades a simulated market offline."
)
CONNECT_GRACE_MS = 5000
SETTLED_S = 3.0
"""Seconds after start when the heap built by start-up is frozen out of the collector."""
DIALOGS = tuple(
    f"papertrade.tui.screens.{name}" for name in ("ticket", "stops", "modals", "alerts", "help")
)
"""The trading screen's dialogs: each action imports its own (not needed by the first frame)."""
FEED_SLICE_S = 0.002
"""The longest the feed worker runs before yielding to the event loop (keys, frames)."""


class PapertradeApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "papertrade"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
        # Recorded-market pacing after a take-over: kept out of the footer (which it would
        # overflow at 120 columns); the take-over log line, the status bar and help say them.
        Binding("space", "toggle_market", "Pause/play", show=False, id="toggle_market"),
        Binding(
            "plus,equals_sign",
            "market_faster",
            "Faster",
            key_display="+",
            show=False,
            id="market_faster",
        ),
        Binding(
            "minus", "market_slower", "Slower", key_display="-", show=False, id="market_slower"
        ),
    ]

    def __init__(
        self,
        session: TradingSession | None,
        feed: FeedConfig | None = None,
        *,
        writer: SessionWriter | None = None,
        store: Store | None = None,
        session_name: str = "",
        feed_factory: FeedFactory | None = None,
        wall_clock: Callable[[], float] = time.time,
        db_path: Path | str | None = None,
        replay: ReplayStart | None = None,
        pacing_clock: Callable[[], float] | None = None,
        config: Config | None = None,
    ) -> None:
        """`session` is the trading session (None with `replay`, which opens the replay screen
        on the store at `db_path`). `store` is the caller's open store: the app uses it, the
        caller closes it. `pacing_clock` paces every replay opened in this terminal (tests
        pass a frozen one: a replay then moves only when stepped or played at max). `config`
        is the user's config file (`load_terminal_config()`); None: the defaults, so a test
        never reads the config of whoever runs it."""
        super().__init__()
        self.session = session
        self.feed_config = feed or FeedConfig()
        self.writer = writer
        self.store = store
        self.db_path: str | None = (
            str(store.path)
            if store is not None
            else (str(db_path) if db_path is not None else None)
        )
        self.session_name = printable(session_name)
        """Shown in the title and dialogs: untrusted (imported files name sessions), so escaped."""
        self.feed_factory: FeedFactory = feed_factory or self.feed_config.open
        self.feeds: dict[str, Feed] = {}
        self.wall_clock = wall_clock
        self.replay = replay
        self.pacing_clock = pacing_clock
        self._last_state: str | None = None
        self._started_ms = _mono_ms()
        self._session_closed = session is None
        self._told_offline = False
        self.saved_status: str | None = None
        self.quitting = False
        self.taken: TakeOver | None = None
        """The take-over being traded, if any: it owns the branch's writer, feed and store."""
        self.config = config or Config()
        self.price_alerts = PriceAlerts()
        """The armed price alerts of the session being traded (not journaled: not engine
        inputs). Checked by the feed worker for the symbol of each event it applies."""
        if session is not None and store is not None and writer is not None:
            carry_open_fees(session, store, writer.id)
            carry_shadows(session, store, writer.id)

    # --- lifecycle ------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.config.keys:
            self.set_keymap(self.config.keys)
        if self.session is not None:
            self.push_screen(TradingScreen(self.session))
        elif self.replay is not None:
            from papertrade.tui.screens.replay import ReplayScreen  # screens off the first frame

            start = self.replay
            self.push_screen(
                ReplayScreen(self.db_path, start.session, speed=start.speed, paused=start.paused)
            )
        # Everything built so far (widgets, instruments, stylesheet) lives as long as the app:
        # moving it out of the collector's sight keeps full collections (which the Decimal-heavy
        # feed triggers often) from pausing the UI for tens of milliseconds.
        gc.freeze()
        self.set_timer(SETTLED_S, _freeze_settled)
        if self.session is not None:
            self.run_feed(self.session.tracked_symbols())

    @property
    def trading(self) -> TradingScreen:
        for screen in self.screen_stack:
            if isinstance(screen, TradingScreen):
                return screen
        raise LookupError("no trading screen")

    @property
    def trading_live(self) -> bool:
        return self.session is not None and not self._session_closed

    @property
    def trading_session_id(self) -> int | None:
        return self.writer.id if self.trading_live and self.writer is not None else None

    @property
    def recorded(self) -> RecordedMarketFeed | None:
        """The feed when it is a replay's recorded market: it can be paced. A take-over owns
        its feed; a branch resumed with `--resume` gets its recorded market from the command
        line (`FeedConfig.recording`), and is paced the same way."""
        if self.taken is not None:
            return self.taken.feed
        return self.feed_config.recorded

    # --- feeds ----------------------------------------------------------------------------

    @work(group="feed", exclusive=True, exit_on_error=False, name="feed")
    async def run_feed(self, symbols: list[str]) -> None:
        session = self.session
        assert session is not None
        feed = self.feed_factory(symbols)
        self.feeds["main"] = feed
        self.log_line(f"feed {feed.name}: {', '.join(symbols) or 'every symbol of the file'}")
        alerts = self.price_alerts
        markets = session.engine.markets
        clock = time.perf_counter
        until = clock() + FEED_SLICE_S
        try:
            async for event in conflate(feed, self.feed_config.per_second):
                session.on_market(event)
                if event.symbol in alerts:
                    market = markets.get(event.symbol)
                    mark = market.mark if market is not None else None
                    if fired := alerts.check(event.symbol, mark, event.ts):
                        self.ring(fired)
                if clock() >= until:
                    # A feed with a backlog (after a slow frame, or a burst from the socket)
                    # hands over events without ever suspending: let keys and frames in.
                    await asyncio.sleep(0)
                    until = clock() + FEED_SLICE_S
        finally:
            await feed.aclose()

    def subscribe(self, symbol: str) -> None:
        """Make sure the feed delivers `symbol` (called after a watchlist add): on the running
        feed, never a second one, so a symbol always has exactly one price path."""
        feed: object = self.feeds.get("main")  # (object: mypy sees no Feed that subscribes)
        if not self.feed_config.plays_every_symbol and isinstance(feed, Subscribable):
            feed.add_symbol(symbol)

    def unsubscribe(self, symbol: str) -> None:
        """The feed may stop delivering `symbol` (after a watchlist removal) unless a position
        or an order still needs its prices."""
        feed: object = self.feeds.get("main")
        session = self.session
        if session is None or symbol in session.tracked_symbols():
            return
        if not self.feed_config.plays_every_symbol and isinstance(feed, Subscribable):
            feed.remove_symbol(symbol)

    def feed_status_args(self) -> StatusArgs:
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
            if not self.feed_config.offline and self._looks_unreachable(status, now):
                hint = OFFLINE_HINT
                if not self._told_offline:
                    self._told_offline = True
                    self.log_line(OFFLINE_LOG, "bold yellow")
        events = self.session.events_in if self.session is not None else 0
        counts = plural(events, "event")
        recorded = self.recorded
        if recorded is not None:
            counts = f"{speed_label(recorded.speed)} · {counts}"
            if recorded.paused and not hint:
                hint = "recorded market PAUSED · space plays it"
        challenge = self.session.engine.challenge if self.session is not None else None
        if challenge is not None and self.session is not None:
            words, refused = challenge.status(self.session.engine.last_ts)
            if refused:
                hint = f"{hint} · {words}" if hint else words
            else:
                counts = f"{words} · {counts}"
        if self.writer is not None and self.writer.health.state != "ok":
            # "saving delayed 12 s: database is locked", or why saving stopped
            hint = self.writer.health.detail
        error = self.session.journal_error if self.session is not None else None
        if error:
            hint = f"NOT SAVING: {error}"
        return name, status, now, hint, counts

    def _looks_unreachable(self, status: FeedStatus, now: int) -> bool:
        if status.closed_by_server:
            return False  # the venue answered and closed: the network is there
        waiting = status.state == "connecting" and now - self._started_ms > CONNECT_GRACE_MS
        return status.state in ("reconnecting", "failed") or waiting

    def ring(self, fired: list[FiredAlert]) -> None:
        """Price alerts met: the terminal bell, a toast and a log line each (then gone)."""
        self.bell()
        for alert in fired:
            text = alert.message()
            self.notify(text, title="Price alert", markup=False, timeout=10)
            self.log_line(f"alert: {text}", "bold yellow")

    def log_line(self, text: str, style: str = "") -> None:
        """A line for the trading log of the session being traded (if any)."""
        if self.session is not None:
            self.session.note(text, style)

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

    # --- other screens --------------------------------------------------------------------

    def open_sessions(self) -> None:
        from papertrade.tui.screens.sessions import SessionsScreen

        self.push_screen(SessionsScreen(self.db_path))

    def flush_journal(self) -> None:
        if self.writer is not None and self.trading_live:
            self.writer.flush()

    # --- a replay's take-over: trading on recorded prices --------------------------------

    def adopt_take_over(self, taken: TakeOver) -> None:
        """Trade `taken`: the one place a take-over is consumed.

        One terminal journals one session, so the current one (if any) is saved as `ended`
        and its feed stops; the branch then gets a fresh `TradingScreen` (every trading key)
        with the recorded market as its only feed, run by the same feed worker as any feed.
        The screens above the trading screen (sessions list, replay) are dropped. The
        take-over's writer, feed and (if it owns it) store are closed with the branch.
        """
        if self.trading_live:
            self.close_session("ended")
            if self.saved_status != "ended":
                self.notify(
                    f"{self.session_name}: {self.saved_status}", severity="error", markup=False
                )
        session = TradingSession(
            taken.engine, taken.symbols, writer=taken.writer, venue=taken.venue
        )
        session.history.update(taken.history)  # the chart goes on from the replay's line
        carry_open_fees(session, taken.store, taken.writer.id)
        carry_shadows(session, taken.store, taken.writer.id)
        engine = taken.engine
        self.feeds.clear()
        self._session_closed, self.saved_status, self._last_state = False, None, None
        self.session, self.writer = session, taken.writer
        self.session_name = printable(taken.name)
        self.taken = taken
        self.price_alerts = PriceAlerts()  # they watched the other market
        self.feed_config = FeedConfig.recording(taken.feed)
        self.feed_factory = self.feed_config.open
        # Log lines in recorded time, like the branch's journal.
        self.wall_clock = lambda: engine.last_ts / 1000 if engine.last_ts else time.time()
        for line, style in taken.greeting:
            self.log_line(line, style)
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(TradingScreen(session))
        self.run_feed(session.tracked_symbols())

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
        if (feed := self.recorded) is not None:
            feed.speed = faster(feed.speed)

    def action_market_slower(self) -> None:
        if (feed := self.recorded) is not None:
            feed.speed = slower(feed.speed)

    # --- quitting -------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's palette commands with one quit: its "Quit" runs our `action_quit`
        (save, summary, exit) anyway, so it is offered once, under the name that says so,
        on every screen (the trading palette used to list "Quit" and "Quit and save")."""
        for command in super().get_system_commands(screen):
            if command.callback == self.action_quit:
                yield SystemCommand(
                    "Quit and save",
                    "save the session, show its summary and exit (q)",
                    command.callback,
                )
            else:
                yield command

    def stop_feeds(self) -> None:
        if self.is_running:
            self.workers.cancel_group(self, "feed")

    def close_session(self, status: str = "ended") -> None:
        """Stop the feed and save: flush the journal, final snapshot, release the lock. A
        take-over also stops its recording and closes the store it owns. Safe to repeat."""
        if self._session_closed:
            return
        self._session_closed = True
        self.stop_feeds()
        if self.taken is not None:
            self.saved_status = self.taken.close(status)
        elif self.writer is not None:
            try:
                self.writer.close(status)
                self.saved_status = status
            except Exception as exc:
                self.saved_status = f"failed: {exc}"

    async def action_quit(self) -> None:
        """Stop trading, save, then show the session summary.

        The journal is flushed before the summary reads it; the session is closed as `ended`
        when the summary is dismissed (`finish`).
        """
        self.quitting = True
        self.stop_feeds()
        writer = self.writer
        if not self.trading_live or writer is None:
            self.finish()
            return
        try:
            writer.flush()
        except Exception as exc:
            self.notify(f"saving failed: {exc}", severity="error", markup=False)
            self.finish()
            return
        from papertrade.tui.screens.summary import SummaryScreen

        summary = SummaryScreen(
            db_path=self.db_path, session=writer.id, title=self.session_name, compare_modes=True
        )
        self.push_screen(summary, lambda _: self.finish())

    def finish(self) -> None:
        """Close the session as `ended` (flush, final snapshot, unlock) and exit."""
        self.close_session("ended")
        self.exit(0)


def _mono_ms() -> int:
    return int(time.monotonic() * 1000)


def _freeze_settled() -> None:
    """Freeze again once the terminal has settled: what the first seconds build (plotext and
    the screens imported on first use, the render caches filled by the first frames) is most
    of what a full collection would otherwise walk on every pass (issue 14: ~35,000 objects,
    25-30 ms of the UI thread each time under a busy feed, ~2 ms after this). One full
    collection first (once, ~30 ms), so no cyclic garbage of start-up is frozen for good.
    The command line starts the terminal with the collector off (`cli.terminal.run`): it goes
    back on here. The dialogs, left out of the first frame, are imported now, in the quiet
    after it, so the first `b` opens its ticket as fast as any later one."""
    for name in DIALOGS:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
    gc.enable()


KEYMAP_SCOPE: tuple[type[DOMNode], ...] = (PapertradeApp, TradingScreen, KeyedTable, EventLog)
"""Where the trading keys live: the app, the trading screen and the panels that take focus
(their own keys, `j`/`k` and the arrows, come first when focused)."""


def keymap_problems(keys: Mapping[str, str]) -> list[str]:
    """What is wrong with a `[keys]` table: an id no binding has, or a key that another
    binding of the trading terminal keeps (Textual would silently drop one of the two)."""
    bindings = [
        b
        for scope in KEYMAP_SCOPE
        for cls in scope.__mro__
        for b in Binding.make_bindings(cls.__dict__.get("BINDINGS", ()))
    ]
    ids = sorted({b.id for b in bindings if b.id})
    unknown = [k for k in keys if k not in ids]
    if unknown:
        return [f"unknown binding id {k!r}; the ids are: {', '.join(ids)}" for k in unknown]
    taken: dict[str, str] = {}
    for b in bindings:
        if b.id not in keys:
            taken.setdefault(b.key, b.id or b.action)
    problems: list[str] = []
    for binding_id, spec in keys.items():
        for key in _normalize_key_list(spec).split(","):
            other = taken.setdefault(key, binding_id)
            if other != binding_id:
                problems.append(f"{binding_id} = {key!r}: {key!r} is already {other!r}")
    return problems


def load_terminal_config(path: Path | None = None) -> Config:
    """The user's config file for the trading terminal, its `[keys]` checked against the
    terminal's bindings; `ConfigError` (a `SetupError`: exit status 2) names what to fix."""
    return load_config(path, check_keys=keymap_problems)


def carry_open_fees(session: TradingSession, store: Store, session_id: int) -> None:
    """A session that starts with positions open (a resume, a take-over) learns the fees paid
    on them from its journal, so their break-even is known from the first frame."""
    if session.engine.positions:
        session.ledger.fees.carry_journal(store.stored_outcomes(session_id))


def carry_shadows(session: TradingSession, store: Store, session_id: int) -> None:
    """A session that starts with history (a resume, a take-over) gets its all-isolated and
    all-cross shadows rebuilt from its journal, so its comparison line goes on where it was.
    Shadows that have already seen the engine's history (stepped with it) are kept."""
    if session.shadows.last_ts < session.engine.last_ts:
        session.shadows = journal_shadows(store, session_id, session.engine)
