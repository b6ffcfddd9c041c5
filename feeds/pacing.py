"""Pacing recorded time onto the wall clock: the one pacer every paced feed and player uses.

Why here: the offline feeds (`sim`, `file:`) and the application's replay player and recorded
market all play timestamped events "at N× speed"; one `Pacer` (with an injected clock, so tests
never wait) and one speed vocabulary (`parse_speed`, the `+`/`-` ladder) serve them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]

MAX = 0.0
"""Speed 0 means max: as fast as possible."""
SPEEDS: tuple[float, ...] = (1.0, 10.0, 60.0, MAX)
"""The speed ladder of the `+`/`-` keys."""
MAX_NAP = 0.1
"""Longest single sleep: a long recorded gap is slept in naps so pause, speed changes and
take-over are noticed within this many seconds."""


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
