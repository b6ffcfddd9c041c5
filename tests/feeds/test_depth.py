"""Order-book depth from every venue: the real client against the local protocol servers,
replaying the depth frames of `tests/fixtures/<venue>/` (see their READMEs for where each comes
from), asserting the exact `Book` events; and the drops a bad book must cause."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import pytest

from papertrade.core.events import Book
from papertrade.feeds.base import FeedStats, LiveBounds
from papertrade.feeds.binance import BinanceAdapter
from papertrade.feeds.bybit import BybitAdapter
from papertrade.feeds.hyperliquid import HyperliquidAdapter
from papertrade.feeds.okx import Contract, OkxAdapter


def levels(*pairs: tuple[str, str]) -> tuple[tuple[D, D], ...]:
    return tuple((D(p), D(q)) for p, q in pairs)


async def test_binance_depth20_frames_become_books_of_twenty_levels(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    frames = helpers.lines("binance/depth20_btcusdt_2024-08-08.jsonl")

    async def script(conn: Any) -> None:
        if conn.path.startswith("/public/"):
            for frame in frames:
                await conn.send(frame)
        await conn.hold()

    server = await venue("binance", script)
    feed = feeds("binance", ["BTCUSDT"], server.url)
    books = await helpers.take(feed, 3)
    assert all(type(b) is Book and len(b.bids) == len(b.asks) == 20 for b in books)
    first = books[0]
    assert first.ts == 1723161256505  # the transaction time `T`
    assert first.bids[:3] == levels(("61800.20", "2.909"), ("61800.10", "0.696"),
                                    ("61800.00", "20.004"))  # fmt: skip
    # every level as the frame wrote it, in its order
    raw = json.loads(frames[2])["data"]
    assert books[2].asks == tuple((D(p), D(q)) for p, q in raw["a"])
    assert books[2].bids == tuple((D(p), D(q)) for p, q in raw["b"])
    public = next(c for c in server.connections if c.path.startswith("/public/"))
    assert "btcusdt@depth20@100ms" in public.topics
    assert feed.stats.dropped == {}


def test_binance_depth_option_picks_the_partial_stream_and_cuts_the_book(helpers: Any) -> None:
    adapter = BinanceAdapter(["BTCUSDT"], depth=3)
    public = adapter.connections()[1]
    assert public.url.endswith("streams=btcusdt@bookTicker/btcusdt@depth5@100ms")
    frame = helpers.lines("binance/depth20_btcusdt_2024-08-08.jsonl")[0]
    _, (book,) = adapter.decode("public", frame.replace("@depth20@", "@depth5@"))
    assert isinstance(book, Book)
    assert book.bids == levels(("61800.20", "2.909"), ("61800.10", "0.696"), ("61800.00", "20.004"))
    assert len(book.asks) == 3
    none = BinanceAdapter(["BTCUSDT"], depth=0)
    assert "depth" not in none.connections()[1].url
    with pytest.raises(ValueError, match="depth must be"):
        BinanceAdapter(["BTCUSDT"], depth=-1)


async def test_bybit_gap_resubscribes_and_the_fresh_snapshot_gives_the_right_book(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    """Snapshot, a delta, a delta that skips an update id (gap: no book, the topic is
    unsubscribed and subscribed again on the same connection), the fresh snapshot, a delta."""
    frames = helpers.lines("bybit/orderbook50_btcusdt_doc.jsonl")
    topic = "orderbook.50.BTCUSDT"

    def resubscribed(sent: list[str]) -> bool:
        ops = [json.loads(m) for m in sent if topic in m]
        return [(m["op"], m["args"]) for m in ops[1:]] == [
            ("unsubscribe", [topic]),
            ("subscribe", [topic]),
        ]

    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        for frame in frames[:3]:
            await conn.send(frame)
        await conn.wait_received(resubscribed)
        for frame in frames[3:]:
            await conn.send(frame)
        await conn.hold()

    server = await venue("bybit", script)
    feed = feeds("bybit", ["BTCUSDT"], server.url)
    books = await helpers.take(feed, 4)
    assert books == [
        Book(1760325052630, "BTCUSDT",
             levels(("66666.60", "23.789"), ("66666.50", "1.2"), ("66666.00", "5")),
             levels(("66666.70", "23.775"), ("66667.00", "2"), ("66670.00", "4"))),
        # 66666.60 bid deleted, 66666.40 added; 66666.80 ask added, 66670.00 deleted
        Book(1760325052650, "BTCUSDT",
             levels(("66666.50", "1.2"), ("66666.40", "0.7"), ("66666.00", "5")),
             levels(("66666.70", "23.775"), ("66666.80", "0.5"), ("66667.00", "2"))),
        # (the delta with u 18521291 after 18521289 made no book) the new snapshot, whole:
        Book(1760325052900, "BTCUSDT",
             levels(("66666.50", "3"), ("66666.40", "0.7")),
             levels(("66666.70", "1.1"), ("66666.80", "0.5"), ("66667.00", "2"))),
        Book(1760325052920, "BTCUSDT",
             levels(("66666.60", "0.25"), ("66666.50", "3"), ("66666.40", "0.7")),
             levels(("66666.80", "0.5"), ("66667.00", "2"))),
    ]  # fmt: skip
    assert feed.stats.dropped == {"book_gap": 1}
    assert len(server.connections) == 1  # resubscribed in place, not reconnected


def test_bybit_delta_before_snapshot_and_unreadable_delta_resubscribe_once(helpers: Any) -> None:
    adapter = BybitAdapter(["BTCUSDT"], depth=2)
    frames = helpers.lines("bybit/orderbook50_btcusdt_doc.jsonl")
    assert adapter.decode("linear", frames[1]) == ("orderbook.50.BTCUSDT", [])
    assert adapter.decode("linear", frames[4]) == ("orderbook.50.BTCUSDT", [])  # still waiting
    assert [json.loads(m)["op"] for _, m in adapter.outbox] == ["unsubscribe", "subscribe"]
    assert adapter.stats.dropped == {"delta_before_snapshot": 2}
    adapter.outbox.clear()
    _, (book,) = adapter.decode("linear", frames[0])
    assert isinstance(book, Book)
    assert book.bids == levels(("66666.60", "23.789"), ("66666.50", "1.2"))  # depth 2
    bad = json.loads(frames[1])
    bad["data"]["b"] = [["66666.60", "-1"]]
    assert adapter.decode("linear", json.dumps(bad)) == ("orderbook.50.BTCUSDT", [])
    assert adapter.stats.dropped["bad_size"] == 1
    assert len(adapter.outbox) == 2  # the book is unknown now: asked afresh


async def test_okx_books5_in_base_units(venue: Any, feeds: Any, helpers: Any) -> None:
    frame = helpers.lines("okx/books5_uni-usd-swap_2022-05-13.jsonl")[0]

    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(frame)
        await conn.hold()

    server = await venue("okx", script)
    contracts = {"UNIUSD": Contract("UNI-USD-SWAP", D(10))}
    feed = feeds("okx", ["UNIUSD"], server.url, contracts=contracts)
    (book,) = await helpers.take(feed, 1)
    # sizes are contracts of 10 UNI each
    assert book == Book(1652459225363, "UNIUSD",
                        levels(("5.14", "2510"), ("5.139", "250"), ("5.138", "2020"),
                               ("5.136", "2310"), ("5.135", "50")),
                        levels(("5.148", "600"), ("5.149", "1920"), ("5.151", "480"),
                               ("5.152", "250"), ("5.153", "4910")))  # fmt: skip
    assert {"channel": "books5", "instId": "UNI-USD-SWAP"} in server.connections[0].topics


async def test_hyperliquid_l2book(venue: Any, feeds: Any, helpers: Any) -> None:
    frame = helpers.lines("hyperliquid/l2book_btc_doc.jsonl")[0]

    async def script(conn: Any) -> None:
        await conn.subscribed.wait()
        await conn.send(frame)
        await conn.hold()

    server = await venue("hyperliquid", script)
    feed = feeds("hyperliquid", ["BTCUSDT"], server.url)
    (book,) = await helpers.take(feed, 1)
    assert book == Book(1788490065008, "BTCUSDT",
                        levels(("80639.0", "0.00186"), ("80638.0", "1.5"), ("80637.0", "2.25")),
                        levels(("80640.0", "13.74589"), ("80641.0", "0.2")))  # fmt: skip
    await server.connections[0].wait_received(lambda sent: any("l2Book" in m for m in sent))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda b, a: (b, [a[1], a[0]]), "unordered_book"),  # asks not rising
        (lambda b, a: ([["61801.00", "1"]], a), "crossed_book"),  # bid above the ask
        (lambda b, a: ([[b[0][0], "0"]], a), "bad_size"),  # an empty level in a full book
        (lambda b, a: ([["NaN", "1"]], a), "bad_price"),
        (lambda b, a: ([[61800.2, "1"]], a), "invalid_fields"),  # a JSON number, not a string
        (lambda b, a: ([["61800.20"]], a), "invalid_fields"),
        (lambda b, a: ([], []), "empty_book"),
    ],
)
def test_a_bad_book_is_dropped_and_counted(change: Any, reason: str, helpers: Any) -> None:
    frame = json.loads(helpers.lines("binance/depth20_btcusdt_2024-08-08.jsonl")[0])
    data = frame["data"]
    data["b"], data["a"] = change(data["b"], data["a"])
    for adapter, conn, raw in (
        (BinanceAdapter(["BTCUSDT"]), "public", json.dumps(frame)),
        (HyperliquidAdapter(["BTCUSDT"]), "ws", json.dumps(_as_l2book(data))),
    ):
        _, events = adapter.decode(conn, raw)
        assert events == []
        expected = {reason}
        assert set(adapter.stats.dropped) == expected, (conn, dict(adapter.stats.dropped))


def _as_l2book(data: dict[str, Any]) -> dict[str, Any]:
    """The same levels as a Hyperliquid `l2Book` push (a short row becomes a level without
    its size, which the wire model refuses)."""

    def side(rows: list[list[Any]]) -> list[dict[str, Any]]:
        return [{"px": r[0], **({"sz": r[1]} if len(r) > 1 else {}), "n": 1} for r in rows]

    return {
        "channel": "l2Book",
        "data": {"coin": "BTC", "time": data["T"], "levels": [side(data["b"]), side(data["a"])]},
    }


def test_okx_and_hyperliquid_depth_option() -> None:
    okx = OkxAdapter(["BTCUSDT"])
    assert okx.depth == 5  # books5 is all OKX sends: the default 20 is capped
    assert "books5" in okx.connections()[0].subscribe[0]
    assert "books5" not in OkxAdapter(["BTCUSDT"], depth=0).connections()[0].subscribe[0]
    hl = HyperliquidAdapter(["BTCUSDT"], depth=0)
    assert not any("l2Book" in m for m in hl.connections()[0].subscribe)
    assert BybitAdapter(["BTCUSDT"], depth=0).topics() == ["tickers.BTCUSDT", "publicTrade.BTCUSDT"]


def test_bybit_restart_snapshot_with_u_1_replaces_the_book(helpers: Any) -> None:
    """After a Bybit service restart the book comes again as a snapshot with `u` = 1: it
    replaces the book, and deltas go on from it (`u` = 2), not from the old ids."""
    adapter = BybitAdapter(["BTCUSDT"])
    frames = [json.loads(f) for f in helpers.lines("bybit/orderbook50_btcusdt_doc.jsonl")]
    adapter.decode("linear", json.dumps(frames[0]))
    restart = frames[3] | {"data": frames[3]["data"] | {"u": 1}}
    delta = frames[4] | {"data": frames[4]["data"] | {"u": 2}}
    _, (first,) = adapter.decode("linear", json.dumps(restart))
    _, (second,) = adapter.decode("linear", json.dumps(delta))
    assert isinstance(first, Book) and isinstance(second, Book)
    assert first.bids == levels(("66666.50", "3"), ("66666.40", "0.7"))
    assert second.asks == levels(("66666.80", "0.5"), ("66667.00", "2"))
    assert adapter.stats.dropped == {} and adapter.outbox == []


def test_live_bounds_check_every_level_after_scaling() -> None:
    """A per-1000 OKX contract multiplies prices: a level past 1e12 after scaling is caught by
    the supervisor's last check, like any price."""
    stats = FeedStats()
    bounds = LiveBounds(stats)
    now = 1_788_490_065_008
    ok = Book(now, "BTCUSDT", levels(("80639", "1")), levels(("80640", "2")))
    huge_price = Book(now, "BTCUSDT", levels(("80639", "1")), levels(("2e12", "2")))
    huge_size = Book(now, "BTCUSDT", levels(("80639", "2e12")), ())
    assert [bounds.admit(b, now) for b in (ok, huge_price, huge_size)] == [True, False, False]
    assert stats.dropped == {"bad_price": 1, "bad_size": 1}
