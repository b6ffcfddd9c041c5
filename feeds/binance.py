"""Binance USDⓈ-M futures: URLs, streams and wire schemas → core market events.

Since Binance's 2026 split of `fstream.binance.com`, market streams (mark price, aggregated
trades) are served only under `/market` and the book ticker only under `/public`. The legacy
`/stream` and `/ws` paths still accept a connection and even ACK subscriptions, then send
nothing — a silent failure that looks like a quiet market. So this adapter opens two
connections, each with its streams in the URL (so every reconnect replays them), and the
supervisor's watchdog would notice if one of them went quiet anyway.

Keepalive: Binance sends protocol pings; `websockets` answers them. Connections are cut after
24 h, so they are renewed after 23 h 50 min.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from papertrade.core.events import MarketEvent, MarkPrice, Quote, Trade
from papertrade.feeds.base import (
    Drop,
    FeedFatal,
    FeedStats,
    Sequencer,
    finite,
    non_negative,
    plain_text,
    positive,
)
from papertrade.feeds.supervisor import ConnectionSpec
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

DEFAULT_WS_URL = "wss://fstream.binance.com"
REST_URL = "https://fapi.binance.com"
MAX_LIFETIME_S = 23 * 3600 + 50 * 60
MARK_STALE_S = 10.0
BOOK_STALE_S = 60.0


class _Wire(BaseModel):
    """Strict: a price sent as a JSON number (a float) is rejected, not silently converted."""

    model_config = ConfigDict(strict=True, extra="ignore")


class MarkPriceUpdate(_Wire):
    """`<sym>@markPrice@1s`: mark, index, current funding rate and next funding time."""

    e: Literal["markPriceUpdate"]
    E: int
    s: str
    p: str
    i: str | None = None
    r: str | None = None
    T: int | None = None

    def to_event(self) -> MarkPrice:
        return MarkPrice(
            ts=self.E,
            symbol=self.s,
            price=positive(self.p),
            index=positive(self.i) if self.i else None,
            funding_rate=finite(self.r) if self.r else None,
            next_funding_ts=self.T or None,
        )

    def order_key(self) -> int:
        return self.E


class AggTrade(_Wire):
    """`<sym>@aggTrade`: trades at one price from one taker order, id `a` increasing."""

    e: Literal["aggTrade"]
    E: int
    s: str
    a: int
    p: str
    q: str
    T: int

    def to_event(self) -> Trade:
        return Trade(ts=self.T, symbol=self.s, price=positive(self.p), qty=positive(self.q))

    def order_key(self) -> int:
        return self.a


class RawTrade(_Wire):
    """`<sym>@trade` (undocumented on USDⓈ-M but present in recordings), id `t` increasing."""

    e: Literal["trade"]
    E: int
    s: str
    t: int
    p: str
    q: str
    T: int

    def to_event(self) -> Trade:
        return Trade(ts=self.T, symbol=self.s, price=positive(self.p), qty=positive(self.q))

    def order_key(self) -> int:
        return self.t


class BookTicker(_Wire):
    """`<sym>@bookTicker`: best bid/ask; `u` (book update id) orders them per symbol."""

    e: Literal["bookTicker"]
    u: int
    s: str
    b: str
    B: str
    a: str
    A: str
    T: int | None = None
    E: int | None = None

    def to_event(self) -> Quote:
        ts = self.T or self.E
        if ts is None:
            raise Drop("invalid_fields")
        bid, ask = positive(self.b), positive(self.a)
        if bid > ask:
            raise Drop("crossed_book")
        return Quote(
            ts=ts,
            symbol=self.s,
            bid=bid,
            ask=ask,
            bid_qty=non_negative(self.B),
            ask_qty=non_negative(self.A),
        )

    def order_key(self) -> int:
        return self.u


Payload = Annotated[MarkPriceUpdate | AggTrade | RawTrade | BookTicker, Field(discriminator="e")]


class StreamFrame(_Wire):
    """The combined-stream envelope `{"stream": ..., "data": {...}}`."""

    stream: str
    data: Payload


_FRAME = TypeAdapter(StreamFrame)
_KNOWN_EVENTS = frozenset({"markPriceUpdate", "aggTrade", "trade", "bookTicker"})


def venue_symbol(symbol: str) -> str:
    """Binance uses the user-facing form itself (`BTCUSDT`, `1000PEPEUSDT`)."""
    return symbol.upper()


def market_streams(symbol: str) -> list[str]:
    s = venue_symbol(symbol).lower()
    return [f"{s}@markPrice@1s", f"{s}@aggTrade"]


def public_streams(symbol: str) -> list[str]:
    return [f"{venue_symbol(symbol).lower()}@bookTicker"]


class BinanceAdapter:
    """Binance USDⓈ-M: two routed connections, combined-stream frames, no app-level ping."""

    venue = "binance"

    def __init__(self, symbols: Sequence[str], ws_url: str | None = None) -> None:
        if not symbols:
            raise ValueError("at least one symbol is needed")
        self.base_url = (ws_url or DEFAULT_WS_URL).rstrip("/")
        self.symbols = [venue_symbol(s) for s in symbols]
        self._wanted = frozenset(self.symbols)
        self.stats = FeedStats()
        self._seq = Sequencer()

    def connections(self) -> list[ConnectionSpec]:
        market = [s for sym in self.symbols for s in market_streams(sym)]
        public = [s for sym in self.symbols for s in public_streams(sym)]
        return [
            ConnectionSpec(
                name="market",
                url=f"{self.base_url}/market/stream?streams={'/'.join(market)}",
                streams={s: (MARK_STALE_S if "@markPrice" in s else None) for s in market},
                max_lifetime=MAX_LIFETIME_S,
            ),
            ConnectionSpec(
                name="public",
                url=f"{self.base_url}/public/stream?streams={'/'.join(public)}",
                streams=dict.fromkeys(public, BOOK_STALE_S),
                max_lifetime=MAX_LIFETIME_S,
            ),
        ]

    def on_connect(self, conn: str) -> None:
        """Every Binance message is a full state; nothing to forget on reconnect."""

    def decode(self, conn: str, raw: str | bytes) -> tuple[str | None, list[MarketEvent]]:
        try:
            frame = _FRAME.validate_json(raw)
        except ValidationError:
            return self._other(raw)
        stream = frame.stream
        stats = self.stats
        stats.received[stream] += 1
        data = frame.data
        try:
            event = data.to_event()
        except Drop as drop:
            stats.dropped[drop.reason] += 1
            return stream, []
        if event.symbol not in self._wanted:
            stats.dropped["unknown_symbol"] += 1
            return stream, []
        late = self._seq.check(data.e, event.symbol, data.order_key())
        if late is not None:
            stats.dropped[late] += 1
            return stream, []
        return stream, [event]

    def _other(self, raw: str | bytes) -> tuple[str | None, list[MarketEvent]]:
        """Frames that are not valid stream data: acks, errors, junk — classified and counted."""
        stats = self.stats
        msg = stats.json_object(raw)
        if msg is None:
            return None, []
        if "id" in msg and "result" in msg:
            return None, []  # ack of a SUBSCRIBE / LIST_SUBSCRIPTIONS
        if "error" in msg:
            raise FeedFatal(f"Binance error: {plain_text(msg['error'])}")
        stream = msg.get("stream")
        data = msg.get("data")
        if isinstance(stream, str) and isinstance(data, dict):
            stats.received[stream] += 1
            kind = data.get("e")
            stats.dropped["invalid_fields" if kind in _KNOWN_EVENTS else "unknown_message"] += 1
            return (stream if kind in _KNOWN_EVENTS else None), []
        stats.dropped["unknown_message"] += 1
        return None, []
