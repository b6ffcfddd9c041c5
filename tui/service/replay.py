"""`ReplayPlayer`: a saved session played again into a fresh engine, paced, pausable, seekable.

Why UI-free: the replay rules (what is played, at which pace, where a take-over branches) are
the part worth testing exactly, and they must not need a terminal. The replay screen only
drives a player and draws its engine; `papertrade replay --headless` needs none of the pacing.

The player feeds the journal's recorded market events *and* recorded commands to its engine,
so the recorded orders and fills happen again exactly as they did (the engine is
deterministic). Pacing is the one paced loop of `feeds.pacing.Playback` (recorded timestamps
scaled by the speed, naps, batches, re-anchoring at the last event played); the clock and the
sleep are injected so tests never wait. Taking over at the current
position is `tui.service.takeover.take_over(player)`.

The store is not thread-safe; the player reads the journal in chunks of `CHUNK` events so no
cursor stays open across an `await`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import instruments_for
from papertrade.feeds.pacing import Clock, Playback
from papertrade.feeds.pacing import Sleep as Sleep  # re-exported: screens import it from here
from papertrade.tui.service.history import sample
from papertrade.tui.service.ledger import OpenFees

if TYPE_CHECKING:
    from papertrade.saves.store import SessionInfo, Store

CHUNK = 2000
"""Journal rows read per query."""


@dataclass(slots=True, frozen=True)
class Played:
    """One journal entry played: its sequence number, the input and what the engine said."""

    seq: int
    event: ev.Event
    outcomes: tuple[ev.Outcome, ...]


_PRICED = frozenset({"mark", "quote"})


class JournalReader:
    """Reads a session's journal forward from a sequence number, `CHUNK` rows per query."""

    def __init__(self, store: Store, session_id: int, after: int, last: int) -> None:
        self._store = store
        self._sid = session_id
        self._next = after + 1
        self._last = last
        self._buffer: deque[tuple[int, ev.Event]] = deque()

    def peek(self) -> tuple[int, ev.Event] | None:
        if not self._buffer and self._next <= self._last:
            hi = min(self._last, self._next + CHUNK - 1)
            self._buffer.extend(self._store.events(self._sid, self._next, hi))
            self._next = hi + 1
        return self._buffer[0] if self._buffer else None

    def pop(self) -> tuple[int, ev.Event] | None:
        item = self.peek()
        if item is not None:
            self._buffer.popleft()
        return item


