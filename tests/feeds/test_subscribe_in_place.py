"""Adding a symbol to a running venue feed subscribes on the connection already open — one
price path per symbol, never a second connection — and the desired set is replayed on every
reconnect (issue 10, bug 1, live-venue part)."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

import pytest

from papertrade.core.events import MarketEvent, MarkPrice, Quote
from papertrade.feeds.binance import SEND_INTERVAL_S
from papertrade.feeds.conflate import ConflatedFeed
from papertrade.feeds.venues import open_venue_feed

ETH_BOOK = {
    "stream": "ethusdt@bookTicker",
    "data": {"e": "bookTicker", "u": 7, "s": "ETHUSDT", "b": "2500.10", "B": "3.5",
             "a": "2500.20", "A": "4.25", "T": 1723161256400, "E": 1723161256401},
}  # fmt: skip
BTC_BOOK = {
    "stream": "btcusdt@bookTicker",
    "data": ETH_BOOK["data"] | {"s": "BTCUSDT", "b": "61800.20", "a": "61800.30"},  # type: ignore[operator]
}
ETH_TICKER = {
    "topic": "tickers.ETHUSDT", "type": "snapshot", "ts": 1760325052630, "cs": 1,
    "data": {"symbol": "ETHUSDT", "markPrice": "2500.15", "bid1Price": "2500.10",
             "bid1Size": "3.5", "ask1Price": "2500.20", "ask1Size": "4.25"},
}  # fmt: skip
BTC_TICKER = ETH_TICKER | {
    "topic": "tickers.BTCUSDT",
    "data": {"symbol": "BTCUSDT", "markPrice": "66666.60"},
}


def okx_mark(inst: str, px: str) -> dict[str, Any]:
    return {
        "arg": {"channel": "mark-price", "instId": inst},
        "data": [{"instType": "SWAP", "instId": inst, "markPx": px, "ts": "1700000000123"}],
    }


def hl_bbo(coin: str, bid: str, ask: str) -> dict[str, Any]:
    levels = [{"px": bid, "sz": "3.5", "n": 2}, {"px": ask, "sz": "4.25", "n": 3}]
    return {"channel": "bbo", "data": {"coin": coin, "time": 1788490065008, "bbo": levels}}


# venue -> (connection that carries the frames, BTC frame, ETH frame, subscribe word,
#           unsubscribe word, the ETH events expected)
CASES: dict[str, tuple[str, Any, Any, str, str, list[MarketEvent]]] = {
    "binance": (
        "/public/", BTC_BOOK, ETH_BOOK, '"SUBSCRIBE"', '"UNSUBSCRIBE"',
        [Quote(1723161256400, "ETHUSDT", Decimal("2500.10"), Decimal("2500.20"),
               Decimal("3.5"), Decimal("4.25"))],
    ),
    "bybit": (
        "/", BTC_TICKER, ETH_TICKER, '"op":"subscribe"', '"op":"unsubscribe"',
        [MarkPrice(1760325052630, "ETHUSDT", Decimal("2500.15")),
         Quote(1760325052630, "ETHUSDT", Decimal("2500.10"), Decimal("2500.20"),
               Decimal("3.5"), Decimal("4.25"))],
    ),
    "okx": (
        "/", okx_mark("BTC-USDT-SWAP", "27123.45"), okx_mark("ETH-USDT-SWAP", "2500.15"),
        '"op":"subscribe"', '"op":"unsubscribe"',
        [MarkPrice(1700000000123, "ETHUSDT", Decimal("2500.15"))],
    ),
    "hyperliquid": (
        "/", hl_bbo("BTC", "80639.0", "80640.0"), hl_bbo("ETH", "2500.10", "2500.20"),
        '"method":"subscribe"', '"method":"unsubscribe"',
        [Quote(1788490065008, "ETHUSDT", Decimal("2500.10"), Decimal("2500.20"),
               Decimal("3.5"), Decimal("4.25"))],
    ),
}  # fmt: skip


ETH = {"binance": "ethusdt@", "bybit": ".ETHUSDT", "okx": "ETH-USDT-SWAP", "hyperliquid": '"ETH"'}
# Hyperliquid subscribes one (type, coin) per message: activeAssetCtx, bbo and trades.
PER_SYMBOL = {"binance": 1, "bybit": 1, "okx": 1, "hyperliquid": 4}  # HL: one per stream kind


def eth_messages(sent: list[str], word: str) -> list[str]:
    return [m for m in sent if word in m and any(token in m for token in ETH.values())]


@pytest.mark.parametrize("name", list(CASES))
async def test_added_symbol_is_subscribed_on_the_open_connection(
    venue: Any, feeds: Any, helpers: Any, name: str
) -> None:
    route, btc, eth, sub, unsub, expected = CASES[name]

    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        if not conn.path.startswith(route):
            await conn.hold()  # Binance's other route: it gets its own SUBSCRIBE, no data here
            return
        await conn.send(btc)
        await conn.wait_received(lambda sent: bool(eth_messages(sent, sub)), within=5)
        await conn.send(eth)
        await conn.hold()

    server = await venue(name, script)
    feed = feeds(name, ["BTCUSDT"], server.url)
    first = await helpers.take(feed, 1)
    assert first[0].symbol == "BTCUSDT"
    links = len(server.connections)
    feed.add_symbol("ETHUSDT")
    feed.add_symbol("ethusdt")  # idempotent: no second subscribe
    got = await helpers.take(feed, len(expected))
    assert got == expected
    assert len(server.connections) == links == (2 if name == "binance" else 1)
    for conn in server.connections:
        # one subscribe for ETH on each open connection of the venue (Binance: both routes)
        assert len(eth_messages(conn.received, sub)) == PER_SYMBOL[name], conn.received
    assert feed.symbols == ["BTCUSDT", "ETHUSDT"]

    feed.remove_symbol("ETHUSDT")
    feed.remove_symbol("ETHUSDT")  # idempotent
    for conn in server.connections:
        await conn.wait_received(lambda sent: len(eth_messages(sent, unsub)) == PER_SYMBOL[name])
    assert feed.symbols == ["BTCUSDT"]
    assert len(server.connections) == links


@pytest.mark.parametrize("name", list(CASES))
async def test_a_reconnect_replays_the_symbols_added_meanwhile(
    venue: Any, feeds: Any, helpers: Any, name: str
) -> None:
    route, btc, eth, sub, _unsub, expected = CASES[name]

    async def first(conn: Any) -> None:
        await conn.subscribed.wait()
        if conn.path.startswith(route):
            await conn.send(btc)
            await conn.wait_received(lambda sent: bool(eth_messages(sent, sub)), within=5)
            conn.drop()
        else:
            await conn.hold()

    async def again(conn: Any) -> None:
        await conn.subscribed.wait()
        if conn.path.startswith(route):
            await conn.send(eth)
        await conn.hold()

    scripts = (first, first, again) if name == "binance" else (first, again)  # 2 routes
    server = await venue(name, *scripts)
    feed = feeds(name, ["BTCUSDT"], server.url)
    await helpers.take(feed, 1)
    feed.add_symbol("ETHUSDT")
    assert await helpers.take(feed, len(expected)) == expected
    replayed = [c for c in server.connections if c.index >= (2 if name == "binance" else 1)]
    data_conn = next(c for c in replayed if c.path.startswith(route))
    if name == "binance":  # the streams ride in the URL of the new connection
        assert "ethusdt@bookTicker" in data_conn.path and "btcusdt@bookTicker" in data_conn.path
    else:  # the connect-time subscriptions now include ETH, once
        assert len(eth_messages(data_conn.received, sub)) == PER_SYMBOL[name]
        joined = json.dumps(data_conn.topics)
        assert "BTC" in joined and "ETH" in joined


async def test_binance_subscription_changes_are_spaced_to_its_message_limit(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    """Binance cuts a connection that sends more than 10 messages a second: three symbols
    added at once go out one SUBSCRIBE at a time, `SEND_INTERVAL_S` apart."""
    server = await venue("binance", helpers.hold)
    feed = feeds("binance", ["BTCUSDT"], server.url)
    feed.start()
    await feed.wait_status(lambda s: s.state == "waiting")
    for symbol in ("ETHUSDT", "SOLUSDT", "BNBUSDT"):
        feed.add_symbol(symbol)
    public = next(c for c in server.connections if c.path.startswith("/public/"))
    await public.wait_received(lambda sent: len(sent) == 3, within=5)
    assert [json.loads(m)["params"] for m in public.received] == [
        [f"{s}@bookTicker", f"{s}@depth20@100ms"] for s in ("ethusdt", "solusdt", "bnbusdt")
    ]  # fmt: skip
    gaps = [b - a for a, b in itertools.pairwise(public.received_at)]
    assert all(gap >= SEND_INTERVAL_S * 0.9 for gap in gaps), gaps
    assert len(server.connections) == 2


def test_a_conflated_feed_passes_symbol_changes_to_the_feed_it_wraps() -> None:
    feed = open_venue_feed("okx", ["BTCUSDT"], "ws://127.0.0.1:9")
    wrapped = ConflatedFeed(feed)
    wrapped.add_symbol("ETHUSDT")
    assert feed.symbols == ["BTCUSDT", "ETHUSDT"]
    wrapped.remove_symbol("BTCUSDT")
    assert feed.symbols == ["ETHUSDT"]


async def test_a_symbol_added_before_the_first_connect_is_subscribed_once(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    server = await venue("bybit", helpers.hold)
    feed = feeds("bybit", ["BTCUSDT"], server.url)
    feed.add_symbol("ETHUSDT")
    feed.start()
    conn = await server.wait_connections(1)
    await conn.wait_received(lambda sent: len(sent) >= 2)
    assert [json.loads(m)["args"] for m in conn.received] == [
        ["tickers.BTCUSDT", "publicTrade.BTCUSDT", "orderbook.50.BTCUSDT"],
        ["tickers.ETHUSDT", "publicTrade.ETHUSDT", "orderbook.50.ETHUSDT"],
    ]


def test_a_symbol_the_venue_cannot_map_is_refused_at_once() -> None:
    feed = open_venue_feed("okx", ["BTCUSDT"], "ws://127.0.0.1:9")
    with pytest.raises(ValueError, match="OKX contract size unknown"):
        feed.add_symbol("NOSUCHUSDT")
    assert feed.symbols == ["BTCUSDT"]
