"""What every feed offers the rest of papertrade: an async stream of core market events and a
status the UI can show at all times.

Live venues and offline feeds (`sim`, `file:`) implement the same protocol, so the engine, the
recorder and the TUI never know which one they are reading.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

from papertrade.core.events import Book, Funding, Level, MarketEvent, MarkPrice, Quote, Trade
from papertrade.core.numbers import (
    LIVE_FUTURE_MS,
    MAX_PRICE,
    MAX_QTY,
    MIN_LIVE_TS_MS,
    PRICE,
    QTY,
    RATE,
    SIZE,
    ZERO,
    BadNumber,
    Bound,
)
from papertrade.core.text import printable

FeedState = Literal[
    "connecting", "waiting", "live", "stale", "reconnecting", "failed", "ended"
]  # fmt: skip

BEHIND_LAG_MS = 2_000
"""Event time this far behind the wall clock means we are falling behind the venue (a burst we
cannot keep up with, a slow consumer): what we show as "live" is then that old."""


@dataclass(slots=True, frozen=True)
class FeedStatus:
    """A snapshot of a feed's health.

    `since_ms` is when this state began (feed-local monotonic milliseconds for live feeds);
    `retry_in_s` is set while reconnecting; `detail` says why (last error, stale stream, a
    symbol the venue refused), in the venue's own words where it gave any.

    `waiting`: connected and subscribed, no data yet (a silent route looks exactly like this,
    so it is not called live). `dropped`: messages thrown away over the feed's life (malformed,
    out of bounds, unknown stream). `lag_ms`: how far the latest event's own time is behind the
    wall clock (None before any, or for feeds without a wall clock). `behind`: lag past
    `BEHIND_LAG_MS`. `closed_by_server`: the last disconnect came from the server answering
    (a close frame, an HTTP refusal, an error reply), so the network itself works; False for
    lost connections and timeouts, where "no network?" is the useful hint.
    """

    state: FeedState
    detail: str = ""
    since_ms: int = 0
    retry_in_s: float | None = None
    dropped: int = 0
    lag_ms: int | None = None
    behind: bool = False
    closed_by_server: bool = False

    def describe(self, now_ms: int | None = None) -> str:
        """Words for a status bar: 'live', 'connected, waiting', 'stale for 12 s',
        'reconnecting in 3 s', 'live, falling behind 3.2 s', ..."""
        if self.state == "stale" and now_ms is not None:
            text = f"stale for {max(0, now_ms - self.since_ms) // 1000} s"
        elif self.state == "reconnecting" and self.retry_in_s is not None:
            text = f"reconnecting in {self.retry_in_s:.0f} s"
        elif self.state == "waiting":
            text = "connected, waiting"
        else:
            text = self.state
        if self.behind and self.lag_ms is not None and self.state in ("live", "stale"):
            text = f"{text}, falling behind {self.lag_ms / 1000:.1f} s"
        return f"{text}: {self.detail}" if self.detail else text


@runtime_checkable
class Feed(Protocol):
    """A source of market events. Iterate it to receive events; `aclose()` to stop.

    Feeds that can change what they deliver while running (every live venue, `sim`) also offer
    `add_symbol(symbol)` / `remove_symbol(symbol)`: idempotent, on the running feed — one price
    path per symbol, never a second feed (see `Subscribable`).
    """

    name: str

    @property
    def status(self) -> FeedStatus: ...

    def __aiter__(self) -> AsyncIterator[MarketEvent]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Subscribable(Protocol):
    """A feed whose symbols change in place (subscribe/unsubscribe on the open connection)."""

    def add_symbol(self, symbol: str) -> None: ...

    def remove_symbol(self, symbol: str) -> None: ...


# --- helpers shared by the live venue adapters ----------------------------------------------
# They sit here, beside the protocol, so every adapter validates and counts the same way and the
# supervisor stays free of venue knowledge.


class FeedFatal(Exception):
    """The venue refused us (unknown symbol, rejected subscription): retrying cannot help, so the
    feed goes to `failed` with this reason instead of hammering the venue."""


class ReconnectRequested(Exception):
    """The venue announced it will drop us soon (maintenance notice): reconnect now."""


class Drop(Exception):
    """A message (or one item of it) is unusable; `reason` is the counter it goes to."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class FeedStats:
    """Counters for what a live feed received (per stream) and dropped (per reason).

    Bad input is counted, never raised: a feed must survive anything a server sends, and these
    counters are how a user (or a test) sees that something was thrown away.
    """

    received: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    connects: Counter[str] = field(default_factory=Counter)

    def drop(self, reason: str, n: int = 1) -> None:
        self.dropped[reason] += n

    def json_object(self, raw: str | bytes) -> dict[str, Any] | None:
        """A frame decoded as a JSON object, or None (counted as malformed or unknown)."""
        try:
            msg = json.loads(raw)
        except ValueError:
            self.dropped["malformed_json"] += 1
            return None
        if not isinstance(msg, dict):
            self.dropped["unknown_message"] += 1
            return None
        return msg

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            "received": dict(self.received),
            "dropped": dict(self.dropped),
            "connects": dict(self.connects),
        }


