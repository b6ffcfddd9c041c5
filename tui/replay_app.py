"""`papertrade replay SESSION [--speed 1|10|60|max]`: replay a session, then take it over.

Two apps, one after the other:

1. `ReplayApp` hosts the `ReplayScreen`; leaving it exits. `t` branches the session at that
   moment (`ReplayPlayer.take_over`) and the screen dismisses with the `TakeOver`, which the
   app keeps in `taken` as it exits.
2. `TakeOverApp` is the trading terminal itself (`PapertradeApp` + `TradingScreen`: every
   trading key, the palette, help, the summary on quit) on a `TradingSession` over the
   branch's engine and writer. Its feed is the `TakeOver`'s `RecordedMarketFeed`, run by the
   app's own feed worker — conflated and applied with `TradingSession.on_market` exactly like
   a live feed — so the recorded market keeps playing into the branch and into its journal.

Why a second app rather than pushing a `TradingScreen` inside the replay app: the trading
screen leans on its `PapertradeApp` for the feed worker, the status bar, the log, saving and
the quit summary. Hosting it anywhere else would mean a second copy of all that, and the
replay needs none of it until the take-over. The cost is one full redraw at the hand-over.

Store lifecycle: `ReplayApp` opens one `Store` and closes it when it exits, unless the trader
took over: then the branch's writer, its feed, and the store the feed reads (`TakeOver.store`)
are handed on and `TakeOverApp.release()` closes them, after the trading app has ended. The
store is also opened once up front (`run_replay_app`) so that a wrong database or an unknown
session is a plain error message and exit status 2, not a traceback inside the terminal UI.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from papertrade.feeds.base import Feed
from papertrade.feeds.pacing import parse_speed
from papertrade.saves.errors import StoreError
from papertrade.saves.store import Store
from papertrade.tui.app import FeedConfig, PapertradeApp
from papertrade.tui.screens.replay import ReplayScreen
from papertrade.tui.service.recorded import RecordedMarketFeed
from papertrade.tui.service.takeover import TakeOver
from papertrade.tui.service.trading import TradingSession
from textual.app import App


class ReplayApp(App[int]):
    """Hosts the replay screen; after a take-over, `taken` holds what the trading app needs."""

    TITLE = "papertrade replay"

    def __init__(self, db_path: Path | str | None, session: str | int, speed: float = 1.0) -> None:
        super().__init__()
        self.db_path = db_path
        self.session_ref = session
        self.speed = speed
        self.store: Store | None = None
        self.taken: TakeOver | None = None

    def on_mount(self) -> None:
        try:
            self.store = Store.open(self.db_path)
        except StoreError:
            self.store = None  # the screen opens it again and shows the error in its status
        screen = ReplayScreen(
            self.db_path, self.session_ref, speed=self.speed, store=self.store, hand_over=True
        )
        self.push_screen(screen, self._replay_done)

    def _replay_done(self, taken: TakeOver | None) -> None:
        self.taken = taken
        self.exit(0)

    def on_unmount(self) -> None:
        """Close the store, unless it went with a take-over (its feed still reads it)."""
        if self.taken is None and self.store is not None:
            self.store.close()


@dataclass(slots=True)
class RecordedFeedConfig(FeedConfig):
    """The take-over's feed, for `PapertradeApp`: the parent session's recorded market.

    It reports the `file` kind because that is how the app recognises a recording: it plays
    every symbol it holds (adding a symbol starts no extra feed — which here would iterate the
    same recording twice), and it is offline (no "venue unreachable" hint).
    """

    recorded: RecordedMarketFeed | None = None

    @property
    def kind(self) -> str:
        return "file"

    def open(self, symbols: Sequence[str]) -> Feed:
        assert self.recorded is not None
        return self.recorded


@dataclass(frozen=True, slots=True)
class BranchTrading:
    """What a `PapertradeApp` trades a take-over with — shared by `TakeOverApp` and
    `PapertradeApp.adopt_take_over` (a replay taken over inside a running terminal), so both
    trade the branch the same way.

    `session` trades on the branch's engine and journals through its writer, its chart going
    on from the replay's line; `feed` is the recording as the app's feed; `clock` stamps log
    lines in recorded time, like the branch's journal; `greeting` is what the log says first.
    """

    session: TradingSession
    feed: RecordedFeedConfig
    clock: Callable[[], float]
    greeting: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, taken: TakeOver) -> BranchTrading:
        session = TradingSession(
            taken.engine, taken.symbols, writer=taken.writer, venue=taken.venue
        )
        session.history.update(taken.history)
        engine = taken.engine
        return cls(
            session=session,
            feed=RecordedFeedConfig(
                spec=taken.feed.name, speed=taken.feed.speed, recorded=taken.feed
            ),
            clock=lambda: engine.last_ts / 1000 if engine.last_ts else time.time(),
            greeting=(
                (f"took over at seq {taken.branch_seq}: branch session {taken.name}", "bold"),
                ("space pauses/plays the recorded market · + / - its speed", "dim"),
            ),
        )


class TakeOverApp(PapertradeApp):
    """The trading terminal on a replay taken over: the branch session on recorded prices.

    On top of the trading keys, `space` pauses/plays the recorded market and `+`/`-` change
    its speed (`PapertradeApp` enables those keys while its feed is a recording) — a
    recording, unlike a venue, can wait while the trader thinks (and a replay paused at the
    take-over hands over a paused market). Log lines are stamped in recorded time, like the
    branch's journal.
    """

    TITLE = "papertrade take-over"

    def __init__(self, taken: TakeOver) -> None:
        branch = BranchTrading.of(taken)
        super().__init__(
            branch.session,
            branch.feed,
            writer=taken.writer,
            store=taken.store,
            session_name=taken.name,
            wall_clock=branch.clock,
        )
        self.taken = taken
        self.recorded = taken.feed
        # Queued for the trading screen's first flush. (Not in an `on_mount`: Textual runs
        # every class's `on_mount` along the MRO, so overriding it would start two screens.)
        for line, style in branch.greeting:
            self.log_line(line, style)

    def release(self) -> None:
        """After the app: save the branch (`interrupted` if it did not end by quitting) and
        close the store its feed read. Safe to call twice."""
        self.close_session("interrupted")
        self.taken.feed.close()
        self.taken.store.close()


def run_take_over(taken: TakeOver) -> int:
    """Run the trading terminal on `taken` until the trader quits; the branch is saved
    (`ended` on a normal quit) and the store closed whatever happens."""
    try:
        app = TakeOverApp(taken)
    except BaseException:
        taken.writer.close("interrupted")  # nothing traded yet: release the lock, then say so
        taken.store.close()
        raise
    try:
        app.run()
    finally:
        app.release()
    status = app.saved_status or "ended"
    where = taken.store.path
    print(
        f"papertrade: branch session #{taken.branch_id} {taken.name!r} saved in {where} ({status})"
    )
    return int(app.return_code or 0)


def run_replay_app(
    db_path: Path | str | None,
    session: str | int,
    speed: str | float,
    *,
    require_tty: bool = True,
) -> int:
    """Open the interactive replay of `session`; returns the exit status (2 on bad input).

    Without a terminal (output piped, run from a script) a full-screen app cannot work, so
    that is refused with a pointer to `--headless` instead of drawing into a pipe. A take-over
    moves on to the trading terminal on the branch (`run_take_over`).
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
    replay = ReplayApp(resolved, info.id, factor)
    result = replay.run()
    if replay.taken is None:
        return int(result or 0)
    return run_take_over(replay.taken)
