"""`SessionsScreen`: the saved sessions with their results; open one to replay it, or delete it.

Why a worker: listing needs the totals (fills, realized PnL), which exist only once a
session's outcomes are derived, and deriving replays the journal — seconds for a long
session. So the list is built in a thread worker with its own `Store` connection (a `Store`
is one-thread-only) and shown when it arrives; failures reach the user through the one
`Worker.StateChanged` handler.

Session names are untrusted text (typed by anyone, imported from files): they are always put
on screen as `rich.text.Text`, never as markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Label, Static
from textual.worker import Worker, WorkerState

from papertrade.core.text import plural, printable
from papertrade.saves.errors import StoreError
from papertrade.saves.store import SessionInfo, Store
from papertrade.tui.screens.host import TerminalHost
from papertrade.tui.screens.replay import ReplayScreen
from papertrade.tui.service.listing import SessionRow, fmt_duration, fmt_ts, load_sessions
from papertrade.tui.widgets import fmt
from papertrade.tui.widgets.footer import SteadyFooter

COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("venue", "Venue"),
    ("start", "Started (UTC)"),
    ("span", "Span"),
    ("events", "Events"),
    ("fills", "Fills"),
    ("pnl", "Realized PnL"),
    ("status", "Status"),
)

NARROW_ORDER = ("name", "pnl", "status", "fills", "span", "start", "events", "venue")
"""Below 120 columns the results come right after the name: what a trader looks for first
stays on screen at 80 columns, the rest scrolls sideways."""
NARROW_BELOW = 120

TEXT_COLUMNS = frozenset({"name", "status", "venue"})
"""Columns of words, which may be cut short (with an ellipsis) to fit the screen."""

MAX_COLUMN = 40
"""Widest a column gets (a long session name is cut there rather than pushing the rest off)."""


def _plain(cell: str | Text) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def session_row(row: SessionRow) -> dict[str, str | Text]:
    info = row.info
    if info is None:  # its own row is damaged: name and why, nothing else is known
        return {
            "name": Text(printable(row.name)),
            **{col: fmt.DASH for col in ("venue", "start", "span", "events", "fills", "pnl")},
            "status": Text(f"damaged: {printable(row.damaged)}", style="red"),
        }
    span = (
        fmt_duration(info.last_ts - info.first_ts)
        if info.first_ts is not None and info.last_ts is not None
        else fmt.DASH
    )
    name = Text(printable(info.name))
    if info.parent_id is not None:
        name.append(f"  ⑂{info.parent_id}@{info.branch_seq}", style="dim")
    status_style = {"running": "green", "interrupted": "yellow"}.get(info.status, "")
    return {
        "name": name,
        "venue": Text(printable(info.venue)),
        "start": fmt_ts(info.first_ts),
        "span": span,
        "events": f"{info.events:,}",
        "fills": fmt.DASH if info.fills is None else f"{info.fills:,}",
        "pnl": fmt.signed_text(fmt.money(info.realized_pnl), info.realized_pnl),
        "status": Text(
            f"{info.status} · damaged: {printable(row.damaged)}" if row.damaged else info.status,
            style="red" if row.damaged else status_style,
        ),
    }


class ConfirmDelete(ModalScreen[bool]):
    """Yes/no before a session (and everything derived from it) is deleted for good."""

    DEFAULT_CSS = """
    ConfirmDelete { align: center middle; }
    ConfirmDelete > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: thick $error; background: $surface; padding: 1 2;
    }
    ConfirmDelete #question { width: 100%; }
    ConfirmDelete Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    ConfirmDelete Button { margin-left: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes, delete"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, name: str) -> None:
        super().__init__()
        self._session_name = name

    def compose(self) -> ComposeResult:
        question = Text("Delete session ")
        question.append(printable(self._session_name), style="bold")
        question.append("? Its journal and results are removed for good.")
        with Vertical():
            yield Label(question, id="question")
            with Horizontal():
                yield Button("Delete (y)", variant="error", id="yes")
                yield Button("Keep (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class SessionsScreen(Screen[None]):
    """Saved sessions: `enter` replays, `d` deletes (after a yes), `r` reloads."""

    DEFAULT_CSS = """
    SessionsScreen #sessions-title { height: 1; background: $panel; padding: 0 1; }
    SessionsScreen #sessions-table { height: 1fr; }
    SessionsScreen #sessions-status { height: 1; padding: 0 1; color: $text-muted; }
    """
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # type: ignore[misc]
        (0, "-narrow"),
        (NARROW_BELOW, "-wide"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Replay"),
        Binding("d", "delete", "Delete"),
        Binding("r", "refresh", "Refresh"),
        Binding("escape,q", "back", "Back"),
    ]

    def __init__(self, db_path: Path | str | None = None, *, speed: float = 1.0) -> None:
        super().__init__()
        self.db_path = db_path
        self.speed = speed
        self.sessions: dict[str, SessionInfo] = {}
        self.rows: dict[str, SessionRow] = {}
        self.loaded = 0
        """How many times the list has been (re)loaded: tests and callers can wait on it."""
        self.hidden = 0
        """Columns left out: the screen is too narrow to show them whole."""
        self._listed: list[SessionRow] | None = None
        self._narrow: bool | None = None

    # --- widget tree -----------------------------------------------------------------------

    @property
    def table(self) -> DataTable[str | Text]:
        return self.query_one("#sessions-table", DataTable)

    @property
    def status(self) -> Static:
        return self.query_one("#sessions-status", Static)

    def compose(self) -> ComposeResult:
        yield Static("Saved sessions", id="sessions-title")
        table: DataTable[str | Text] = DataTable(id="sessions-table", cursor_type="row")
        yield table
        yield Static("loading…", id="sessions-status")
        yield SteadyFooter()

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.table.add_column(label, key=key)
        self.action_refresh()

    def on_resize(self, event: events.Resize) -> None:
        """A new width lays the columns out again: crossing 120 columns reorders them, and
        only whole columns are shown (the list itself is not reloaded)."""
        self._narrow = event.size.width < NARROW_BELOW
        if self._listed is not None:
            self._show(self._listed, reload=False)

    def columns(self) -> list[tuple[str, str]]:
        """The columns in the order this terminal's width calls for (`NARROW_ORDER`)."""
        if not self._narrow:
            return list(COLUMNS)
        labels = dict(COLUMNS)
        return [(key, labels[key]) for key in NARROW_ORDER]

    # --- loading ---------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.status.update("loading…")
        self._load()

    @work(thread=True, group="sessions", exclusive=True, exit_on_error=False)
    def _load(self) -> list[SessionRow]:
        return load_sessions(self.db_path)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "sessions":
            return
        if event.state == WorkerState.SUCCESS:
            self._show(event.worker.result or [])
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            self.status.update(Text(f"cannot list sessions: {error}", style="bold red"))
            self.notify(str(error), title="Sessions", severity="error", markup=False)
        else:
            pass  # pending / running / cancelled: nothing to show yet

    def _show(self, sessions: list[SessionRow], reload: bool = True) -> None:
        """Rebuild the rows: only on load, refresh or a resize across 120 columns, never per
        tick, so clearing is fine."""
        self._listed = sessions
        table = self.table
        keep = self.selected_key
        listed = {str(r.id): r for r in reversed(sessions)}  # newest first
        self.rows = listed
        self.sessions = {key: r.info for key, r in listed.items() if r.info is not None}
        rows = {key: session_row(r) for key, r in listed.items()}
        # Column widths are set from the content here rather than measured by the table on
        # idle: that measurement can land after the first paint, which then shows every
        # column cut to its header's width until something else repaints the table.
        table.clear(columns=True)
        every = self.columns()
        # Whole columns only: each takes its width and the table's padding either side, and
        # the ones past the screen's edge are left out (and counted below) rather than cut.
        room = self.size.width - table.styles.scrollbar_size_vertical
        columns: list[tuple[str, str]] = []
        for col, label in every:
            cells = [row[col] for row in rows.values()]
            width = min(MAX_COLUMN, max([cell_len(label), *(cell_len(_plain(c)) for c in cells)]))
            pad = 2 * table.cell_padding
            if width + pad > room and col in TEXT_COLUMNS and room - pad >= cell_len(label):
                width = room - pad  # words can be cut short, with an ellipsis; numbers never
            room -= width + pad
            if room < 0 and columns and self.size.width:
                break
            columns.append((col, label))
            table.add_column(label, key=col, width=width)
        self.hidden = len(every) - len(columns)
        for key, row in rows.items():
            table.add_row(*(row[c] for c, _ in columns), key=key)
        if keep in self.sessions:
            table.move_cursor(row=table.get_row_index(keep))
        self.loaded += 1 if reload else 0
        count = len(sessions)
        more = f"  ·  +{plural(self.hidden, 'column')} when wider" if self.hidden else ""
        self.status.update(
            f"{plural(count, 'session')}  ·  enter replay  d delete  r refresh{more}"
            if count
            else "no saved sessions yet: trade or `papertrade record` to make one"
        )

    # --- actions ---------------------------------------------------------------------------

    @property
    def selected_key(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        row = min(table.cursor_row, table.row_count - 1)
        return str(table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value)

    @property
    def selected(self) -> SessionInfo | None:
        key = self.selected_key
        return None if key is None else self.sessions.get(key)

    @on(DataTable.RowSelected, "#sessions-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        key = self.selected_key
        row = self.rows.get(key) if key is not None else None
        if row is not None and row.damaged:
            self.notify(
                f"{printable(row.name)} cannot be replayed: {printable(row.damaged)}",
                severity="error",
                markup=False,
            )
            return
        info = self.selected
        if info is None:
            return
        self.app.push_screen(ReplayScreen(self.db_path, info.id, speed=self.speed))

    def action_delete(self) -> None:
        info = self.selected
        if info is None:
            return
        app = self.app
        if isinstance(app, TerminalHost) and app.trading_session_id == info.id:
            self.notify(
                "this is the session you are trading: end it first (q), then delete it",
                severity="warning",
            )
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(info)

        self.app.push_screen(ConfirmDelete(info.name), answered)

    def _delete(self, info: SessionInfo) -> None:
        try:
            with Store.open(self.db_path) as store:
                store.delete(info.id)
        except StoreError as exc:
            self.notify(str(exc), title="Cannot delete", severity="error", markup=False)
            return
        self.notify(f"deleted {info.name}", markup=False)
        self.action_refresh()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.dismiss(None)  # runs the caller's callback, if it pushed us with one
        else:
            self.app.exit()
