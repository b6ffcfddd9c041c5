"""Binance USDⓈ-M through the real client against a local server speaking the 2026 routed
protocol: recorded frames in, exact core events out."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from papertrade.core.events import Funding, MarkPrice, Quote, Trade
from papertrade.feeds.binance import BinanceAdapter

MARK = {
    "e": "markPriceUpdate",
    "E": 1723161256000,
    "s": "BTCUSDT",
    "p": "61801.10000000",
    "i": "61790.00000000",
    "P": "61795.00000000",
    "r": "0.00010000",
    "T": 1723161600000,
}


def mark_frame(**changes: Any) -> dict[str, Any]:
    return {"stream": "btcusdt@markPrice@1s", "data": MARK | changes}


async def test_two_routed_connections_deliver_marks_trades_and_quotes(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    quotes = helpers.lines("binance/bookticker_btcusdt_2024-08-08.jsonl")
    trades = helpers.lines("binance/aggtrade_ctkusdt_2021-07-22.jsonl")

    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        if conn.path.startswith("/market/"):
            await conn.send(mark_frame())
            for frame in trades[:2]:
                await conn.send(frame)
        else:
            for frame in quotes[:2]:
                await conn.send(frame)
        await conn.hold()

    server = await venue("binance", script)
    feed = feeds("binance", ["BTCUSDT", "CTKUSDT"], server.url)
    events = await helpers.take(feed, 5)

    paths = sorted(c.path for c in server.connections)
    assert paths == [
        "/market/stream?streams=btcusdt@markPrice@1s/btcusdt@aggTrade/ctkusdt@markPrice@1s/ctkusdt@aggTrade",
        "/public/stream?streams=btcusdt@bookTicker/btcusdt@depth20@100ms/ctkusdt@bookTicker/"
        "ctkusdt@depth20@100ms",
    ]
    market = [e for e in events if not isinstance(e, Quote)]
    assert market == [
        MarkPrice(
            ts=1723161256000,
            symbol="BTCUSDT",
            price=Decimal("61801.10000000"),
            index=Decimal("61790.00000000"),
            funding_rate=Decimal("0.00010000"),
            next_funding_ts=1723161600000,
        ),
        Trade(ts=1626992741421, symbol="CTKUSDT", price=Decimal("1.01100"), qty=Decimal("10")),
        Trade(ts=1626992742715, symbol="CTKUSDT", price=Decimal("1.01100"), qty=Decimal("10")),
    ]
    assert [e for e in events if isinstance(e, Quote)] == [
        Quote(1723161256313, "BTCUSDT", Decimal("61800.20"), Decimal("61800.30"),
              Decimal("2.507"), Decimal("2.510")),
        Quote(1723161256322, "BTCUSDT", Decimal("61800.20"), Decimal("61800.30"),
              Decimal("2.507"), Decimal("2.504")),
    ]  # fmt: skip
    assert feed.status.state == "live"
    assert feed.stats.received["btcusdt@bookTicker"] == 2


async def test_legacy_url_is_never_used(venue: Any, feeds: Any, helpers: Any) -> None:
    """The legacy /stream path accepts and stays silent; the client must use the routes."""
    server = await venue("binance", helpers.hold)
    feed = feeds("binance", ["ETHUSDT"], server.url)
    feed.start()
    await server.wait_connections(2)
    routed = ("/market/stream?", "/public/stream?")
    assert all(c.path.startswith(routed) for c in server.connections)


async def test_funding_settles_once_per_funding_time(venue: Any, feeds: Any, helpers: Any) -> None:
    """A mark past the announced next-funding time settles the last announced rate, once."""

    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        if conn.path.startswith("/market/"):
            await conn.send(mark_frame(E=1723161599000, r="0.00012000"))
            # Binance may still show the old T at the settlement second; then the new period.
            await conn.send(mark_frame(E=1723161600000, r="0.00012000"))
            await conn.send(mark_frame(E=1723161601000, r="0.00003000", T=1723190400000))
            await conn.send(mark_frame(E=1723161602000, r="0.00004000", T=1723190400000))
        await conn.hold()

    server = await venue("binance", script)
    feed = feeds("binance", ["BTCUSDT"], server.url)
    events = await helpers.take(feed, 5)
    assert [type(e).__name__ for e in events] == [
        "MarkPrice",
        "Funding",
        "MarkPrice",
        "MarkPrice",
        "MarkPrice",
    ]
    assert events[1] == Funding(ts=1723161600000, symbol="BTCUSDT", rate=Decimal("0.00012000"))


def test_duplicates_and_out_of_order_updates_are_dropped_and_counted(helpers: Any) -> None:
    adapter = BinanceAdapter(["BTCUSDT"])
    quotes = helpers.lines("binance/bookticker_btcusdt_2024-08-08.jsonl")
    out = []
    for raw in [quotes[0], quotes[1], quotes[1], quotes[0], quotes[2]]:
        out.extend(adapter.decode("public", raw)[1])
    assert [q.ask_qty for q in out if isinstance(q, Quote)] == [
        Decimal("2.510"),
        Decimal("2.504"),
        Decimal("2.522"),
    ]
    assert adapter.stats.dropped == {"duplicate": 1, "out_of_order": 1}


def test_bad_frames_are_counted_never_raised(helpers: Any) -> None:
    adapter = BinanceAdapter(["BTCUSDT"])
    good = json.loads(helpers.lines("binance/bookticker_btcusdt_2024-08-08.jsonl")[0])
    data = good["data"]
    no_ask = {k: v for k, v in data.items() if k != "a"}
    frames = [
        "not json at all",
        helpers.lines("binance/bookticker_btcusdt_2024-08-08.jsonl")[0][:60],  # truncated
        json.dumps({"stream": "btcusdt@bookTicker", "data": data | {"b": "NaN", "u": 1}}),
        json.dumps({"stream": "btcusdt@bookTicker", "data": data | {"b": "-1", "u": 2}}),
        json.dumps({"stream": "btcusdt@bookTicker", "data": data | {"b": 61800.2, "u": 3}}),
        json.dumps({"stream": "btcusdt@bookTicker", "data": no_ask}),
        json.dumps({"stream": "btcusdt@depth", "data": {"e": "depthUpdate"}}),
        json.dumps({"stream": "ethusdt@bookTicker", "data": data | {"s": "ETHUSDT"}}),
        json.dumps({"result": None, "id": 1}),
        json.dumps([1, 2, 3]),
    ]  # fmt: skip
    for raw in frames:
        assert adapter.decode("public", raw)[1] == []
    assert adapter.stats.dropped == {
        "malformed_json": 2,
        "bad_price": 2,
        "invalid_fields": 2,
        "unknown_message": 1,
        "unknown_stream": 2,  # btcusdt@depth and ethusdt@bookTicker: never subscribed
    }