def plain_text(text: object, limit: int = 200) -> str:
    """Untrusted server text made safe to store and show: control characters (C0, DEL, C1,
    bidi overrides) shown as escapes by the one sanitiser (`core.text.printable`), length
    capped. It is only ever treated as data, never parsed or formatted as markup."""
    return printable(text)[:limit]


def wire_number(text: object, bound: Bound, reason: str) -> Decimal:
    """The one parser of numbers in venue payloads: a JSON string (never a float, which is
    already inexact) inside `bound` (`core.numbers`: ≤ 1e12, 18 digits, …).

    Anything else is a `Drop`: `invalid_fields` when the field is not a string at all, else
    `reason` (`bad_price`, `bad_size`, `bad_rate`) — unparseable, `NaN`, `-0` where a positive
    price is due, or out of bounds: one absurd tick is thrown away and counted, never passed on
    to kill the terminal.
    """
    if type(text) is not str:
        raise Drop("invalid_fields")
    try:
        return bound.parse(text)
    except BadNumber:
        raise Drop(reason) from None


# Fast paths (issue 14: four `Bound.parse` calls per book ticker cost more than parsing its
# JSON). Text of the form venues send, at most 12 integer digits and 17 decimals, 18 digits in
# all (19 characters), is inside the digit and magnitude limits of these bounds by its form
# alone, so `Decimal(text)` is the value `bound.parse` returns; only zero is left to decide.
# Any other text goes to `wire_number`, which says what is wrong.
_UNSIGNED = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,17})?").fullmatch
_FRACTION = re.compile(r"-?0(?:\.[0-9]{1,17})?").fullmatch  # |r| < 1: inside ±1


def positive(text: object) -> Decimal:
    """A price or trade size: 0 < x ≤ 1e12."""
    if type(text) is str and len(text) <= 19 and _UNSIGNED(text):
        value = Decimal(text)
        if value:
            return value
    return wire_number(text, PRICE, "bad_price")


def non_negative(text: object) -> Decimal:
    """A book size that may be zero (an empty side): 0 ≤ x ≤ 1e12."""
    if type(text) is str and len(text) <= 19 and _UNSIGNED(text):
        value = Decimal(text)
        return value if value else ZERO  # every zero is 0, as `Bound.parse` makes it
    return wire_number(text, SIZE, "bad_size")


def finite(text: object) -> Decimal:
    """A funding rate: -1 ≤ r ≤ 1 (±100 %)."""
    if type(text) is str and len(text) <= 19 and _FRACTION(text):
        value = Decimal(text)
        return value if value else ZERO
    return wire_number(text, RATE, "bad_rate")


def book_qty(text: object) -> Decimal:
    """A book level's size: 0 < q ≤ 1e12 (a level of a full book with nothing on it is no level:
    the venue sent something wrong, and the book is dropped)."""
    if type(text) is str and len(text) <= 19 and _UNSIGNED(text):
        value = Decimal(text)
        if value:
            return value
    return wire_number(text, QTY, "bad_size")


DEFAULT_DEPTH = 20
"""Levels per side a `Book` carries unless a feed is told otherwise (issue 13: N = 20)."""


def check_depth(depth: int, most: int) -> int:
    """The levels a feed keeps: `depth` (0 = no depth stream at all), capped at what the venue
    sends (Binance 20, Bybit 50, OKX `books5` 5, Hyperliquid 20): a book has at most N levels."""
    if type(depth) is not int or depth < 0:
        raise ValueError(f"depth must be a whole number of levels >= 0, got {depth!r}")
    return min(depth, most)


