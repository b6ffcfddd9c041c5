"""Fault injection against the shared supervisor, through real venue adapters and local servers.

Every test asserts the exact events that got through and the status transitions the user saw.
"""

from __future__ import annotations

import itertools
import random
from decimal import Decimal
from typing import Any

import pytest

from papertrade.core.events import MarkPrice, Quote, Trade
from papertrade.feeds.base import FeedStatus
from papertrade.feeds.bybit import BybitAdapter
from papertrade.feeds.supervisor import SupervisedFeed, Timing

SNAPSHOT = {
    "topic": "tickers.BTCUSDT",
    "type": "snapshot",
    "ts": 1760325052630,
    "cs": 1,
    "data": {
        "symbol": "BTCUSDT",
        "markPrice": "66666.60",
        "indexPrice": "66660.00",
        "fundingRate": "0.0001",
        "nextFundingTime": "1760342400000",
        "bid1Price": "66666.60",
        "bid1Size": "2.5",
        "ask1Price": "66666.70",
        "ask1Size": "1.5",
    },
}


MARK_FRAME = {
    "stream": "btcusdt@markPrice@1s",
    "data": {"e": "markPriceUpdate", "E": 1723161256000, "s": "BTCUSDT", "p": "61801.10"},
}


def bybit_delta(ts: int, cs: int, **fields: str) -> dict[str, object]:
    return {
        "topic": "tickers.BTCUSDT",
        "type": "delta",
        "ts": ts,
        "cs": cs,
        "data": {"symbol": "BTCUSDT", **fields},
    }


def quote(ts: int, ask: str, ask_qty: str = "1.5") -> Quote:
    return Quote(ts, "BTCUSDT", Decimal("66666.60"), Decimal(ask), Decimal("2.5"), Decimal(ask_qty))


