"""Binance USDⓈ-M futures: URLs, streams and wire schemas → core market events.

Since Binance's 2026 split of `fstream.binance.com`, market streams (mark price, aggregated
trades) are served only under `/market` and the book ticker only under `/public`. The legacy
`/stream` and `/ws` paths still accept a connection and even ACK subscriptions, then send
nothing — a silent failure that looks like a quiet market. So this adapter opens two
connections, each with its streams in the URL (so every reconnect replays them), and the
supervisor's watchdog would notice if one of them went quiet anyway. A symbol added or removed
while running is (un)subscribed with a live `SUBSCRIBE` / `UNSUBSCRIBE` on the open connections;
the URL of the next connect carries the new set.

Error replies: `{"result": null, "id": N}` acknowledges request N; `{"error": {"code", "msg"},
"id": N}` refuses it. A refused SUBSCRIBE ends the symbols it asked for (unless the words say
"too many requests" or the like: then retry later); an error we cannot tie to a request of ours
is a verdict on the whole connection.

Depth: the partial book stream `<sym>@depth20@100ms` (also on `/public`): every message is the
whole top of the book (20 levels, or 5 / 10 when fewer are asked for), so nothing is merged and a
lost message costs nothing; books are ordered by their update id `u`. `depth=0` subscribes none.

Keepalive: Binance sends protocol pings; `websockets` answers them. Connections are cut after
24 h, so they are renewed after 23 h 50 min.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from papertrade.core.events import Book, MarketEvent, MarkPrice, Quote, Trade
from papertrade.core.numbers import LIVE_FUTURE_MS, MIN_LIVE_TS_MS, ZERO
from papertrade.feeds.base import (
    DEFAULT_DEPTH,
    Drop,
    FeedStats,
    Sequencer,
    book_side,
    check_depth,
    check_time,
    finite,
    make_book,
    non_negative,
    plain_text,
    positive,
    wall_ms,
)
from papertrade.feeds.connection import ConnectionSpec, Outgoing, VenueError, retryable_text

DEFAULT_WS_URL = "wss://fstream.binance.com"
REST_URL = "https://fapi.binance.com"
MAX_LIFETIME_S = 23 * 3600 + 50 * 60
MARK_STALE_S = 10.0
BOOK_STALE_S = 60.0
REQUESTS_REMEMBERED = 1024
SEND_INTERVAL_S = 0.3  # at most 10 incoming messages/s per connection; nautilus keeps 300 ms
MAX_DEPTH = 20
PARTIAL_LEVELS = (5, 10, 20)  # the partial depth streams Binance offers


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
        return book_quote(self.s, self.b, self.B, self.a, self.A, self.T, self.E)

    def order_key(self) -> int:
        return self.u


class DepthUpdate(_Wire):
    """`<sym>@depth<N>@100ms`: the top N levels, whole, best first; `u` orders them."""

    e: Literal["depthUpdate"]
    E: int
    T: int | None = None
    s: str
    u: int
    b: list[Any]
    a: list[Any]

    def to_event(self, depth: int = DEFAULT_DEPTH) -> Book:
        bids, asks = book_side(self.b, depth, True), book_side(self.a, depth, False)
        return make_book(self.T or self.E, self.s, bids, asks)

    def order_key(self) -> int:
        return self.u


def book_quote(
    s: str,
    b: str,
    B: str,
    a: str,
    A: str,
    T: int | None,
    E: int | None,
) -> Quote:
    """A book ticker's fields as a `Quote` (shared by the model and the fast path)."""
    ts = T or E
    if ts is None:
        raise Drop("invalid_fields")
    bid, ask = positive(b), positive(a)
    if bid > ask:
        raise Drop("crossed_book")
    return Quote(
        ts=ts, symbol=s, bid=bid, ask=ask, bid_qty=non_negative(B), ask_qty=non_negative(A)
    )


_INT = r"(0|[1-9][0-9]{0,17})"  # a JSON integer (no leading zero) below 10^18
_TEXT = r"([0-9A-Za-z.@+-]{1,40})"  # a JSON string without quotes or escapes
_NUMBER = r'((?=[0-9.]{1,19}")[0-9]{1,12}(?:\.[0-9]{1,17})?)'  # `feeds.base` fast form
_BOOK_TICKER = re.compile(
    rf'\{{"stream":"{_TEXT}","data":\{{"e":"bookTicker","u":{_INT},'
    rf'"s":"{_TEXT}","b":"{_NUMBER}","B":"{_NUMBER}","a":"{_NUMBER}","A":"{_NUMBER}",'
    rf'"T":{_INT},"E":{_INT}\}}\}}'
).fullmatch
"""A book ticker frame exactly as Binance writes it (compact, fields in its order, plain text,
integers and decimals of the form `feeds.base.positive` takes on sight): recognised by its
shape alone, so most of the feed skips the general JSON parse and model. Anything else
(another order, a field more or less, escapes, spaces, an exponent) takes the model; a test
holds the two to the same verdicts. Issue 14: the model alone cost more than the frame's
JSON parse."""


