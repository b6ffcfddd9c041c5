"""Venue error replies, in each venue's own protocol: retried with backoff where waiting can help,
ending only the refused symbol where it cannot, and failing the feed with the venue's words
when nothing is left to deliver (issue 9, "one error frame takes the feed down")."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from papertrade.core.events import MarkPrice, Quote
from papertrade.feeds.base import FeedStatus
from papertrade.feeds.bybit import BybitAdapter
from papertrade.feeds.connection import VenueError
from papertrade.feeds.hyperliquid import HyperliquidAdapter
from papertrade.feeds.okx import OkxAdapter

BTC_BOOK = {
    "stream": "btcusdt@bookTicker",
    "data": {"e": "bookTicker", "u": 1, "s": "BTCUSDT", "b": "61800.20", "B": "2.5",
             "a": "61800.30", "A": "1.5", "T": 1723161256400},
}  # fmt: skip
BTC_TICKER = {
    "topic": "tickers.BTCUSDT", "type": "snapshot", "ts": 1760325052630, "cs": 1,
    "data": {"symbol": "BTCUSDT", "markPrice": "66666.60"},
}  # fmt: skip
BTC_OKX_MARK = {
    "arg": {"channel": "mark-price", "instId": "BTC-USDT-SWAP"},
    "data": [{"instType": "SWAP", "instId": "BTC-USDT-SWAP", "markPx": "27123.45",
              "ts": "1700000000123"}],
}  # fmt: skip
BTC_HL_BBO = {
    "channel": "bbo",
    "data": {"coin": "BTC", "time": 1788490065008,
             "bbo": [{"px": "80639.0", "sz": "2.5", "n": 2}, {"px": "80640.0", "sz": "1.5", "n": 3}]},
}  # fmt: skip

# What each venue says when asked too often, in its own protocol (Binance in reply to a live
# SUBSCRIBE: the test adds a symbol to provoke it).
RATE_LIMITED = {
    "binance": ({"error": {"code": -1003, "msg": "Too many requests; current limit is 10"},
                 "id": 1},
                "Binance error -1003: Too many requests; current limit is 10"),
    "bybit": ({"success": False, "ret_msg": "Too many visits. Exceeded the API Rate Limit.",
               "conn_id": "c1", "req_id": "sub-BTCUSDT", "op": "subscribe"},
              "Bybit rejected subscribe: Too many visits. Exceeded the API Rate Limit."),
    "okx": ({"event": "error", "code": "60014", "msg": "Requests too frequent.",
             "connId": "a4d3ae55"},
            "OKX error 60014: Requests too frequent."),
    "hyperliquid": ({"channel": "error", "data": "Too many requests: rate limited"},
                    "Hyperliquid error: Too many requests: rate limited"),
}  # fmt: skip
FIRST_DATA = {
    "binance": BTC_BOOK,
    "bybit": BTC_TICKER,
    "okx": BTC_OKX_MARK,
    "hyperliquid": BTC_HL_BBO,
}
# Newer than the first (an unchanged repeat would rightly be dropped as a duplicate).
LATER_DATA = {
    "binance": BTC_BOOK | {"data": BTC_BOOK["data"] | {"u": 2}},  # type: ignore[operator]
    "bybit": BTC_TICKER | {"ts": 1760325052999, "cs": 2},
    "okx": BTC_OKX_MARK | {"data": [BTC_OKX_MARK["data"][0] | {"ts": "1700000000999"}]},  # type: ignore[index]
    "hyperliquid": BTC_HL_BBO | {"data": BTC_HL_BBO["data"] | {"time": 1788490065999}},  # type: ignore[operator]
}


@pytest.mark.parametrize("name", list(RATE_LIMITED))
async def test_a_rate_limit_reply_reconnects_with_backoff_and_the_venue_words(
    venue: Any, feeds: Any, helpers: Any, name: str
) -> None:
    frame, words = RATE_LIMITED[name]
    data_route = "/public/" if name == "binance" else "/"

    async def limited(conn: Any) -> None:
        await conn.subscribed.wait()
        if conn.path.startswith(data_route):
            await conn.send(FIRST_DATA[name])
            if name == "binance":  # its error answers the live SUBSCRIBE of an added symbol
                await conn.wait_received(lambda sent: any("SUBSCRIBE" in m for m in sent))
            await conn.send(frame)
        await conn.hold()

    async def fine(conn: Any) -> None:
        await conn.subscribed.wait()
        if conn.path.startswith(data_route):
            await conn.send(LATER_DATA[name])
        await conn.hold()

    scripts = (limited, limited, fine) if name == "binance" else (limited, fine)
    server = await venue(name, *scripts)
    feed = feeds(name, ["BTCUSDT"], server.url, backoff_initial=0.3, backoff_max=0.3)
    await helpers.take(feed, 1)
    if name == "binance":
        feed.add_symbol("ETHUSDT")
    status = await feed.wait_status(lambda s: s.state == "reconnecting")
    expected = f"public: {words}" if name == "binance" else words
    assert status.detail == expected
    assert status.closed_by_server  # the venue answered: no "no network?" hint
    assert status.retry_in_s == pytest.approx(0.3, abs=0.05)  # the backoff, not at once
    assert status.describe() == f"reconnecting in 0 s: {expected}"
    await helpers.take(feed, 1)  # the data of the next connection
    assert feed.refused == {}
    assert feed.symbols == (["BTCUSDT", "ETHUSDT"] if name == "binance" else ["BTCUSDT"])


async def test_a_refused_symbol_ends_alone_and_is_not_replayed(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    """Bybit refuses DOGEUSDT; BTCUSDT goes on live, with the refusal in the status."""

    refused = asyncio.Event()

    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(BTC_TICKER)
        await refused.wait()
        conn.drop()

    async def second(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(BTC_TICKER | {"ts": 1760325052999, "cs": 2})
        await conn.hold()

    server = await venue("bybit", script, second)
    # the wall clock at the recorded time: no lag to report, only the refusal
    feed = feeds("bybit", ["BTCUSDT", "DOGEUSDT"], server.url, wall_ms=lambda: 1760325053000)
    words = "Bybit rejected subscribe: error:handler not found,topic:tickers.DOGEUSDT"
    first = await helpers.take(feed, 1)
    assert first == [MarkPrice(1760325052630, "BTCUSDT", Decimal("66666.60"))]
    await feed.wait_status(lambda s: s.detail == words)
    assert feed.refused == {"DOGEUSDT": words}
    assert feed.symbols == ["BTCUSDT"]
    refused.set()  # now the connection drops: the reconnect must not ask for DOGEUSDT again
    again = await helpers.take(feed, 1)
    assert again == [MarkPrice(1760325052999, "BTCUSDT", Decimal("66666.60"))]
    status = await feed.wait_status(lambda s: s.state == "live")
    assert status.describe() == f"live: {words}"
    assert all("DOGE" not in m for m in server.connections[1].received)  # not replayed


async def test_binance_refusing_an_added_symbol_ends_that_symbol_only(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        if conn.path.startswith("/public/"):
            await conn.send(BTC_BOOK)
            await conn.wait_received(lambda sent: any("dogeusdt" in m for m in sent))
            await conn.send(BTC_BOOK | {"data": BTC_BOOK["data"] | {"u": 2, "a": "61800.40"}})  # type: ignore[operator]
        await conn.hold()

    server = await venue("binance", script)
    feed = feeds("binance", ["BTCUSDT"], server.url)
    await helpers.take(feed, 1)
    feed.add_symbol("DOGEUSDT")
    events = await helpers.take(feed, 1)
    assert events == [
        Quote(1723161256400, "BTCUSDT", Decimal("61800.20"), Decimal("61800.40"),
              Decimal("2.5"), Decimal("1.5"))
    ]  # fmt: skip
    words = "Binance error 2: Invalid request: unknown stream dogeusdt@"
    status = await feed.wait_status(lambda s: s.detail.startswith(words))
    assert feed.symbols == ["BTCUSDT"]
    assert set(feed.refused) == {"DOGEUSDT"}
    assert status.state in ("waiting", "live")  # never failed: BTCUSDT still delivers
    assert len(server.connections) == 2


async def test_a_permanent_error_naming_no_symbol_fails_the_feed_with_its_words(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(
            {"event": "error", "code": "60012", "msg": 'Invalid request: {"op":"subscribe"}'}
        )
        await conn.hold()

    server = await venue("okx", script)
    feed = feeds("okx", ["BTCUSDT"], server.url)
    assert [e async for e in feed] == []
    words = 'OKX error 60012: Invalid request: {"op":"subscribe"}'
    since = feed.status.since_ms
    assert feed.status == FeedStatus("failed", words, since, closed_by_server=True)  # exit 1
    assert len(server.connections) == 1


def test_each_venue_names_the_refused_symbol_and_whether_to_retry() -> None:
    """The adapters' classification on its own: venue words in, verdict out."""

    def verdict(adapter: Any, frame: str) -> tuple[str, bool, tuple[str, ...]]:
        with pytest.raises(VenueError) as caught:
            adapter.decode(adapter.connections()[0].name, frame)
        return caught.value.text, caught.value.retryable, caught.value.symbols

    okx = OkxAdapter(["BTCUSDT", "ETHUSDT"])
    assert verdict(
        okx,
        '{"event":"error","code":"60018","msg":"Wrong URL or channel:trades,'
        'instId:ETH-USDT-SWAP doesn\'t exist.","connId":"x"}',
    ) == (
        "OKX error 60018: Wrong URL or channel:trades,instId:ETH-USDT-SWAP doesn't exist.",
        False,
        ("ETHUSDT",),
    )
    assert verdict(
        okx, '{"event":"error","code":"63999","msg":"Internal error","id":"subBTCUSDT"}'
    ) == ("OKX error 63999: Internal error", True, ("BTCUSDT",))
    refused_unsub = '{"event":"error","code":"60018","msg":"x","id":"unsubETHUSDT"}'
    assert okx.decode("public", refused_unsub) == (None, [])  # nothing to end
    bybit = BybitAdapter(["BTCUSDT"])
    assert verdict(
        bybit, '{"success":false,"ret_msg":"system busy","op":"subscribe","req_id":"x"}'
    ) == ("Bybit rejected subscribe: system busy", True, ())
    hl = HyperliquidAdapter(["BTCUSDT", "1000PEPEUSDT"])
    assert verdict(
        hl, '{"channel":"error","data":"Invalid subscription {\\"type\\":\\"bbo\\",\\"coin\\":\\"kPEPE\\"}"}'
    ) == ('Hyperliquid error: Invalid subscription {"type":"bbo","coin":"kPEPE"}', False,
          ("1000PEPEUSDT",))  # fmt: skip
