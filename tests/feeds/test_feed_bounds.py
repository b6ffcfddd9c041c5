"""A server can send any number and any time: out-of-bounds values are dropped and counted by
name, never passed to the engine and never raised — through the real adapters, and end to end
through a local venue server and the supervisor."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from papertrade.core.events import Funding, MarkPrice, Quote, Trade
from papertrade.feeds.base import (
    Drop,
    FeedStats,
    LiveBounds,
    check_time,
    finite,
    non_negative,
    positive,
    wall_ms,
)
from papertrade.feeds.binance import BinanceAdapter

NOW = 1_764_547_200_000  # 2025-12-01T00:00:00Z, the injected wall clock
DAY = 86_400_000


def mark_frame(**data: Any) -> str:
    body = {"e": "markPriceUpdate", "E": NOW, "s": "BTCUSDT", "p": "61801.10"} | data
    return json.dumps({"stream": "btcusdt@markPrice@1s", "data": body})


def trade_frame(a: int, **data: Any) -> str:
    body = {"e": "aggTrade", "E": NOW, "s": "BTCUSDT", "a": a, "p": "61801.1", "q": "0.5"}
    body |= {"T": NOW} | data
    return json.dumps({"stream": "btcusdt@aggTrade", "data": body})


@pytest.mark.parametrize(
    "text",
    [
        "1e22",
        "1E+27",
        "1E+999999999",
        "99999999999999999999",
        "1000000000000.1",
        "NaN",
        "-Infinity",
        "-0",
        "0",
        "-5",
        "9" * 5000,
        "1.0000000000000000001",
        "0.0000000000000000001",
        "1_000",
        "",
    ],
)
def test_a_price_outside_the_bounds_is_a_counted_drop(text: str) -> None:
    with pytest.raises(Drop) as info:
        positive(text)
    assert info.value.reason == "bad_price"


def test_the_one_parser_takes_what_the_bounds_allow_and_names_each_kind_of_drop() -> None:
    assert positive("1000000000000") == Decimal("1e12")
    assert positive("0.000000000000000001") == Decimal("1e-18")
    assert non_negative("0") == 0 and non_negative("-0") == 0
    assert finite("-1") == -1 and finite("0.000125") == Decimal("0.000125")
    for call, text, reason in [
        (non_negative, "-0.1", "bad_size"),
        (non_negative, "1e13", "bad_size"),
        (finite, "1.01", "bad_rate"),
        (finite, "NaN", "bad_rate"),
        (positive, 61800.5, "invalid_fields"),  # a JSON float: already inexact
        (positive, None, "invalid_fields"),
        (positive, ["1"], "invalid_fields"),
    ]:
        with pytest.raises(Drop) as info:
            call(text)
        assert info.value.reason == reason, (call, text)


def test_binance_frames_with_absurd_numbers_are_dropped_and_counted_by_reason() -> None:
    adapter = BinanceAdapter(["BTCUSDT"])
    frames = [
        mark_frame(p="1e22"),
        mark_frame(E=NOW + 1, p="1E+999999999"),
        mark_frame(E=NOW + 2, r="2"),  # funding rate 200 %
        mark_frame(E=NOW + 3, i="NaN"),
        trade_frame(1, q="1e13"),
        trade_frame(2, p="-0"),
        mark_frame(E=NOW + 4, p="61801.2", r="0.0001"),  # the only good one
    ]
    events = [e for raw in frames for e in adapter.decode("market", raw)[1]]
    assert events == [MarkPrice(NOW + 4, "BTCUSDT", Decimal("61801.2"), None, Decimal("0.0001"))]
    assert adapter.stats.dropped == {"bad_price": 5, "bad_rate": 1}


# --- the live time window ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ts", "ok"),
    [
        (NOW, True),
        (1_420_070_400_000, True),  # 2015-01-01T00:00:00Z, the first instant allowed
        (1_420_070_399_999, False),
        (NOW + DAY, True),  # a server clock a day fast is tolerated
        (NOW + DAY + 1, False),
        (NOW + 365 * DAY, False),  # a year ahead: would clamp the whole session
        (2**63, False),  # would kill the journal writer (SQLite INTEGER)
        (-1, False),  # would make the session unreplayable
        (0, False),
    ],
)
def test_live_event_times_must_lie_between_2015_and_a_day_ahead_of_the_wall_clock(
    ts: int, ok: bool
) -> None:
    stats = FeedStats()
    bounds = LiveBounds(stats)
    assert bounds.admit(MarkPrice(ts, "BTCUSDT", Decimal("61801.1")), now_ms=NOW) is ok
    assert stats.dropped == ({} if ok else {"bad_time": 1})


def test_a_far_next_funding_time_or_a_scaled_up_price_is_dropped_too() -> None:
    stats = FeedStats()
    bounds = LiveBounds(stats)
    one = Decimal(1)
    week = 7 * DAY
    assert bounds.admit(MarkPrice(NOW, "X", one, None, Decimal("0.0001"), NOW + week), NOW)
    assert not bounds.admit(MarkPrice(NOW, "X", one, None, Decimal("0.0001"), NOW + week + 1), NOW)
    # after an adapter's contract scaling (OKX per-1000 coins) a price can pass 1e12 again
    assert not bounds.admit(MarkPrice(NOW, "X", Decimal("1e15")), NOW)
    assert not bounds.admit(Quote(NOW, "X", one, Decimal("2e12")), NOW)
    assert not bounds.admit(Quote(NOW, "X", one, one, Decimal("1e13"), None), NOW)
    assert not bounds.admit(Trade(NOW, "X", one, Decimal("1e13")), NOW)
    assert bounds.admit(Funding(NOW, "X", Decimal("-0.01")), NOW)
    assert stats.dropped == {"bad_time": 1, "bad_price": 2, "bad_size": 2}


# --- end to end: a local Binance stand-in sends poison between good frames ----------------------


async def test_poisoned_ticks_from_a_server_never_reach_the_stream_and_are_counted(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    good_ts = 1_723_161_256_000

    async def script(conn: Any) -> None:
        if "/market" not in conn.path:  # the book-ticker connection stays quiet
            await conn.hold()
            return
        for frame in [
            mark_frame(E=good_ts, p="1e27"),
            mark_frame(E=good_ts + 1, p="NaN"),
            mark_frame(E=good_ts + 2, p=1e22),
            mark_frame(E=good_ts + 3, p="9" * 5000),
            trade_frame(1, T=good_ts + 4, q="1E+999999999"),
            mark_frame(E=good_ts + 5, p="61801.5"),
        ]:
            await conn.send(frame)
        await conn.hold()

    server = await venue("binance", script, script)
    feed = feeds("binance", ["BTCUSDT"], server.url)
    events = await helpers.take(feed, 1)
    assert events == [MarkPrice(good_ts + 5, "BTCUSDT", Decimal("61801.5"))]
    assert feed.stats.dropped["bad_price"] == 4
    assert feed.stats.dropped["invalid_fields"] == 1  # the price sent as a JSON number


async def test_a_mark_a_year_ahead_is_dropped_and_later_marks_still_flow(
    venue: Any, feeds: Any, helpers: Any
) -> None:
    # The adapter checks times on the real wall clock (before its sequencer remembers one),
    # the supervisor on its injected one: both are given the same instant here. A year of
    # margin either way, so nothing races the clock.
    now = wall_ms()

    async def script(conn: Any) -> None:
        if "/market" not in conn.path:
            await conn.hold()
            return
        for frame in [
            mark_frame(E=now + 365 * DAY),  # a server clock a year ahead
            mark_frame(E=2**63),  # past SQLite's INTEGER
            mark_frame(E=1_400_000_000_000),  # 2014
            mark_frame(E=now + 5, T=now + 30 * DAY, r="0.0001"),  # funding a month out
            mark_frame(E=now + 6, p="61802.5"),
        ]:
            await conn.send(frame)
        await conn.hold()

    server = await venue("binance", script, script)
    feed = feeds("binance", ["BTCUSDT"], server.url, wall_ms=lambda: now)
    events = await helpers.take(feed, 1)
    # before: the year-ahead mark went through and every later mark was "out of order"
    assert events == [MarkPrice(now + 6, "BTCUSDT", Decimal("61802.5"))]
    assert feed.stats.dropped["bad_time"] == 4
    assert "out_of_order" not in feed.stats.dropped
    assert feed.status.dropped >= 4  # what the status bar tooltip and `record` show


@pytest.mark.parametrize(
    ("ts", "ok"),
    [(NOW, True), (NOW + DAY, True), (NOW + DAY + 1, False), (-1, False), (True, False)],
)
def test_check_time_guards_a_time_before_it_becomes_an_ordering_key(ts: object, ok: bool) -> None:
    if ok:
        assert check_time(ts, now_ms=NOW) == ts
    else:
        with pytest.raises(Drop) as info:
            check_time(ts, now_ms=NOW)
        assert info.value.reason == "bad_time"
