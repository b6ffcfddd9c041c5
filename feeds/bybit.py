"""Bybit v5 public linear (USDT perpetuals): topics and wire schemas → core market events.

`tickers.<SYM>` carries mark, index, funding rate, next funding time and the best bid/ask in one
topic, as a snapshot followed by deltas that hold only the fields that changed. Deltas are merged
into per-symbol state; a delta that arrives before its snapshot (after a reconnect, say) is
ignored, because fields it does not mention would otherwise be unknown. `publicTrade.<SYM>`
carries trades with UUID ids (unordered), deduplicated by a bounded id memory.

`orderbook.50.<SYM>` is the book: a snapshot, then deltas (a level with size `0` is deleted),
each with an update id `u` one above the last. The adapter keeps each symbol's 50 levels and
emits the top `depth` (20 by default) after every message. Books go wrong quietly when a delta
is lost (cryptofeed's bug class), so a delta whose `u` is not the next one, a delta before any
snapshot, or one that cannot be read forces a resubscribe of that topic (unsubscribe then
subscribe, on the open connection): no book is emitted for the symbol until the fresh snapshot
arrives. A snapshot always replaces the book (`u` = 1 after a service restart included).

Keepalive: Bybit wants a JSON `{"op":"ping"}` about every 20 s, else it cuts the link.

Subscriptions go one request per symbol (`req_id` `sub-<SYMBOL>`), so a refusal
(`{"success": false, "ret_msg": ...}`) names the symbol it ends; words like "too many" or
"busy" mean retry later instead. Symbols added while running are subscribed the same way on the
open connection.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from papertrade.core.events import Book, MarketEvent, MarkPrice, Quote, Trade
from papertrade.feeds.base import (
    DEFAULT_DEPTH,
    Drop,
    FeedStats,
    RecentIds,
    Sequencer,
    check_depth,
    check_time,
    finite,
    make_book,
    non_negative,
    plain_text,
    positive,
)
from papertrade.feeds.connection import (
    ConnectionSpec,
    Keepalive,
    Outgoing,
    VenueError,
    retryable_text,
)

DEFAULT_WS_URL = "wss://stream.bybit.com"
WS_PATH = "/v5/public/linear"
REST_URL = "https://api.bybit.com"
PING = '{"req_id":"ping","op":"ping"}'
PING_INTERVAL_S = 20.0
TICKER_STALE_S = 60.0
BOOK_KIND = "orderbook.50"
MAX_DEPTH = 50
KINDS = ("tickers", "publicTrade", BOOK_KIND)
_REQ = {"subscribe": "sub", "unsubscribe": "unsub"}
_TOPIC_SYMBOL = re.compile(r"(?:tickers|publicTrade|orderbook\.50)\.([A-Z0-9]+)")

_MARK_FIELDS = frozenset({"markPrice", "indexPrice", "fundingRate", "nextFundingTime"})
_BOOK_FIELDS = frozenset({"bid1Price", "bid1Size", "ask1Price", "ask1Size"})


class _Wire(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class TickerData(_Wire):
    """The ticker fields we use; in a delta any of them may be absent (= unchanged)."""

    symbol: str
    markPrice: str | None = None
    indexPrice: str | None = None
    fundingRate: str | None = None
    nextFundingTime: str | None = None
    bid1Price: str | None = None
    bid1Size: str | None = None
    ask1Price: str | None = None
    ask1Size: str | None = None

    def to_mark(self, ts: int) -> MarkPrice:
        if not self.markPrice:
            raise Drop("invalid_fields")
        nft = self.nextFundingTime
        if nft and not nft.isdigit():
            raise Drop("invalid_fields")
        return MarkPrice(
            ts=ts,
            symbol=self.symbol,
            price=positive(self.markPrice),
            index=positive(self.indexPrice) if self.indexPrice else None,
            funding_rate=finite(self.fundingRate) if self.fundingRate else None,
            next_funding_ts=int(nft) if nft and nft != "0" else None,
        )

    def to_quote(self, ts: int) -> Quote:
        if not (self.bid1Price and self.ask1Price):
            raise Drop("one_sided_book")
        bid, ask = positive(self.bid1Price), positive(self.ask1Price)
        if bid > ask:
            raise Drop("crossed_book")
        return Quote(
            ts=ts,
            symbol=self.symbol,
            bid=bid,
            ask=ask,
            bid_qty=non_negative(self.bid1Size) if self.bid1Size else None,
            ask_qty=non_negative(self.ask1Size) if self.ask1Size else None,
        )


class TickerMessage(_Wire):
    topic: str
    type: Literal["snapshot", "delta"]
    ts: int
    cs: int | None = None
    data: TickerData


class PublicTrade(_Wire):
    T: int
    s: str
    v: str
    p: str
    i: str

    def to_event(self) -> Trade:
        return Trade(ts=self.T, symbol=self.s, price=positive(self.p), qty=positive(self.v))


class TradeMessage(_Wire):
    topic: str
    ts: int
    data: list[PublicTrade]


class BookData(_Wire):
    s: str
    b: list[list[str]]
    a: list[list[str]]
    u: int
    seq: int | None = None


class BookMessage(_Wire):
    topic: str
    type: Literal["snapshot", "delta"]
    ts: int
    data: BookData


@dataclass(slots=True)
class _LocalBook:
    """One symbol's merged `orderbook.50`: price → size per side, and the last update id."""

    u: int
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)


