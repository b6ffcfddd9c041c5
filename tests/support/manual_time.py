"""A manual clock and sleep for pacing tests: time moves only when the code under test sleeps.

Why one shared class: every paced thing (`feeds.pacing.Playback` and the feeds and players
built on it) takes a `clock` and a `sleep`; with these, a test of "10 s recorded at 10×" takes
no wall time, never races a loaded machine, and can check every nap that was asked for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class ManualTime:
    """`clock()` reads `now`; `await sleep(s)` records `s`, adds it to `now`, runs the actions
    that have come due (`at`: a key pressed while the player waits) and lets the loop turn."""

    def __init__(self, start: float = 1000.0, real_pause: float = 0.0) -> None:
        self.start = start
        self.real_pause = real_pause
        """Wall seconds each `sleep` also yields: 0 lets a feed run as fast as the loop turns.
        A test pressing keys in a whole app while the feed runs sets ~10 ms: Pilot waits for
        the app to go idle after each key, which a flooding feed delays by seconds. What is
        played stays the same (only `now` decides it); this only throttles."""
        self.now = start
        self.sleeps: list[float] = []
        self._actions: list[tuple[float, Callable[[], None]]] = []

    @property
    def elapsed(self) -> float:
        """Seconds slept (or added to `now` by the test) since the start."""
        return self.now - self.start

    def clock(self) -> float:
        return self.now

    def at(self, elapsed: float, action: Callable[[], None]) -> None:
        """Run `action` once `elapsed` seconds have passed since the start."""
        self._actions.append((self.start + elapsed, action))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        for item in [a for a in self._actions if a[0] <= self.now + 1e-9]:
            self._actions.remove(item)
            item[1]()
        await asyncio.sleep(self.real_pause)


async def settle(condition: Callable[[], bool], what: str, turns: int = 1000) -> None:
    """Let the event loop turn until `condition` holds: loop turns, never wall time."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


async def turns(n: int = 20) -> None:
    """Let the event loop turn `n` times (to show that something does *not* happen)."""
    for _ in range(n):
        await asyncio.sleep(0)
