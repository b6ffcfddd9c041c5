"""Conflation: bound the quote rate that reaches the engine and the journal, without losing fills.

Why: a busy venue sends hundreds of book-ticker updates a second per symbol; the engine, the
journal and the UI only need the latest one a few times a second. But a resting limit order
whose price the market touched briefly must still fill, so a dropped quote may not take its
extreme price with it.

The rule, per symbol, on *event* time (the events' own `ts`, never the wall clock, so the
output is a pure function of the input):

1. Quotes are spaced at least `W = 1000 / per_second` ms apart, which bounds them to
   `per_second` in any one-second window. A quote arriving `W` or more after the symbol's
   previous emitted quote passes at once, unchanged.
2. A quote arriving sooner is *held*. Of the held quotes, the conflator keeps only the latest
   and the two extremes: the lowest ask (it fills every buy limit any held quote would have
   filled) and the highest bid (same for sell limits). Everything else is dominated and dropped.
3. When event time reaches the next slot (`previous emission + W`; checked on every incoming
   event of any symbol, and at the end of the stream) one quote is emitted for the symbol,
   stamped with the slot time:
   - the latest, if no held quote had a lower ask or a higher bid than it;
   - otherwise, if the extremes do not cross (highest bid < lowest ask), one synthetic quote
     `bid = highest bid, ask = lowest ask` (it touches both extremes); the latest stays held;
   - otherwise (the window moved by more than the spread) the earlier of the two real extreme
     quotes; the other extreme and the latest stay held for the following slots.
   So the latest always wins in the end, at most a few slots late, and the extremes come first.
4. Books (the heaviest stream: 20 levels a side, Bybit up to 50 a second) are spaced by their
   own window `B = 1000 / books_per_second` ms per symbol (4 a second by default: every book
   is journaled, and 20-level books at 10 a second cost ~19 MB per symbol-hour, at 4 a second
   ~7.5 MB; benchmarks/journal.py): a book `B` or more after the symbol's previous emitted book
   passes at once; a sooner one is held, replacing any book held before it, and the held one
   is emitted at the slot, stamped with the slot time. A book is never split or merged with
   another: the latest wins (a resting order's fill is decided by trades and quotes, which keep
   their extremes).
5. Trades, marks and funding always pass unchanged (trades are the tape and also fill limits;
   marks arrive at most once a second per symbol from every venue).

The conflator never reorders, and time never runs backwards out of it: live venues send
streams on separate connections whose timestamps interleave slightly out of order, so an
event older than the newest one seen is restamped with the newest time (`Monotonic`, also
usable alone). A quote held while the stream goes quiet is emitted by the next event of any symbol
(live venues send marks every second), or by `flush()` at the end.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

from papertrade.core.events import Book, MarketEvent, Quote

from .base import Feed, FeedStatus, Subscribable

DEFAULT_PER_SECOND = 10
DEFAULT_BOOKS_PER_SECOND = 4


class Monotonic:
    """Restamps an event older than the newest seen with the newest time (never reorders)."""

    __slots__ = ("now", "restamped")

    def __init__(self) -> None:
        self.now = -1
        self.restamped = 0

    def __call__(self, event: MarketEvent) -> MarketEvent:
        if event.ts < self.now:
            self.restamped += 1
            return dataclasses.replace(event, ts=self.now)
        self.now = event.ts
        return event


@dataclass(slots=True)
class _Held:
    """What is owed for one symbol: the latest quote and the window's extremes."""

    latest: Quote
    low_ask: Quote
    high_bid: Quote


