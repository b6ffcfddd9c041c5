"""Bybit v5 public linear (USDT perpetuals): topics and wire schemas → core market events.

`tickers.<SYM>` carries mark, index, funding rate, next funding time and the best bid/ask in one
topic, as a snapshot followed by deltas that hold only the fields that changed. Deltas are merged
into per-symbol state; a delta that arrives before its snapshot (after a reconnect, say) is
ignored, because fields it does not mention would otherwise be unknown. `publicTrade.<SYM>`
carries trades with UUID ids (unordered), deduplicated by a bounded id memory.

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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from papertrade.core.events import MarketEvent, MarkPrice, Quote, Trade
from papertrade.feeds.base import (
    Drop,
    FeedStats,
    RecentIds,
    Sequencer,
    check_time,
    finite,
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
KINDS = ("tickers", "publicTrade")
_REQ = {"subscribe": "sub", "unsubscribe": "unsub"}
_TOPIC_SYMBOL = re.compile(r"(?:tickers|publicTrade)\.([A-Z0-9]+)")

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


def venue_symbol(symbol: str) -> str:
    """Bybit linear uses the user-facing form itself (`BTCUSDT`, `1000PEPEUSDT`)."""
    return symbol.upper()


class BybitAdapter:
    """Bybit v5 linear: one connection, JSON subscribe replayed on connect, JSON pings."""

    venue = "bybit"

    def __init__(self, symbols: Sequence[str], ws_url: str | None = None) -> None:
        if not symbols:
            raise ValueError("at least one symbol is needed")
        self.base_url = (ws_url or DEFAULT_WS_URL).rstrip("/")
        self._symbols: list[str] = list(dict.fromkeys(venue_symbol(s) for s in symbols))
        self.stats = FeedStats()
        self._seq = Sequencer()
        self._trade_ids = RecentIds()
        self._tickers: dict[str, dict[str, Any]] = {}
        self._rebuild()

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._symbols)

    def _rebuild(self) -> None:
        self._wanted = frozenset(self._symbols)
        self._topics = frozenset(self.topics())

    def topics(self) -> list[str]:
        return [t for s in self._symbols for t in _topics(s)]

    def connections(self) -> list[ConnectionSpec]:
        topics = self.topics()
        return [
            ConnectionSpec(
                name="linear",
                url=f"{self.base_url}{WS_PATH}",
                subscribe=tuple(_request("subscribe", s) for s in self._symbols),
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
        return {"linear": [_request("subscribe", sym)]}

    def remove_symbol(self, symbol: str) -> Outgoing:
        sym = venue_symbol(symbol)
        if sym not in self._wanted:
            return {}
        self._symbols.remove(sym)
        self._tickers.pop(sym, None)
        self._rebuild()
        return {"linear": [_request("unsubscribe", sym)]}

    def on_connect(self, conn: str) -> None:
        """A new connection starts with fresh snapshots: old merged state must not absorb
        deltas that precede them."""
        self._tickers.clear()

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


def _topics(symbol: str) -> list[str]:
    return [f"{kind}.{symbol}" for kind in KINDS]


def _request(op: str, symbol: str) -> str:
    """One request per symbol: Bybit echoes `req_id`, which ties a refusal to its symbol."""
    return json.dumps(
        {"req_id": f"{_REQ[op]}-{symbol}", "op": op, "args": _topics(symbol)},
        separators=(",", ":"),
    )
