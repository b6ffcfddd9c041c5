"""Pacing recorded time onto the wall clock: the one paced loop every feed and player uses.

Why here: the offline feeds (`sim`, `file:`) and the application's replay player and recorded
market all play timestamped events "at N× speed", pausable, with speed changes while playing.
That loop is written once, as `Playback.play`, with the clock and the sleep injected so tests
never wait on the wall clock; `Pacer` is its time arithmetic and `parse_speed` with the `+`/`-`
ladder is the one speed vocabulary.

The rules, for every player:

- event `ts` is due `(ts - ts0) / 1000 / speed` seconds after the anchor `(wall0, ts0)`;
  speed `MAX` (0) means "as soon as the consumer reads";
- play starts, resumes, seeks and changes speed by re-anchoring at the recorded time of the
  last event played: the next event keeps its recorded distance from it (scaled by the speed
  now in force), and no lost time is ever caught up in a burst;
- a wait is slept in naps of at most `MAX_NAP`, so a pause, a speed change or a stop is noticed
  within that; after each nap the loop looks at the next event again (it may have changed:
  a seek, a manual step);
- events already due are played in batches of at most `MAX_BATCH` between yields to the event
  loop, so a UI stays live at max speed or when far behind.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Generic, Protocol, TypeVar

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

MAX = 0.0
"""Speed 0 means max: as fast as possible."""
SPEEDS: tuple[float, ...] = (1.0, 10.0, 60.0, MAX)
"""The speed ladder of the `+`/`-` keys."""
MAX_NAP = 0.1
"""Longest single sleep: a long recorded gap is slept in naps so pause, speed changes and
take-over are noticed within this many seconds."""
MAX_BATCH = 500
"""Most events played back to back (all already due) before yielding to the event loop."""


def parse_speed(value: str | float) -> float:
    """`1`, `2.5`, `10x`, `max` or `0` → a speed factor (0 = max). ValueError otherwise."""
    if isinstance(value, int | float):
        speed = float(value)
    else:
        text = value.strip().lower()
        if text in ("max", "inf", "fast"):
            return MAX
        text = text.removesuffix("x").removesuffix("×")
        try:
            speed = float(text)
        except ValueError:
            raise ValueError(f"speed must be a number, 'Nx' or 'max', got {value!r}") from None
    if not speed >= 0 or speed == float("inf"):
        raise ValueError(f"speed must be >= 0 and finite (0 = max), got {value!r}")
    return speed


def speed_label(speed: float) -> str:
    """`1×`, `10×`, `60×`, `max` — how the status line and the CLI name a speed."""
    if speed == MAX:
        return "max"
    return f"{speed:g}×"


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


T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Cue(Protocol[T_co]):
    """What a `Playback` plays from: the time of the next item without taking it, then the
    item. Looking before taking lets the loop wait for an item that may still change (a seek or
    a manual step replaces it) without holding it."""

    def next_ts(self) -> int | None:
        """Recorded time (ms) of the next item; None at the end."""
        ...

    def take(self) -> T_co:
        """Consume the next item (called only right after `next_ts` returned a time)."""
        ...


class Timed(Protocol):
    @property
    def ts(self) -> int: ...


TimedT = TypeVar("TimedT", bound=Timed)


class Ahead(Generic[TimedT]):
    """A `Cue` over any iterable of timestamped items (feeds): one item of look-ahead."""

    def __init__(self, items: Iterable[TimedT]) -> None:
        self._items: Iterator[TimedT] = iter(items)
        self._next: TimedT | None = None

    def next_ts(self) -> int | None:
        if self._next is None:
            self._next = next(self._items, None)
        return None if self._next is None else self._next.ts

    def take(self) -> TimedT:
        item = self._next
        if item is None:
            raise LookupError("take() without an item: call next_ts() first")
        self._next = None
        return item


class Playback:
    """The one paced loop and its controls: speed, pause/resume, stop, the last time played.

    Its owner (a feed or the replay player) keeps one `Playback`, forwards its own `speed`,
    `pause()`, `resume()` and closing to it, and iterates `play(cue)`. `last_ts` is the
    recorded time of the last event played: the loop sets it, and an owner that plays events
    outside the loop (a manual step, a seek) reports them with `played`/`reanchor`.
    """

    def __init__(
        self,
        speed: float = 1.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        last_ts: int | None = None,
        nap: float = MAX_NAP,
        batch: int = MAX_BATCH,
    ) -> None:
        if nap <= 0 or batch < 1:
            raise ValueError("nap must be > 0 and batch >= 1")
        self._pacer = Pacer(parse_speed(speed), clock)
        self.clock = clock
        self.sleep = sleep
        self.last_ts = last_ts
        self.nap = nap
        self.batch = batch
        self._paused = False
        self._stopped = False
        self._go = asyncio.Event()
        self._go.set()

    @property
    def speed(self) -> float:
        return self._pacer.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._pacer.speed = parse_speed(value)
        self._pacer.reanchor(self.last_ts)

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopped(self) -> bool:
        return self._stopped

    def pause(self) -> None:
        self._paused = True
        self._go.clear()

    def resume(self) -> None:
        """Play on; the next event keeps its recorded distance from the last one played."""
        self._paused = False
        self._pacer.reanchor(self.last_ts)
        self._go.set()

    def stop(self) -> None:
        """End `play` for good at its next step (also out of a pause); safe to call twice."""
        self._stopped = True
        self._go.set()

    def played(self, ts: int) -> None:
        """An event at `ts` was played outside the loop (a manual step)."""
        self.last_ts = ts

    def reanchor(self, last_ts: int | None) -> None:
        """The position jumped (a seek): `last_ts` is now the last time played (None: none)."""
        self.last_ts = last_ts
        self._pacer.reanchor(last_ts)

    async def play(self, cue: Cue[T]) -> AsyncIterator[T]:
        """Yield each item of `cue` when it is due, until the cue ends or `stop()`."""
        self._pacer.reanchor(self.last_ts)
        batch = 0
        while not self._stopped:
            if self._paused:
                await self._go.wait()
                batch = 0
                continue
            ts = cue.next_ts()
            if ts is None:
                return
            delay = self._pacer.delay(ts)
            if delay > 0:
                await self.sleep(min(delay, self.nap))
                batch = 0
                continue  # paused, sped up, stopped or moved meanwhile: look again
            item = cue.take()
            self.last_ts = ts
            yield item
            batch += 1
            if batch >= self.batch:
                await self.sleep(0)
                batch = 0


class PlaybackControls:
    """`speed`, `paused`, `pause()` and `resume()` of a paced feed, forwarded to its
    `_playback`: every paced feed answers the same keys the same way."""

    _playback: Playback

    @property
    def speed(self) -> float:
        return self._playback.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._playback.speed = value

    @property
    def paused(self) -> bool:
        return self._playback.paused

    def pause(self) -> None:
        self._playback.pause()

    def resume(self) -> None:
        """Play on; the next event keeps its recorded distance from the last one played."""
        self._playback.resume()
