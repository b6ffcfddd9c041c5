"""`papertrade replay SESSION [--speed 1|10|60|max]`: a small app around the replay screen.

Why its own app rather than `PapertradeApp`: a replay needs no live feed, no trading session
and nothing to save until the trader takes over — and then the replay screen owns the branch
session itself. Leaving the `ReplayScreen` (or, after a take-over, the branch's summary
shown over it) exits. The store is opened once up front so that a wrong
database or an unknown session is a plain error message and exit status 2, not a traceback
inside the terminal UI.
"""

from __future__ import annotations

import sys
from pathlib import Path

from textual.app import App

from saves.errors import StoreError
from saves.store import Store
from tui.replay import parse_speed
from tui.screens.replay import ReplayScreen


class ReplayApp(App[int]):
    TITLE = "papertrade replay"

    def __init__(self, db_path: Path | str | None, session: str | int, speed: float = 1.0) -> None:
        super().__init__()
        self.db_path = db_path
        self.session_ref = session
        self.speed = speed

    def on_mount(self) -> None:
        screen = ReplayScreen(self.db_path, self.session_ref, speed=self.speed)
        self.push_screen(screen, lambda _: self.exit(0))


def run_replay_app(
    db_path: Path | str | None,
    session: str | int,
    speed: str | float,
    *,
    require_tty: bool = True,
) -> int:
    """Open the interactive replay of `session`; returns the exit status (2 on bad input).

    Without a terminal (output piped, run from a script) a full-screen app cannot work, so
    that is refused with a pointer to `--headless` instead of drawing into a pipe.
    """
    if require_tty and not sys.stdout.isatty():
        print(
            "papertrade replay: error: the interactive replay needs a terminal; use "
            "--headless to print the session's outcomes",
            file=sys.stderr,
        )
        return 2
    try:
        factor = parse_speed(speed)
    except ValueError as exc:
        print(f"papertrade replay: error: {exc}", file=sys.stderr)
        return 2
    try:
        with Store.open(db_path) as store:
            info = store.session(session)
            resolved: Path | str | None = store.path
    except StoreError as exc:
        print(f"papertrade replay: error: {exc}", file=sys.stderr)
        return 2
    result = ReplayApp(resolved, info.id, factor).run()
    return int(result or 0)
