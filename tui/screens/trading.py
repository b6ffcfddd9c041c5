"""`TradingScreen`: watchlist, chart, positions, account, orders, log and feed status.

Two layouts from one widget tree, switched by Textual breakpoints (classes `-narrow`/`-wide`
at 80/120 columns, `-short`/`-tall` at 30 rows; the rules are in `app.tcss`). Wide and tall:
every panel at once. Smaller (80×24 is the design point): the feed status, the positions
(side, signed size, liquidation price, distance, uPnL first), a three-line account strip
(available, cross ratio, uPnL; the margin modes compared) and the footer never leave the
screen; one more panel — watchlist, chart, orders & history, log — fills the rest, chosen
with `1`–`4`.
Orders sit in tabs (open orders / order history / trades, `o` cycles them); `f` filters them
all to the selected symbol and back. The depth panel (the selected symbol's book, your orders
in it) is a right-hand column beside the positions and the orders/log/account row on a large
terminal (tall enough for ten levels a side at 120×40), and a panel of its own on a small one;
`d` shows or hides it. Shown from the start at 120 columns when the session fills against the
book (`book`/`queue`); under `touch` the book has no say in the fills, so the positions keep
the width until `d`.

Thin by design: it composes the widgets, binds keys and routes them to `TradingSession`
(domain calls) or to a modal. Market data never reaches it as messages: the app's feed worker
updates the session's plain state, and a 10 Hz timer (`flush`) writes what changed inside one
`batch_update()` — only dirty watchlist rows, positions/orders/account when they moved, the
chart at most twice a second, the depth panel at most `DEPTH_EVERY` flushes apart (books come
ten times a second per symbol).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Static

from papertrade.core import events as ev
from papertrade.core.positions import Position
from papertrade.core.text import plural
from papertrade.tui.screens.host import host
from papertrade.tui.screens.palette import TradingCommands
from papertrade.tui.service.trading import TradingSession
from papertrade.tui.widgets import fmt
from papertrade.tui.widgets.account import AccountPanel
from papertrade.tui.widgets.chart import PriceChart
from papertrade.tui.widgets.depth import DepthPanel
from papertrade.tui.widgets.footer import SteadyFooter
from papertrade.tui.widgets.log import EventLog, describe, describe_fills
from papertrade.tui.widgets.orders import OrdersTable, open_orders
from papertrade.tui.widgets.positions import PositionsTable
from papertrade.tui.widgets.status import FeedStatusBar
from papertrade.tui.widgets.watchlist import Watchlist

if TYPE_CHECKING:
    from textual.widgets import TabbedContent

    from papertrade.tui.service.alerts import Direction, PriceAlert
    from papertrade.tui.widgets.history import OrderHistoryTable, TradeHistoryTable

# The dialogs (ticket, stops, modals, alerts, help) are imported by the action that opens
# them, not with the screen: the first frame needs none of them (issue 14).

FLUSH_INTERVAL = 0.1
CHART_INTERVAL = 1.0
CHART_DEBOUNCE = 0.08
PANELS = ("watchlist", "chart", "books", "log")
"""What keys 1-4 show on a small terminal (and focus on a large one)."""
VIEWS = (*PANELS, "depth")
"""Every panel a small terminal can show alone (`d` shows the depth panel)."""
DEPTH_EVERY = 3
"""The depth panel repaints at most every third flush (~3 Hz): a book a tenth of a second old
is as good to the eye, and a ladder repaint is a whole-panel render."""
BOOK_TABS = ("tab-open", "tab-orders", "tab-trades")
WATCHLIST_EVERY = 2
"""The watchlist (every symbol moving every tick) repaints each row at 5 Hz; positions and
account, where the trader's money is, at the full 10 Hz. Repainting a DataTable re-renders its
visible cells, so this halves the largest render cost under a busy feed (see
benchmarks/tui_latency.py); the rows take turns (odd rows one flush, even rows the next), so a
key press never waits behind a frame repainting the whole list."""


class TradingScreen(Screen[None]):
    COMMANDS: ClassVar[set[type[TradingCommands]]] = {TradingCommands}  # type: ignore[assignment]
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # type: ignore[misc]
        (0, "-tiny"),
        (80, "-narrow"),
        (120, "-wide"),
    ]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # type: ignore[misc]
        (0, "-short"),
        (30, "-tall"),
    ]
    # The footer shows bindings in this order and cuts what does not fit: the keys a trader
    # cannot do without come first, so an 80-column footer still shows b s c / ? q and 1-4.
    BINDINGS: ClassVar[list[BindingType]] = [
        # Every binding has an id: the user's config file remaps keys by id (docs/CONFIG.md).
        Binding("b", "buy", "Buy", id="buy"),
        Binding("s", "sell", "Sell", id="sell"),
        Binding("c", "close", "Close", id="close"),
        Binding("slash", "add_symbol", "Add", key_display="/", id="add_symbol"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("q", "app.quit", "Quit", id="quit"),
        Binding("1", "panel('watchlist')", "Panels", key_display="1-4", id="panel_watchlist"),
        Binding("d", "toggle_depth", "Depth", id="toggle_depth"),
        Binding("2", "panel('chart')", "Chart", show=False, id="panel_chart"),
        Binding("3", "panel('books')", "Orders", show=False, id="panel_books"),
        Binding("4", "panel('log')", "Log", show=False, id="panel_log"),
        Binding("o", "next_book", "Order tabs", show=False, id="next_book"),
        Binding("f", "filter_symbol", "Filter", show=False, id="filter_symbol"),
        Binding("m", "margin_mode", "Mode", id="margin_mode"),
        Binding("l", "leverage", "Lev", id="leverage"),
        Binding("a", "margin", "Margin", id="margin"),
        Binding("x", "cancel_order", "Cancel", id="cancel_order"),
        Binding("X", "cancel_all", "Cancel all", key_display="X", id="cancel_all"),
        Binding("delete", "remove_symbol", "Remove sym", show=False, id="remove_symbol"),
        Binding("t", "tpsl", "TP/SL", id="tpsl"),
        Binding("r", "reverse", "Reverse", show=False, id="reverse"),
        Binding("C", "close_all", "Close all", show=False, key_display="C", id="close_all"),
        Binding("e", "amend", "Amend", show=False, id="amend"),
        Binding("B", "break_even", "SL to BE", show=False, key_display="B", id="break_even"),
        Binding("A", "alert", "Alert", show=False, key_display="A", id="alert"),
        Binding("S", "sessions", "Sessions", show=False, key_display="S", id="sessions"),
        Binding("P", "postmortem", "Post-mortem", show=False, key_display="P", id="postmortem"),
    ]

    def __init__(self, session: TradingSession) -> None:
        # Born with the classes it is mounted under (the size's breakpoints, the panel in view,
        # the depth column under `touch`): each class changed after mounting restyles every
        # widget of the screen (the two such passes were ~9 % of the first frame's
        # instructions, issue 14), and Textual's own breakpoint update on the first resize
        # then finds nothing to change.
        super().__init__()
        self.add_class(*self._start_classes(session), update=False)
        self.session = session
        self._selected: str | None = session.watchlist[0] if session.watchlist else None
        self._chart_at = 0.0
        self._watch_dirty: set[str] = set()
        self._watch_seen: set[str] = set()  # rows painted since they first had data
        self._chart_timer: Timer | None = None
        self._flushes = 0
        self.panel = "watchlist"
        """The panel a small terminal shows (keys 1-4); a large one shows them all."""
        self.symbol_filter: str | None = None
        """Orders and histories show only this symbol (`f`), or every symbol (None)."""
        self._ledger_seen = -1
        self._depth_at = -DEPTH_EVERY
        self._before_depth = "watchlist"
        """The panel `d` goes back to on a small terminal."""
        self._books: TabbedContent | None = None
        """The orders and histories (their tabs): composed with the screen on a large terminal;
        on a small one, where they start out of view, mounted when first shown (issue 14:
        their dozen widgets were ~8 % of the first frame's instructions)."""
        self._books_ready = False
        """The books are mounted, their tables there to write to."""
        self._after_books: list[Callable[[], None]] = []

    def _start_classes(self, session: TradingSession) -> list[str]:
        """The classes of the first frame: what the breakpoints give the terminal's size now
        (as Textual computes them: the highest threshold the size reaches) and what `on_mount`
        would otherwise set."""
        classes = ["-panel-watchlist"]
        if session.engine.settings.fill_model == "touch":
            classes.append("-depth-hidden")
        try:
            width, height = self.app.size
        except RuntimeError:  # built outside a running app: the first resize sets them
            return classes
        return classes + self._breakpoint_classes(width, height)

    def _breakpoint_classes(self, width: int, height: int) -> list[str]:
        """The breakpoint classes of a `width`×`height` screen, as Textual computes them: for
        each direction, the name of the highest threshold the size reaches."""
        classes: list[str] = []
        for size, breakpoints in (
            (width, self.HORIZONTAL_BREAKPOINTS),
            (height, self.VERTICAL_BREAKPOINTS),
        ):
            reached = [(at, name) for at, name in breakpoints if size >= at]
            if reached:
                classes.append(max(reached)[1])
        return classes

    # --- the widget tree (typed access documents it) ----------------------------------------

    @property
    def watchlist(self) -> Watchlist:
        return self.query_one(Watchlist)

    @property
    def positions(self) -> PositionsTable:
        return self.query_one(PositionsTable)

    @property
    def orders(self) -> OrdersTable:
        return self.query_one(OrdersTable)

    @property
    def order_history(self) -> OrderHistoryTable:
        from papertrade.tui.widgets.history import OrderHistoryTable

        return self.query_one(OrderHistoryTable)

    @property
    def trades(self) -> TradeHistoryTable:
        from papertrade.tui.widgets.history import TradeHistoryTable

        return self.query_one(TradeHistoryTable)

    @property
    def books(self) -> TabbedContent:
        from textual.widgets import TabbedContent

        return self.query_one("#books", TabbedContent)

    @property
    def compact(self) -> bool:
        """One panel at a time (keys 1-4): below 120 columns or 30 rows."""
        return not (self.has_class("-wide") and self.has_class("-tall"))

    @property
    def account(self) -> AccountPanel:
        return self.query_one(AccountPanel)

    @property
    def chart(self) -> PriceChart:
        return self.query_one(PriceChart)

    @property
    def depth(self) -> DepthPanel:
        return self.query_one(DepthPanel)

    @property
    def depth_shown(self) -> bool:
        """On a small terminal: when it is the panel in view; on a large one: unless hidden
        (by `d`, or from the start under the `touch` fill model)."""
        if self.compact:
            return self.panel == "depth"
        return not self.has_class("-depth-hidden")

    @property
    def log_panel(self) -> EventLog:
        return self.query_one(EventLog)

    @property
    def status_bar(self) -> FeedStatusBar:
        return self.query_one(FeedStatusBar)

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Static(id="title")
            yield FeedStatusBar(id="feed-status")
        with Horizontal(id="upper"):
            yield Watchlist(id="watchlist")
            yield PriceChart(id="chart")
        # A grid at 120x40: the depth panel (second child) is the right-hand column beside the
        # positions and the row under them; a column of its own on a small one, where this
        # order puts it between the positions and the account strip.
        with Container(id="body"):
            with Horizontal(id="middle"):
                yield PositionsTable(id="positions")
            yield DepthPanel(id="depth")
            # A grid at 120x40 too: the orders over the log on the left, the account the
            # right-hand column beside both (the log had three rows under the account).
            with Container(id="lower"):
                if not self.compact:
                    self._books = self._new_books()
                    self._books_ready = True
                    yield self._books
                yield AccountPanel(id="account")
                yield EventLog(id="log")
        yield SteadyFooter()

    @staticmethod
    def _new_books() -> TabbedContent:
        """The orders and histories, a tab each (what `with TabPane(...)` composes). Their
        modules are imported here: a small terminal needs them only when they are shown."""
        from textual.widgets import TabbedContent, TabPane

        from papertrade.tui.widgets.history import OrderHistoryTable, TradeHistoryTable

        books = TabbedContent(id="books")
        for title, pane_id, table in (
            ("Open orders", "tab-open", OrdersTable(id="orders")),
            ("Order history", "tab-orders", OrderHistoryTable(id="order-history")),
            ("Trades", "tab-trades", TradeHistoryTable(id="trades")),
        ):
            books.compose_add_child(TabPane(title, table, id=pane_id))
        return books

    def _show_books(self, then: Callable[[], None] | None = None) -> bool:
        """True when the books are mounted; otherwise mount them (once, where `compose` puts
        them: before the account) and call `then` when they are."""
        if self._books_ready:
            return True
        if then is not None:
            self._after_books.append(then)
        if self._books is None:
            self._books = books = self._new_books()
            mounting = self.query_one("#lower", Container).mount(books, before=self.account)

            async def mounted() -> None:
                await mounting
                self._books_ready = True
                self._title_books()
                self._fill_books()
                waiting, self._after_books = self._after_books, []
                for call in waiting:
                    call()

            self.call_next(mounted)
        return False

    def on_resize(self, event: events.Resize) -> None:
        """A small terminal grown large shows every panel: the books too."""
        if {"-wide", "-tall"} <= set(self._breakpoint_classes(*event.size)):
            self._show_books()

    def on_mount(self) -> None:
        titles = {
            "watchlist": "Watchlist",
            "chart": "Chart",
            "positions": "Positions",
            "log": "Log",
            "depth": "Depth",
        }
        for wid, title in titles.items():
            self.query_one(f"#{wid}").border_title = title
        if self._books_ready:
            self._title_books()
        model = self.session.engine.settings.fill_model
        self.account.border_title = Text(f"Account · fills: {model}")
        self.query_one("#title", Static).update(self._title_text())
        self.log_panel.clock = host(self).wall_clock
        self.flush(force=True)
        self.watchlist.focus()
        self.set_interval(FLUSH_INTERVAL, self.flush)

    def on_screen_resume(self) -> None:
        """Back from the quit summary (it pops itself): finish quitting."""
        terminal = host(self)
        if terminal.quitting:
            terminal.finish()

    def _title_text(self) -> Text:
        text = Text("papertrade", style="bold")
        name = host(self).session_name
        if name:
            text.append(f" {name}", style="cyan")
        text.append(" │ feed ", style="dim")
        return text

    # --- selection --------------------------------------------------------------------------

    @property
    def selected_symbol(self) -> str | None:
        watch = self.session.watchlist
        if self._selected in watch or (
            self._selected is not None and self.session.engine.symbol_positions(self._selected)
        ):
            return self._selected
        return watch[0] if watch else None

    def selected_position_symbol(self) -> str | None:
        """The positions-table row when that panel has focus (a position's key: its symbol,
        or `SYMBOL:long` / `SYMBOL:short` in hedge mode), else the selected symbol."""
        positions = self.positions
        if self.focused is positions and positions.selected_key:
            return positions.selected_key
        return self.selected_symbol

    def _position_at(self, key: str | None) -> Position | None:
        """The position a key names; a bare symbol in hedge mode names its only open side
        (with both open it names none: the trader picks the row, never a guess)."""
        if key is None:
            return None
        engine = self.session.engine
        pos = engine.positions.get(key)
        if pos is not None:
            return pos
        held = engine.symbol_positions(key)
        return held[0] if len(held) == 1 else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        # Only a cursor the trader moves selects: rows appearing (a new position) must not.
        if table.id in ("watchlist", "positions") and table.has_focus and event.row_key.value:
            key = str(event.row_key.value)
            pos = self.session.engine.positions.get(key) if table.id == "positions" else None
            self._selected = pos.symbol if pos is not None else key
            # Debounced: holding j/k through the list moves the cursor at once and redraws the
            # chart (milliseconds of plotting) once, CHART_DEBOUNCE after the cursor stops.
            if self._chart_timer is not None:
                self._chart_timer.stop()
            self._chart_timer = self.set_timer(CHART_DEBOUNCE, self._redraw_selected)

    # --- the flush ----------------------------------------------------------------------------

    def flush(self, force: bool = False) -> None:
        """Write what changed since the last flush to the widgets, in one batch."""
        session = self.session
        engine = session.engine
        dirty, account_moved = session.take_dirty()
        outcomes = session.take_outcomes()
        alerts = session.check_alerts()
        app = host(self)
        self._watch_dirty |= dirty
        self._flushes += 1
        with self.app.batch_update():
            if force:
                self.watchlist.update_from(engine, session.watchlist, None, session.start_price)
                self._watch_seen |= self._watch_dirty
                self._watch_dirty = set()
            elif rows := self._watch_due(session.watchlist):
                self.watchlist.update_from(engine, session.watchlist, rows, session.start_price)
            if force or account_moved or outcomes:
                self.positions.update_from(engine, session.ledger)
                if self._books_ready:
                    self.orders.update_from(engine, self.symbol_filter)
                self.account.update_from(engine, session.shadows.standing())
            if self._books_ready and (force or session.ledger.version != self._ledger_seen):
                self._fill_histories()
            if outcomes:
                self.log_panel.add_outcomes(outcomes)
                liquidated = [o.ts for o in outcomes if isinstance(o, ev.Liquidation)]
                if liquidated:
                    hint = "P: the post-mortem of this liquidation"
                    self.log_panel.add_text(hint, "red", ts=liquidated[-1])
            for line, style in session.take_notes():
                self.log_panel.add_text(line, style)
            self.status_bar.update_from(*app.feed_status_args())
            if force or self.selected_symbol in dirty:
                self._draw_chart(force=force)
            due = self._flushes - self._depth_at >= DEPTH_EVERY
            if force or (due and (self.selected_symbol in dirty or account_moved or outcomes)):
                self._draw_depth()
        self._notify(outcomes, alerts)

    def _fill_books(self) -> None:
        """Everything the books show, written at once (they were just mounted)."""
        self.orders.update_from(self.session.engine, self.symbol_filter)
        self._fill_histories()

    def _fill_histories(self) -> None:
        session = self.session
        self._ledger_seen = session.ledger.version
        self.order_history.update_from(session.ledger, session.engine, self.symbol_filter)
        self.trades.update_from(session.ledger, session.engine, self.symbol_filter)

    def _selected_order(self) -> str | None:
        """The open order under the orders table's cursor; before the books were ever shown,
        the one it would have there (the first, its cursor never moved)."""
        if self._books_ready:
            return self.orders.selected_key
        return next(iter(open_orders(self.session.engine, self.symbol_filter)), None)

    def _watch_due(self, watchlist: Sequence[str]) -> set[str]:
        """The moved watchlist rows whose turn it is: each flush takes the rows of one of
        `WATCHLIST_EVERY` interleaved groups (every second row at 2), so every row repaints
        `WATCHLIST_EVERY` flushes apart as before, but no one frame carries them all. A row's
        first data is never held back: the first price on screen is not a flush late."""
        turn = self._flushes % WATCHLIST_EVERY
        group = {s for i, s in enumerate(watchlist) if i % WATCHLIST_EVERY == turn}
        dirty = self._watch_dirty
        due = (dirty & group) | (dirty - self._watch_seen)
        listed = set(watchlist)
        self._watch_seen = (self._watch_seen | due) & listed
        self._watch_dirty = (dirty & listed) - due
        return due

    def _redraw_selected(self) -> None:
        self._chart_timer = None
        self._draw_chart(force=True)
        self._draw_depth()

    def _draw_depth(self) -> None:
        """The selected symbol's book (the panel repaints only when it changed)."""
        self._depth_at = self._flushes
        symbol, depth = self.selected_symbol, self.depth
        if symbol != depth.symbol or not depth.draws:
            depth.border_title = Text(f"Depth {symbol}" if symbol else "Depth")
        depth.update_from(self.session.engine, symbol)

    def _draw_chart(self, force: bool = False) -> None:
        """At most once per `CHART_INTERVAL` from the flush, whichever symbol is selected: a
        new selection is drawn by the debounce (`_redraw_selected`) once the cursor stops, so
        keys moving through the watchlist do not replot the chart on every flush."""
        now = time.monotonic()
        symbol = self.selected_symbol
        if not force and now - self._chart_at < CHART_INTERVAL:
            return
        self._chart_at = now
        history = self.session.history.get(symbol, ()) if symbol else ()
        self.chart.border_title = f"Chart {symbol}" if symbol else "Chart"
        self.chart.update_from(self.session.engine, symbol, list(history))

    def _notify(self, outcomes: list[ev.Outcome], alerts: Sequence[object]) -> None:
        walked: dict[str, list[ev.Fill]] = {}  # an order's fills, one toast for all of them
        for outcome in outcomes:
            if isinstance(outcome, ev.Fill):
                walked.setdefault(outcome.order_id, []).append(outcome)
        for fills in walked.values():
            self.notify(describe_fills(fills), title="Filled", markup=False, timeout=4)
        for outcome in outcomes:
            if isinstance(outcome, ev.Fill):
                continue
            described = describe(outcome)
            if described is None:
                continue
            text = described[0]
            if isinstance(outcome, ev.Liquidation):
                self.app.bell()
                self.notify(text, title="Liquidation", severity="error", markup=False, timeout=10)
            elif isinstance(outcome, ev.Rejected):
                self.notify(text, title="Rejected", severity="warning", markup=False)
        for alert in alerts:
            scope = getattr(alert, "scope", "")
            ratio = getattr(alert, "ratio", Decimal(0))
            where = "cross account" if scope == "cross" else f"{scope} isolated position"
            self.notify(
                f"{where} margin ratio {fmt.pct(ratio, 0, signed=False)}: liquidation at 100 %",
                title="Margin warning",
                severity="warning",
                markup=False,
                timeout=8,
            )

    def log_line(self, text: str, style: str = "") -> None:
        self.log_panel.add_text(text, style)

    # --- actions ------------------------------------------------------------------------------

    def _need_symbol(self) -> str | None:
        symbol = self.selected_symbol
        if symbol is None:
            self.notify("the watchlist is empty: press / to add a symbol", severity="warning")
        return symbol

    def action_buy(self) -> None:
        self._open_ticket("buy")

    def action_sell(self) -> None:
        self._open_ticket("sell")

    def _open_ticket(self, side: ev.Side) -> None:
        from papertrade.tui.screens.ticket import OrderTicket

        symbol = self._need_symbol()
        if symbol is None:
            return

        def done(command: ev.PlaceOrder | None) -> None:
            if command is None:
                return
            stamped = replace(command, id=self.session.next_order_id(), ts=self.session.now)
            self.session.submit(stamped)
            self.flush()

        self.app.push_screen(OrderTicket(self.session.engine, symbol, side), done)

    def action_close(self) -> None:
        from papertrade.tui.screens.stops import CloseModal

        symbol = self.selected_position_symbol()
        pos = self._position_at(symbol)
        if pos is None:
            # never guess which position to close at market: say how to pick one
            both = symbol is not None and len(self.session.engine.symbol_positions(symbol)) > 1
            self.notify(
                f"both sides of {symbol} are open: select the one to close in Positions (tab)"
                if both
                else f"no open {symbol or ''} position: select one in the watchlist or "
                "Positions (tab)",
                severity="warning",
                markup=False,
            )
            return
        key = pos.key

        def done(fraction: object) -> None:
            current = self.session.engine.positions.get(key)
            if not isinstance(fraction, Decimal) or current is None:
                return
            self.close_part(current, fraction)

        self.app.push_screen(CloseModal(pos), done)

    def close_part(self, pos: Position, fraction: Decimal) -> None:
        """Close `fraction` of the position: all of it as a close, a part as a reduce-only
        market order."""
        if fraction >= 1:
            self.close_symbol(pos.symbol, None if pos.slot == "both" else pos.slot)
            return
        command = self.session.close_part_command(pos, fraction)
        if command is None:
            self.notify("that part is less than one quantity step", severity="warning")
            return
        self.session.submit(command)
        self.flush()

    def action_reverse(self) -> None:
        """`r`: flip the selected position with one market order of twice its size, after a
        confirmation that shows what the flip costs."""
        from papertrade.tui.screens.modals import ConfirmModal

        pos = self._need_position()
        if pos is None:
            return
        if pos.slot != "both":
            self.notify(
                "hedge mode: close this side (c) and open the other; reversing is one-way only",
                severity="warning",
            )
            return
        engine = self.session.engine
        preview = engine.preview(self.session.reverse_command(pos))
        if preview.reason is not None:
            self.notify(f"cannot reverse: {preview.reason}", severity="warning", markup=False)
            return
        inst = pos.instrument
        other = "SHORT" if pos.side == "long" else "LONG"
        question = (
            f"Reverse {pos.side.upper()} {fmt.qty(pos.qty, inst)} {pos.symbol} to {other}? "
            f"One market order of {fmt.qty(preview.qty, inst)} at "
            f"~{fmt.price(preview.price, inst)}: "
            f"fee {fmt.money(preview.fee)} USDT, margin {fmt.money(preview.required_margin)} USDT"
        )
        key = pos.key

        def done(yes: object) -> None:
            current = self.session.engine.positions.get(key)
            if yes is True and current is not None:
                order_id = self.session.next_order_id()
                self.session.submit(self.session.reverse_command(current, order_id))
                self.flush()

        self.app.push_screen(ConfirmModal(question), done)

    def action_close_all(self) -> None:
        """`C`: close every position at market, after a confirmation."""
        from papertrade.tui.screens.modals import ConfirmModal

        positions = list(self.session.engine.positions.values())
        if not positions:
            self.notify("no open positions", severity="warning")
            return

        def done(yes: object) -> None:
            if yes is True:
                for pos in list(self.session.engine.positions.values()):
                    self.session.close(pos.symbol, None if pos.slot == "both" else pos.slot)
                self.flush()

        self.app.push_screen(
            ConfirmModal(f"Close all {plural(len(positions), 'position')} at market?"), done
        )

    # --- stops of a position and amending orders (issue 12) -----------------------------------

    def _need_position(self) -> Position | None:
        pos = self._position_at(self.selected_position_symbol())
        if pos is None:
            self.notify(
                "no position selected: pick one in the watchlist or Positions (tab)",
                severity="warning",
            )
        return pos

    def action_tpsl(self) -> None:
        """`t`: the selected position's take-profit and stop-loss (close-position orders)."""
        from papertrade.tui.screens.stops import TpSl, TpSlModal
        from papertrade.tui.service.stops import protection, replaced

        pos = self._need_position()
        if pos is None:
            return
        found = protection(self.session.engine, pos)
        tp = next((o.command.trigger_price for o in found.tp if o.command.close_position), None)
        sl = next((o.command.trigger_price for o in found.sl if o.command.close_position), None)

        def done(result: object) -> None:
            if not isinstance(result, TpSl):
                return
            for leg, trigger, before in (("tp", result.tp, tp), ("sl", result.sl, sl)):
                if trigger is not None:
                    self.session.set_position_stop(pos, leg, trigger, result.working)
                elif before is not None:
                    for oid in replaced(self.session.engine, pos, leg):
                        self.session.cancel(oid)
            self.flush()

        market = self.session.engine.markets.get(pos.symbol)
        self.app.push_screen(TpSlModal(pos, tp, sl, market), done)

    def action_break_even(self) -> None:
        """`B`: move the position's stop-loss to break-even (entry plus the fees paid)."""
        pos = self._need_position()
        if pos is None:
            return
        price = self.session.break_even_price(pos)
        if price is None:
            self.notify(
                f"break-even of {pos.symbol} is not known (fees of fills before this session)",
                severity="warning",
                markup=False,
            )
            return
        out = self.session.set_position_stop(pos, "sl", price)
        if not any(isinstance(o, ev.Rejected) for o in out):
            inst = pos.instrument
            self.log_line(f"{pos.symbol} stop-loss moved to break-even {fmt.price(price, inst)}")
        self.flush()

    def action_amend(self) -> None:
        """`e`: move the selected open order's limit price or trigger, keeping its id."""
        from papertrade.tui.screens.stops import Amend, AmendModal

        oid = self._selected_order()
        order = open_orders(self.session.engine).get(oid) if oid is not None else None
        if order is None:
            self.notify("no open order to amend: pick one in Open orders", severity="warning")
            return
        if order.order_type == "trailing_stop_market":
            self.notify(
                "a trailing stop follows the market: cancel it (x) and place a new one",
                severity="warning",
            )
            return

        def done(result: object) -> None:
            if isinstance(result, Amend):
                self.session.amend(order.id, price=result.price, trigger_price=result.trigger)
                self.flush()

        engine = self.session.engine
        market, inst = engine.markets.get(order.symbol), engine.instruments.get(order.symbol)
        self.app.push_screen(AmendModal(order, market, inst), done)

    def action_alert(self) -> None:
        """A price alert on the selected symbol (`AlertModal`): toast, bell and log once."""
        from papertrade.tui.screens.alerts import AlertModal

        symbol = self._need_symbol()
        if symbol is None:
            return
        alerts = host(self).price_alerts
        markets = self.session.engine.markets

        def mark() -> Decimal | None:
            market = markets.get(symbol)
            return market.mark if market is not None else None

        def arm(direction: Direction, price: Decimal) -> PriceAlert:
            return alerts.add(symbol, direction, price, mark())

        def done(alert: PriceAlert | None) -> None:
            if alert is not None:
                self.log_line(f"alert set: {alert.describe()}", "cyan")

        self.app.push_screen(AlertModal(symbol, mark, alerts.for_symbol(symbol), arm), done)

    def close_symbol(self, symbol: str, position_side: ev.PositionSlot | None = None) -> None:
        self.session.close(symbol, position_side)
        self.flush()

    def switch_position_mode(self) -> None:
        """One-way <-> hedge for the account; the engine refuses it (the toast and the log
        say why) while any position or order is open."""
        now = self.session.engine.position_mode
        new: ev.PositionMode = "hedge" if now == "one_way" else "one_way"
        outcomes = self.session.set_position_mode(new)
        if not any(isinstance(o, ev.Rejected) for o in outcomes):
            words = "hedge mode" if new == "hedge" else "one-way mode"
            self.log_line(f"position mode: {words}", "cyan")
            self.notify(f"the account is now in {words}", markup=False)
        self.flush()

    def action_margin_mode(self) -> None:
        symbol = self._need_symbol()
        if symbol is None:
            return
        mode, _ = self.session.engine.symbol_setting(symbol)
        new: ev.MarginMode = "isolated" if mode == "cross" else "cross"
        outcomes = self.session.set_margin_mode(symbol, new)
        if not any(isinstance(o, ev.Rejected) for o in outcomes):
            self.log_line(f"{symbol} margin mode: {new}", "cyan")
            self.notify(f"{symbol} is now {new} margin", markup=False)
        self.flush()

    def action_leverage(self) -> None:
        from papertrade.tui.screens.modals import LeverageModal

        symbol = self._need_symbol()
        if symbol is None:
            return
        engine = self.session.engine
        _, lev = engine.symbol_setting(symbol)
        inst = engine.instruments[symbol]

        def done(value: object) -> None:
            if isinstance(value, int) and not isinstance(value, bool):
                outcomes = self.session.set_leverage(symbol, value)
                if not any(isinstance(o, ev.Rejected) for o in outcomes):
                    self.log_line(f"{symbol} leverage: {value}x", "cyan")
                self.flush()

        self.app.push_screen(LeverageModal(symbol, lev, inst.max_leverage), done)

    def action_margin(self) -> None:
        symbol = self.selected_position_symbol()
        engine = self.session.engine
        pos = self._position_at(symbol)
        if pos is not None:
            symbol = pos.key
        if pos is None or pos.mode != "isolated":
            isolated = [s for s, p in engine.positions.items() if p.mode == "isolated"]
            if len(isolated) == 1:
                symbol = isolated[0]
            else:
                self.notify(
                    "margin can be added or removed only on an isolated position",
                    severity="warning",
                )
                return
        assert symbol is not None
        self.open_margin_dialog(symbol)

    def open_margin_dialog(self, key: str) -> None:
        """Add or remove isolated margin of the position `key` names (see
        `selected_position_symbol`)."""
        from papertrade.tui.screens.modals import MarginModal

        engine = self.session.engine
        pos = engine.positions[key]
        side = None if pos.slot == "both" else pos.slot
        symbol = pos.symbol
        removable = engine.max_removable_margin(symbol, side)
        addable = engine.max_addable_margin(symbol, side)

        def done(value: object) -> None:
            if isinstance(value, Decimal):
                outcomes = self.session.adjust_margin(symbol, value, side)
                if not any(isinstance(o, ev.Rejected) for o in outcomes):
                    verb = "added to" if value > 0 else "removed from"
                    self.log_line(
                        f"{fmt.money(abs(value))} USDT {verb} {symbol} isolated margin", "cyan"
                    )
                self.flush()

        label = symbol if side is None else f"{symbol} {side}"
        self.app.push_screen(MarginModal(label, pos.margin, addable, removable), done)

    def action_cancel_order(self) -> None:
        oid = self._selected_order()
        if oid is None:
            self.notify("no open order to cancel", severity="warning")
            return
        self.session.cancel(oid)
        self.flush()

    def action_cancel_all(self) -> None:
        from papertrade.tui.screens.modals import ConfirmModal

        count = len(self.session.open_order_ids)
        if not count:
            self.notify("no open orders", severity="warning")
            return

        def done(yes: object) -> None:
            if yes is True:
                self.session.cancel_all()
                self.flush()

        self.app.push_screen(ConfirmModal(f"Cancel {plural(count, 'open order')}?"), done)

    def action_add_symbol(self) -> None:
        from papertrade.tui.screens.modals import AddSymbolModal

        engine = self.session.engine

        def done(symbol: object) -> None:
            if isinstance(symbol, str) and self.session.add_symbol(symbol):
                self.log_line(f"watching {symbol}", "cyan")
                host(self).subscribe(symbol)
                self.flush(force=True)

        self.app.push_screen(
            AddSymbolModal(sorted(engine.instruments), self.session.watchlist), done
        )

    def action_remove_symbol(self) -> None:
        key = self.watchlist.selected_key
        if key is None:
            return
        self.session.remove_symbol(key)
        host(self).unsubscribe(key)
        note = (
            " (its position stays open and keeps updating)"
            if self.session.engine.symbol_positions(key)
            else ""
        )
        self.log_line(f"stopped watching {key}{note}", "dim")
        self.flush(force=True)

    def action_toggle_depth(self) -> None:
        """`d`: the depth panel in or out of view. A small terminal shows it instead of the
        panel in view (and `d` again goes back to that one); a large one gives its column back
        to the positions and the row under them."""
        if self.compact:
            if self.panel == "depth":
                self.action_panel(self._before_depth)
            else:
                self._before_depth = self.panel
                self.action_panel("depth")
        else:
            self.set_class(not self.has_class("-depth-hidden"), "-depth-hidden")
        if self.depth_shown:
            self._draw_depth()

    def action_panel(self, name: str) -> None:
        """Show `name` (small terminal) and focus what it holds, if anything takes focus."""
        if name not in VIEWS:
            return
        if name == "books" and not self._show_books(lambda: self.action_panel(name)):
            return  # shown once mounted
        for panel in VIEWS:
            self.set_class(panel == name, f"-panel-{panel}")
        self.panel = name
        target: Widget | None = None
        if name == "watchlist":
            target = self.watchlist
        elif name == "books":
            target = self._book_table()
        elif name == "log":
            target = self.log_panel
        if target is not None:
            self.call_after_refresh(target.focus)

    def _book_table(self) -> DataTable[Any]:
        pane = self.books.active_pane
        tables = pane.query(DataTable) if pane is not None else None
        return tables.first() if tables else self.orders

    def action_next_book(self) -> None:
        """Open orders -> order history -> trades -> open orders (and show them)."""
        if not self._show_books(self.action_next_book):
            return
        books = self.books
        at = BOOK_TABS.index(books.active) if books.active in BOOK_TABS else -1
        books.active = BOOK_TABS[(at + 1) % len(BOOK_TABS)]
        self.action_panel("books")

    def action_filter_symbol(self) -> None:
        """Orders and histories: every symbol <-> only the selected one."""
        self.symbol_filter = None if self.symbol_filter else self.selected_symbol
        if self._books_ready:
            self._title_books()
        self.notify(f"orders and history: {self.symbol_filter or 'every symbol'}", markup=False)
        self.flush(force=True)

    def _title_books(self) -> None:
        shown = self.symbol_filter or "all symbols"
        self.books.border_title = f"Orders · {shown} (f filters)"

    def action_help(self) -> None:
        from papertrade.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen())

    def action_sessions(self) -> None:
        host(self).open_sessions()

    def action_postmortem(self) -> None:
        """The last liquidation taken apart (`PostMortemScreen`; its keys reach the others)."""
        terminal = host(self)
        session_id = terminal.trading_session_id
        if session_id is None:
            self.notify(
                "a post-mortem reads the saved session: this one is not saved", severity="warning"
            )
            return
        if not self.session.engine.totals.liquidations:
            self.notify("no liquidation in this session yet", severity="warning")
            return
        from papertrade.tui.screens.postmortem import PostMortemScreen  # plotext: not at start

        self.app.push_screen(
            PostMortemScreen(terminal.db_path, session_id, before_read=terminal.flush_journal)
        )
