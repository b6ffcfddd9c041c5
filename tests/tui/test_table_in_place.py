"""A changed cell repaints its own row only (issue 14, TUI latency): `KeyedTable.set_cell`
writes in place instead of `DataTable.update_cell`, whose counter bump re-rendered every cell.

A tiny app of one table is the thing under test (the trading screen adds nothing here)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.widgets.data_table import ColumnKey, RowKey

from papertrade.tui.widgets.table import KeyedTable


class Prices(KeyedTable):
    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = (
        ("symbol", "Symbol", 10),
        ("mark", "Mark", 10),
    )

    def __init__(self) -> None:
        super().__init__(id="prices")
        self.rendered: list[tuple[str, str]] = []
        """(row, column) of every cell Textual rendered afresh (its cache missed)."""

    def _render_cell(self, row_index, column_index, base_style, width, cursor=False, hover=False):
        if row_index >= 0:
            row = self.coordinate_to_cell_key(Coordinate(row_index, column_index)).row_key.value
            column = self.ordered_columns[column_index].key.value
            before = len(self._cell_render_cache)
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            if len(self._cell_render_cache) != before:
                self.rendered.append((str(row), str(column)))
            return lines
        return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield Prices()


def shown(table: Prices) -> list[str]:
    """The table's lines as drawn (header first)."""
    return [table.render_line(y).text for y in range(table.size.height)]


async def test_a_changed_cell_is_drawn_and_only_its_row_renders_again() -> None:
    app = OneTable()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(Prices)
        table.sync_rows(["AAA", "BBB", "CCC"])
        for sym, mark in (("AAA", "1.0"), ("BBB", "2.0"), ("CCC", "3.0")):
            table.set_row(sym, {"symbol": sym, "mark": mark})
        await pilot.pause()
        assert any("BBB" in line and "2.0" in line for line in shown(table))
        table.rendered.clear()

        table.set_cell("BBB", "mark", Text("2.5"))
        await pilot.pause()
        lines = shown(table)

        assert any("BBB" in line and "2.5" in line for line in lines)
        assert not any("2.0" in line for line in lines)
        assert any("AAA" in line and "1.0" in line for line in lines)
        assert any("CCC" in line and "3.0" in line for line in lines)
        # Only BBB's cells were rendered again; AAA's and CCC's came from the cache.
        assert table.rendered and {row for row, _ in table.rendered} == {"BBB"}
        assert table.get_cell(RowKey("BBB"), ColumnKey("mark")) == Text("2.5")


async def test_an_unchanged_value_renders_nothing() -> None:
    app = OneTable()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(Prices)
        table.sync_rows(["AAA", "BBB"])
        table.set_row("AAA", {"symbol": "AAA", "mark": "1.0"})
        table.set_row("BBB", {"symbol": "BBB", "mark": "2.0"})
        await pilot.pause()
        shown(table)
        table.rendered.clear()
        table.set_row("AAA", {"symbol": "AAA", "mark": "1.0"})
        await pilot.pause()
        shown(table)
        assert table.rendered == []
