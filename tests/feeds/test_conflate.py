"""Conflation: a bounded quote rate, the latest quote winning, and no lost limit fills."""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from papertrade.core.events import Book, Funding, MarketEvent, MarkPrice, Quote, Trade
from papertrade.feeds.conflate import ConflatedFeed, Conflator, Monotonic, conflate, conflate_events
from papertrade.feeds.sim import SimFeed, SimMarket

START = 1_735_689_600_000


def q(ts: int, bid: str, ask: str, symbol: str = "BTCUSDT") -> Quote:
    return Quote(ts, symbol, Decimal(bid), Decimal(ask), Decimal("1"), Decimal("2"))


def t(ts: int, price: str, symbol: str = "BTCUSDT") -> Trade:
    return Trade(ts, symbol, Decimal(price), Decimal("0.5"))


def run(events: list[MarketEvent], per_second: int = 10) -> list[MarketEvent]:
    return list(conflate_events(events, per_second))


def test_rate_bound_holds_per_symbol_in_every_second() -> None:
    events = list(
        itertools.islice(SimMarket(seed=1, start_ts=START, interval_ms=20).events(), 50_000)
    )
    out = run(events)
    stamps: dict[str, list[int]] = defaultdict(list)
    for event in out:
        if isinstance(event, Quote):
            stamps[event.symbol].append(event.ts)
    assert len(stamps) == 5
    for series in stamps.values():
        assert min(b - a for a, b in itertools.pairwise(series)) >= 100
        worst = max(bisect.bisect_left(series, x + 1000) - i for i, x in enumerate(series))
        assert worst <= 10
    assert all(b.ts >= a.ts for a, b in itertools.pairwise(out))
    kinds_in = [e for e in events if not isinstance(e, Quote)]
    kinds_out = [e for e in out if not isinstance(e, Quote)]
    assert kinds_out == kinds_in  # trades, marks and funding all pass, in order


def test_a_quote_after_a_quiet_spell_passes_at_once() -> None:
    a, b = q(0, "100", "101"), q(500, "100.5", "101.5")
    assert run([a, b]) == [a, b]
    conflator = Conflator()
    assert conflator.push(a) == [a]
    assert conflator.push(b) == [b]


def test_latest_wins_inside_a_window_and_is_emitted_at_the_slot() -> None:
    # The bid climbs towards a fixed ask: no held quote reached further than the latest one.
    events: list[MarketEvent] = [
        q(0, "100.0", "100.4"),
        q(10, "100.1", "100.4"),
        q(20, "100.2", "100.4"),
        q(30, "100.3", "100.4"),
        t(150, "100.4"),
    ]
    assert run(events) == [
        q(0, "100.0", "100.4"),
        q(100, "100.3", "100.4"),  # the latest, stamped with the slot
        t(150, "100.4"),
    ]


def test_a_rising_market_first_shows_the_lowest_ask_it_passed_through() -> None:
    # A buy limit at 100.2 would have filled against the quote at 10 ms: it is not dropped.
    events: list[MarketEvent] = [
        q(0, "100.0", "100.1"),
        q(10, "100.1", "100.2"),
        q(20, "100.2", "100.3"),
        q(30, "100.3", "100.4"),
        t(250, "100.4"),
    ]
    assert run(events) == [
        q(0, "100.0", "100.1"),
        q(100, "100.1", "100.2"),
        q(200, "100.3", "100.4"),
        t(250, "100.4"),
    ]


def test_a_dip_traded_through_inside_the_window_still_reaches_the_engine() -> None:
    # The ask dips to 99 (a resting buy at 99 must fill), then the book recovers; the bid
    # range (98..100) crosses the ask range (99..101), so no single quote can carry both:
    # the dip is emitted at the first slot, the latest at the next.
    events: list[MarketEvent] = [
        q(0, "100", "101"),
        q(20, "98", "99"),
        q(40, "100", "101"),
        t(250, "101"),
    ]
    assert run(events) == [
        q(0, "100", "101"),
        q(100, "98", "99"),
        q(200, "100", "101"),
        t(250, "101"),
    ]


