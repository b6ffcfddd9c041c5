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
from papertrade.feeds.pacing import Clock, Playback, PlaybackControls, Sleep
from papertrade.tui.service.replay import JournalReader

if TYPE_CHECKING:
    from papertrade.saves.store import Store


class RecordedMarketFeed(PlaybackControls):
    """A session's recorded market events after a sequence number, as a `Feed`.

    Pacing is the one paced loop, `feeds.pacing.Playback` (changeable while playing through
    `speed`); `pause()`/`resume()` hold the stream, and the first event after the branch point
    (`start_ts`) or after a pause keeps its recorded distance from the last one played. Status
    goes `connecting` → `live` → `ended` (or `ended: closed`).
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
        self._store = store
        self._sid = info.id
        self._last = info.last_seq
        self.after_seq = after_seq
        self.position = after_seq
        """Parent sequence number of the last event yielded."""
        self._playback = Playback(speed, clock=clock, sleep=sleep, last_ts=start_ts)
        """Its `last_ts` starts at the branch point: the first event keeps its distance."""
        self._status = FeedStatus("connecting")
        self._closed = False

    @property
    def status(self) -> FeedStatus:
        return self._status

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
        self._playback.stop()
        if self._status.state != "ended":
            self._status = FeedStatus("ended", "closed")

    async def _run(self) -> AsyncIterator[ev.MarketEvent]:
        self._status = FeedStatus("live")
        cue = _MarketCue(self, JournalReader(self._store, self._sid, self.position, self._last))
        async for event in self._playback.play(cue):
            yield event
        if not self._closed:
            self._status = FeedStatus("ended", "end of the recording")


class _MarketCue:
    """The journal after the branch point as a `Cue`: market events only. Recorded commands
    are passed over (the trader now makes their own), moving `position` past them."""

    def __init__(self, feed: RecordedMarketFeed, reader: JournalReader) -> None:
        self._feed = feed
        self._reader = reader

    def next_ts(self) -> int | None:
        while (item := self._reader.peek()) is not None:
            seq, event = item
            if event.type in ev.MARKET_TYPES:
                return event.ts
            self._reader.pop()
            self._feed.position = seq
        return None

    def take(self) -> ev.MarketEvent:
        item = self._reader.pop()
        assert item is not None, "take() without a next_ts()"
        seq, event = item
        self._feed.position = seq
        return event  # type: ignore[return-value]
