"""SessionsScreen with the Textual pilot: the list, opening a replay, deleting with a yes."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from screen_host import SIZE, Host, shows, store_with_drills, until
from textual.app import App
from textual.pilot import Pilot

from papertrade.saves.store import Store
from papertrade.tui.screens.replay import ReplayScreen
from papertrade.tui.screens.sessions import ConfirmDelete, SessionsScreen


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return store_with_drills(tmp_path / "papertrade.db")


async def _loaded(app: App[None], pilot: Pilot[None]) -> SessionsScreen:
    """The sessions screen once its list has arrived (the load is a worker: wait for it)."""
    await until(
        pilot,
        lambda: isinstance(app.screen, SessionsScreen) and app.screen.loaded > 0,
        "the sessions list",
    )
    screen = app.screen
    assert isinstance(screen, SessionsScreen)
    return screen


async def _reloaded(pilot: Pilot[None], screen: SessionsScreen, before: int) -> None:
    await until(pilot, lambda: screen.loaded > before, "the sessions list to reload")


def _cells(screen: SessionsScreen, key: str) -> list[str]:
    return [c.plain if isinstance(c, Text) else str(c) for c in screen.table.get_row(key)]


async def test_the_list_shows_each_session_with_its_results(db: Path) -> None:
    app = Host(lambda: SessionsScreen(db))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _loaded(app, pilot)
        with Store.open(db) as store:
            crash, evil = store.resolve("crash"), store.resolve("[b]evil[/b]")
        assert screen.table.row_count == 2
        assert list(screen.sessions) == [str(evil), str(crash)]  # newest first
        # name, venue, start, span, events, fills, realized PnL, status
        assert _cells(screen, str(crash)) == [
            "crash",
            "binance",
            "2026-01-01 00:00:00",
            "8m00s",
            "15",
            "2",
            "0.00",
            "ended",
        ]
        evil_row = _cells(screen, str(evil))
        assert evil_row[0] == "[b]evil[/b]"  # shown literally, not as bold "evil"
        assert evil_row[4:6] == ["14", "2"]
        assert "2 sessions" in str(screen.status.render())
        assert await shows(app, pilot, "[b]evil[/b]")


async def test_enter_opens_the_selected_session_in_the_replay_screen(db: Path) -> None:
    app = Host(lambda: SessionsScreen(db))
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(app, pilot)
        await pilot.press("down")  # newest first: the second row is "crash"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen), "the replay")
        replay = app.screen
        assert isinstance(replay, ReplayScreen)
        await until(pilot, lambda: replay.player is not None, "the player")
        assert replay.player is not None and replay.player.name == "crash"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen), "the list again")


async def test_delete_asks_first_and_then_removes_the_session_from_the_store(db: Path) -> None:
    app = Host(lambda: SessionsScreen(db))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _loaded(app, pilot)
        assert screen.selected is not None and screen.selected.name == "[b]evil[/b]"

        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDelete), "the question")
        await pilot.press("n")  # changed my mind
        await until(pilot, lambda: app.screen is screen, "the list again")
        with Store.open(db) as store:
            assert len(store.sessions()) == 2

        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDelete), "the question")
        before = screen.loaded
        await pilot.press("y")
        await _reloaded(pilot, screen, before)
        with Store.open(db) as store:
            assert [s.name for s in store.sessions()] == ["crash"]
        assert screen.table.row_count == 1


async def test_a_session_with_branches_cannot_be_deleted_and_says_why(db: Path) -> None:
    with Store.open(db) as store:
        store.branch("crash", at_seq=3, name="what-if")
    app = Host(lambda: SessionsScreen(db))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _loaded(app, pilot)
        assert screen.table.row_count == 3
        await pilot.press("down", "down")
        assert screen.selected is not None and screen.selected.name == "crash"
        await pilot.press("d", "y")
        await until(pilot, lambda: app.screen is screen, "the question answered")
        with Store.open(db) as store:
            assert len(store.sessions()) == 3
        assert screen.table.row_count == 3


async def test_r_reloads_the_list_from_the_store(db: Path) -> None:
    app = Host(lambda: SessionsScreen(db))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _loaded(app, pilot)
        assert screen.table.row_count == 2
        with Store.open(db) as store:
            store.branch("crash", at_seq=5, name="later")
        before = screen.loaded
        await pilot.press("r")
        await _reloaded(pilot, screen, before)
        assert screen.table.row_count == 3
        assert next(iter(screen.sessions.values())).name == "later"


async def test_escape_leaves_the_screen(db: Path) -> None:
    app = Host(lambda: SessionsScreen(db))
    async with app.run_test(size=SIZE) as pilot:
        await _loaded(app, pilot)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, SessionsScreen), "leaving")


async def test_a_damaged_session_is_listed_with_why_and_the_others_as_usual(db: Path) -> None:
    with Store.open(db) as store:
        crash = store.resolve("crash")
        # a hand-edited journal row: a timestamp before 1970 cannot be replayed
        store.conn.execute("UPDATE events SET ts = -5 WHERE session_id = ? AND seq = 3", (crash,))
        evil = store.resolve("[b]evil[/b]")
    app = Host(lambda: SessionsScreen(db))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _loaded(app, pilot)
        assert screen.table.row_count == 2
        status = _cells(screen, str(crash))[-1]
        assert status.startswith("ended · damaged:") or status.startswith("damaged:")
        assert _cells(screen, str(evil))[4:6] == ["14", "2"]  # the other one, with results
        screen.table.move_cursor(row=screen.table.get_row_index(str(crash)))
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen  # not opened: it cannot be replayed, and it said so


async def test_deleting_the_session_being_traded_says_to_end_it_first(app_factory, tui) -> None:
    app = app_factory(name="live-one")
    async with app.run_test(size=SIZE) as pilot:
        await tui.settle(pilot)
        await pilot.press("S")
        screen = await _loaded(app, pilot)
        assert screen.selected is not None and screen.selected.name == "live-one"
        await pilot.press("d")
        told = "this is the session you are trading: end it first (q), then delete it"
        await until(
            pilot, lambda: told in [n.message for n in app._notifications], "the warning toast"
        )
        assert app.screen is screen  # no question: it cannot be deleted now
        with Store.open(app.store.path) as store:
            assert [s.name for s in store.sessions()] == ["live-one"]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_every_column_of_the_list_shows_whole(db: Path, size: tuple[int, int]) -> None:
    """At 80 columns the Events column was cut to "E": the list shows the columns that fit
    whole (the results first) and counts the rest on its status line."""
    app = Host(lambda: SessionsScreen(db))
    async with app.run_test(size=size) as pilot:
        screen = await _loaded(app, pilot)
        table = screen.table
        used = sum(col.get_render_width(table) for col in table.columns.values())
        assert 0 < used <= table.scrollable_content_region.width
        keys = [str(k.value) for k in table.columns]
        if size == (80, 24):
            assert keys[:3] == ["name", "pnl", "status"] and screen.hidden > 0
            noun = "column" if screen.hidden == 1 else "columns"
            assert await shows(app, pilot, f"+{screen.hidden} {noun} when wider")
        else:
            assert screen.hidden == 0 and len(keys) == 8