def test_uncrossed_extremes_are_merged_into_one_synthetic_quote() -> None:
    events: list[MarketEvent] = [
        q(0, "100", "104"),
        q(30, "101", "105"),  # highest bid
        q(60, "99", "103"),  # lowest ask
        q(80, "100", "104"),  # latest
        Funding(300, "BTCUSDT", Decimal("0.0001")),
    ]
    assert run(events) == [
        q(0, "100", "104"),
        Quote(100, "BTCUSDT", Decimal("101"), Decimal("103"), Decimal("1"), Decimal("2")),
        q(200, "100", "104"),
        Funding(300, "BTCUSDT", Decimal("0.0001")),
    ]


def test_a_spike_up_keeps_the_high_bid_for_resting_sells() -> None:
    events: list[MarketEvent] = [
        q(0, "100", "101"),
        q(10, "105", "106"),  # a sell limit at 105 must fill
        q(20, "100", "101"),
    ]
    out = run(events)
    assert out == [q(0, "100", "101"), q(100, "105", "106"), q(200, "100", "101")]


def test_trades_inside_the_window_always_pass_in_order() -> None:
    events: list[MarketEvent] = [
        q(0, "100", "101"),
        t(10, "99"),
        q(20, "99", "100"),
        t(30, "98"),
        MarkPrice(40, "BTCUSDT", Decimal("99.5")),
    ]
    conflator = Conflator()
    out = [item for e in events for item in conflator.push(e)]
    assert out == [q(0, "100", "101"), t(10, "99"), t(30, "98"), events[4]]
    assert conflator.flush() == [q(100, "99", "100")]
    assert (conflator.quotes_in, conflator.quotes_out) == (2, 2)


def test_symbols_are_conflated_independently() -> None:
    events: list[MarketEvent] = [
        q(0, "100", "101"),
        q(5, "10", "11", "ETHUSDT"),
        q(50, "100.5", "101.5"),
        q(60, "10.5", "11.5", "ETHUSDT"),
        q(120, "100.6", "101.6"),
    ]
    assert run(events) == [
        q(0, "100", "101"),
        q(5, "10", "11", "ETHUSDT"),
        q(100, "100.5", "101.5"),
        q(105, "10.5", "11.5", "ETHUSDT"),
        q(200, "100.6", "101.6"),
    ]


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Conflator(0)


async def _aiter(events: list[MarketEvent]) -> AsyncIterator[MarketEvent]:
    for event in events:
        yield event


async def test_async_wrapper_matches_the_synchronous_rule_and_flushes_at_the_end() -> None:
    events = list(
        itertools.islice(SimMarket(seed=2, start_ts=START, interval_ms=10).events(), 3000)
    )
    got = [e async for e in conflate(_aiter(events), per_second=4)]
    assert got == run(events, per_second=4)
    assert got[-1].ts <= events[-1].ts + 3 * 250  # at most: two extremes, then the latest


async def test_conflated_feed_keeps_the_feed_protocol() -> None:
    inner = SimFeed(["BTCUSDT"], seed=1, start_ts=START, interval_ms=10, speed=0)
    feed = ConflatedFeed(inner, per_second=10)
    assert feed.name == "sim"
    quotes = 0
    async for event in feed:
        assert feed.status.state == "live"
        quotes += isinstance(event, Quote)
        if event.ts >= START + 5_000:
            break
    await feed.aclose()
    assert feed.status.state == "ended"
    assert 45 <= quotes <= 51


def test_time_never_runs_backwards_out_of_the_conflator() -> None:
    # Live venues interleave connections: a trade stamped 5 ms before the last quote.
    events: list[MarketEvent] = [q(100, "100", "101"), t(95, "101"), q(400, "100", "101")]
    assert run(events) == [q(100, "100", "101"), t(100, "101"), q(400, "100", "101")]
    clock = Monotonic()
    assert [clock(e).ts for e in events] == [100, 100, 400]
    assert clock.restamped == 1


