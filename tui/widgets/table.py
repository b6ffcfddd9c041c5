"""`KeyedTable`: a DataTable updated in place, cell by cell, by row and column key.

Why: at 10 Hz with many symbols, clearing and rebuilding a table flickers and costs; writing
only the cells whose text changed keeps a refresh proportional to what moved (STYLE.md §10).

Columns show whole or not at all (issue 10: "Hea" at 120 columns, a watchlist's Last cut at
80): `COLUMNS` is in the order that matters, and a table shows the first column and then the
ones that fit its width whole, counting the others in its border's subtitle; `→` and `←`
move through them a column at a time, the first (the symbol) staying put. A resize lays the
columns out again from the cells it keeps; a tick never does.

Redrawing (issue 14, TUI latency): `DataTable.update_cell` bumps the table's update counter,
which is part of every render cache key, so one changed price re-rendered every cell of the
table and the key that moved the cursor waited behind it. `set_cell` writes the value in place
instead, forgets only the changed cells' cached renders and their rows' halves and lines (once
per render, not per cell: the row is put together again from the cells it kept), and repaints
only those rows. A watchlist tick changes two or three of a row's seven cells.

DataTable's render caches are sized for any table (10,000 cells, 1,000 lines and row halves);
the line and row caches are keyed by the cursor's position, so every key press adds a screenful
of entries that no later frame asks for. Here they are capped at a few screens of this table:
the cyclic collector walks every cached strip and segment on each full collection, which at
DataTable's sizes took 30 ms and more of the UI thread under a busy feed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

from papertrade.core.text import plural

Cell = str | Text
CELLS_CACHED = 2_000
"""Rendered cells kept: every cell of a full screen (40 rows of a dozen columns), with and
without the cursor on it."""
LINES_CACHED = 200
"""Rendered lines and row halves kept: five screens' worth of cursor positions."""


class KeyedTable(DataTable[Cell]):
    """A row-cursor table whose rows are keyed (symbol, order id) and columns named."""

    DEFAULT_CSS = """
    KeyedTable { scrollbar-size-vertical: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("right", "columns(1)", "More columns", show=False),
        Binding("left", "columns(-1)", "Back columns", show=False),
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
        self._stale: dict[RowKey, set[ColumnKey]] = {}
        """Cells written in place since the last render, by row: their cached renders (and
        their rows' halves and lines) are now wrong."""
        self._cell_render_cache.maxsize = CELLS_CACHED
        self._row_render_cache.maxsize = LINES_CACHED
        self._line_cache.maxsize = LINES_CACHED

        self.shown: tuple[str, ...] = ()
        """The keys of the columns on screen: the first, then those from `first` that fit."""
        self.first = 1
        """Index in `COLUMNS` of the column shown after the first (`→`/`←` move it)."""

    def on_mount(self) -> None:
        self._lay_out(self.fitting(self.content_size.width))

    def on_resize(self) -> None:
        width = self.content_size.width
        if self.first > 1:  # wide enough again for every column: show them all
            moved, self.first = self.first, 1
            if len(self.fitting(width)) < len(self.COLUMNS):
                self.first = moved
        fitting = self.fitting(width)
        if fitting != self.shown:
            self._lay_out(fitting)

    def fitting(self, width: int) -> tuple[str, ...]:
        """The first column, then the columns from `first` on whose cells (and the gap after
        each) fit `width`, less a vertical scrollbar's room; all of them before the table
        has a size."""
        if width <= 0 or not self.COLUMNS:
            return tuple(key for key, _, _ in self.COLUMNS)
        room = width - self.styles.scrollbar_size_vertical
        shown: list[str] = []
        for key, _, cells in (self.COLUMNS[0], *self.COLUMNS[self.first :]):
            room -= cells + 1
            if room < 0 and shown:
                break
            shown.append(key)
        return tuple(shown)

    def action_columns(self, by: int) -> None:
        """Show the columns one further right (`by` 1) or left (-1), when there are any."""
        right = len(self.COLUMNS) - self.first - (len(self.shown) - 1)
        if (by > 0 and right <= 0) or (by < 0 and self.first <= 1):
            return
        self.first += by
        self._lay_out(self.fitting(self.content_size.width))

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
        left = self.first - 1
        right = len(self.COLUMNS) - self.first - (len(shown) - 1)
        self.border_subtitle = columns_note(left, right)

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
            self._write(row, column, Text(value) if isinstance(value, str) else value)

    def _write(self, row: str, column: str, value: Text) -> None:
        """`update_cell` without invalidating the whole table (see the module's docstring):
        widths are fixed and rows one line high, so nothing else a render caches can move."""
        row_key, column_key = RowKey(row), ColumnKey(column)
        if row_key not in self._row_locations or column_key not in self._column_locations:
            raise CellDoesNotExist(f"no cell at row {row!r}, column {column!r}")
        self._data[row_key][column_key] = value
        columns = self._stale.get(row_key)
        if columns is None:
            self._stale[row_key] = {column_key}
            self._refresh_line(self.get_row_index(row_key))
        else:
            columns.add(column_key)

    def _refresh_line(self, index: int) -> None:
        """`refresh_row` for a one-line row: DataTable's sums the heights of every row above
        it (and the columns' widths) per call, a third of a tick's writes to a watchlist."""
        y = index + (self.header_height if self.show_header else 0)
        width = max(self.size.width, self.virtual_size.width)
        self._refresh_region(Region(0, y, width, 1))

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._stale:
            self._forget(self._stale)
            self._stale = {}
        return super().render_lines(crop)

    def _forget(self, stale: Mapping[RowKey, set[ColumnKey]]) -> None:
        """Drop the cached renders of the `stale` cells, and their rows' renderables, halves
        and lines (cheap to put together again from the cells kept)."""
        rows = stale.keys()
        indices = {self.get_row_index(row) for row in rows if row in self._row_locations}
        renderables = self._row_renderable_cache
        for entry in list(renderables.keys()):
            if entry[1] in indices:
                renderables.discard(entry)
        cells = self._cell_render_cache
        for cell in list(cells.keys()):  # an LRUCache: no iteration of its own
            columns = stale.get(cell[0])
            if columns is not None and cell[1] in columns:
                cells.discard(cell)
        halves = self._row_render_cache
        for half in list(halves.keys()):
            if half[0] in rows:
                halves.discard(half)
        lines = self._line_cache
        for line in list(lines.keys()):
            try:
                at: RowKey | None = self._get_offsets(line[0])[0]
            except (LookupError, IndexError):
                at = None
            if at is None or at in rows:
                lines.discard(line)

    def set_row(self, row: str, values: Mapping[str, Cell]) -> None:
        for column, value in values.items():
            self.set_cell(row, column, value)


def columns_note(left: int, right: int) -> str | None:
    """What a table's border says about the columns it leaves out, and the key to each."""
    if left and right:
        return f"← {left} · {plural(right, 'more column')} →"
    if right:
        return f"+{plural(right, 'column')} →"
    if left:
        return f"← {plural(left, 'column')}"
    return None