Payload = Annotated[
    MarkPriceUpdate | AggTrade | RawTrade | BookTicker | DepthUpdate, Field(discriminator="e")
]


class StreamFrame(_Wire):
    """The combined-stream envelope `{"stream": ..., "data": {...}}`."""

    stream: str
    data: Payload


_FRAME = TypeAdapter(StreamFrame)
_KNOWN_EVENTS = frozenset({"markPriceUpdate", "aggTrade", "trade", "bookTicker", "depthUpdate"})


def venue_symbol(symbol: str) -> str:
    """Binance uses the user-facing form itself (`BTCUSDT`, `1000PEPEUSDT`)."""
    return symbol.upper()


def market_streams(symbol: str) -> list[str]:
    s = venue_symbol(symbol).lower()
    return [f"{s}@markPrice@1s", f"{s}@aggTrade"]


def public_streams(symbol: str, depth: int = DEFAULT_DEPTH) -> list[str]:
    s = venue_symbol(symbol).lower()
    if not depth:
        return [f"{s}@bookTicker"]
    levels = next(n for n in PARTIAL_LEVELS if n >= depth)
    return [f"{s}@bookTicker", f"{s}@depth{levels}@100ms"]


class BinanceAdapter:
    """Binance USDⓈ-M: two routed connections, combined-stream frames, no app-level ping."""

    venue = "binance"

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
        self._next_id = 1
        self._requests: dict[int, tuple[str, str]] = {}
        self._rebuild()

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._symbols)

    def _rebuild(self) -> None:
        self._wanted = frozenset(self._symbols)
        self._market = [s for sym in self._symbols for s in market_streams(sym)]
        self._public = [s for sym in self._symbols for s in public_streams(sym, self.depth)]
        # Recordings carry the raw `<sym>@trade` stream: it decodes when fed directly (benchmarks,
        # replays of captures); a live connection never subscribes it, so none ever arrives.
        raw = {f"{sym.lower()}@trade" for sym in self._symbols}
        self._streams = frozenset(self._market) | frozenset(self._public) | raw

    def connections(self) -> list[ConnectionSpec]:
        market, public = self._market, self._public
        return [
            ConnectionSpec(
                name="market",
                url=_url(f"{self.base_url}/market/stream", market),
                streams={s: (MARK_STALE_S if "@markPrice" in s else None) for s in market},
                max_lifetime=MAX_LIFETIME_S,
                send_interval=SEND_INTERVAL_S,
            ),
            ConnectionSpec(
                name="public",
                url=_url(f"{self.base_url}/public/stream", public),
                streams={s: (BOOK_STALE_S if "@bookTicker" in s else None) for s in public},
                max_lifetime=MAX_LIFETIME_S,
                send_interval=SEND_INTERVAL_S,
            ),
        ]

    def add_symbol(self, symbol: str) -> Outgoing:
        sym = venue_symbol(symbol)
        if sym in self._wanted:
            return {}
        self._symbols.append(sym)
        self._rebuild()
        return self._requests_for("SUBSCRIBE", sym)

    def remove_symbol(self, symbol: str) -> Outgoing:
        sym = venue_symbol(symbol)
        if sym not in self._wanted:
            return {}
        self._symbols.remove(sym)
        self._rebuild()
        return self._requests_for("UNSUBSCRIBE", sym)

    def _requests_for(self, method: str, sym: str) -> dict[str, list[str]]:
        return {
            "market": [self._request(method, market_streams(sym), sym)],
            "public": [self._request(method, public_streams(sym, self.depth), sym)],
        }

    def _request(self, method: str, params: list[str], sym: str) -> str:
        """A live request, remembered by id so the reply (ack or error) can be tied to it."""
        rid = self._next_id
        self._next_id += 1
        self._requests[rid] = (method, sym)
        if len(self._requests) > REQUESTS_REMEMBERED:
            del self._requests[next(iter(self._requests))]
        return json.dumps({"method": method, "params": params, "id": rid}, separators=(",", ":"))

    def on_connect(self, conn: str) -> None:
        """Every Binance message is a full state; nothing to forget on reconnect."""

    def decode(self, conn: str, raw: str | bytes) -> tuple[str | None, list[MarketEvent]]:
        fast = _BOOK_TICKER(raw) if type(raw) is str else None
        if fast is not None:
            return self._book_ticker(fast)
        try:
            frame = _FRAME.validate_json(raw)
        except ValidationError:
            return self._other(raw)
        stream = frame.stream
        stats = self.stats
        if stream not in self._streams:
            stats.dropped["unknown_stream"] += 1
            return None, []
        data = frame.data
        try:
            event = data.to_event(self.depth) if type(data) is DepthUpdate else data.to_event()
        except Drop as drop:
            stats.dropped[drop.reason] += 1
            return stream, []
        return self._admit(stream, event, data.e, data.order_key())

    def _book_ticker(self, fast: re.Match[str]) -> tuple[str | None, list[MarketEvent]]:
        """`decode` of a frame `_BOOK_TICKER` recognised: the same steps, in the same order."""
        stream, u, s, b, B, a, A, T, E = fast.groups()
        stats = self.stats
        if stream not in self._streams:
            stats.dropped["unknown_stream"] += 1
            return None, []
        bid, ask = Decimal(b), Decimal(a)  # the form is checked: inside every bound
        if not (bid and ask and bid <= ask):  # a zero price or a crossed book
            try:
                book_quote(s, b, B, a, A, int(T), int(E))  # the model's rules say which drop
            except Drop as drop:
                stats.dropped[drop.reason] += 1
            return stream, []
        if s not in self._wanted:  # from here as `_admit`, inline on the busiest path
            stats.dropped["unknown_symbol"] += 1
            return stream, []
        ts = int(T) or int(E)
        if not MIN_LIVE_TS_MS <= ts <= wall_ms() + LIVE_FUTURE_MS:  # `check_time`
            stats.dropped["bad_time"] += 1
            return stream, []
        late = self._seq.check("bookTicker", s, int(u))
        if late is not None:
            stats.dropped[late] += 1
            return stream, []
        return stream, [Quote(ts, s, bid, ask, Decimal(B) or ZERO, Decimal(A) or ZERO)]

    def _admit(
        self, stream: str, event: MarketEvent, kind: str, key: int
    ) -> tuple[str | None, list[MarketEvent]]:
        """The checks after decoding: a symbol of ours, a sane time, in order and new."""
        stats = self.stats
        if event.symbol not in self._wanted:
            stats.dropped["unknown_symbol"] += 1
            return stream, []
        try:
            check_time(event.ts)  # before the sequencer remembers a (mark) time as its key
        except Drop as drop:
            stats.dropped[drop.reason] += 1
            return stream, []
        late = self._seq.check(kind, event.symbol, key)
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
        if "error" in msg:
            self._error(msg)
            return None, []
        if "id" in msg and "result" in msg:
            rid = msg["id"]
            if type(rid) is int:
                self._requests.pop(rid, None)
            return None, []  # ack of a SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS
        stream = msg.get("stream")
        data = msg.get("data")
        if isinstance(stream, str) and isinstance(data, dict):
            if stream not in self._streams:
                stats.dropped["unknown_stream"] += 1
                return None, []
            kind = data.get("e")
            stats.dropped["invalid_fields" if kind in _KNOWN_EVENTS else "unknown_message"] += 1
            return (stream if kind in _KNOWN_EVENTS else None), []
        stats.dropped["unknown_message"] += 1
        return None, []

    def _error(self, msg: dict[str, Any]) -> None:
        """`{"error": {"code": 2, "msg": "Invalid request: ..."}, "id": 3}`: whose request,
        and can retrying help."""
        error = msg["error"]
        if isinstance(error, dict):
            code, words = error.get("code"), error.get("msg")
            text = f"Binance error {plain_text(code, 12)}: {plain_text(words)}"
        else:
            words, text = error, f"Binance error: {plain_text(error)}"
        rid = msg.get("id")
        request = self._requests.pop(rid, None) if type(rid) is int else None
        if request is not None and request[0] == "UNSUBSCRIBE":
            return  # a refused unsubscribe leaves nothing to end
        symbols = (request[1],) if request is not None else ()
        raise VenueError(text, retryable=retryable_text(str(words)), symbols=symbols)


def _url(path: str, streams: list[str]) -> str:
    return f"{path}?streams={'/'.join(streams)}" if streams else path
