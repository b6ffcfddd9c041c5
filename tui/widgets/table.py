"""`KeyedTable`: a DataTable updated in place, cell by cell, by row and column key.

Why: at 10 Hz with many symbols, clearing and rebuilding a table flickers and costs; writing
only the cells whose text changed keeps a refresh proportional to what moved (STYLE.md §10).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.widgets import DataTable

Cell = str | Text


class KeyedTable(DataTable[Cell]):
    """A row-cursor table whose rows are keyed (symbol, order id) and columns named."""

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

    def on_mount(self) -> None:
        for key, label, width in self.COLUMNS:
            self.add_column(label, key=key, width=width + 1)

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
                values = [Text(str((blank or {}).get(col, ""))) for col, _, _ in self.COLUMNS]
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
        self.update_cell(row, column, Text(value) if isinstance(value, str) else value)

    def set_row(self, row: str, values: Mapping[str, Cell]) -> None:
        for column, value in values.items():
            self.set_cell(row, column, value)
