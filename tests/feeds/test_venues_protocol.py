"""Bybit, OKX and Hyperliquid end to end: the real client against local servers that speak each
venue's protocol (paths, subscribe + acks, keepalive), asserting the exact events produced."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest

from papertrade.core.events import Funding, MarkPrice, Quote, Trade
from papertrade.feeds import binance, bybit, hyperliquid, okx
from papertrade.feeds.okx import Contract, OkxAdapter
from papertrade.feeds.venues import open_venue_feed


async def test_bybit_snapshot_delta_trades_and_json_pings(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    frames = helpers.lines("bybit/tickers_btcusdt_doc.jsonl")

    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        for frame in frames:
            await conn.send(frame)
        await conn.hold()

    server = await venue("bybit", script)
    feed = feeds("bybit", ["BTCUSDT"], server.url, keepalive_override=0.05)
    events = await helpers.take(feed, 4)
    assert events == [
        MarkPrice(1760325052630, "BTCUSDT", Decimal("66666.60"), Decimal("115418.19"),
                  Decimal("-0.005"), 1760342400000),
        Quote(1760325052630, "BTCUSDT", Decimal("66666.60"), Decimal("66666.70"),
              Decimal("23789.165"), Decimal("23775.469")),
        Quote(1760325052730, "BTCUSDT", Decimal("66666.60"), Decimal("66666.90"),
              Decimal("23789.165"), Decimal("3691")),
        Trade(1760325052738, "BTCUSDT", Decimal("66666.70"), Decimal("0.001")),
    ]  # fmt: skip
    conn = server.connections[0]
    assert conn.path == "/v5/public/linear"
    assert json.loads(conn.received[0]) == {
        "req_id": "sub-BTCUSDT",
        "op": "subscribe",
        "args": ["tickers.BTCUSDT", "publicTrade.BTCUSDT", "orderbook.50.BTCUSDT"],
    }
    await conn.wait_received(lambda sent: '{"req_id":"ping","op":"ping"}' in sent)
    assert feed.stats.dropped == {}


async def test_okx_marks_carry_funding_and_sizes_become_base_units(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    inst = "BTC-USDT-SWAP"

    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(
            {
                "arg": {"channel": "funding-rate", "instId": inst},
                "data": [
                    {
                        "instId": inst,
                        "fundingRate": "0.0001",
                        "nextFundingRate": "",
                        "fundingTime": "1744617600000",
                        "nextFundingTime": "1744646400000",
                        "ts": "1744590349506",
                    }
                ],
            }
        )
        await conn.send(
            {
                "arg": {"channel": "mark-price", "instId": inst},
                "data": [
                    {"instType": "SWAP", "instId": inst, "markPx": "84123.4", "ts": "1744617599000"}
                ],
            }
        )
        await conn.send(
            {
                "arg": {"channel": "bbo-tbt", "instId": inst},
                "data": [
                    {
                        "asks": [["84123.5", "415", "0", "13"]],
                        "bids": [["84123.4", "256", "0", "12"]],
                        "ts": "1744617599100",
                        "seqId": 123456,
                    }
                ],
            }
        )
        await conn.send(
            {
                "arg": {"channel": "trades", "instId": inst},
                "data": [
                    {
                        "instId": inst,
                        "tradeId": "130639474",
                        "px": "84123.5",
                        "sz": "12",
                        "side": "buy",
                        "ts": "1744617599200",
                        "count": "3",
                        "seqId": 1234,
                    }
                ],
            }
        )
        await conn.send(
            {
                "arg": {"channel": "mark-price", "instId": inst},
                "data": [
                    {"instType": "SWAP", "instId": inst, "markPx": "84130.0", "ts": "1744617600000"}
                ],
            }
        )
        await conn.hold()  # fmt: skip

    server = await venue("okx", script)
    feed = feeds("okx", ["BTCUSDT"], server.url)
    events = await helpers.take(feed, 5)
    assert events == [
        MarkPrice(1744617599000, "BTCUSDT", Decimal("84123.4"), None, Decimal("0.0001"),
                  1744617600000),
        Quote(1744617599100, "BTCUSDT", Decimal("84123.4"), Decimal("84123.5"),
              Decimal("2.56"), Decimal("4.15")),
        Trade(1744617599200, "BTCUSDT", Decimal("84123.5"), Decimal("0.12")),
        Funding(1744617600000, "BTCUSDT", Decimal("0.0001")),
        MarkPrice(1744617600000, "BTCUSDT", Decimal("84130.0"), None, Decimal("0.0001"),
                  1744617600000),
    ]  # fmt: skip
    conn = server.connections[0]
    assert conn.path == "/ws/v5/public"
    assert json.loads(conn.received[0])["args"] == [
        {"channel": c, "instId": inst}
        for c in ("mark-price", "funding-rate", "bbo-tbt", "trades", "books5")
    ]


def test_okx_recorded_trade_frame_and_acks(helpers: Any) -> None:
    """Real 2022 frames (an inverse swap, used as a format sample with its 10 USD contract)."""
    adapter = OkxAdapter(["UNIUSD"], contracts={"UNIUSD": Contract("UNI-USD-SWAP", Decimal(10))})
    for ack in helpers.lines("okx/subscribe_acks_2022-05-13.jsonl"):
        assert adapter.decode("public", ack) == (None, [])
    frame = helpers.lines("okx/trades_uni-usd-swap_2022-05-13.jsonl")[0]
    stream, events = adapter.decode("public", frame)
    assert stream == "trades:UNI-USD-SWAP"
    assert events == [Trade(1652459215150, "UNIUSD", Decimal("5.123"), Decimal("1000"))]
    assert adapter.decode("public", "pong") == (None, [])
    assert adapter.stats.dropped == {}


def test_okx_per_1000_contract_scales_price_and_size() -> None:
    adapter = OkxAdapter(["1000PEPEUSDT"])
    frame = {"arg": {"channel": "trades", "instId": "PEPE-USDT-SWAP"},
             "data": [{"instId": "PEPE-USDT-SWAP", "tradeId": "7", "px": "0.0000123", "sz": "2",
                       "side": "sell", "ts": "1700000000000"}]}  # fmt: skip
    assert adapter.decode("public", json.dumps(frame))[1] == [
        Trade(1700000000000, "1000PEPEUSDT", Decimal("0.0123000"), Decimal("20000"))
    ]


async def test_hyperliquid_subscriptions_acks_and_hourly_funding(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    frames = helpers.lines("hyperliquid/btc_doc.jsonl")
    hour = 1788490800000
    now = [hour - 1000]
    next_hour = asyncio.Event()

    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        for frame in frames:
            await conn.send(frame)
        await next_hour.wait()  # the wall clock moved past the top of the hour
        await conn.send(frames[2])  # replayed trade (as after a resubscribe)
        await conn.send(frames[0].replace('"0.0000052974"', '"0.0000061"'))
        await conn.hold()

    server = await venue("hyperliquid", script)
    feed = feeds("hyperliquid", ["BTCUSDT"], server.url, wall_ms=lambda: now[0],
                 keepalive_override=0.05)  # fmt: skip
    events = await helpers.take(feed, 3)
    now[0] = hour + 5
    next_hour.set()
    events += await helpers.take(feed, 2)
    assert events == [
        MarkPrice(hour - 1000, "BTCUSDT", Decimal("80640.0"), Decimal("80684.7"),
                  Decimal("0.0000052974"), hour),
        Quote(1788490065008, "BTCUSDT", Decimal("80639.0"), Decimal("80640.0"),
              Decimal("0.00186"), Decimal("13.74589")),
        Trade(1788490065100, "BTCUSDT", Decimal("80640.0"), Decimal("0.5")),
        Funding(hour, "BTCUSDT", Decimal("0.0000052974")),
        MarkPrice(hour + 5, "BTCUSDT", Decimal("80640.0"), Decimal("80684.7"),
                  Decimal("0.0000061"), hour + 3_600_000),
    ]  # fmt: skip
    conn = server.connections[0]
    assert conn.path == "/ws"
    assert [json.loads(m) for m in conn.received[:3]] == [
        {"method": "subscribe", "subscription": {"type": t, "coin": "BTC"}}
        for t in ("activeAssetCtx", "bbo", "trades")
    ]
    await conn.wait_received(lambda sent: '{"method":"ping"}' in sent)
    assert feed.stats.dropped == {"duplicate": 1}


@pytest.mark.parametrize(
    ("name", "url", "expected"),
    [
        ("binance", "ws://127.0.0.1:9", ["ws://127.0.0.1:9/market/stream?streams=btcusdt@markPrice@1s/btcusdt@aggTrade",
                                         "ws://127.0.0.1:9/public/stream?streams=btcusdt@bookTicker/btcusdt@depth20@100ms"]),
        ("binance", None, ["wss://fstream.binance.com/market/stream?streams=btcusdt@markPrice@1s/btcusdt@aggTrade",
                           "wss://fstream.binance.com/public/stream?streams=btcusdt@bookTicker/btcusdt@depth20@100ms"]),
        ("bybit", "wss://stream-testnet.bybit.com/", ["wss://stream-testnet.bybit.com/v5/public/linear"]),
        ("okx", None, ["wss://ws.okx.com:8443/ws/v5/public"]),
        ("hyperliquid", "wss://api.hyperliquid-testnet.xyz", ["wss://api.hyperliquid-testnet.xyz/ws"]),
    ],
)  # fmt: skip
def test_ws_url_override_keeps_venue_paths(name: str, url: str | None, expected: list[str]) -> None:
    feed = open_venue_feed(name, ["BTCUSDT"], url)
    assert [c.url for c in feed.adapter.connections()] == expected


def test_symbol_mapping() -> None:
    assert binance.venue_symbol("btcusdt") == "BTCUSDT"
    assert bybit.venue_symbol("1000PEPEUSDT") == "1000PEPEUSDT"
    assert okx.venue_symbol("BTCUSDT") == "BTC-USDT-SWAP"
    assert okx.venue_symbol("1000PEPEUSDT") == "PEPE-USDT-SWAP"
    assert okx.user_symbol("ETH-USDT-SWAP") == "ETHUSDT"
    assert hyperliquid.venue_symbol("BTCUSDT") == "BTC"
    assert hyperliquid.venue_symbol("1000PEPEUSDT") == "kPEPE"
    assert hyperliquid.user_symbol("kPEPE") == "1000PEPEUSDT"
    with pytest.raises(ValueError):
        open_venue_feed("kraken", ["BTCUSDT"])
