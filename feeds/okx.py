"""OKX v5 public SWAP (USDT-margined perpetuals): channels and wire schemas → core events.

OKX splits what Binance sends in one message: `mark-price` (the mark) and `funding-rate` (rate
and settlement time, every 30–90 s). The adapter remembers the latest funding per instrument
and attaches it to each mark. Sizes are in contracts: `ctVal` base units each, converted here so
the engine only ever sees base units. Where OKX quotes a coin per unit and the user symbol is a
per-1000 contract (`1000PEPEUSDT` ↔ `PEPE-USDT-SWAP`), prices are scaled ×1000 and sizes ÷1000.

Depth: `books5`, the top 5 levels of each side, whole in every push (≈ every 100 ms when it
changes), rows `[price, size in contracts, "0", orders]`: converted like every size here. A
book of up to 5 levels is therefore what OKX gives (a larger `depth` is capped; 0 subscribes
none).

Keepalive: OKX drops a connection that receives nothing for 30 s; after 25 s of silence the
client sends the text `ping` and expects the text `pong` (not JSON) — no pong means the link is
dead and is reconnected.

Subscriptions go one request per instrument (`id` = `sub` + the user symbol), so an
`{"event": "error", "code", "msg"}` reply names what it refuses (failing that, the `instId` in
its words does). Codes and words that mean "later" (60014 requests too frequent, 63999 / 50001 /
50013 busy or unavailable) retry with backoff; the rest (60018 does not exist, 60012 invalid
request) end that instrument.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from papertrade.core.events import Book, MarketEvent, MarkPrice, Quote, Trade
from papertrade.feeds.base import (
    DEFAULT_DEPTH,
    Drop,
    FeedStats,
    ReconnectRequested,
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

DEFAULT_WS_URL = "wss://ws.okx.com:8443"
WS_PATH = "/ws/v5/public"
REST_URL = "https://www.okx.com"
PING_IDLE_S = 25.0
PONG_TIMEOUT_S = 5.0
MARK_STALE_S = 60.0
FUNDING_STALE_S = 300.0
CHANNELS = ("mark-price", "funding-rate", "bbo-tbt", "trades", "books5")
MAX_DEPTH = 5
RETRYABLE_CODES = frozenset({"60014", "63999", "50001", "50011", "50013", "50026"})
_INST = re.compile(r"instId:\s*([A-Za-z0-9-]+)")


@dataclass(frozen=True, slots=True)
class Contract:
    """How one OKX swap maps to a user symbol: base units per contract, price scale."""

    inst_id: str
    ct_val: Decimal
    scale: Decimal = Decimal(1)


# ctVal of the main USDT swaps (GET /api/v5/public/instruments?instType=SWAP; see
# core/data/SOURCES.md). `refresh_instruments("okx")` reads the live values.
CONTRACTS: dict[str, Contract] = {
    "BTCUSDT": Contract("BTC-USDT-SWAP", Decimal("0.01")),
    "ETHUSDT": Contract("ETH-USDT-SWAP", Decimal("0.1")),
    "SOLUSDT": Contract("SOL-USDT-SWAP", Decimal("1")),
    "BNBUSDT": Contract("BNB-USDT-SWAP", Decimal("0.01")),
    "XRPUSDT": Contract("XRP-USDT-SWAP", Decimal("100")),
    "DOGEUSDT": Contract("DOGE-USDT-SWAP", Decimal("1000")),
    "1000PEPEUSDT": Contract("PEPE-USDT-SWAP", Decimal("10000000"), Decimal(1000)),
    "1000SHIBUSDT": Contract("SHIB-USDT-SWAP", Decimal("1000000"), Decimal(1000)),
}


def venue_symbol(symbol: str, contracts: Mapping[str, Contract] = CONTRACTS) -> str:
    """`BTCUSDT` → `BTC-USDT-SWAP` (known contracts first, then the regular pattern)."""
    symbol = symbol.upper()
    if symbol in contracts:
        return contracts[symbol].inst_id
    if symbol.endswith("USDT"):
        return f"{symbol[:-4]}-USDT-SWAP"
    raise ValueError(f"not a USDT perpetual symbol: {symbol}")


def user_symbol(inst_id: str) -> str:
    """`BTC-USDT-SWAP` → `BTCUSDT`; per-1000 mapped coins come back as `1000PEPEUSDT`."""
    for symbol, contract in CONTRACTS.items():
        if contract.inst_id == inst_id:
            return symbol
    base, quote, _kind = inst_id.split("-")
    return f"{base}{quote}"


class _Wire(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


def _ms(text: str) -> int:
    if not text.isdigit():
        raise Drop("invalid_fields")
    return int(text)


class MarkPx(_Wire):
    instId: str
    markPx: str
    ts: str

    def to_event(
        self, symbol: str, contract: Contract, funding: tuple[Decimal, int] | None
    ) -> MarkPrice:
        return MarkPrice(
            ts=_ms(self.ts),
            symbol=symbol,
            price=positive(self.markPx) * contract.scale,
            funding_rate=funding[0] if funding else None,
            next_funding_ts=funding[1] if funding else None,
        )


class FundingRate(_Wire):
    """`fundingTime` is the next settlement, the one `fundingRate` applies to."""

    instId: str
    fundingRate: str
    fundingTime: str

    def to_funding(self) -> tuple[Decimal, int]:
        """OKX sends no event of its own for funding: it rides on the next mark."""
        return finite(self.fundingRate), _ms(self.fundingTime)


class BboTbt(_Wire):
    asks: list[list[str]]
    bids: list[list[str]]
    ts: str
    seqId: int | None = None

    def to_event(self, symbol: str, contract: Contract) -> Quote:
        if not self.asks or not self.bids or len(self.asks[0]) < 2 or len(self.bids[0]) < 2:
            raise Drop("one_sided_book")
        bid, ask = positive(self.bids[0][0]), positive(self.asks[0][0])
        if bid > ask:
            raise Drop("crossed_book")
        units = contract.ct_val / contract.scale
        return Quote(
            ts=_ms(self.ts),
            symbol=symbol,
            bid=bid * contract.scale,
            ask=ask * contract.scale,
            bid_qty=non_negative(self.bids[0][1]) * units,
            ask_qty=non_negative(self.asks[0][1]) * units,
        )


class Books5(_Wire):
    asks: list[Any]
    bids: list[Any]
    ts: str
    seqId: int | None = None

    def to_event(self, symbol: str, contract: Contract, depth: int) -> Book:
        units, scale = contract.ct_val / contract.scale, contract.scale
        bids = book_side(self.bids, depth, True)
        asks = book_side(self.asks, depth, False)
        if scale != 1 or units != 1:
            bids = tuple((p * scale, q * units) for p, q in bids)
            asks = tuple((p * scale, q * units) for p, q in asks)
        return make_book(_ms(self.ts), symbol, bids, asks)


class OkxTrade(_Wire):
    instId: str
    tradeId: str
    px: str
    sz: str
    ts: str

    def to_event(self, symbol: str, contract: Contract) -> Trade:
        return Trade(
            ts=_ms(self.ts),
            symbol=symbol,
            price=positive(self.px) * contract.scale,
            qty=positive(self.sz) * contract.ct_val / contract.scale,
        )


class OkxAdapter:
    """OKX v5 public: one connection, one subscribe per instrument replayed on connect, text
    pings."""

    venue = "okx"

    def __init__(
        self,
        symbols: Sequence[str],
        ws_url: str | None = None,
        contracts: Mapping[str, Contract] | None = None,
        depth: int = DEFAULT_DEPTH,
    ) -> None:
        if not symbols:
            raise ValueError("at least one symbol is needed")
        self.depth = check_depth(depth, MAX_DEPTH)
        self.base_url = (ws_url or DEFAULT_WS_URL).rstrip("/")
        self._table = dict(CONTRACTS) | dict(contracts or {})
        self._by_inst: dict[str, tuple[str, Contract]] = {}
        for symbol in symbols:
            self._contract(symbol)  # refuse the whole list before keeping any of it
        for symbol in symbols:
            contract = self._contract(symbol)
            self._by_inst[contract.inst_id] = (symbol.upper(), contract)
        self.stats = FeedStats()
        self._seq = Sequencer()
        self._funding: dict[str, tuple[Decimal, int]] = {}
        self._rebuild()

    def _contract(self, symbol: str) -> Contract:
        sym = symbol.upper()
        contract = self._table.get(sym)
        if contract is None:
            # Unknown ctVal: 1 is wrong for most coins, so refuse rather than guess.
            hint = "pass contracts= from feeds.rest.okx_contracts"
            raise ValueError(f"{sym}: OKX contract size unknown ({hint})")
        return contract

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(sym for sym, _ in self._by_inst.values())

    def _rebuild(self) -> None:
        self._channels = CHANNELS if self.depth else CHANNELS[:-1]
        self._streams = frozenset(f"{c}:{inst}" for inst in self._by_inst for c in self._channels)
        self._ids = {f"sub{sym}": sym for sym, _ in self._by_inst.values()}

    def args(self) -> list[dict[str, str]]:
        return [a for inst in self._by_inst for a in _args(inst, self._channels)]

    def connections(self) -> list[ConnectionSpec]:
        stale = {"mark-price": MARK_STALE_S, "funding-rate": FUNDING_STALE_S}
        return [
            ConnectionSpec(
                name="public",
                url=f"{self.base_url}{WS_PATH}",
                subscribe=tuple(
                    _request("subscribe", sym, inst, self._channels)
                    for inst, (sym, _) in self._by_inst.items()
                ),
                streams={
                    f"{c}:{inst}": stale.get(c) for inst in self._by_inst for c in self._channels
                },
                keepalive=Keepalive(
                    "ping", PING_IDLE_S, idle_only=True, pong_timeout=PONG_TIMEOUT_S
                ),
            )
        ]

    def add_symbol(self, symbol: str) -> Outgoing:
        contract = self._contract(symbol)
        if contract.inst_id in self._by_inst:
            return {}
        self._by_inst[contract.inst_id] = (symbol.upper(), contract)
        self._rebuild()
        return {"public": [_request("subscribe", symbol.upper(), contract.inst_id, self._channels)]}

    def remove_symbol(self, symbol: str) -> Outgoing:
        inst = next((i for i, (s, _) in self._by_inst.items() if s == symbol.upper()), None)
        if inst is None:
            return {}
        del self._by_inst[inst]
        self._funding.pop(inst, None)
        self._rebuild()
        return {"public": [_request("unsubscribe", symbol.upper(), inst, self._channels)]}

    def on_connect(self, conn: str) -> None:
        """Pushes are full objects (no deltas): nothing to forget."""

    def decode(self, conn: str, raw: str | bytes) -> tuple[str | None, list[MarketEvent]]:
        stats = self.stats
        if raw == "pong":
            return None, []
        msg = stats.json_object(raw)
        if msg is None:
            return None, []
        if "event" in msg:
            return self._event(msg)
        arg, data = msg.get("arg"), msg.get("data")
        if not isinstance(arg, dict) or not isinstance(data, list):
            stats.dropped["unknown_message"] += 1
            return None, []
        channel, inst = arg.get("channel"), arg.get("instId")
        if channel not in CHANNELS or not isinstance(inst, str):
            stats.dropped["unknown_message"] += 1
            return None, []
        stream = f"{channel}:{inst}"
        target = self._by_inst.get(inst)
        if target is None or stream not in self._streams:
            stats.dropped["unknown_stream"] += 1
            return None, []
        events: list[MarketEvent] = []
        for item in data:
            try:
                event = self._item(channel, inst, target, item)
            except ValidationError:
                stats.dropped["invalid_fields"] += 1
                continue
            except Drop as drop:
                stats.dropped[drop.reason] += 1
                continue
            if event is not None:
                events.append(event)
        return stream, events

    def _item(
        self, channel: str, inst: str, target: tuple[str, Contract], item: Any
    ) -> MarketEvent | None:
        symbol, contract = target
        seq = self._seq
        if channel == "trades":
            trade = OkxTrade.model_validate(item)
            if not trade.tradeId.isdigit():
                raise Drop("invalid_fields")
            late = seq.check(channel, symbol, int(trade.tradeId))
            if late:
                raise Drop(late)
            return trade.to_event(symbol, contract)
        if channel == "books5":
            books = Books5.model_validate(item)
            book = books.to_event(symbol, contract, self.depth)
            late = seq.check(channel, symbol, (check_time(book.ts), books.seqId or 0))
            if late:
                raise Drop(late)
            return book
        if channel == "bbo-tbt":
            bbo = BboTbt.model_validate(item)
            quote = bbo.to_event(symbol, contract)
            late = seq.check(channel, symbol, (check_time(quote.ts), bbo.seqId or 0))
            if late:
                raise Drop(late)
            return quote
        if channel == "mark-price":
            mark = MarkPx.model_validate(item).to_event(symbol, contract, self._funding.get(inst))
            late = seq.check(channel, symbol, check_time(mark.ts))
            if late:
                raise Drop(late)
            return mark
        rate = FundingRate.model_validate(item).to_funding()
        self._funding[inst] = rate
        return None

    def _event(self, msg: dict[str, Any]) -> tuple[str | None, list[MarketEvent]]:
        kind = msg.get("event")
        if kind in ("subscribe", "unsubscribe", "channel-conn-count"):
            return None, []
        if kind == "error":
            self._error(msg)
            return None, []
        if kind == "notice":
            raise ReconnectRequested(plain_text(msg.get("msg")))
        self.stats.dropped["unknown_message"] += 1
        return None, []

    def _error(self, msg: dict[str, Any]) -> None:
        code, words = plain_text(msg.get("code"), 12), plain_text(msg.get("msg"))
        rid = msg.get("id")
        if isinstance(rid, str) and rid.startswith("unsub"):
            return  # a refused unsubscribe leaves nothing to end
        symbols = [self._ids[rid]] if isinstance(rid, str) and rid in self._ids else []
        if not symbols:
            symbols = [self._by_inst[i][0] for i in _INST.findall(words) if i in self._by_inst]
        raise VenueError(
            f"OKX error {code}: {words}",
            retryable=code in RETRYABLE_CODES or retryable_text(words),
            symbols=symbols,
        )


def _args(inst: str, channels: Sequence[str] = CHANNELS) -> list[dict[str, str]]:
    return [{"channel": c, "instId": inst} for c in channels]


def _request(op: str, symbol: str, inst: str, channels: Sequence[str] = CHANNELS) -> str:
    """One request per instrument; its `id` (letters and digits, as OKX requires) ties an error
    reply to the symbol."""
    rid = f"{'sub' if op == 'subscribe' else 'unsub'}{symbol}"
    return json.dumps({"id": rid, "op": op, "args": _args(inst, channels)}, separators=(",", ":"))
