"""`RecordedMarketFeed`: a session's recorded market after a sequence number, as a `Feed`.

Why a feed: after a take-over the trading terminal consumes the recording exactly like a live
venue (conflated, applied by `TradingSession.on_market`, journaled into the branch), so the
terminal has one way to trade, whatever the prices come from. Unlike a venue it can be paced
and paused while the trader thinks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from papertrade.core import events as ev
from papertrade.feeds.base import FeedStatus
from papertrade.feeds.pacing import MAX_NAP, Clock, Pacer
from papertrade.tui.service.replay import MAX_BATCH, JournalReader, Sleep

if TYPE_CHECKING:
    from papertrade.saves.store import Store


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
        reader = JournalReader(self._store, self._sid, self.after_seq, self._last)
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
        reader = JournalReader(self._store, self._sid, self.position, self._last)
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
