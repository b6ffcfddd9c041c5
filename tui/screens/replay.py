"""`ReplayScreen`: a saved session plays again — its market and its recorded orders — and the
trader can take it over at any moment and trade on from there on the recorded prices.

The screen is thin: a `tui.service.replay.ReplayPlayer` plays the journal in a named worker
and only marks state dirty; an ~8 Hz timer redraws the reused trading widgets from the
engine. Long store work never runs on the UI loop: a seek (rebuilding the engine from the
nearest snapshot) and a take-over (branching and resuming in the store) run in a thread
worker with their own store connection, while the status line says what is happening.

`t` makes the branch and hands the `TakeOver` to the host app (`TerminalHost.
adopt_take_over`), the one place a take-over is traded. When the host is trading a session
of its own, it asks first: one terminal journals one session, and the take-over ends it.

Keys: `space` pause/resume, `+`/`-` speed through 1×/10×/60×/max, `.` one event (paused),
`[`/`]` jump 5 % back/forward (from anywhere, the end included), `t` take over,
`escape`/`q` back.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, TypeVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from papertrade.core.engine import Engine
from papertrade.core.text import printable
from papertrade.feeds.pacing import Clock, faster, slower, speed_label
from papertrade.saves.errors import StoreError
from papertrade.saves.store import Store
from papertrade.tui.screens.host import TerminalHost, host
from papertrade.tui.screens.modals import ConfirmModal
from papertrade.tui.service.replay import ReplayPlayer, Sleep
from papertrade.tui.service.takeover import Branch, make_branch, take_over
from papertrade.tui.widgets.account import AccountPanel
from papertrade.tui.widgets.chart import PriceChart
from papertrade.tui.widgets.footer import SteadyFooter
from papertrade.tui.widgets.log import EventLog
from papertrade.tui.widgets.orders import OrdersTable
from papertrade.tui.widgets.positions import PositionsTable
from papertrade.tui.widgets.watchlist import Watchlist

FLUSH_HZ = 8
W = TypeVar("W", bound=Widget)


def titled(widget: W, title: str) -> W:
    """A bordered panel with its title (the stylesheet draws `.panel` borders)."""
    widget.border_title = title
    widget.add_class("panel")
    return widget


CHART_INTERVAL = 0.5


def fmt_sim_time(ts: int | None) -> str:
    if ts is None:
        return "--"
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class ReplayScreen(Screen[None]):
    """Replays session `session` of the store at `db_path`; see the module docstring.

    `paused` starts the replay paused (tests, and a trader who wants to step); `clock` and
    `sleep` pace it (injected so tests never wait).
    """

    # Wide and tall (120x40): every panel, bordered, positions across the whole width.
    # Smaller (80x24): the status line, the watchlist (it picks the chart's symbol), the chart,
    # the two-line account strip and the positions; orders and the log step aside (their
    # outcomes show in the positions and the account).
    DEFAULT_CSS = """
    ReplayScreen #replay-status { height: 1; background: $panel; padding: 0 1; }
    ReplayScreen #replay-body { height: 1fr; }
    ReplayScreen #replay-left { width: 1fr; }
    ReplayScreen #replay-right { width: 34; }
    ReplayScreen .panel {
        border: round $panel-lighten-2; border-title-color: $text-muted; background: $surface;
    }
    ReplayScreen .panel:focus { border: round $accent; border-title-color: $accent; }
    ReplayScreen #replay-watchlist { height: auto; max-height: 9; }
    ReplayScreen #replay-chart { height: 1fr; min-height: 6; }
    ReplayScreen #replay-orders { height: 7; }
    ReplayScreen #replay-account { height: auto; padding: 0 1; }
    ReplayScreen #replay-log { height: 1fr; }
    ReplayScreen #replay-positions { height: 8; }

    ReplayScreen.-narrow #replay-body, ReplayScreen.-short #replay-body { layout: vertical; }
    ReplayScreen.-narrow #replay-left, ReplayScreen.-short #replay-left { height: 1fr; }
    ReplayScreen.-narrow #replay-right, ReplayScreen.-short #replay-right {
        width: 1fr; height: auto;
    }
    ReplayScreen.-narrow #replay-orders, ReplayScreen.-short #replay-orders,
    ReplayScreen.-narrow #replay-log, ReplayScreen.-short #replay-log { display: none; }
    ReplayScreen.-narrow #replay-watchlist, ReplayScreen.-short #replay-watchlist {
        max-height: 5; scrollbar-size-horizontal: 0;
    }
    ReplayScreen.-narrow #replay-chart, ReplayScreen.-short #replay-chart { border: none; }
    ReplayScreen.-narrow #replay-account, ReplayScreen.-short #replay-account {
        height: 3; border: none; border-top: solid $panel-lighten-2;
    }
    ReplayScreen.-narrow #replay-positions, ReplayScreen.-short #replay-positions {
        height: auto; max-height: 7; scrollbar-size-horizontal: 0;
    }
    """
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # type: ignore[misc]
        (0, "-narrow"),
        (120, "-wide"),
    ]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # type: ignore[misc]
        (0, "-short"),
        (30, "-tall"),
    ]
    # Footer order = what an 80-column footer keeps: play, take over, step, seek, back.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_pause", "Play"),
        Binding("t", "take_over", "Take over"),
        Binding("full_stop", "step", "Step"),
        Binding("left_square_bracket", "seek(-1)", "-5%", key_display="["),
        Binding("right_square_bracket", "seek(1)", "+5%", key_display="]"),
        Binding("escape,q", "back", "Back"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
    ]

    def __init__(
        self,
        db_path: Path | str | None,
        session: str | int,
        *,
        speed: float = 1.0,
        paused: bool = False,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        super().__init__()
        self.db_path = db_path
        self.session_ref = session
        self.initial_speed = speed
        self.start_paused = paused
        self._clock = clock
        self._sleep = sleep
        self.store: Store | None = None
        self.player: ReplayPlayer | None = None
        self.busy: str | None = None
        """What store work is under way in the worker thread ("seeking", "taking over")."""
        self._handed_over = False
        self._shut_down = False
        self._asking = False
        self._logged = 0
        self._chart_at = 0.0
        self._player_worker: Worker[None] | None = None

    @property
    def status_line(self) -> Static:
        return self.query_one("#replay-status", Static)

    @property
    def watchlist(self) -> Watchlist:
        return self.query_one("#replay-watchlist", Watchlist)

    @property
    def chart(self) -> PriceChart:
        return self.query_one("#replay-chart", PriceChart)

    @property
    def positions(self) -> PositionsTable:
        return self.query_one("#replay-positions", PositionsTable)

    @property
    def orders(self) -> OrdersTable:
        return self.query_one("#replay-orders", OrdersTable)

    @property
    def account_panel(self) -> AccountPanel:
        return self.query_one("#replay-account", AccountPanel)

    @property
    def log_view(self) -> EventLog:
        return self.query_one("#replay-log", EventLog)

    def compose(self) -> ComposeResult:
        yield Static("opening…", id="replay-status")
        with Horizontal(id="replay-body"):
            with Vertical(id="replay-left"):
                yield titled(Watchlist(id="replay-watchlist"), "Watchlist")
                yield titled(PriceChart(id="replay-chart"), "Chart")
                yield titled(OrdersTable(id="replay-orders"), "Open orders")
            with Vertical(id="replay-right"):
                yield titled(AccountPanel(id="replay-account"), "Account")
                yield titled(EventLog(id="replay-log"), "Log")
        yield titled(PositionsTable(id="replay-positions"), "Positions")
        yield SteadyFooter()

    # --- life cycle ------------------------------------------------------------------------

    def on_mount(self) -> None:
        try:
            self.store = Store.open(self.db_path)
            clock = self._clock
            if clock is None and isinstance(self.app, TerminalHost):
                clock = self.app.pacing_clock
            self.player = ReplayPlayer(
                self.store,
                self.session_ref,
                speed=self.initial_speed,
                clock=clock,
                sleep=self._sleep,
            )
        except StoreError as exc:
            self.status_line.update(Text(f"cannot replay: {exc}", style="bold red"))
            self.notify(str(exc), title="Replay", severity="error", markup=False)
            return
        self.db_path = str(self.store.path)
        if self.start_paused:
            self.player.pause()
        line = Text("replaying ", style="bold")
        line.append(printable(self.player.name))
        self.log_view.write(line)
        self._player_worker = self._play()
        self.set_interval(1 / FLUSH_HZ, self.flush)
        self.flush()

    def on_unmount(self) -> None:
        self._shutdown()

    @work(group="replay", exclusive=True, exit_on_error=False, name="replay")
    async def _play(self) -> None:
        """Play to the end, then hold there paused: a jump back from the end (`[`) stays where
        it lands — for a look or a take-over there — until space plays on (issue 10, bug 8:
        at max speed a jump back from the end played straight back to it)."""
        player = self.player
        assert player is not None
        await player.run()
        if player.finished and not player.paused:
            player.pause()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        group = event.worker.group
        if group not in ("replay", "replay-store"):
            return
        if event.state == WorkerState.ERROR:
            self.busy = None
            error = event.worker.error
            self.log_view.add_text(f"{event.worker.name} stopped: {error}", "bold red")
            self.notify(str(error), title="Replay", severity="error", markup=False)
        elif event.state == WorkerState.SUCCESS:
            self.flush()
        else:
            pass  # pending / running / cancelled (a take-over stops the player's worker)

    # --- drawing ---------------------------------------------------------------------------

    @property
    def engine(self) -> Engine | None:
        return self.player.engine if self.player is not None else None

    def flush(self) -> None:
        """Redraw from the engine, only if something changed since the last flush."""
        player = self.player
        if player is None or self._shut_down:
            return
        engine = player.engine
        changed = player.dirty
        outcomes = [o for _, o in player.outcomes[self._logged :]]
        self._logged = len(player.outcomes)
        player.dirty = False
        self._update_status()
        if not changed:
            return
        symbols = self._symbols()
        with self.app.batch_update():
            self.watchlist.update_from(engine, symbols)
            self.positions.update_from(engine, player.fees)
            self.orders.update_from(engine)
            self.account_panel.update_from(engine)
            if outcomes:
                self.log_view.add_outcomes(outcomes)
            now = time.monotonic()
            symbol = self.chart_symbol()
            if outcomes or symbol != self.chart.symbol or now - self._chart_at >= CHART_INTERVAL:
                self._chart_at = now  # plotting is the costliest draw: at most ~2 Hz
                self.chart.update_from(engine, symbol, list(player.history.get(symbol or "", ())))

    def _symbols(self) -> list[str]:
        assert self.player is not None
        engine = self.player.engine
        held = [p.symbol for p in engine.positions.values()]
        found = [*self.player.info.symbols, *engine.markets, *held]
        return sorted(dict.fromkeys(found))

    def chart_symbol(self) -> str | None:
        """The watchlist's selected symbol, else the first with a position, else the first."""
        selected = self.watchlist.selected_key
        if selected:
            return selected
        engine = self.engine
        if engine is not None and engine.positions:
            return sorted(p.symbol for p in engine.positions.values())[0]
        symbols = self._symbols()
        return symbols[0] if symbols else None

    def status_text(self) -> Text:
        """Session name (untrusted: plain text), journal position, sim time, speed, paused."""
        player = self.player
        assert player is not None
        text = Text()
        text.append("REPLAY ", style="bold reverse")
        text.append(" ")
        text.append(printable(player.name), style="bold")
        text.append(f"  {player.seq:,}/{player.total:,}")
        if player.finished:
            text.append("  end", style="yellow")
        ts = player.engine.last_ts if player.seq else None
        text.append(f"  {fmt_sim_time(ts)}")
        text.append(f"  {speed_label(player.speed)}", style="bold")
        if player.paused:
            text.append("  PAUSED", style="bold yellow")
        if self.busy:
            text.append(f"  {self.busy}…", style="bold cyan")
        return text

    def _update_status(self) -> None:
        self.status_line.update(self.status_text())

    # --- replay controls -------------------------------------------------------------------

    def action_toggle_pause(self) -> None:
        if self.player is not None and not self.busy:
            self.player.toggle_pause()
            self._update_status()

    def action_faster(self) -> None:
        if self.player is not None:
            self.player.speed = faster(self.player.speed)
            self._update_status()

    def action_slower(self) -> None:
        if self.player is not None:
            self.player.speed = slower(self.player.speed)
            self._update_status()

    def action_step(self) -> None:
        player = self.player
        if player is None or self.busy:
            return
        if not player.paused:
            self.notify("pause first (space), then step with .")
            return
        player.step()
        self.flush()

    def action_seek(self, direction: int) -> None:
        """Jump 5 % of the journal back or forward (from the store's nearest snapshot), from
        anywhere: the end included."""
        player = self.player
        if player is None or self.busy or self._handed_over:
            return
        stride = max(1, player.total // 20)
        target = player.clamp(player.seq + direction * stride)
        if target == player.seq:
            return
        self.busy = "seeking"
        self._update_status()
        self._rebuild(target)

    @work(thread=True, group="replay-store", exclusive=True, exit_on_error=False, name="seek")
    def _rebuild(self, target: int) -> None:
        """Off the UI loop: rebuild the engine at `target` on this thread's own connection."""
        assert self.player is not None
        with Store.open(self.db_path) as store:
            engine = self.player.engine_at(target, store)
        self.app.call_from_thread(self._seeked, target, engine)

    def _seeked(self, target: int, engine: Engine) -> None:
        player = self.player
        self.busy = None
        if player is None or self._shut_down:
            return
        seq = player.seek(target, engine)
        self._logged = len(player.outcomes)
        self.log_view.add_text(f"jumped to {seq:,}/{player.total:,}", "dim", ts=player.sim_ts)
        if self._player_worker is None or self._player_worker.is_finished:
            self._player_worker = self._play()  # it had played to the end: play on from here
        self.flush()

    # --- take-over -------------------------------------------------------------------------

    def action_take_over(self) -> None:
        player = self.player
        if player is None or self.busy or self._asking or self._handed_over:
            return
        terminal = host(self)
        if not terminal.trading_live:
            self._start_take_over(player)
            return
        # Confirm first: the take-over ends the app's session. The replay holds still while
        # the trader reads, so the branch starts where `t` was pressed; its play/pause state
        # is restored either way (a playing replay hands over a playing market).
        was_paused = player.paused
        player.pause()
        self._asking = True
        question = (
            f"Take over ends your current session {printable(terminal.session_name)} "
            "(it is saved). "
            "Continue? y/n"
        )

        def answered(yes: object) -> None:
            self._asking = False
            if not was_paused:
                player.resume()
            if yes is True and not self._shut_down:
                self._start_take_over(player)

        self.app.push_screen(ConfirmModal(question), answered)

    def _start_take_over(self, player: ReplayPlayer) -> None:
        self.busy = "taking over"
        self._update_status()
        self._branch(player.info.id, player.seq)

    @work(thread=True, group="replay-store", exclusive=True, exit_on_error=False, name="take over")
    def _branch(self, parent_id: int, at_seq: int) -> None:
        """Off the UI loop: branch and resume in the store, on this thread's own connection."""
        try:
            with Store.open(self.db_path) as store:
                branch = make_branch(store, parent_id, at_seq)
        except StoreError as exc:
            self.app.call_from_thread(self._take_over_failed, str(exc))
            return
        self.app.call_from_thread(self._hand_over, branch)

    def _take_over_failed(self, why: str) -> None:
        self.busy = None
        self.notify(why, title="Take over", severity="error", markup=False)

    def _hand_over(self, branch: Branch) -> None:
        player = self.player
        self.busy = None
        if player is None or self._shut_down:
            branch.writer.close("interrupted")  # left meanwhile: keep the branch, unlock it
            return
        taken = take_over(player, branch=branch, owns_store=True)
        self._handed_over = True  # the store goes with the take-over: its feed reads it
        self._shutdown()
        host(self).adopt_take_over(taken)

    # --- leaving ---------------------------------------------------------------------------

    def action_back(self) -> None:
        self._shutdown()
        if len(self.app.screen_stack) > 1 and self.app.screen_stack[-2].id != "_default":
            self.dismiss(None)
        else:
            self.app.exit()

    def _shutdown(self) -> None:
        """Stop playing and close the store — unless a take-over took it (its feed reads it)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.workers.cancel_group(self, "replay")
        if self.store is not None and not self._handed_over:
            self.store.close()