async def test_abrupt_drop_reconnects_and_resubscribes(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    async def first(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(SNAPSHOT)
        await conn.wait_received(lambda sent: '{"req_id":"ping","op":"ping"}' in sent)
        conn.drop()  # after the client proved alive by pinging

    async def second(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(SNAPSHOT | {"ts": 1760325052700, "cs": 2})
        await conn.hold()

    server = await venue("bybit", first, second)
    feed = feeds("bybit", ["BTCUSDT"], server.url, keepalive_override=0.05)
    events = await helpers.take(feed, 4)
    assert [type(e).__name__ for e in events] == ["MarkPrice", "Quote", "MarkPrice", "Quote"]
    assert events[3] == quote(1760325052700, "66666.70")
    assert len(server.connections) == 2
    assert server.connections[1].topics == [
        "tickers.BTCUSDT", "publicTrade.BTCUSDT", "orderbook.50.BTCUSDT",
    ]  # fmt: skip
    assert helpers.states(feed) == [
        "connecting", "waiting", "live", "reconnecting", "connecting", "waiting", "live",
    ]  # fmt: skip
    reconnecting = next(s for s in feed.transitions if s.state == "reconnecting")
    assert reconnecting.detail == "connection lost (no close frame)"
    assert not reconnecting.closed_by_server  # the network is the suspect here


async def test_clean_1001_close_reconnects(venue: Any, feeds: Any, helpers: Any) -> None:
    async def first(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.close(1001, "going away")

    async def second(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(
            {
                "arg": {"channel": "mark-price", "instId": "BTC-USDT-SWAP"},
                "data": [{"instType": "SWAP", "instId": "BTC-USDT-SWAP", "markPx": "27123.45",
                          "ts": "1700000000123"}],
            }
        )  # fmt: skip
        await conn.hold()

    server = await venue("okx", first, second)
    feed = feeds("okx", ["BTCUSDT"], server.url)
    events = await helpers.take(feed, 1)
    assert events == [MarkPrice(1700000000123, "BTCUSDT", Decimal("27123.45"))]
    assert server.connections[0].received == server.connections[1].received[:1]
    assert helpers.states(feed) == [
        "connecting", "waiting", "reconnecting", "connecting", "waiting", "live",
    ]  # fmt: skip
    reconnecting = next(s for s in feed.transitions if s.state == "reconnecting")
    assert reconnecting.detail == "closed by server (1001 going away)"
    assert reconnecting.closed_by_server  # the server answered: no "no network?" hint


async def test_silent_stream_goes_stale_then_watchdog_reconnects(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    async def first(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(SNAPSHOT)
        await conn.hold()  # then silence

    async def second(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(SNAPSHOT | {"ts": 1760325099999, "cs": 9})
        await conn.hold()

    server = await venue("bybit", first, second)
    # thresholds generous enough for a loaded 2-core CI machine: stale after 0.5 s of
    # silence, reconnect after 3 x 0.5 = 1.5 s
    feed = feeds("bybit", ["BTCUSDT"], server.url, stale_override=0.5, stale_reconnect_factor=3)
    events = await helpers.take(feed, 4)
    assert events[2] == MarkPrice(
        1760325099999,
        "BTCUSDT",
        Decimal("66666.60"),
        Decimal("66660.00"),
        Decimal("0.0001"),
        1760342400000,
    )
    assert helpers.states(feed) == [
        "connecting", "waiting", "live", "stale", "reconnecting", "connecting", "waiting", "live",
    ]  # fmt: skip
    stale = next(s for s in feed.transitions if s.state == "stale")
    assert stale.detail == "tickers.BTCUSDT silent"
    reconnecting = next(s for s in feed.transitions if s.state == "reconnecting")
    assert reconnecting.detail.startswith("tickers.BTCUSDT silent for 1.5")


async def test_garbage_and_truncated_frames_are_counted_and_the_feed_lives_on(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    frames = helpers.lines("hyperliquid/btc_doc.jsonl")

    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send("\x00\xff garbage {{{")
        await conn.send(frames[1][:50])  # truncated bbo
        await conn.send('{"channel":"bbo","data":{"coin":"BTC","time":1,"bbo":[null,null]}}')
        await conn.send('{"channel":"mystery","data":{}}')
        await conn.send(b"\x89PNG binary junk")
        await conn.send(frames[1])
        await conn.hold()

    server = await venue("hyperliquid", script)
    feed = feeds("hyperliquid", ["BTCUSDT"], server.url)
    events = await helpers.take(feed, 1)
    assert events == [
        Quote(1788490065008, "BTCUSDT", Decimal("80639.0"), Decimal("80640.0"),
              Decimal("0.00186"), Decimal("13.74589"))
    ]  # fmt: skip
    assert feed.stats.dropped == {"malformed_json": 3, "one_sided_book": 1, "unknown_message": 1}
    assert feed.status.state == "live"
    assert len(server.connections) == 1


async def test_503_then_success(venue: Any, feeds: Any, helpers: Any) -> None:
    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        if conn.path.startswith("/public/"):
            await conn.send(helpers.lines("binance/bookticker_btcusdt_2024-08-08.jsonl")[0])
        else:
            await conn.send(MARK_FRAME)
        await conn.hold()

    server = await venue("binance", script)
    server.refuse = lambda n, path: 503 if path.startswith("/public") and n < 3 else None
    feed = feeds("binance", ["BTCUSDT"], server.url)
    events = await helpers.take(feed, 2)
    assert sorted(e.type for e in events) == ["mark", "quote"]
    public = [s for s in feed.transitions if s.state == "reconnecting"]
    assert public and all(s.detail == "public: HTTP 503 from server" for s in public)
    await feed.wait_status(lambda s: s.state == "live")
    assert helpers.states(feed)[-3:] == ["connecting", "waiting", "live"]
    assert helpers.states(feed).count("reconnecting") == 2
    paths = [c.path.split("?")[0] for c in server.connections]
    assert paths == ["/market/stream", "/public/stream"]


async def test_http_403_is_fatal(venue: Any, feeds: Any, helpers: Any) -> None:
    server = await venue("bybit", helpers.hold)
    server.refuse = lambda attempt, path: 403
    feed = feeds("bybit", ["BTCUSDT"], server.url)
    assert await helpers.take(feed, 0) == []
    status = await feed.wait_status(lambda s: s.state == "failed")
    assert status.detail == "server refused the connection: HTTP 403"
    assert status.closed_by_server
    assert len(server.attempts) == 1


@pytest.mark.parametrize(
    ("name", "symbol", "reason"),
    [
        ("bybit", "DOGEUSDT",
         "Bybit rejected subscribe: error:handler not found,topic:tickers.DOGEUSDT"),
        ("okx", "SOLUSDT",
         "OKX error 60018: Wrong URL or channel:mark-price,instId:SOL-USDT-SWAP doesn't exist."),
        ("hyperliquid", "DOGEUSDT",
         'Hyperliquid error: Invalid subscription {"type": "activeAssetCtx", "coin": "DOGE"}'),
    ],
)  # fmt: skip
async def test_subscription_error_fails_the_feed_with_the_reason(
    venue: Any, feeds: Any, helpers: Any, name: str, symbol: str, reason: str
) -> None:
    server = await venue(name, helpers.hold)
    feed = feeds(name, [symbol], server.url)
    events = [e async for e in feed]  # iteration ends on a fatal error
    assert events == []
    assert feed.status == FeedStatus("failed", reason, feed.status.since_ms, closed_by_server=True)
    assert helpers.states(feed) == ["connecting", "waiting", "failed"]
    assert len(server.connections) == 1  # no retry against a verdict


async def test_duplicates_out_of_order_and_early_deltas_never_reach_the_engine(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    trade = helpers.lines("bybit/tickers_btcusdt_doc.jsonl")[2]

    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(bybit_delta(1760325052600, 0, ask1Price="1"))  # before the snapshot
        await conn.send(SNAPSHOT)
        await conn.send(bybit_delta(1760325052730, 2, ask1Price="66666.90"))
        await conn.send(bybit_delta(1760325052730, 2, ask1Price="66666.90"))  # duplicate
        await conn.send(bybit_delta(1760325052700, 3, ask1Price="66666.80"))  # older
        await conn.send(trade)
        await conn.send(trade)  # duplicate trade id
        await conn.send(bybit_delta(1760325052800, 4, ask1Size="7"))
        await conn.hold()

    server = await venue("bybit", script)
    feed = feeds("bybit", ["BTCUSDT"], server.url)
    events = await helpers.take(feed, 5)
    assert events[1:] == [
        quote(1760325052630, "66666.70"),
        quote(1760325052730, "66666.90"),
        Trade(1760325052738, "BTCUSDT", Decimal("66666.70"), Decimal("0.001")),
        quote(1760325052800, "66666.90", "7"),
    ]
    assert feed.stats.dropped == {"delta_before_snapshot": 1, "duplicate": 2, "out_of_order": 1}


async def test_accept_and_drop_server_gets_backoff_not_a_storm(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    async def drop_at_once(conn: Any) -> None:
        conn.drop()

    server = await venue("okx", drop_at_once)
    feed = feeds(
        "okx",
        ["BTCUSDT"],
        server.url,
        backoff_initial=0.05,
        backoff_factor=2.0,
        backoff_max=0.3,
        min_lifetime=5.0,
    )
    feed.start()
    await server.wait_connections(6, within=5)
    opened = [c.opened for c in server.connections[:6]]
    gaps = [b - a for a, b in itertools.pairwise(opened)]
    for gap, expected in zip(gaps, [0.05, 0.1, 0.2, 0.3, 0.3], strict=True):
        assert gap >= expected * 0.9, (gaps, expected)
    assert feed.status.state in ("reconnecting", "connecting")


async def test_okx_without_pong_reconnects_and_with_pong_stays(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    async def silent_no_pong(conn: Any) -> None:
        conn.answer_pings = False
        await conn.hold()

    server = await venue("okx", silent_no_pong, helpers.hold)
    feed = feeds("okx", ["BTCUSDT"], server.url, keepalive_override=0.05, pong_timeout_override=0.1)
    feed.start()
    second = await server.wait_connections(2)
    assert "ping" in server.connections[0].received
    reconnecting = next(s for s in feed.transitions if s.state == "reconnecting")
    assert reconnecting.detail == "no reply to keepalive ping within 0.1 s"
    # The second server answers: pings keep flowing, pongs keep the link up.
    await second.wait_received(lambda sent: sent.count("ping") >= 3)
    assert len(server.connections) == 2
    assert feed.status.state == "waiting"  # connected, answering, no data yet


async def test_long_lived_connection_is_renewed_without_backoff(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    server = await venue("bybit", helpers.hold)
    feed = feeds("bybit", ["BTCUSDT"], server.url, lifetime_override=0.1, backoff_initial=5.0)
    feed.start()
    await server.wait_connections(3, within=3)
    renew = next(s for s in feed.transitions if s.state == "reconnecting")
    assert renew.detail == "renewing the connection before the venue's time limit"
    assert renew.retry_in_s == 0.0


async def test_gives_up_after_max_attempts(feeds: Any, helpers: Any, unused_tcp_port: int) -> None:
    feed = feeds("bybit", ["BTCUSDT"], f"ws://127.0.0.1:{unused_tcp_port}", max_attempts=3)
    assert [e async for e in feed] == []
    assert feed.status.state == "failed"
    assert feed.status.detail.startswith("gave up after 3 attempts: ")
    assert not feed.status.closed_by_server  # nothing answered: "no network?" fits
    assert helpers.states(feed) == [
        "connecting",
        "reconnecting",
        "connecting",
        "reconnecting",
        "connecting",
        "failed",
    ]


def test_backoff_is_capped_exponential_with_bounded_jitter() -> None:
    timing = Timing(backoff_initial=1, backoff_factor=2, backoff_max=10, jitter=0.2)
    rng = random.Random(7)
    for failures, base in enumerate([1, 2, 4, 8, 10, 10, 10]):
        delay = timing.backoff(failures, rng)
        assert base * 0.8 <= delay <= base * 1.2


async def test_status_times_come_from_the_injected_clock(venue: Any, helpers: Any) -> None:
    now = [100.0]

    async def one_snapshot(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(SNAPSHOT)
        await conn.hold()

    server = await venue("bybit", one_snapshot)
    feed = SupervisedFeed(
        BybitAdapter(["BTCUSDT"], server.url),
        Timing(watchdog_tick=0.01, ping_interval=None, stale_override=5.0,
               stale_reconnect_factor=100),
        clock=lambda: now[0],
        wall_ms=lambda: 1760325052630,  # the snapshot's own time: no lag
    )  # fmt: skip
    try:
        feed.start()
        await feed.wait_status(lambda s: s.state == "live")
        assert feed.status.since_ms == 100_000  # the clock has not moved since connecting
        now[0] = 112.5
        status = await feed.wait_status(lambda s: s.state == "stale")
        assert status.since_ms == 100_000
        assert status.describe(now_ms=112_500) == "stale for 12 s: tickers.BTCUSDT silent"
    finally:
        await feed.aclose()
    assert feed.status.state == "ended"