class ReplayPlayer:
    """Plays one saved session into a fresh engine, paced, pausable and steppable.

    Read side for the widgets: `engine` (the replay's state), `seq` / `total` (position in the
    journal), `sim_ts` (recorded time of the last event played), `outcomes` (every outcome so
    far, with its seq: outcomes are rare next to market events, so this stays small),
    `history` (a bounded price line per symbol for the chart: marks, or the quote mid until
    a symbol's first mark, at most one point a second of recorded time) and `dirty` (set on
    every change; the screen clears it when it redraws).
    """

    def __init__(
        self,
        store: Store,
        session: str | int,
        *,
        speed: float = 1.0,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        start_seq: int = 0,
    ) -> None:
        clock = clock or time.monotonic
        sleep = sleep or asyncio.sleep
        self.store = store
        self.info: SessionInfo = store.session(session)
        self.total = self.info.last_seq
        self._book = instruments_for(self.info.venue)
        self.clock = clock
        self.sleep = sleep
        self._playback = Playback(speed, clock=clock, sleep=sleep)
        self.outcomes: list[tuple[int, ev.Outcome]] = []
        self.fees = OpenFees()
        """Fees paid on each open position, for the break-even (rebuilt on a seek)."""
        self.history: dict[str, deque[tuple[int, Decimal]]] = {}
        self.dirty = True
        self.taken_over = False
        if start_seq:
            self.engine = store.engine_at(self.info.id, start_seq, self._book)
            self.seq = min(start_seq, self.total)
        else:
            self.engine = Engine(instruments=self._book, settings=self.info.settings)
            self.seq = 0
        if self.seq:
            self._fees_at(self.seq)
        self._reader = JournalReader(store, self.info.id, self.seq, self.total)
        self._playback.reanchor(self._played_ts())

    # --- state -----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def speed(self) -> float:
        return self._playback.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._playback.speed = value
        self.dirty = True

    @property
    def paused(self) -> bool:
        return self._playback.paused

    @property
    def finished(self) -> bool:
        return self.seq >= self.total

    @property
    def sim_ts(self) -> int | None:
        """Recorded time (ms UTC) of the last event played; None before the first."""
        return self.engine.last_ts if self.seq else None

    # --- controls --------------------------------------------------------------------------

    def _played_ts(self) -> int | None:
        """Recorded time of the last event played, None before the first."""
        return self.engine.last_ts if self.seq else None

    def pause(self) -> None:
        self._playback.pause()
        self.dirty = True

    def resume(self) -> None:
        """Play on: the next event keeps its recorded distance from the last one played."""
        self._playback.reanchor(self._played_ts())
        self._playback.resume()
        self.dirty = True

    def toggle_pause(self) -> bool:
        """Pause or resume; returns the new `paused`."""
        if self.paused:
            self.resume()
        else:
            self.pause()
        return self.paused

    def step(self) -> Played | None:
        """Play exactly one journal entry now, whatever the pace; None at the end."""
        if self.taken_over:
            return None
        item = self._reader.pop()
        if item is None:
            return None
        seq, event = item
        out = tuple(self.engine.apply(event))
        self.seq = seq
        if out:
            self.outcomes.extend((seq, o) for o in out)
            self.fees.on_outcomes(out)
        if event.type in _PRICED:
            sample(self.history, event, self.engine)  # type: ignore[arg-type]
        self._playback.played(self.engine.last_ts)
        self.dirty = True
        return Played(seq, event, out)

    def clamp(self, target: int) -> int:
        """`target` within the journal: 0 … total."""
        return max(0, min(target, self.total))

    def engine_at(self, target: int, store: Store | None = None) -> Engine:
        """The engine just after journal entry `target`, rebuilt from the nearest snapshot
        (`Store.engine_at`): at most `SNAPSHOT_EVERY` events whatever the distance. `store`:
        another connection to the same file (a worker thread has its own)."""
        if target == 0:
            return Engine(instruments=self._book, settings=self.info.settings)
        return (store or self.store).engine_at(self.info.id, target, self._book)

    def seek(self, target: int, engine: Engine | None = None) -> int:
        """Jump to just after journal entry `target` (clamped to 0..total); returns it.

        `engine` is that state when it was already rebuilt (`engine_at`, off the UI thread).
        Outcomes and the price history keep what happened up to the new position; a forward
        jump skips the outcomes in between (they were not played), which the screen says in
        its log. Seeking works from anywhere, the end included.
        """
        if self.taken_over:
            return self.seq
        target = self.clamp(target)
        self.engine = engine if engine is not None else self.engine_at(target)
        self.seq = target
        self.outcomes = [(s, o) for s, o in self.outcomes if s <= target]
        self._fees_at(target)
        last_ts = self.engine.last_ts if target else -1
        for hist in self.history.values():
            while hist and hist[-1][0] > last_ts:
                hist.pop()
        self._reader = JournalReader(self.store, self.info.id, target, self.total)
        self._playback.reanchor(self._played_ts())
        self.dirty = True
        return target

    def _fees_at(self, target: int) -> None:
        """The open positions' fees just after entry `target`: from the journal's stored
        outcomes when the session is derived, else from the outcomes played (a forward jump
        past unplayed fills leaves them unknown: `OpenFees` then says so)."""
        self.fees = OpenFees()
        if self.info.fills is not None:
            self.fees.carry_journal(self.store.stored_outcomes(self.info.id), upto=target)
        else:
            self.fees.on_outcomes(o for _, o in self.outcomes)

    def play_to_end(self) -> list[Played]:
        """Play everything left synchronously (tests, headless use)."""
        played = []
        while (p := self.step()) is not None:
            played.append(p)
        return played

    async def run(self) -> None:
        """Play until the end (or a take-over), honouring pause and speed; returns then.

        At a finite speed each event waits for its recorded time scaled; events already due
        are applied in bounded batches between yields so the UI stays live (`Playback`).
        """
        self._playback.reanchor(self._played_ts())
        async for _ in self._playback.play(_Steps(self)):
            pass
        self.dirty = True

    def hand_over(self) -> bool:
        """Stop playing for good (a take-over branches here); returns whether it was paused."""
        was_paused = self.paused
        self.taken_over = True
        self._playback.pause()
        self._playback.stop()
        self.dirty = True
        return was_paused


class _Steps:
    """The player as the `Cue` its `Playback` plays: look at the next journal entry, then
    `step()` it (a seek in between simply changes what is looked at next)."""

    def __init__(self, player: ReplayPlayer) -> None:
        self._player = player

    def next_ts(self) -> int | None:
        item = self._player._reader.peek()
        return None if item is None else item[1].ts

    def take(self) -> Played | None:
        return self._player.step()
