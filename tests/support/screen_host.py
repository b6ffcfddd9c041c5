"""Helpers for testing one Textual screen at a time (on pytest's pythonpath: `tests/support`).

`Host` runs a single screen the way `papertrade replay` does; `shows` waits for text to be
on screen; `store_with_drills` builds a real store holding shipped drills as sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from papertrade.core import codec
from papertrade.saves.store import Store
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

ROOT = Path(__file__).resolve().parents[2]
DRILLS = ROOT / "examples" / "drills"
SIZE = (120, 40)
CRASH_AND_EVIL = (("btc-crash-cross.jsonl", "crash"), ("limit-orders.jsonl", "[b]evil[/b]"))


class Host(App[None]):
    """Hosts one screen, as `papertrade replay` does."""

    def __init__(self, make: Callable[[], Screen[None]]) -> None:
        super().__init__()
        self._make = make

    def on_mount(self) -> None:
        self.push_screen(self._make())


async def shows(app: App[None], pilot: Pilot[None], text: str) -> bool:
    """Whether `text` appears on screen, literally, within 5 s: returns as soon as it does;
    the margin is for a loaded CI machine, where a log flush can trail by a second."""
    for _ in range(125):
        if text in app.export_screenshot().replace("&#160;", " "):
            return True
        await pilot.pause(0.04)
    return False


def store_with_drills(path: Path, drills: tuple[tuple[str, str], ...] = CRASH_AND_EVIL) -> Path:
    """A store at `path` with each (drill file, session name) imported as a session; the
    second default name is markup on purpose: it must render literally."""
    with Store.open(path) as store:
        for drill, name in drills:
            settings, events = codec.parse_lines((DRILLS / drill).read_text().splitlines())
            store.import_session(settings, events, name=name)
    return path