class Conflator:
    """The synchronous, deterministic conflation state machine (used by tests and the recorder).

    Feed it events with `push(event)`, which returns what passes now (in order); call
    `flush()` at the end of the stream for the quotes still held.
    """

    def __init__(
        self, per_second: int = DEFAULT_PER_SECOND, books_per_second: int = DEFAULT_BOOKS_PER_SECOND
    ) -> None:
        if per_second <= 0 or books_per_second <= 0:
            raise ValueError("per_second and books_per_second must be positive")
        self.per_second = per_second
        self.window_ms = 1000 / per_second
        self.book_window_ms = 1000 / books_per_second
        self.quotes_in = 0
        self.quotes_out = 0
        self.books_in = 0
        self.books_out = 0
        self._last_emit: dict[str, float] = {}
        self._held: dict[str, _Held] = {}
        self._last_book: dict[str, float] = {}
        self._held_books: dict[str, Book] = {}
        self._due: list[tuple[float, int, str]] = []
        """(slot, 0 for a quote / 1 for a book, symbol): one heap, so releases stay in time
        order across both."""
        self.clock = Monotonic()

    def push(self, event: MarketEvent) -> list[MarketEvent]:
        """The events to pass on now that `event` arrived (possibly none, possibly several)."""
        out: list[MarketEvent] = []
        event = self.clock(event)
        if self._due and self._due[0][0] <= event.ts:
            self._release(event.ts, out)
        if type(event) is Book:
            self._book(event, out)
            return out
        if not isinstance(event, Quote):
            out.append(event)
            return out
        self.quotes_in += 1
        symbol = event.symbol
        held = self._held.get(symbol)
        last = self._last_emit.get(symbol)
        if held is None and (last is None or event.ts >= last + self.window_ms):
            self._last_emit[symbol] = event.ts
            self.quotes_out += 1
            out.append(event)
            return out
        if held is None:
            assert last is not None
            self._held[symbol] = _Held(event, event, event)
            heapq.heappush(self._due, (last + self.window_ms, 0, symbol))
            return out
        held.latest = event
        if event.ask <= held.low_ask.ask:
            held.low_ask = event
        if event.bid >= held.high_bid.bid:
            held.high_bid = event
        return out

    def _book(self, book: Book, out: list[MarketEvent]) -> None:
        self.books_in += 1
        symbol = book.symbol
        last = self._last_book.get(symbol)
        if symbol in self._held_books:
            self._held_books[symbol] = book  # the latest wins
        elif last is None or book.ts >= last + self.book_window_ms:
            self._last_book[symbol] = book.ts
            self.books_out += 1
            out.append(book)
        else:
            self._held_books[symbol] = book
            heapq.heappush(self._due, (last + self.book_window_ms, 1, symbol))

    def flush(self) -> list[MarketEvent]:
        """Everything still held, each symbol's quotes at successive slots (end of stream)."""
        out: list[MarketEvent] = []
        self._release(float("inf"), out)
        return out

    def _release(self, now: float, out: list[MarketEvent]) -> None:
        due = self._due
        while due and due[0][0] <= now:
            slot, kind, symbol = heapq.heappop(due)
            if kind == 1:
                book = self._held_books.pop(symbol)
                ts = _ts(slot)
                out.append(book if book.ts == ts else dataclasses.replace(book, ts=ts))
                self.books_out += 1
                self._last_book[symbol] = slot
                continue
            held = self._held[symbol]
            out.append(self._emit_one(held, symbol, slot))
            self.quotes_out += 1
            self._last_emit[symbol] = slot
            if symbol in self._held:
                heapq.heappush(due, (slot + self.window_ms, 0, symbol))

    def _emit_one(self, held: _Held, symbol: str, slot: float) -> Quote:
        ts = _ts(slot)
        latest, low, high = held.latest, held.low_ask, held.high_bid
        if low.ask >= latest.ask and high.bid <= latest.bid:
            del self._held[symbol]
            return _restamp(latest, ts)
        if high.bid < low.ask:
            held.low_ask = held.high_bid = latest
            return Quote(ts, symbol, high.bid, low.ask, high.bid_qty, low.ask_qty)
        # Emit an older extreme first; the latest always goes last (this also ends the loop).
        if low is latest:
            first, other = high, low
        elif high is latest:
            first, other = low, high
        else:
            first, other = (low, high) if low.ts <= high.ts else (high, low)
        held.low_ask = other if other.ask <= latest.ask else latest
        held.high_bid = other if other.bid >= latest.bid else latest
        return _restamp(first, ts)


def _ts(slot: float) -> int:
    """Slots are whole milliseconds for the usual rates; round up otherwise (never early)."""
    whole = int(slot)
    return whole if whole == slot else whole + 1


def _restamp(quote: Quote, ts: int) -> Quote:
    if quote.ts == ts:
        return quote
    return Quote(ts, quote.symbol, quote.bid, quote.ask, quote.bid_qty, quote.ask_qty)


def conflate_events(
    events: Iterable[MarketEvent], per_second: int = DEFAULT_PER_SECOND
) -> Iterator[MarketEvent]:
    """Conflate a finite or endless synchronous stream (flushes at its end)."""
    conflator = Conflator(per_second)
    for event in events:
        yield from conflator.push(event)
    yield from conflator.flush()


async def conflate(
    feed_iter: AsyncIterable[MarketEvent], per_second: int = DEFAULT_PER_SECOND
) -> AsyncIterator[MarketEvent]:
    """Async wrapper: `async for event in conflate(feed): ...` (flushes when the feed ends)."""
    conflator = Conflator(per_second)
    async for event in feed_iter:
        for item in conflator.push(event):
            yield item
    for item in conflator.flush():
        yield item


class ConflatedFeed:
    """A `Feed` that conflates another feed: same name and status, bounded quote rate."""

    def __init__(self, feed: Feed, per_second: int = DEFAULT_PER_SECOND) -> None:
        self.inner = feed
        self.name = feed.name
        self.per_second = per_second

    @property
    def status(self) -> FeedStatus:
        return self.inner.status

    def __aiter__(self) -> AsyncIterator[MarketEvent]:
        return conflate(self.inner, self.per_second)

    def add_symbol(self, symbol: str) -> None:
        """Passed to the inner feed: the same connection, the same price path."""
        if not isinstance(self.inner, Subscribable):
            raise TypeError(f"the {self.name} feed cannot add symbols while running")
        self.inner.add_symbol(symbol)

    def remove_symbol(self, symbol: str) -> None:
        if not isinstance(self.inner, Subscribable):
            raise TypeError(f"the {self.name} feed cannot remove symbols while running")
        self.inner.remove_symbol(symbol)

    async def aclose(self) -> None:
        await self.inner.aclose()