def book_side(rows: object, depth: int, bids: bool) -> tuple[Level, ...]:
    """The first `depth` levels of one side of a full-state book, each `[price, size, ...]`
    (strings), validated: positive bounded numbers, best first and strictly ordered (bids
    falling, asks rising). Levels past `depth` are not read. Anything wrong is a `Drop` naming
    it: one bad level makes the whole book unusable, never a book with a hole in it."""
    if not isinstance(rows, list):
        raise Drop("invalid_fields")
    out: list[Level] = []
    previous: Decimal | None = None
    unsigned = _UNSIGNED
    for row in rows[:depth]:
        if not isinstance(row, list) or len(row) < 2:
            raise Drop("invalid_fields")
        p, q = row[0], row[1]
        # the fast form of `positive` / `book_qty`, inline: a book is 40 numbers
        if (
            type(p) is str
            and type(q) is str
            and len(p) <= 19
            and len(q) <= 19
            and unsigned(p)
            and unsigned(q)
        ):
            price, qty = Decimal(p), Decimal(q)
            if not price:
                raise Drop("bad_price")
            if not qty:
                raise Drop("bad_size")
        else:
            price, qty = positive(p), book_qty(q)
        if previous is not None and (price >= previous if bids else price <= previous):
            raise Drop("unordered_book")
        out.append((price, qty))
        previous = price
    return tuple(out)


def make_book(ts: int, symbol: str, bids: tuple[Level, ...], asks: tuple[Level, ...]) -> Book:
    """A `Book` from validated sides, or a `Drop`: crossed (best bid not below best ask, as
    `core.codec` refuses it) or empty on both sides."""
    if not bids and not asks:
        raise Drop("empty_book")
    if bids and asks and bids[0][0] >= asks[0][0]:
        raise Drop("crossed_book")
    return Book(ts, symbol, bids, asks)


def wall_ms() -> int:
    """The real wall clock in ms: only for checking venue times (`check_time`), never an
    event's own time."""
    return time.time_ns() // 1_000_000


def check_time(ts: object, now_ms: int | None = None) -> int:
    """A venue event time inside 2015-01-01 … now + 1 day, else `Drop("bad_time")`.

    Adapters call it before a `Sequencer` remembers a time as its ordering key: one mark
    stamped a year ahead would otherwise make every later mark of the symbol "out of order"
    for a year. `now_ms` defaults to the real wall clock (the window is wide enough that tests
    need not inject one; the supervisor's `LiveBounds` check uses its injectable clock).
    """
    now = wall_ms() if now_ms is None else now_ms
    if type(ts) is not int or not MIN_LIVE_TS_MS <= ts <= now + LIVE_FUTURE_MS:
        raise Drop("bad_time")
    return ts


class LiveBounds:
    """The times (and final magnitudes) a live event must have to reach the engine.

    Why here and not in `core`: the window is relative to our wall clock, which `core` never
    reads. `ts` must lie in 2015-01-01 … now + 1 day (`MIN_LIVE_TS_MS`, `LIVE_FUTURE_MS`),
    and so must a mark's `next_funding_ts` (with a week's slack ahead). A server clock a year
    ahead would otherwise clamp every later event of the session to that time; a time ≥ 2^63
    kills the journal writer; a negative one makes the session unreplayable. Prices are
    checked again after the adapter's scaling (OKX contract multipliers) against `MAX_PRICE`.

    Rejected events are counted in `stats.dropped["bad_time"]` / `["bad_price"]` (read by
    the supervisor's status `dropped`), never raised. `now_ms` is passed in by the caller, who
    owns the wall clock (injectable in tests).
    """

    __slots__ = ("stats",)

    FUNDING_AHEAD_MS = 7 * 86_400_000

    def __init__(self, stats: FeedStats) -> None:
        self.stats = stats

    def admit(self, event: MarketEvent, now_ms: int) -> bool:
        """True if `event` may pass; otherwise count why and return False."""
        reason = self.problem(event, now_ms)
        if reason is None:
            return True
        self.stats.dropped[reason] += 1
        return False

    def problem(self, event: MarketEvent, now_ms: int) -> str | None:
        """The drop reason for `event` at wall time `now_ms`, or None when it is fine."""
        try:
            check_time(event.ts, now_ms)
        except Drop as drop:
            return drop.reason
        match event:
            case MarkPrice():
                nxt = event.next_funding_ts
                if nxt is not None and (
                    type(nxt) is not int
                    or not MIN_LIVE_TS_MS <= nxt <= now_ms + self.FUNDING_AHEAD_MS
                ):
                    return "bad_time"
                if event.price > MAX_PRICE or (event.index is not None and event.index > MAX_PRICE):
                    return "bad_price"
            case Quote():
                if event.ask > MAX_PRICE:
                    return "bad_price"
                if (event.bid_qty is not None and event.bid_qty > MAX_QTY) or (
                    event.ask_qty is not None and event.ask_qty > MAX_QTY
                ):
                    return "bad_size"
            case Trade():
                if event.price > MAX_PRICE:
                    return "bad_price"
                if event.qty > MAX_QTY:
                    return "bad_size"
            case Book():
                for side in (event.bids, event.asks):
                    for price, qty in side:
                        if price > MAX_PRICE:
                            return "bad_price"
                        if qty > MAX_QTY:
                            return "bad_size"
            case Funding():
                pass
        return None


