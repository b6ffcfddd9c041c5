"""The supervisor on its own, with a minimal adapter: it knows no venue, and whatever an adapter
hands it (connections as data, decode results, verdicts) it handles the same way."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from papertrade.core.events import Funding, MarketEvent, MarkPrice
from papertrade.feeds.base import FeedFatal, FeedStats, FeedStatus, FundingClock, plain_text
from papertrade.feeds.binance import MAX_LIFETIME_S, BinanceAdapter
from papertrade.feeds.okx import OkxAdapter
from papertrade.feeds.supervisor import ConnectionSpec, SupervisedFeed, Timing


class EchoAdapter:
    """Frames are `{"s": stream, "p": price, "t": ts}`; "boom" is a decoder bug; "fatal" a
    verdict."""

    venue = "echo"

    def __init__(self, url: str) -> None:
        self.url = url
        self.stats = FeedStats()
        self.connects: list[str] = []

    @property
    def symbols(self) -> tuple[str, ...]:
        return ("X",)

    def connections(self) -> list[ConnectionSpec]:
        return [ConnectionSpec("only", f"{self.url}/echo", ("hello",), {"a": None})]

    def add_symbol(self, symbol: str) -> dict[str, list[str]]:
        return {}

    def remove_symbol(self, symbol: str) -> dict[str, list[str]]:
        return {}

    def on_connect(self, conn: str) -> None:
        self.connects.append(conn)

    def decode(self, conn: str, raw: str | bytes) -> tuple[str | None, list[MarketEvent]]:
        if raw == "boom":
            raise ZeroDivisionError("adapter bug")
        if raw == "fatal":
            raise FeedFatal("no such \x1b[31m[bold]symbol[/bold]\n")
        msg = json.loads(raw)
        return msg["s"], [MarkPrice(msg["t"], "X", Decimal(msg["p"]))]


FAST = Timing(
    backoff_initial=0.02, backoff_max=0.1, jitter=0, min_lifetime=0.5, watchdog_tick=0.01,
    ping_interval=None, close_timeout=0.2,
)  # fmt: skip


async def test_decoder_bug_is_counted_and_the_feed_survives(venue: Any, helpers: Any) -> None:
    async def script(conn: Any) -> None:
        await conn.wait_received(lambda sent: sent == ["hello"])  # the replayed subscription
        await conn.send("boom")
        await conn.send(json.dumps({"s": "a", "p": "1.5", "t": 1_760_000_000_007}))
        await conn.hold()

    server = await venue("plain", script)
    adapter = EchoAdapter(server.url)
    feed = SupervisedFeed(adapter, FAST)
    try:
        assert await helpers.take(feed, 1) == [MarkPrice(1_760_000_000_007, "X", Decimal("1.5"))]
        assert feed.stats.dropped == {"decode_error": 1}
        assert server.connections[0].path == "/echo"
        assert adapter.connects == ["only"]
    finally:
        await feed.aclose()
    assert feed.status.state == "ended"


async def test_untrusted_text_is_stored_plain(venue: Any, helpers: Any) -> None:
    async def script(conn: Any) -> None:
        await conn.send("fatal")
        await conn.hold()

    server = await venue("plain", script)
    feed = SupervisedFeed(EchoAdapter(server.url), FAST)
    assert [e async for e in feed] == []
    assert feed.status.state == "failed"
    # ESC and the newline shown as escapes (`core.text.printable`), the markup as plain text
    assert feed.status.detail == "no such \\x1b[31m[bold]symbol[/bold]\\x0a"
    await feed.aclose()
    assert feed.status.state == "failed"  # closing keeps the reason
    assert plain_text("x" * 500) == "x" * 200
    assert plain_text("c1\x9b31m") == "c1\\x9b31m"  # C1 controls too


async def test_okx_maintenance_notice_reconnects_at_once(venue: Any, feeds: Any) -> None:
    async def first(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(
            {
                "event": "notice",
                "code": "64008",
                "msg": "The connection will soon be closed for a service upgrade. Please reconnect.",
                "connId": "a4d3ae55",
            }
        )
        await conn.hold()

    server = await venue("okx", first, lambda conn: conn.hold())
    feed = feeds("okx", ["BTCUSDT"], server.url, backoff_initial=10.0)
    feed.start()
    await server.wait_connections(2, within=2)
    renew = next(s for s in feed.transitions if s.state == "reconnecting")
    assert renew.retry_in_s == 0.0
    assert renew.detail.startswith("venue asked to reconnect: The connection will soon be closed")


def test_funding_clock_settles_each_funding_time_once() -> None:
    clock = FundingClock()
    rate = Decimal("0.0001")

    def mark(ts: int, nxt: int, r: Decimal = rate) -> MarkPrice:
        return MarkPrice(ts, "BTCUSDT", Decimal(1), None, r, nxt)

    out = [
        clock.observe(mark(990, 1000)),
        clock.observe(mark(995, 1000, Decimal("0.0002"))),  # the last announced rate wins
        clock.observe(mark(1001, 1000)),  # stale T at settlement: settles, not re-announced
        clock.observe(mark(1002, 2000)),
        clock.observe(mark(999, 1000)),  # a replayed old mark after a reconnect
        clock.observe(mark(1003, 1000)),
        clock.observe(mark(2000, 3000)),
    ]
    assert out == [
        None,
        None,
        Funding(1000, "BTCUSDT", Decimal("0.0002")),
        None,
        None,
        None,
        Funding(2000, "BTCUSDT", rate),
    ]


def test_reconnecting_status_counts_down() -> None:
    status = FeedStatus("reconnecting", "closed by server (1001)", 0, 2.6)
    assert status.describe() == "reconnecting in 3 s: closed by server (1001)"


def test_binance_connections_are_renewed_before_24h_and_marks_are_watched() -> None:
    specs = BinanceAdapter(["BTCUSDT"]).connections()
    assert all(s.max_lifetime == MAX_LIFETIME_S < 24 * 3600 for s in specs)
    assert specs[0].streams == {"btcusdt@markPrice@1s": 10.0, "btcusdt@aggTrade": None}
    assert all(s.keepalive is None for s in specs)  # protocol pings: websockets answers
    okx = OkxAdapter(["BTCUSDT"]).connections()[0]
    assert okx.keepalive is not None and okx.keepalive.message == "ping"
    assert okx.keepalive.idle_only and okx.keepalive.interval < 30