def test_extremes_with_equal_timestamps_still_end_with_the_latest() -> None:
    # Three quotes in the same millisecond: the older extreme first, the latest last.
    events: list[MarketEvent] = [
        q(0, "100", "101"),
        q(10, "105", "106"),
        q(10, "98", "99"),
    ]
    assert run(events) == [q(0, "100", "101"), q(100, "105", "106"), q(200, "98", "99")]


@pytest.mark.parametrize("seed", range(20))
def test_random_streams_keep_every_extreme_and_end_on_the_latest(seed: int) -> None:
    import random

    rng = random.Random(seed)
    events: list[MarketEvent] = []
    ts, mid = 0, {"A": 1000, "B": 50}
    for _ in range(400):
        ts += rng.choice([0, 0, 1, 3, 7, 20, 60, 150])
        symbol = rng.choice("AB")
        mid[symbol] = max(5, mid[symbol] + rng.randint(-4, 4))
        spread = rng.randint(1, 3)
        events.append(q(ts, str(mid[symbol]), str(mid[symbol] + spread), symbol))
    out = run(events, per_second=rng.choice([2, 3, 10]))
    for symbol in "AB":
        ins = [e for e in events if isinstance(e, Quote) and e.symbol == symbol]
        outs = [e for e in out if isinstance(e, Quote) and e.symbol == symbol]
        assert min(e.ask for e in outs) == min(e.ask for e in ins)
        assert max(e.bid for e in outs) == max(e.bid for e in ins)
        assert (outs[-1].bid, outs[-1].ask) == (ins[-1].bid, ins[-1].ask)
        assert all(o.bid < o.ask for o in outs)
    assert all(b.ts >= a.ts for a, b in itertools.pairwise(out))


def book(ts: int, best_bid: str, symbol: str = "BTCUSDT") -> Book:
    bid = Decimal(best_bid)
    return Book(ts, symbol, ((bid, Decimal("1")), (bid - 1, Decimal("2"))),
                ((bid + 1, Decimal("3")),))  # fmt: skip


def test_books_the_latest_wins_per_symbol_per_window_and_is_never_merged() -> None:
    """Books have their own window, 250 ms by default (4 a second: every book is journaled):
    a book after a quiet 250 ms passes at once; sooner ones are held, only the latest of them
    leaves, at the slot, whole (the same levels, only the time moves)."""
    events: list[MarketEvent] = [
        book(START, "100"),
        book(START + 20, "101"),
        book(START + 20, "50", "ETHUSDT"),  # another symbol: its own window, passes
        q(START + 30, "100", "101"),  # quotes keep their own (100 ms) slots beside books
        book(START + 160, "102"),  # past the quotes' window, inside the books'
        t(START + 260, "102"),  # event time reaches the slot (250): the held book leaves
        book(START + 600, "103"),  # 350 ms after the slot: passes at once
    ]
    out = run(events)
    books = [e for e in out if isinstance(e, Book)]
    assert books == [
        book(START, "100"),
        book(START + 20, "50", "ETHUSDT"),
        book(START + 250, "102"),  # "101" was replaced by the later "102"
        book(START + 600, "103"),
    ]
    assert [type(e).__name__ for e in out] == ["Book", "Book", "Quote", "Book", "Trade", "Book"]


def test_a_held_book_leaves_at_the_end_of_the_stream_and_the_book_rate_is_its_own() -> None:
    conflator = Conflator(10)
    assert conflator.push(book(START, "100")) == [book(START, "100")]
    assert conflator.push(book(START + 10, "101")) == []
    assert conflator.flush() == [book(START + 250, "101")]
    assert (conflator.books_in, conflator.books_out) == (2, 2)
    tenfold = Conflator(10, books_per_second=10)
    assert tenfold.push(book(START, "100")) == [book(START, "100")]
    assert tenfold.push(book(START + 100, "101")) == [book(START + 100, "101")]
    with pytest.raises(ValueError, match="positive"):
        Conflator(10, books_per_second=0)
