"""`KeyedTable`: a DataTable updated in place, cell by cell, by row and column key.

Why: at 10 Hz with many symbols, clearing and rebuilding a table flickers and costs; writing
only the cells whose text changed keeps a refresh proportional to what moved (STYLE.md §10).

Columns show whole or not at all (issue 10: "Hea" at 120 columns, a watchlist's Last cut at
80): `COLUMNS` is in the order that matters, and a table shows the leading columns that fit
its width, naming the others in its border's subtitle. A resize lays the columns out again
from the cells it keeps; a tick never does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from papertrade.core.text import plural

Cell = str | Text


class KeyedTable(DataTable[Cell]):
    """A row-cursor table whose rows are keyed (symbol, order id) and columns named."""

    DEFAULT_CSS = """
    KeyedTable { scrollbar-size-vertical: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]
    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = ()
    """(key, label, width) of each column; fixed widths so a growing price never clips."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        # One blank cell between columns (added to each width) instead of Textual's default
        # one each side: it is what lets every column fit a 120-column terminal.
        super().__init__(
            id=id, classes=classes, cursor_type="row", zebra_stripes=False, cell_padding=0
        )
        self._cells: dict[tuple[str, str], Cell] = {}

        self.shown: tuple[str, ...] = ()
        """The keys of the columns on screen: the leading ones of `COLUMNS` that fit."""

    def on_mount(self) -> None:
        self._lay_out(self.fitting(self.content_size.width))

    def on_resize(self) -> None:
        fitting = self.fitting(self.content_size.width)
        if fitting != self.shown:
            self._lay_out(fitting)

    def fitting(self, width: int) -> tuple[str, ...]:
        """The leading columns whose cells (and the gap after each) fit `width`, less a
        vertical scrollbar's room; at least the first, and all of them before the table has
        a size."""
        if width <= 0:
            return tuple(key for key, _, _ in self.COLUMNS)
        room = width - self.styles.scrollbar_size_vertical
        shown: list[str] = []
        for key, _, cells in self.COLUMNS:
            room -= cells + 1
            if room < 0 and shown:
                break
            shown.append(key)
        return tuple(shown)

    def _lay_out(self, shown: tuple[str, ...]) -> None:
        """Show exactly the columns `shown`, rows and cursor kept (a resize, never a tick)."""
        rows, cursor = self.row_keys, self.cursor_row
        self.clear(columns=True)
        self.shown = shown
        for key, label, width in self.COLUMNS:
            if key in shown:
                self.add_column(label, key=key, width=width + 1)
        for row in rows:
            self.add_row(*(self._cell(row, key) for key in shown), key=row)
        if rows:
            self.move_cursor(row=min(cursor, len(rows) - 1), animate=False)
        hidden = len(self.COLUMNS) - len(shown)
        self.border_subtitle = f"+{plural(hidden, 'column')} when wider" if hidden else None

    def _cell(self, row: str, column: str) -> Text:
        value = self._cells.get((row, column), "")
        return Text(value) if isinstance(value, str) else value

    @property
    def row_keys(self) -> list[str]:
        return [str(k.value) for k in self.rows]

    @property
    def selected_key(self) -> str | None:
        """Key of the row under the cursor, if any."""
        if not self.row_count:
            return None
        row = min(self.cursor_row, self.row_count - 1)
        return str(self.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value)

    def sync_rows(
        self,
        keys: Iterable[str],
        blank: Mapping[str, Cell] | None = None,
        *,
        ordered: bool = False,
    ) -> bool:
        """Make the rows exactly `keys` (in order of first appearance); True if rows changed.

        Rows are added and removed, never rebuilt; new rows go last. With `ordered`, a set of
        rows that would then be out of `keys`' order (a filter lifted) is rebuilt once.
        """
        wanted = list(dict.fromkeys(keys))
        have = self.row_keys
        if have == wanted:
            return False
        kept = [k for k in have if k in wanted]
        if ordered and kept != wanted[: len(kept)]:
            self.clear()
            self._cells = {}
            have = []
        for key in have:
            if key not in wanted:
                self.remove_row(key)
                self._cells = {k: v for k, v in self._cells.items() if k[0] != key}
        for key in wanted:
            if key not in have:
                values = [Text(str((blank or {}).get(col, ""))) for col in self.shown]
                self.add_row(*values, key=key)
        return True

    def set_cell(self, row: str, column: str, value: Cell) -> None:
        """Write one cell only if its text or style changed.

        Plain strings become `Text`: DataTable would parse a `str` as markup on every render,
        which is both slower and unsafe for text that did not come from us.
        """
        slot = (row, column)
        if self._cells.get(slot) == value:
            return
        self._cells[slot] = value
        if column in self.shown:
            self.update_cell(row, column, Text(value) if isinstance(value, str) else value)

    def set_row(self, row: str, values: Mapping[str, Cell]) -> None:
        for column, value in values.items():
            self.set_cell(row, column, value)
