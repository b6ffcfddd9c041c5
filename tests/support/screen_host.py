"""Helpers for the screen tests (on pytest's pythonpath: `tests/support`).

`until` is the one way a test waits: it awaits a condition, letting the app run between
looks, and fails only after a generous guard (`GUARD_S`) — a busy machine makes a test slower,
never red. `shows` waits for text to be on screen; `Host` runs a single screen in a bare app
(for screens that need no terminal host); `store_with_drills` builds a real store holding
shipped drills as sessions.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from papertrade.core import codec
from papertrade.saves.store import Store

ROOT = Path(__file__).resolve().parents[2]
DRILLS = ROOT / "examples" / "drills"
SIZE = (120, 40)
CRASH_AND_EVIL = (("btc-crash-cross.jsonl", "crash"), ("limit-orders.jsonl", "[b]evil[/b]"))


class Host(App[None]):
    """Hosts one screen, as `papertrade replay` does."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self._make = make

    def on_mount(self) -> None:
        self.push_screen(self._make())


GUARD_S = 60.0
"""How long `until` waits before calling a test failed: a guard against a hang, not a pace."""


async def until(pilot: Pilot[Any], done: Callable[[], bool], what: str) -> None:
    """Let the app run until `done()` holds; AssertionError naming `what` after `GUARD_S`."""
    deadline = time.monotonic() + GUARD_S
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def on_screen(app: App[Any], text: str) -> bool:
    """Whether `text` is on screen now, literally."""
    return text in app.export_screenshot().replace("&#160;", " ")


async def shows(app: App[Any], pilot: Pilot[Any], text: str) -> bool:
    """Whether `text` comes on screen, literally (waits for it: see `until`); on a time-out the
    error shows what was on screen instead."""
    try:
        await until(pilot, lambda: on_screen(app, text), f"{text!r} on screen")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the screen shows:\n{screen_text(app)}") from None
    return True


def screen_text(app: App[Any]) -> str:
    """The screen's text, roughly (from the SVG screenshot; for failure messages)."""
    svg = app.export_screenshot()
    parts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    return html.unescape(" ".join(parts)).replace("\xa0", " ")


def store_with_drills(path: Path, drills: tuple[tuple[str, str], ...] = CRASH_AND_EVIL) -> Path:
    """A store at `path` with each (drill file, session name) imported as a session; the
    second default name is markup on purpose: it must render literally."""
    with Store.open(path) as store:
        for drill, name in drills:
            settings, events = codec.parse_lines((DRILLS / drill).read_text().splitlines())
            store.import_session(settings, events, name=name)
    return path


def log_text(app: App[Any]) -> str:
    """The trading log as one line of words (the panel wraps long lines to its width)."""
    panel = app.trading.log_panel  # type: ignore[attr-defined]
    return " ".join(" ".join(line.text for line in panel.lines).split())


async def logged(app: App[Any], pilot: Pilot[Any], text: str) -> bool:
    """Whether `text` comes into the trading log (waits for it: see `until`)."""
    await until(pilot, lambda: text in log_text(app), f"{text!r} in the log")
    return True