class Sequencer:
    """Drops duplicates and out-of-order updates by a per-(stream kind, symbol) ordering key
    (trade id, book update id, timestamp): venues re-send and reorder, the engine must not see
    either."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], object] = {}

    def check(self, kind: str, symbol: str, key: Any) -> str | None:
        """None if `key` is newer than everything seen (and remember it), else the drop reason."""
        slot = (kind, symbol)
        last = self._last.get(slot)
        if last is not None:
            if key == last:
                return "duplicate"
            if key < last:
                return "out_of_order"
        self._last[slot] = key
        return None


class RecentIds:
    """Bounded memory of recent ids per symbol, for venues whose trade ids are not ordered
    (Bybit UUIDs, Hyperliquid hashes)."""

    __slots__ = ("_ids", "_size")

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._ids: dict[str, dict[object, None]] = {}

    def seen(self, symbol: str, key: object) -> bool:
        """True if `key` was already seen for `symbol`; otherwise remember it."""
        ids = self._ids.setdefault(symbol, {})
        if key in ids:
            return True
        ids[key] = None
        if len(ids) > self._size:
            del ids[next(iter(ids))]
        return False


class FundingClock:
    """Turns announced funding (rate + next funding time, carried by mark prices) into one
    `Funding` settlement per funding time.

    The settlement is emitted when a mark price's time reaches the announced funding time, at that
    time and with the last rate announced before it — the rate the venue settles. Each funding
    time settles once, however the marks that announce it repeat or reconnects replay them.
    """

    __slots__ = ("_announced", "_settled")

    def __init__(self) -> None:
        self._announced: dict[str, tuple[int, Decimal]] = {}
        self._settled: dict[str, int] = {}

    def observe(self, mark: MarkPrice) -> Funding | None:
        symbol = mark.symbol
        out: Funding | None = None
        announced = self._announced.get(symbol)
        if announced is not None and mark.ts >= announced[0]:
            when, settled_rate = announced
            if when > self._settled.get(symbol, -1):
                self._settled[symbol] = when
                out = Funding(ts=when, symbol=symbol, rate=settled_rate)
            del self._announced[symbol]
        nxt, rate = mark.next_funding_ts, mark.funding_rate
        if nxt is not None and rate is not None and nxt > self._settled.get(symbol, -1):
            self._announced[symbol] = (nxt, rate)
        return out


def mono_ms() -> int:
    """Feed-local monotonic milliseconds: status times, never event times."""
    return int(time.monotonic() * 1000)


class LocalFeed:
    """Status and closing plumbing for feeds that need no connection (`sim`, `file:`).

    Subclasses implement `_run()`, the async generator of events, and set `self._status` as
    they go; `aclose()` may come at any time, so `_run` checks `closed` after every sleep.
    """

    name: str

    def __init__(self) -> None:
        self._status = FeedStatus("connecting", since_ms=mono_ms())
        self._closed = False

    @property
    def status(self) -> FeedStatus:
        return self._status

    def __aiter__(self) -> AsyncIterator[MarketEvent]:
        return self._run()

    def _run(self) -> AsyncIterator[MarketEvent]:
        raise NotImplementedError

    @property
    def closed(self) -> bool:
        """Set by `aclose()`; checked again after every sleep, since closing can happen then."""
        return self._closed

    async def aclose(self) -> None:
        self._closed = True
        if self._status.state not in ("ended", "failed"):
            self._status = FeedStatus("ended", "closed", mono_ms())
