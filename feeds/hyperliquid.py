"""Hyperliquid perps: subscriptions and wire schemas → core market events.

Coins are named without a quote (`BTC`); coins priced per 1000 units carry a `k` prefix
(`kPEPE`), which is exactly the `1000PEPEUSDT` user symbol. Hyperliquid settles in USDC; the
simulator quotes everything in USDT terms (documented simplification).

`activeAssetCtx` carries mark and the hourly funding rate but no timestamp and no next-funding
time: marks are stamped with the receive wall clock (injectable) and funding is paid at the top
of every UTC hour. Trade ids (`tid`) are hashes, not ordered, and the subscription ack may replay
recent trades, so trades are deduplicated by `(time, tid)` with a bounded memory.

Depth: `l2Book` pushes the whole book (at most 20 levels a side, at least 0.5 s apart) as
`levels: [[bids], [asks]]` of `{px, sz, n}`, best first; the top `depth` (20) become a `Book`.

Keepalive: the server closes a connection it has not heard from for 60 s, so a JSON
`{"method":"ping"}` goes out every 50 s (as the official SDK does).

Errors come as `{"channel": "error", "data": "<words>"}`; a refused subscription quotes it
(`Invalid subscription {"type": ..., "coin": "DOGE"}`), which names the coin it ends. Words
that mean "later" (rate limits, busy) retry with backoff.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from papertrade.core.events import Book, MarketEvent, MarkPrice, Quote, Trade
from papertrade.feeds.base import (
    DEFAULT_DEPTH,
    Drop,
    FeedStats,
    RecentIds,
    Sequencer,
    book_side,
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

DEFAULT_WS_URL = "wss://api.hyperliquid.xyz"
WS_PATH = "/ws"
REST_URL = "https://api.hyperliquid.xyz"
PING = '{"method":"ping"}'
PING_INTERVAL_S = 50.0
CTX_STALE_S = 120.0
HOUR_MS = 3_600_000
KINDS = ("activeAssetCtx", "bbo", "trades", "l2Book")
MAX_DEPTH = 20
_COIN = re.compile(r'"coin"\s*:\s*"([^"]+)"')


def venue_symbol(symbol: str) -> str:
    """`BTCUSDT` → `BTC`, `1000PEPEUSDT` → `kPEPE`."""
    symbol = symbol.upper()
    for quote in ("USDT", "USDC", "USD"):
        if symbol.endswith(quote) and len(symbol) > len(quote):
            coin = symbol[: -len(quote)]
            return f"k{coin[4:]}" if coin.startswith("1000") and len(coin) > 4 else coin
    raise ValueError(f"not a perpetual symbol: {symbol}")


def user_symbol(coin: str) -> str:
    """`BTC` → `BTCUSDT`, `kPEPE` → `1000PEPEUSDT`."""
    if len(coin) > 1 and coin[0] == "k" and coin[1:].isupper():
        return f"1000{coin[1:]}USDT"
    return f"{coin}USDT"


def next_hour(ts: int) -> int:
    return (ts // HOUR_MS + 1) * HOUR_MS


class _Wire(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class AssetCtx(_Wire):
    funding: str
    markPx: str
    oraclePx: str | None = None


class ActiveAssetCtx(_Wire):
    coin: str
    ctx: AssetCtx

    def to_event(self, symbol: str, ts: int) -> MarkPrice:
        return MarkPrice(
            ts=ts,
            symbol=symbol,
            price=positive(self.ctx.markPx),
            index=positive(self.ctx.oraclePx) if self.ctx.oraclePx else None,
            funding_rate=finite(self.ctx.funding),
            next_funding_ts=next_hour(ts),
        )


class Level(_Wire):
    px: str
    sz: str


class Bbo(_Wire):
    coin: str
    time: int
    bbo: list[Level | None]

    def to_event(self, symbol: str) -> Quote:
        if len(self.bbo) != 2 or self.bbo[0] is None or self.bbo[1] is None:
            raise Drop("one_sided_book")
        bid, ask = self.bbo[0], self.bbo[1]
        bid_px, ask_px = positive(bid.px), positive(ask.px)
        if bid_px > ask_px:
            raise Drop("crossed_book")
        return Quote(
            ts=self.time,
            symbol=symbol,
            bid=bid_px,
            ask=ask_px,
            bid_qty=non_negative(bid.sz),
            ask_qty=non_negative(ask.sz),
        )


class L2Book(_Wire):
    coin: str
    time: int
    levels: list[list[Level]]

    def to_event(self, symbol: str, depth: int) -> Book:
        if len(self.levels) != 2:
            raise Drop("invalid_fields")
        bids, asks = ([[lv.px, lv.sz] for lv in side[:depth]] for side in self.levels)
        return make_book(
            self.time, symbol, book_side(bids, depth, True), book_side(asks, depth, False)
        )


class WsTrade(_Wire):
    coin: str
    px: str
    sz: str
    time: int
    tid: int

    def to_event(self, symbol: str) -> Trade:
        return Trade(ts=self.time, symbol=symbol, price=positive(self.px), qty=positive(self.sz))


class HyperliquidAdapter:
    """Hyperliquid: one connection, one subscribe message per (type, coin), JSON pings."""

    venue = "hyperliquid"

    def __init__(
        self,
        symbols: Sequence[str],
        ws_url: str | None = None,
        wall_ms: Callable[[], int] | None = None,
        depth: int = DEFAULT_DEPTH,
    ) -> None:
        if not symbols:
            raise ValueError("at least one symbol is needed")
        self.depth = check_depth(depth, MAX_DEPTH)
        self._kinds = KINDS if self.depth else KINDS[:-1]
        self.base_url = (ws_url or DEFAULT_WS_URL).rstrip("/")
        self._by_coin = {venue_symbol(s): s.upper() for s in symbols}
        self._wall_ms = wall_ms or (lambda: time.time_ns() // 1_000_000)
        self.stats = FeedStats()
        self._seq = Sequencer()
        self._trade_ids = RecentIds()
        self._rebuild()

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._by_coin.values())

    def _rebuild(self) -> None:
        self._streams = frozenset(
            f"{kind}:{coin}" for coin in self._by_coin for kind in self._kinds
        )

    def connections(self) -> list[ConnectionSpec]:
        coins = list(self._by_coin)
        return [
            ConnectionSpec(
                name="ws",
                url=f"{self.base_url}{WS_PATH}",
                subscribe=tuple(
                    m for coin in coins for m in _requests("subscribe", coin, self._kinds)
                ),
                streams={
                    f"{kind}:{coin}": (CTX_STALE_S if kind == "activeAssetCtx" else None)
                    for coin in coins
                    for kind in self._kinds
                },
                keepalive=Keepalive(PING, PING_INTERVAL_S, idle_only=False),
            )
        ]

    def add_symbol(self, symbol: str) -> Outgoing:
        coin = venue_symbol(symbol)
        if coin in self._by_coin:
            return {}
        self._by_coin[coin] = symbol.upper()
        self._rebuild()
        return {"ws": _requests("subscribe", coin, self._kinds)}

    def remove_symbol(self, symbol: str) -> Outgoing:
        coin = venue_symbol(symbol)
        if coin not in self._by_coin:
            return {}
        del self._by_coin[coin]
        self._rebuild()
        return {"ws": _requests("unsubscribe", coin, self._kinds)}

    def on_connect(self, conn: str) -> None:
        """Snapshots replayed in acks are caught by the trade-id memory; nothing to reset."""

    def decode(self, conn: str, raw: str | bytes) -> tuple[str | None, list[MarketEvent]]:
        stats = self.stats
        msg = stats.json_object(raw)
        if msg is None:
            return None, []
        channel, data = msg.get("channel"), msg.get("data")
        if channel in ("pong", "subscriptionResponse"):
            return None, []
        if channel == "error":
            words = plain_text(data)
            symbols = [self._by_coin[c] for c in _COIN.findall(words) if c in self._by_coin]
            raise VenueError(
                f"Hyperliquid error: {words}", retryable=retryable_text(words), symbols=symbols
            )
        try:
            if channel == "activeAssetCtx":
                return self._ctx(data)
            if channel == "bbo":
                return self._bbo(data)
            if channel == "trades":
                return self._trades(data)
            if channel == "l2Book":
                return self._l2book(data)
        except ValidationError:
            stats.dropped["invalid_fields"] += 1
            return None, []
        stats.dropped["unknown_message"] += 1
        return None, []

    def _symbol(self, coin: str, stream: str) -> str | None:
        """The user symbol of a desired stream, or None (counted: never tracked)."""
        if stream not in self._streams:
            self.stats.dropped["unknown_stream"] += 1
            return None
        return self._by_coin[coin]

    def _ctx(self, data: Any) -> tuple[str | None, list[MarketEvent]]:
        parsed = ActiveAssetCtx.model_validate(data)
        stream = f"activeAssetCtx:{parsed.coin}"
        symbol = self._symbol(parsed.coin, stream)
        if symbol is None:
            return None, []
        try:
            return stream, [parsed.to_event(symbol, self._wall_ms())]
        except Drop as drop:
            self.stats.dropped[drop.reason] += 1
            return stream, []

    def _bbo(self, data: Any) -> tuple[str | None, list[MarketEvent]]:
        parsed = Bbo.model_validate(data)
        stream = f"bbo:{parsed.coin}"
        symbol = self._symbol(parsed.coin, stream)
        if symbol is None:
            return None, []
        try:
            quote = parsed.to_event(symbol)
            late = self._seq.check("bbo", symbol, check_time(parsed.time))
            if late:
                raise Drop(late)
        except Drop as drop:
            self.stats.dropped[drop.reason] += 1
            return stream, []
        return stream, [quote]

    def _l2book(self, data: Any) -> tuple[str | None, list[MarketEvent]]:
        parsed = L2Book.model_validate(data)
        stream = f"l2Book:{parsed.coin}"
        symbol = self._symbol(parsed.coin, stream)
        if symbol is None:
            return None, []
        try:
            book = parsed.to_event(symbol, self.depth)
            late = self._seq.check("l2Book", symbol, check_time(parsed.time))
            if late:
                raise Drop(late)
        except Drop as drop:
            self.stats.dropped[drop.reason] += 1
            return stream, []
        return stream, [book]

    def _trades(self, data: Any) -> tuple[str | None, list[MarketEvent]]:
        if not isinstance(data, list) or not data:
            self.stats.dropped["invalid_fields"] += 1
            return None, []
        events: list[MarketEvent] = []
        stream: str | None = None
        for item in data:
            try:
                trade = WsTrade.model_validate(item)
            except ValidationError:
                self.stats.dropped["invalid_fields"] += 1
                continue
            symbol = self._symbol(trade.coin, f"trades:{trade.coin}")
            if symbol is None:
                continue
            stream = f"trades:{trade.coin}"
            if self._trade_ids.seen(symbol, (trade.time, trade.tid)):
                self.stats.dropped["duplicate"] += 1
                continue
            try:
                events.append(trade.to_event(symbol))
            except Drop as drop:
                self.stats.dropped[drop.reason] += 1
        return stream, events


def _requests(method: str, coin: str, kinds: Sequence[str] = KINDS) -> list[str]:
    return [
        json.dumps(
            {"method": method, "subscription": {"type": kind, "coin": coin}},
            separators=(",", ":"),
        )
        for kind in kinds
    ]
