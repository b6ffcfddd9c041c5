"""What the status says about a live feed's health, and the faults behind each word: connected
but waiting, falling behind (lag), message too big (1009), dropped counts, invented stream names
that must not grow memory, and a burst during which the keepalive must not cut the link."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from papertrade.core.events import MarkPrice, Quote
from papertrade.feeds.base import BEHIND_LAG_MS, FeedStatus

T0 = 1760325052630


def ticker(ts: int, cs: int, mark: str = "66666.60", symbol: str = "BTCUSDT") -> dict[str, Any]:
    return {
        "topic": f"tickers.{symbol}",
        "type": "snapshot",
        "ts": ts,
        "cs": cs,
        "data": {"symbol": symbol, "markPrice": mark},
    }


def book(u: int, ts: int) -> str:
    return (
        f'{{"stream":"btcusdt@bookTicker","data":{{"e":"bookTicker","u":{u},"s":"BTCUSDT",'
        f'"b":"61800.20","B":"2.5","a":"61800.30","A":"1.5","T":{ts}}}}}'
    )


def test_status_words_for_the_status_bar() -> None:
    assert FeedStatus("waiting").describe() == "connected, waiting"
    assert FeedStatus("waiting", "public connection").describe() == (
        "connected, waiting: public connection"
    )
    behind = FeedStatus("live", lag_ms=3250, behind=True)
    assert behind.describe() == "live, falling behind 3.2 s"
    assert FeedStatus("live", lag_ms=3250).describe() == "live"
    assert BEHIND_LAG_MS == 2_000


async def test_connected_is_waiting_until_the_first_data_then_live(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    go = asyncio.Event()

    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        await go.wait()
        await conn.send(ticker(T0, 1))
        await conn.hold()

    server = await venue("bybit", script)
    feed = feeds("bybit", ["BTCUSDT"], server.url)
    feed.start()
    waiting = await feed.wait_status(lambda s: s.state == "waiting")
    assert waiting.describe() == "connected, waiting"
    go.set()
    assert await helpers.take(feed, 1) == [MarkPrice(T0, "BTCUSDT", Decimal("66666.60"))]
    assert helpers.states(feed) == ["connecting", "waiting", "live"]
    assert len(server.connections) == 1


async def test_lag_shows_falling_behind_past_two_seconds_and_clears_below_one(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    wall = T0 + 3000  # the wall clock stands still; the events' own times catch up to it
    gates = [asyncio.Event() for _ in range(3)]
    stamps = [T0, T0 + 1500, T0 + 2500]

    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        for n, (gate, ts) in enumerate(zip(gates, stamps, strict=True)):
            await gate.wait()
            await conn.send(ticker(ts, n + 1, mark=f"6666{n}.0"))
        await conn.hold()

    server = await venue("bybit", script)
    feed = feeds("bybit", ["BTCUSDT"], server.url, wall_ms=lambda: wall)
    seen = []
    for gate, ts in zip(gates, stamps, strict=True):
        gate.set()
        (event,) = await helpers.take(feed, 1)
        assert event.ts == ts
        status = feed.status
        seen.append((status.lag_ms, status.behind))
    # lag = wall - event time: 3000 (> 2000: behind), 1500 (still behind: it must fall below
    # 2000 / 2 = 1000 to count as caught up, so it does not flicker), 500 (caught up)
    assert seen == [(3000, True), (1500, True), (500, False)]
    behind = [s for s in feed.transitions if s.behind]
    assert behind and behind[0].describe() == "live, falling behind 3.0 s"
    assert feed.status.describe() == "live"


async def test_a_message_over_the_size_limit_says_so(venue: Any, feeds: Any, helpers: Any) -> None:
    async def too_big(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(ticker(T0, 1) | {"pad": "x" * 2000})
        await conn.hold()

    server = await venue("bybit", too_big, helpers.hold)
    feed = feeds("bybit", ["BTCUSDT"], server.url, max_size=1024)
    feed.start()
    status = await feed.wait_status(lambda s: s.state == "reconnecting")
    assert status.detail == "message too big (1009)"
    assert not status.closed_by_server  # we closed it: our limit, not the server's doing
    await server.wait_connections(2)


async def test_invented_stream_names_are_dropped_and_counted_never_tracked(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        for n in range(500):
            await conn.send(ticker(T0 + n, n + 1, symbol=f"X{n}USDT"))
        await conn.send(ticker(T0 + 999, 999))
        await conn.hold()

    server = await venue("bybit", script)
    feed = feeds("bybit", ["BTCUSDT"], server.url)
    assert await helpers.take(feed, 1) == [MarkPrice(T0 + 999, "BTCUSDT", Decimal("66666.60"))]
    assert feed.stats.dropped == {"unknown_stream": 500}
    assert feed.status.dropped == 500
    assert set(feed.stats.received) == {"tickers.BTCUSDT"}  # nothing keyed by invented names
    assert feed.status.state == "live"


async def test_a_burst_keeps_the_link_while_data_flows_and_the_pong_waits_behind_it(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    """The server reads nothing (our pings go unanswered, like a pong queued behind a
    backlog) but sends 10,000 quotes: data is proof of life, so the link stays and every
    quote arrives. Once the data stops too, the unanswered ping ends the link."""
    count = 10_000

    async def burst(conn: Any) -> None:
        await conn.subscribed.wait()
        if not conn.path.startswith("/public/"):
            await conn.hold()
            return
        conn.ws.transport.pause_reading()
        for u in range(1, count + 1):
            await conn.send(book(u, T0 + u))
        await conn.hold()

    server = await venue("binance", burst, burst, helpers.hold)
    # the timeout is 1 s, not less: on 2 busy cores the stand-in itself can stall a few
    # hundred ms between frames, which would be a real silence to the feed
    feed = feeds("binance", ["BTCUSDT"], server.url, ping_interval=0.05, ping_timeout=1, batch=64)
    events = await helpers.take(feed, count, within=60)
    assert events[-1] == Quote(T0 + count, "BTCUSDT", Decimal("61800.20"), Decimal("61800.30"),
                               Decimal("2.5"), Decimal("1.5"))  # fmt: skip
    assert feed.stats.received["btcusdt@bookTicker"] == count
    assert feed.stats.connects == {"market": 1, "public": 1}  # never cut during the burst
    status = await feed.wait_status(lambda s: s.state == "reconnecting", within=5)
    assert status.detail == "public: no reply to keepalive ping within 1 s"
    for conn in server.connections:  # let the stand-in see the close and finish quickly
        conn.ws.transport.resume_reading()
