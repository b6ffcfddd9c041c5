"""Replaying a saved session, and taking it over: the non-Textual half of the replay screen.

Why a separate, UI-free module: the replay rules (what is played, at which pace, where a
take-over branches) are the part worth testing exactly, and they must not need a terminal.
The screen (`tui/screens/replay.py`) only drives a `ReplayPlayer` and draws its engine.

- `ReplayPlayer` plays a session's journal into its own fresh `Engine`: the recorded market
  events *and* the recorded commands, so the recorded orders and fills happen again exactly as
  they did (the engine is deterministic). Pacing follows the recorded timestamps scaled by the
  speed (1×, 10×, 60×, or max = as fast as possible, in chunks that yield to the event loop).
  The clock and the sleep are injected so tests never wait.
- `ReplayPlayer.take_over()` branches the session at the current sequence number through the
  store (`Store.branch` + `Store.resume`) and returns a `TakeOver`: the engine at that state,
  the branch's `SessionWriter`, and a `RecordedMarketFeed` of the parent's *market* events
  after the branch point (its recorded commands are left out: from there the trader decides).
- `RecordedMarketFeed` implements the `feeds.base.Feed` protocol, so a trading screen consumes
  it exactly like a live feed.

The store is not thread-safe; everything here runs on the event loop's thread and reads the
journal in chunks of `CHUNK` events so no cursor stays open across an `await`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from core import events as ev
from core.engine import Engine
from feeds.base import FeedStatus
from saves.store import instruments_for

if TYPE_CHECKING:
    from saves.store import SessionInfo, Store
    from saves.writer import SessionWriter

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

SPEEDS: tuple[float, ...] = (1.0, 10.0, 60.0, 0.0)
"""The speed ladder of the `+`/`-` keys; 0 means max (as fast as possible)."""
MAX = 0.0
CHUNK = 2000
"""Journal rows read per query; also the most events applied at max speed between yields."""
MAX_BATCH = 500
"""At max speed (or when far behind schedule), events applied before yielding to the loop."""
HISTORY_POINTS = 600
HISTORY_SPACING_MS = 1000
MAX_NAP = 0.1
"""Longest single sleep: a long recorded gap is slept in naps so pause, speed changes and
take-over are noticed within this many seconds."""


def speed_label(speed: float) -> str:
    """`1×`, `10×`, `60×`, `max` — how the status line and the CLI name a speed."""
    if speed == MAX:
        return "max"
    return f"{speed:g}×"


def parse_speed(text: str | float) -> float:
    """`1`, `10x`, `60`, `max` → a speed factor (0 = max). Raises ValueError otherwise."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        word = text.strip().lower()
        if word in ("max", "inf", "fast", "0"):
            return MAX
        word = word.removesuffix("x").removesuffix("×")
        try:
            value = float(word)
        except ValueError:
            raise ValueError(f"speed must be 1, 10, 60 or max, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"speed must be a positive number or max, got {text!r}")
    return value


def faster(speed: float) -> float:
    """The next step up the ladder (max stays max)."""
    if speed == MAX:
        return MAX
    return next((s for s in SPEEDS if s != MAX and s > speed), MAX)


def slower(speed: float) -> float:
    """The next step down the ladder (1× stays 1×)."""
    finite = [s for s in SPEEDS if s != MAX]
    if speed == MAX:
        return finite[-1]
    return next((s for s in reversed(finite) if s < speed), finite[0])


class Pacer:
    """Maps recorded time onto wall time at a speed: event `ts` is due at
    `wall0 + (ts - ts0) / 1000 / speed`.

    The anchor (`wall0`, `ts0`) is reset whenever the speed changes or play resumes, so a pause
    or a speed change never makes the player rush to "catch up" on lost time.
    """

    def __init__(self, speed: float = 1.0, clock: Clock = time.monotonic) -> None:
        self._speed = speed
        self._clock = clock
        self._anchor: tuple[float, int] | None = None

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._speed = value
        self._anchor = None

    def reanchor(self, at_ts: int | None = None) -> None:
        """Restart the clock. With `at_ts` (the recorded time of the last event played) the
        next event keeps its recorded distance from it; without, it is due at once."""
        self._anchor = None if at_ts is None else (self._clock(), at_ts)

    def delay(self, ts: int) -> float:
        """Seconds to wait before the event at `ts` is due (0 at max speed or when late)."""
        if self._speed == MAX:
            return 0.0
        now = self._clock()
        if self._anchor is None:
            self._anchor = (now, ts)
            return 0.0
        wall0, ts0 = self._anchor
        return max(0.0, wall0 + (ts - ts0) / 1000 / self._speed - now)


@dataclass(slots=True, frozen=True)
class Played:
    """One journal entry played: its sequence number, the input and what the engine said."""

    seq: int
    event: ev.Event
    outcomes: tuple[ev.Outcome, ...]


_PRICED = frozenset({"mark", "quote"})


class _JournalReader:
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
        self._clock = clock
        self._sleep = sleep
        self._pacer = Pacer(speed, clock)
        self.paused = False
        self._resumed: asyncio.Event | None = None
        self.outcomes: list[tuple[int, ev.Outcome]] = []
        self.history: dict[str, deque[tuple[int, Decimal]]] = {}
        self.dirty = True
        self.taken_over = False
        if start_seq:
            self.engine = store.engine_at(self.info.id, start_seq, self._book)
            self.seq = min(start_seq, self.total)
        else:
            self.engine = Engine(instruments=self._book, settings=self.info.settings)
            self.seq = 0
        self._reader = _JournalReader(store, self.info.id, self.seq, self.total)

    # --- state -----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def speed(self) -> float:
        return self._pacer.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._pacer.speed = value
        self.dirty = True

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
        self.paused = True
        self.dirty = True

    def resume(self) -> None:
        self.paused = False
        self._pacer.reanchor(self._played_ts())
        if self._resumed is not None:
            self._resumed.set()
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
        if event.type in _PRICED:
            self._sample(event)  # type: ignore[arg-type]
        self.dirty = True
        return Played(seq, event, out)

    def _sample(self, event: ev.MarkPrice | ev.Quote) -> None:
        if isinstance(event, ev.MarkPrice):
            price = event.price
        elif self.engine.markets[event.symbol].has_mark:
            return
        else:
            price = (event.bid + event.ask) / 2
        hist = self.history.get(event.symbol)
        if hist is None:
            hist = self.history[event.symbol] = deque(maxlen=HISTORY_POINTS)
        if hist and event.ts - hist[-1][0] < HISTORY_SPACING_MS:
            hist[-1] = (hist[-1][0], price)
        else:
            hist.append((event.ts, price))

    def seek(self, target: int) -> int:
        """Jump to just after journal entry `target` (clamped to 0..total); returns it.

        The engine is rebuilt by the store from its nearest snapshot (`Store.engine_at`), so a
        jump costs at most `SNAPSHOT_EVERY` events whatever the distance. Outcomes and the
        price history keep what happened up to the new position; a forward jump skips the
        outcomes in between (they were not played), which the screen says in its log.
        """
        if self.taken_over:
            return self.seq
        target = max(0, min(target, self.total))
        if target == 0:
            self.engine = Engine(instruments=self._book, settings=self.info.settings)
        else:
            self.engine = self.store.engine_at(self.info.id, target, self._book)
        self.seq = target
        self.outcomes = [(s, o) for s, o in self.outcomes if s <= target]
        last_ts = self.engine.last_ts if target else -1
        for hist in self.history.values():
            while hist and hist[-1][0] > last_ts:
                hist.pop()
        self._reader = _JournalReader(self.store, self.info.id, target, self.total)
        self._pacer.reanchor(self._played_ts())
        self.dirty = True
        return target

    def play_to_end(self) -> list[Played]:
        """Play everything left synchronously (tests, headless use)."""
        played = []
        while (p := self.step()) is not None:
            played.append(p)
        return played

    async def run(self) -> None:
        """Play until the end (or a take-over), honouring pause and speed; returns then.

        At a finite speed each event waits for its recorded time scaled; events already due
        are applied in batches of at most `MAX_BATCH` between yields so the UI stays live.
        """
        self._resumed = asyncio.Event()
        if not self.paused:
            self._resumed.set()
        self._pacer.reanchor(self._played_ts())
        batch = 0
        while not self.finished and not self.taken_over:
            if self.paused:
                self._resumed.clear()
                await self._resumed.wait()
                batch = 0
                continue
            nxt = self._reader.peek()
            if nxt is None:
                break
            delay = self._pacer.delay(nxt[1].ts)
            if delay > 0:
                await self._sleep(min(delay, MAX_NAP))
                batch = 0
                continue  # paused, sped up or taken over meanwhile: look again
            self.step()
            batch += 1
            if batch >= MAX_BATCH:
                await self._sleep(0)
                batch = 0
        self.dirty = True

    # --- take-over -------------------------------------------------------------------------

    def take_over(self, name: str | None = None) -> TakeOver:
        """Branch here and hand over: engine at this state, the branch's writer, the feed.

        The branch point is the last event played (`seq`). The returned feed plays the
        parent's market events after it at this player's speed, paused if the player was
        (a trader who paused to think takes over without the market running away); recorded
        commands after the branch point are dropped, since the trader now makes their own.
        The player stops.
        """
        was_paused = self.paused
        self.taken_over = True
        self.paused = True
        if self._resumed is not None:
            self._resumed.set()
        branch_id = self.store.branch(self.info.id, at_seq=self.seq, name=name)
        engine, writer = self.store.resume(branch_id)
        feed = RecordedMarketFeed(
            self.store,
            self.info.id,
            after_seq=self.seq,
            start_ts=self.engine.last_ts if self.seq else None,
            speed=self.speed,
            clock=self._clock,
            sleep=self._sleep,
        )
        if was_paused:
            feed.pause()
        self.dirty = True
        found = [*self.info.symbols, *self.engine.markets, *self.engine.positions]
        return TakeOver(
            branch_id=branch_id,
            name=writer.name,
            parent_id=self.info.id,
            branch_seq=self.seq,
            engine=engine,
            writer=writer,
            feed=feed,
            store=self.store,
            venue=self.info.venue,
            symbols=tuple(s for s in sorted(dict.fromkeys(found)) if s in engine.instruments),
            history={s: deque(h, maxlen=h.maxlen) for s, h in self.history.items()},
        )


@dataclass(slots=True)
class TakeOver:
    """What continuing live on recorded prices needs: feed `feed`'s events to `engine` and
    journal them, and the trader's commands, through `writer` (`writer.apply(event)` does
    both; its engine is `engine`). Stamp commands with `engine.last_ts` (sim time), not the
    wall clock, so the branch's journal stays in recorded time.

    `store` is the store the branch was made in and that `feed` reads the recording from: it
    must stay open while the feed plays, and be closed after (by whoever opened it). `venue`,
    `symbols` (the recorded symbols the engine can trade) and `history` (the replay's price
    line up to the branch point) let a trading screen start where the replay left off."""

    branch_id: int
    name: str
    parent_id: int
    branch_seq: int
    engine: Engine
    writer: SessionWriter
    feed: RecordedMarketFeed
    store: Store
    venue: str
    symbols: tuple[str, ...] = ()
    history: dict[str, deque[tuple[int, Decimal]]] = field(default_factory=dict)


class RecordedMarketFeed:
    """A session's recorded market events after a sequence number, as a `Feed`.

    Pacing is the `Pacer`'s (changeable while playing through `speed`); `pause()`/`resume()`
    hold the stream. Status goes `connecting` → `live` → `ended` (or `ended: closed`).
    """

    def __init__(
        self,
        store: Store,
        session: str | int,
        *,
        after_seq: int = 0,
        start_ts: int | None = None,
        speed: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        info = store.session(session)
        self.name = f"replay:{info.name}"
        self._last_ts = start_ts
        """Recorded time of the last event played (or of the branch point): the next event
        keeps its recorded distance from it, after a take-over or a pause alike."""
        self._store = store
        self._sid = info.id
        self._last = info.last_seq
        self.after_seq = after_seq
        self.position = after_seq
        """Parent sequence number of the last event yielded."""
        self._pacer = Pacer(speed, clock)
        self._sleep = sleep
        self._status = FeedStatus("connecting")
        self._closed = False
        self.paused = False
        self._resumed = asyncio.Event()
        self._resumed.set()

    @property
    def status(self) -> FeedStatus:
        return self._status

    @property
    def speed(self) -> float:
        return self._pacer.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._pacer.speed = value

    def pause(self) -> None:
        self.paused = True
        self._resumed.clear()

    def resume(self) -> None:
        self.paused = False
        self._pacer.reanchor(self._last_ts)
        self._resumed.set()

    def events(self) -> Iterator[tuple[int, ev.MarketEvent]]:
        """The unpaced remainder `(parent seq, event)`: market events only."""
        reader = _JournalReader(self._store, self._sid, self.after_seq, self._last)
        while (item := reader.pop()) is not None:
            seq, event = item
            if event.type in ev.MARKET_TYPES:
                yield seq, event  # type: ignore[misc]

    def __aiter__(self) -> AsyncIterator[ev.MarketEvent]:
        return self._run()

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        """Stop the stream (the iterator returns at its next step); safe to call twice."""
        self._closed = True
        self._resumed.set()
        if self._status.state != "ended":
            self._status = FeedStatus("ended", "closed")

    async def _run(self) -> AsyncIterator[ev.MarketEvent]:
        self._status = FeedStatus("live")
        self._pacer.reanchor(self._last_ts)
        reader = _JournalReader(self._store, self._sid, self.position, self._last)
        batch = 0
        while not self._closed:
            if self.paused:
                await self._resumed.wait()
                continue
            item = reader.peek()
            if item is None:
                break
            seq, event = item
            if event.type not in ev.MARKET_TYPES:
                reader.pop()
                self.position = seq
                continue
            delay = self._pacer.delay(event.ts)
            if delay > 0:
                await self._sleep(min(delay, MAX_NAP))
                batch = 0
                continue
            reader.pop()
            self.position = seq
            batch += 1
            if batch >= MAX_BATCH:
                await self._sleep(0)
                batch = 0
            self._last_ts = event.ts
            yield event  # type: ignore[misc]
        if not self._closed:
            self._status = FeedStatus("ended", "end of the recording")
