"""`ReplayScreen`: a saved session plays again — its market and its recorded orders — and the
trader can take it over at any moment and trade on from there on the recorded prices.

The screen is thin: a `tui.replay.ReplayPlayer` plays the journal in a named worker and only
marks state dirty; a ~8 Hz timer redraws the reused trading widgets from the engine. After
`t`, the player hands over (`ReplayPlayer.take_over`: a branch session in the store, its
writer, and a feed of the remaining recorded market events). What happens next depends on
who opened the replay:

- `papertrade replay SESSION` (`tui/replay_app.py`, `hand_over=True`): the screen dismisses
  with the `TakeOver`, and the caller moves the trader to the full trading terminal on it.
  The branch's writer, its feed and the store they read are then the caller's to close.
- from the trading terminal's sessions list (the app has `adopt_take_over`): the app owns a
  live session, and one terminal journals one session, so `t` first asks (a `ConfirmModal`;
  the replay holds still meanwhile). On yes the take-over is handed to the app, which ends
  its session and moves the full trading terminal onto the branch, the recorded market as
  its feed; the branch's writer, feed and this screen's store are then the app's to close.
  On no nothing changes and the replay plays on.
- any other host (a screen test's bare app): the screen drives a `tui.session.TradingSession`
  over the branch itself, with a reduced keyboard (`b`/`s` open the order ticket, `c` closes
  the selected position); every command lands in the branch's journal. Leaving closes the
  branch's writer and shows its summary.

Keys: `space` pause/resume, `+`/`-` speed through 1×/10×/60×/max, `.` one event (paused),
`[`/`]` jump 5 % back/forward, `t` take over, `b`/`s` buy/sell and `c` close (after an
in-screen take-over), `escape`/`q` back.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.feeds.pacing import MAX, Clock, faster, slower, speed_label
from papertrade.saves.errors import StoreError
from papertrade.saves.store import Store
from papertrade.tui.screens.modals import ConfirmModal
from papertrade.tui.screens.ticket import OrderTicket
from papertrade.tui.service.replay import ReplayPlayer, Sleep
from papertrade.tui.service.takeover import TakeOver, take_over
from papertrade.tui.service.trading import TradingSession
from papertrade.tui.widgets.account import AccountPanel
from papertrade.tui.widgets.chart import PriceChart
from papertrade.tui.widgets.log import EventLog
from papertrade.tui.widgets.orders import OrdersTable
from papertrade.tui.widgets.positions import PositionsTable
from papertrade.tui.widgets.watchlist import Watchlist
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

FLUSH_HZ = 8
CHART_INTERVAL = 0.5


@runtime_checkable
class AdoptsTakeOver(Protocol):
    """A host app that trades a take-over itself (`tui.app.PapertradeApp`): named here as a
    protocol because the app module imports the screens, not the other way round."""

    session_name: str

    def adopt_take_over(self, taken: TakeOver) -> None: ...


def fmt_sim_time(ts: int | None) -> str:
    if ts is None:
        return "--"
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class ReplayScreen(Screen[TakeOver | None]):
    """Replays session `session` of the store at `db_path`; see the module docstring.

    `store`: an open store to play from instead of opening one (the screen then never closes
    it: its opener does). `hand_over`: on `t`, dismiss with the `TakeOver` instead of trading
    here; the screen then closes nothing of the branch (writer, feed, store stay open).
    """

    DEFAULT_CSS = """
    ReplayScreen #replay-status { height: 1; background: $panel; padding: 0 1; }
    ReplayScreen #replay-body { height: 1fr; }
    ReplayScreen #replay-left { width: 1fr; }
    ReplayScreen #replay-right { width: 46; }
    ReplayScreen #replay-watchlist { height: auto; max-height: 8; }
    ReplayScreen #replay-chart { height: 1fr; min-height: 8; }
    ReplayScreen #replay-positions { height: 7; }
    ReplayScreen #replay-orders { height: 6; }
    ReplayScreen #replay-account { height: auto; border-bottom: solid $panel-lighten-1; }
    ReplayScreen #replay-log { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_pause", "Pause/play"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("full_stop", "step", "Step"),
        Binding("left_square_bracket", "seek(-1)", "Back 5%", key_display="["),
        Binding("right_square_bracket", "seek(1)", "Fwd 5%", key_display="]"),
        Binding("t", "take_over", "Take over"),
        Binding("b", "ticket('buy')", "Buy", show=False),
        Binding("s", "ticket('sell')", "Sell", show=False),
        Binding("c", "close_position", "Close", show=False),
        Binding("escape,q", "back", "Back"),
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
        store: Store | None = None,
        hand_over: bool = False,
    ) -> None:
        super().__init__()
        self.db_path = db_path
        self.session_ref = session
        self.initial_speed = speed
        self.start_paused = paused
        self._clock = clock
        self._sleep = sleep
        self.store: Store | None = store
        self._owns_store = store is None
        self.hand_over = hand_over
        self._handed_over = False
        self.player: ReplayPlayer | None = None
        self.taken: TakeOver | None = None
        self.trading: TradingSession | None = None
        self._logged = 0
        self._chart_at = 0.0
        self._player_worker: Worker[None] | None = None
        self._shut_down = False
        self._asking = False

    # --- widget tree -----------------------------------------------------------------------

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
                yield Watchlist(id="replay-watchlist")
                yield PriceChart(id="replay-chart")
                yield PositionsTable(id="replay-positions")
                yield OrdersTable(id="replay-orders")
            with Vertical(id="replay-right"):
                yield AccountPanel(id="replay-account")
                yield EventLog(id="replay-log")
        yield Footer()

    # --- life cycle ------------------------------------------------------------------------

    def on_mount(self) -> None:
        try:
            if self.store is None:
                self.store = Store.open(self.db_path)
            self.player = ReplayPlayer(
                self.store,
                self.session_ref,
                speed=self.initial_speed,
                clock=self._clock,
                sleep=self._sleep,
            )
        except StoreError as exc:
            self.status_line.update(Text(f"cannot replay: {exc}", style="bold red"))
            self.notify(str(exc), title="Replay", severity="error", markup=False)
            return
        if self.start_paused:
            self.player.pause()
        self.log_view.add_text(f"replaying {self.player.name}", "bold")
        self._player_worker = self._play()
        self.set_interval(1 / FLUSH_HZ, self.flush)
        self.flush()

    def on_unmount(self) -> None:
        self._shutdown()

    @work(group="replay", exclusive=True, exit_on_error=False, name="replay")
    async def _play(self) -> None:
        assert self.player is not None
        await self.player.run()

    @work(group="replay", exclusive=True, exit_on_error=False, name="take-over feed")
    async def _live(self) -> None:
        """Feed the recorded market after the branch point into the trader's session."""
        assert self.taken is not None and self.trading is not None
        feed, trading = self.taken.feed, self.trading
        async for event in feed:
            trading.on_market(event)
        self.log_view.add_text("end of the recording: prices stop here", "bold")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "replay":
            return
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.log_view.add_text(f"{event.worker.name} stopped: {error}", "bold red")
            self.notify(str(error), title="Replay", severity="error", markup=False)
        elif event.state == WorkerState.SUCCESS:
            self.flush()
        else:
            pass  # pending / running / cancelled (take-over replaces the player's worker)

    # --- drawing ---------------------------------------------------------------------------

    @property
    def engine(self) -> Engine | None:
        if self.trading is not None:
            return self.trading.engine
        return self.player.engine if self.player is not None else None

    def flush(self) -> None:
        """Redraw from the engine, only if something changed since the last flush."""
        player = self.player
        if player is None or self._shut_down:
            return
        engine = self.engine
        assert engine is not None
        if self.trading is not None:
            dirty, account = self.trading.take_dirty()
            outcomes = self.trading.take_outcomes()
            changed = bool(dirty or account or outcomes) or player.dirty
            history = self.trading.history
        else:
            changed = player.dirty
            outcomes = [o for _, o in player.outcomes[self._logged :]]
            self._logged = len(player.outcomes)
            history = player.history
        player.dirty = False
        self._update_status()
        if not changed:
            return
        symbols = self._symbols()
        with self.app.batch_update():
            self.watchlist.update_from(engine, symbols)
            self.positions.update_from(engine)
            self.orders.update_from(engine)
            self.account_panel.update_from(engine)
            if outcomes:
                self.log_view.add_outcomes(outcomes)
            now = time.monotonic()
            symbol = self.chart_symbol()
            if outcomes or symbol != self.chart.symbol or now - self._chart_at >= CHART_INTERVAL:
                self._chart_at = now  # plotting is the costliest draw: at most ~2 Hz
                self.chart.update_from(engine, symbol, list(history.get(symbol or "", ())))

    def _symbols(self) -> list[str]:
        assert self.player is not None
        engine = self.engine
        assert engine is not None
        found = [*self.player.info.symbols, *engine.markets, *engine.positions]
        return sorted(dict.fromkeys(found))

    def chart_symbol(self) -> str | None:
        """The watchlist's selected symbol, else the first with a position, else the first."""
        selected = self.watchlist.selected_key
        if selected:
            return selected
        engine = self.engine
        if engine is not None and engine.positions:
            return sorted(engine.positions)[0]
        symbols = self._symbols()
        return symbols[0] if symbols else None

    def status_text(self) -> Text:
        """Session name (untrusted: plain text), journal position, sim time, speed, paused."""
        player = self.player
        assert player is not None
        text = Text()
        if self.taken is not None:
            text.append("LIVE ON RECORDED PRICES ", style="bold reverse green")
            text.append(" ")
            text.append(self.taken.name, style="bold")
            feed = self.taken.feed
            text.append(f"  ⑂ seq {self.taken.branch_seq}  market {feed.position}/{player.total}")
            speed, paused = feed.speed, feed.paused
            if feed.status.state == "ended":
                text.append("  end of recording", style="yellow")
        else:
            text.append("REPLAY ", style="bold reverse")
            text.append(" ")
            text.append(player.name, style="bold")
            text.append(f"  {player.seq:,}/{player.total:,}")
            speed, paused = player.speed, player.paused
            if player.finished:
                text.append("  end", style="yellow")
        engine = self.engine
        ts = engine.last_ts if engine is not None and engine.last_ts else None
        text.append(f"  {fmt_sim_time(ts)}")
        text.append(f"  {speed_label(speed)}", style="bold")
        if paused:
            text.append("  PAUSED", style="bold yellow")
        return text

    def _update_status(self) -> None:
        self.status_line.update(self.status_text())

    # --- replay controls -------------------------------------------------------------------

    def action_toggle_pause(self) -> None:
        if self.taken is not None:
            feed = self.taken.feed
            if feed.paused:
                feed.resume()
            else:
                feed.pause()
        elif self.player is not None:
            self.player.toggle_pause()
        self._update_status()

    def _set_speed(self, speed: float) -> None:
        if self.taken is not None:
            self.taken.feed.speed = speed
        elif self.player is not None:
            self.player.speed = speed
        self._update_status()

    def action_faster(self) -> None:
        self._set_speed(faster(self._speed()))

    def action_slower(self) -> None:
        self._set_speed(slower(self._speed()))

    def _speed(self) -> float:
        if self.taken is not None:
            return self.taken.feed.speed
        return self.player.speed if self.player is not None else MAX

    def action_step(self) -> None:
        player = self.player
        if player is None or self.taken is not None:
            return
        if not player.paused:
            self.notify("pause first (space), then step with .")
            return
        player.step()
        self.flush()

    def action_seek(self, direction: int) -> None:
        """Jump 5 % of the journal back or forward (from the store's nearest snapshot)."""
        player = self.player
        if player is None or self.taken is not None:
            return
        stride = max(1, player.total // 20)
        try:
            seq = player.seek(player.seq + direction * stride)
        except StoreError as exc:
            self.notify(str(exc), title="Seek", severity="error", markup=False)
            return
        self._logged = len(player.outcomes)
        self.log_view.add_text(f"jumped to {seq:,}/{player.total:,}", "dim", ts=player.sim_ts)
        if self._player_worker is None or self._player_worker.is_finished:
            self._player_worker = self._play()  # it had played to the end: play on from here
        self.flush()

    # --- take-over and trading -------------------------------------------------------------

    def action_take_over(self) -> None:
        player = self.player
        if player is None or self.taken is not None or self._asking:
            return
        host = self.app
        if not self.hand_over and isinstance(host, AdoptsTakeOver):
            self._ask_to_take_over(player, host)
            return
        taken = self._branch(player)
        if taken is None:
            return
        if self.hand_over:
            self._handed_over = True
            self._shutdown()
            self.dismiss(taken)
            return
        self._trade_here(taken)

    def _branch(self, player: ReplayPlayer) -> TakeOver | None:
        try:
            return take_over(player)
        except StoreError as exc:
            self.notify(str(exc), title="Take over", severity="error", markup=False)
            return None

    def _ask_to_take_over(self, player: ReplayPlayer, host: AdoptsTakeOver) -> None:
        """Confirm first: the take-over ends the app's session. The replay holds still while
        the trader reads, so the branch starts where `t` was pressed; its play/pause state is
        restored either way (a playing replay hands over a playing market)."""
        was_paused = player.paused
        player.pause()
        self._asking = True
        question = (
            f"Take over ends your current session {host.session_name} (it is saved). Continue? y/n"
        )

        def answered(yes: object) -> None:
            self._asking = False
            if not was_paused:
                player.resume()
            if yes is not True or self._shut_down:
                return
            taken = self._branch(player)
            if taken is None:
                return
            self._handed_over = True
            self._shutdown()
            host.adopt_take_over(taken)

        self.app.push_screen(ConfirmModal(question), answered)

    def _trade_here(self, taken: TakeOver) -> None:
        self.taken = taken
        self.trading = TradingSession(
            taken.engine, taken.symbols, writer=taken.writer, venue=taken.venue
        )
        self.trading.history.update(taken.history)  # keep the chart's line continuous
        line = Text("took over at seq ")
        line.append(f"{taken.branch_seq}: trading in branch session ")
        line.append(taken.name, style="bold")
        self.log_view.write(line)
        self.log_view.add_text("b buy · s sell · c close the selected position", "dim")
        self._live()
        self.flush()

    def action_ticket(self, side: ev.Side) -> None:
        trading = self.trading
        if trading is None:
            self.notify("take over first (t) to trade from here")
            return
        symbol = self.positions.selected_key or self.chart_symbol()
        if symbol is None:
            self.notify("no symbol to trade: this recording has no market data", markup=False)
            return

        def placed(command: ev.PlaceOrder | None) -> None:
            if command is None or self.trading is None:
                return
            stamped = replace(command, id=self.trading.next_order_id(), ts=self.trading.now)
            self.submit(stamped)

        self.app.push_screen(OrderTicket(trading.engine, symbol, side), placed)

    def submit(self, command: ev.Command) -> list[ev.Outcome]:
        """Apply and journal a trader's command in the branch; outcomes go to the log."""
        assert self.trading is not None
        try:
            out = self.trading.submit(command)
        except StoreError as exc:
            self.notify(str(exc), title="Journal", severity="error", markup=False)
            return []
        self.flush()
        return out

    def action_close_position(self) -> None:
        trading = self.trading
        if trading is None:
            self.notify("take over first (t) to trade from here")
            return
        symbol = self.positions.selected_key
        if symbol is None and trading.engine.positions:
            symbol = sorted(trading.engine.positions)[0]
        if symbol is None:
            self.notify("no open position to close")
            return
        self.submit(ev.ClosePosition(trading.now, symbol))

    # --- leaving ---------------------------------------------------------------------------

    def action_back(self) -> None:
        taken = self.taken
        self._shutdown()
        if taken is not None:
            from papertrade.tui.screens.summary import SummaryScreen

            # The summary goes on top; closing it closes this screen too, so whoever opened
            # the replay (sessions list, `papertrade replay`) gets control back as usual.
            summary = SummaryScreen(db_path=self.db_path, session=taken.branch_id, title=taken.name)
            self.app.push_screen(summary, lambda _: self._leave())
        else:
            self._leave()

    def _leave(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.dismiss(None)
        else:
            self.app.exit()

    def _shutdown(self) -> None:
        """Stop playing, end the branch's journal (flushed, lock released), close the store
        if this screen opened it — unless the take-over was handed over: then the branch's
        writer and feed, and the store the feed reads, live on with whoever received it."""
        if self._shut_down:
            return
        self._shut_down = True
        self.workers.cancel_group(self, "replay")
        if self._handed_over:
            return
        if self.taken is not None:
            self.taken.feed.close()
            try:
                self.taken.writer.close("ended")
            except StoreError as exc:
                self.app.notify(str(exc), title="Journal", severity="error", markup=False)
        if self.store is not None and self._owns_store:
            self.store.close()