def _levels(rows: list[list[str]]) -> list[tuple[Decimal, Decimal]]:
    """A message's levels, every number validated before any is applied (size 0 = delete)."""
    out = []
    for row in rows:
        if len(row) < 2:
            raise Drop("invalid_fields")
        out.append((positive(row[0]), non_negative(row[1])))
    return out


def _apply(side: dict[Decimal, Decimal], levels: list[tuple[Decimal, Decimal]]) -> None:
    for price, qty in levels:
        if qty:
            side[price] = qty
        else:
            side.pop(price, None)


def venue_symbol(symbol: str) -> str:
    """Bybit linear uses the user-facing form itself (`BTCUSDT`, `1000PEPEUSDT`)."""
    return symbol.upper()


class BybitAdapter:
    """Bybit v5 linear: one connection, JSON subscribe replayed on connect, JSON pings."""

    venue = "bybit"

    def __init__(
        self, symbols: Sequence[str], ws_url: str | None = None, depth: int = DEFAULT_DEPTH
    ) -> None:
        if not symbols:
            raise ValueError("at least one symbol is needed")
        self.depth = check_depth(depth, MAX_DEPTH)
        self.base_url = (ws_url or DEFAULT_WS_URL).rstrip("/")
        self._symbols: list[str] = list(dict.fromkeys(venue_symbol(s) for s in symbols))
        self.stats = FeedStats()
        self._seq = Sequencer()
        self._trade_ids = RecentIds()
        self._tickers: dict[str, dict[str, Any]] = {}
        self._books: dict[str, _LocalBook] = {}
        self._resyncing: set[str] = set()
        self.outbox: list[tuple[str, str]] = []
        """Requests the adapter itself needs sent, (connection, message): the supervisor sends
        them after the frame that caused them (a book resubscribe)."""
        self._rebuild()

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._symbols)

    def _rebuild(self) -> None:
        self._wanted = frozenset(self._symbols)
        self._topics = frozenset(self.topics())

    def topics(self) -> list[str]:
        return [t for s in self._symbols for t in _topics(s, self.depth)]

    def connections(self) -> list[ConnectionSpec]:
        topics = self.topics()
        return [
            ConnectionSpec(
                name="linear",
                url=f"{self.base_url}{WS_PATH}",
                subscribe=tuple(_request("subscribe", s, self.depth) for s in self._symbols),
                streams={t: (TICKER_STALE_S if t.startswith("tickers.") else None) for t in topics},
                keepalive=Keepalive(PING, PING_INTERVAL_S, idle_only=False),
            )
        ]

    def add_symbol(self, symbol: str) -> Outgoing:
        sym = venue_symbol(symbol)
        if sym in self._wanted:
            return {}
        self._symbols.append(sym)
        self._rebuild()
        return {"linear": [_request("subscribe", sym, self.depth)]}

    def remove_symbol(self, symbol: str) -> Outgoing:
        sym = venue_symbol(symbol)
        if sym not in self._wanted:
            return {}
        self._symbols.remove(sym)
        self._tickers.pop(sym, None)
        self._books.pop(sym, None)
        self._resyncing.discard(sym)
        self._rebuild()
        return {"linear": [_request("unsubscribe", sym, self.depth)]}

    def on_connect(self, conn: str) -> None:
        """A new connection starts with fresh snapshots: old merged state must not absorb
        deltas that precede them."""
        self._tickers.clear()
        self._books.clear()
        self._resyncing.clear()
        self.outbox.clear()

    def decode(self, conn: str, raw: str | bytes) -> tuple[str | None, list[MarketEvent]]:
        stats = self.stats
        msg = stats.json_object(raw)
        if msg is None:
            return None, []
        topic = msg.get("topic")
        if not isinstance(topic, str):
            return self._control(msg)
        if topic not in self._topics:
            stats.dropped["unknown_stream"] += 1
            return None, []
        try:
            if topic.startswith("tickers."):
                return topic, self._ticker(msg)
            if topic.startswith("orderbook."):
                return topic, self._book(msg)
            return topic, self._trades(msg)
        except ValidationError:
            stats.dropped["invalid_fields"] += 1
            return topic, []
        except Drop as drop:
            stats.dropped[drop.reason] += 1
            return topic, []

    def _control(self, msg: dict[str, Any]) -> tuple[str | None, list[MarketEvent]]:
        op = msg.get("op")
        if msg.get("success") is False and op in ("subscribe", "unsubscribe"):
            if op == "subscribe":
                self._refused(msg)
            return None, []  # a refused unsubscribe leaves nothing to end
        if op in ("subscribe", "ping", "pong", "unsubscribe") or msg.get("ret_msg") == "pong":
            return None, []
        self.stats.dropped["unknown_message"] += 1
        return None, []

    def _refused(self, msg: dict[str, Any]) -> None:
        words = plain_text(msg.get("ret_msg"))
        req_id = msg.get("req_id")
        symbols: list[str] = []
        if isinstance(req_id, str) and req_id.startswith("sub-"):
            symbols.append(req_id[4:])
        symbols.extend(m for m in _TOPIC_SYMBOL.findall(words) if m not in symbols)
        raise VenueError(
            f"Bybit rejected subscribe: {words}", retryable=retryable_text(words), symbols=symbols
        )

    def _ticker(self, msg: dict[str, Any]) -> list[MarketEvent]:
        parsed = TickerMessage.model_validate(msg)
        data = parsed.data
        symbol = data.symbol
        if symbol not in self._wanted:
            raise Drop("unknown_symbol")
        fields = data.model_dump(exclude_none=True)
        if parsed.type == "snapshot":
            state = dict(fields)
        else:
            old = self._tickers.get(symbol)
            if old is None:
                raise Drop("delta_before_snapshot")
            state = {**old, **fields}
        merged = TickerData.model_construct(**state)
        events: list[MarketEvent] = []
        snapshot = parsed.type == "snapshot"
        if (snapshot or not _MARK_FIELDS.isdisjoint(fields)) and merged.markPrice:
            events.append(merged.to_mark(parsed.ts))
        if (snapshot or not _BOOK_FIELDS.isdisjoint(fields)) and merged.bid1Price:
            events.append(merged.to_quote(parsed.ts))
        check_time(parsed.ts)  # before the sequencer remembers it
        late = self._seq.check("tickers", symbol, (parsed.ts, parsed.cs or 0))
        if late is not None:
            raise Drop(late)
        self._tickers[symbol] = state  # only once every merged value proved valid
        return events

    def _book(self, msg: dict[str, Any]) -> list[MarketEvent]:
        """Merge one `orderbook.50` message; the top `depth` levels as a `Book`, or nothing
        while the symbol waits for a fresh snapshot."""
        topic = msg["topic"]
        symbol = topic.rsplit(".", 1)[1]
        try:
            parsed = BookMessage.model_validate(msg)
            if parsed.data.s != symbol:
                raise Drop("invalid_fields")
            bids, asks = _levels(parsed.data.b), _levels(parsed.data.a)
            check_time(parsed.ts)
        except (ValidationError, Drop):
            self._resubscribe(symbol, None)  # the venue's book moved on without us: unknown now
            raise  # counted by `decode` under what was wrong
        data = parsed.data
        if parsed.type == "snapshot":
            book = _LocalBook(data.u)
            _apply(book.bids, bids)
            _apply(book.asks, asks)
            self._books[symbol] = book
            self._resyncing.discard(symbol)
        else:
            old = self._books.get(symbol)
            if old is None:
                self._resubscribe(symbol, "delta_before_snapshot")
                return []
            if data.u != old.u + 1:
                self._resubscribe(symbol, "book_gap")
                return []
            _apply(old.bids, bids)
            _apply(old.asks, asks)
            old.u = data.u
            book = old
        return [self._top(parsed.ts, symbol, book)]

    def _top(self, ts: int, symbol: str, book: _LocalBook) -> Book:
        n = self.depth
        bids = tuple((p, book.bids[p]) for p in sorted(book.bids, reverse=True)[:n])
        asks = tuple((p, book.asks[p]) for p in sorted(book.asks)[:n])
        return make_book(ts, symbol, bids, asks)

    def _resubscribe(self, symbol: str, reason: str | None) -> None:
        """Forget the symbol's book and ask for a fresh snapshot (once until it comes); the
        message that showed the book lost is counted under `reason`."""
        self._books.pop(symbol, None)
        if reason is not None:
            self.stats.dropped[reason] += 1
        if symbol in self._resyncing or symbol not in self._wanted:
            return
        self._resyncing.add(symbol)
        for op in ("unsubscribe", "subscribe"):
            args = [f"{BOOK_KIND}.{symbol}"]
            message = {"req_id": f"{_REQ[op]}-{symbol}", "op": op, "args": args}
            self.outbox.append(("linear", json.dumps(message, separators=(",", ":"))))

    def _trades(self, msg: dict[str, Any]) -> list[MarketEvent]:
        parsed = TradeMessage.model_validate(msg)
        events: list[MarketEvent] = []
        stats = self.stats
        for item in parsed.data:
            if item.s not in self._wanted:
                stats.dropped["unknown_symbol"] += 1
                continue
            if self._trade_ids.seen(item.s, item.i):
                stats.dropped["duplicate"] += 1
                continue
            try:
                events.append(item.to_event())
            except Drop as drop:
                stats.dropped[drop.reason] += 1
        return events


def _topics(symbol: str, depth: int = DEFAULT_DEPTH) -> list[str]:
    return [f"{kind}.{symbol}" for kind in KINDS if depth or kind != BOOK_KIND]


def _request(op: str, symbol: str, depth: int = DEFAULT_DEPTH) -> str:
    """One request per symbol: Bybit echoes `req_id`, which ties a refusal to its symbol."""
    return json.dumps(
        {"req_id": f"{_REQ[op]}-{symbol}", "op": op, "args": _topics(symbol, depth)},
        separators=(",", ":"),
    )
