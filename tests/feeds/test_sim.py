"""The `sim` feed: reproducible, on the instrument grid, with funding, jumps and realistic vol."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from manual_time import ManualTime, turns

from papertrade.core import events as ev
from papertrade.core.events import Book, Funding, MarkPrice, Quote, Trade
from papertrade.core.instruments import bundled
from papertrade.feeds.base import Feed
from papertrade.feeds.pacing import MAX_BATCH, MAX_NAP, parse_speed
from papertrade.feeds.registry import VALID_FEEDS, feed_kind, open_feed
from papertrade.feeds.sim import DEFAULT_SYMBOLS, SimFeed, SimMarket, UnknownSymbol

START = 1_735_689_600_000  # 2025-01-01 00:00:00 UTC
HOUR = 3_600_000


def take(market: SimMarket, n: int) -> list:
    return list(itertools.islice(market.events(), n))


def test_same_seed_and_start_give_identical_events() -> None:
    a = take(SimMarket(seed=7, start_ts=START), 5000)
    b = take(SimMarket(seed=7, start_ts=START), 5000)
    assert a == b
    assert take(SimMarket(seed=8, start_ts=START), 5000) != a


def test_a_symbol_path_does_not_depend_on_the_other_symbols() -> None:
    alone = [e for e in take(SimMarket(["ETHUSDT"], seed=3, start_ts=START), 3000)]
    mixed = [
        e
        for e in take(SimMarket(["BTCUSDT", "ETHUSDT"], seed=3, start_ts=START), 9000)
        if e.symbol == "ETHUSDT"
    ]
    assert mixed[: len(alone) // 2] == alone[: len(alone) // 2]


def test_prices_and_sizes_sit_on_the_instrument_grid_with_a_positive_spread() -> None:
    book = bundled("binance")
    spreads: Counter[int] = Counter()
    for event in take(SimMarket(seed=1, start_ts=START), 20_000):
        inst = book[event.symbol]
        tick, step = inst.tick_size, inst.step_size
        match event:
            case Quote():
                assert event.bid % tick == 0 and event.ask % tick == 0
                assert event.bid_qty is not None and event.bid_qty % step == 0
                assert event.ask_qty is not None and event.ask_qty % step == 0
                assert event.bid_qty > 0 and event.ask_qty > 0
                assert event.ask > event.bid > 0
                spreads[int((event.ask - event.bid) / tick)] += 1
            case Trade():
                assert event.price % tick == 0 and event.qty % step == 0 and event.qty > 0
            case MarkPrice():
                assert event.price % tick == 0
                assert event.funding_rate is not None
                exponent = event.funding_rate.as_tuple().exponent
                assert isinstance(exponent, int) and exponent >= -8
    assert set(spreads) <= {1, 2, 3}
    assert spreads[1] > spreads[2] > spreads[3] > 0


def test_starting_prices_are_the_documented_levels() -> None:
    first = {e.symbol: e for e in take(SimMarket(seed=0, start_ts=START), 20) if e.type == "quote"}
    mids = {s: (q.bid + q.ask) / 2 for s, q in first.items()}
    assert set(mids) == set(DEFAULT_SYMBOLS)
    levels: list[tuple[str, int | Decimal]] = [
        ("BTCUSDT", 95000),
        ("ETHUSDT", 3100),
        ("SOLUSDT", 140),
        ("BNBUSDT", 920),
        ("XRPUSDT", Decimal("2.2")),
    ]
    for symbol, level in levels:
        assert abs(mids[symbol] / Decimal(level) - 1) < Decimal("0.001")


def test_any_bundled_symbol_can_be_simulated_and_unknown_ones_are_refused() -> None:
    book = bundled("binance")
    extra = next(s for s in book if s not in DEFAULT_SYMBOLS)
    events = take(SimMarket([extra], seed=1, start_ts=START), 50)
    assert {e.symbol for e in events} == {extra}
    with pytest.raises(UnknownSymbol):
        SimMarket(["NOPEUSDT"], seed=1)


def test_funding_settles_at_00_08_16_utc_and_marks_announce_the_next_one() -> None:
    start = START + 8 * HOUR - 2_000  # 07:59:58
    events = list(
        SimMarket(["BTCUSDT", "ETHUSDT"], seed=2, start_ts=start, end_ts=start + 4_000).events()
    )
    fundings = [e for e in events if isinstance(e, Funding)]
    assert [(f.ts, f.symbol) for f in fundings] == [
        (START + 8 * HOUR, "BTCUSDT"),
        (START + 8 * HOUR, "ETHUSDT"),
    ]
    marks = [e for e in events if isinstance(e, MarkPrice) and e.symbol == "BTCUSDT"]
    before = [m for m in marks if m.ts < START + 8 * HOUR]
    after = [m for m in marks if m.ts >= START + 8 * HOUR]
    assert before and after
    assert {m.next_funding_ts for m in before} == {START + 8 * HOUR}
    assert {m.next_funding_ts for m in after} == {START + 16 * HOUR}
    assert fundings[0].rate == before[-1].funding_rate
    assert all(b.ts >= a.ts for a, b in itertools.pairwise(events))

    two_days = SimMarket(["SOLUSDT"], seed=2, start_ts=START + 1, interval_ms=60_000)
    two_days.end_ts = START + 48 * HOUR + 120_000
    settled = [e.ts for e in two_days.events() if isinstance(e, Funding)]
    assert settled == [START + h * HOUR for h in (8, 16, 24, 32, 40, 48)]


def test_marks_come_once_a_simulated_second_close_to_the_mid() -> None:
    events = list(SimMarket(["BTCUSDT"], seed=5, start_ts=START, end_ts=START + 10_000).events())
    marks = [e for e in events if isinstance(e, MarkPrice)]
    assert [m.ts - START for m in marks] == list(range(0, 10_000, 1000))
    quotes = {q.ts: q for q in events if isinstance(q, Quote)}
    for mark in marks:
        mid = (quotes[mark.ts].bid + quotes[mark.ts].ask) / 2
        assert abs(mark.price / mid - 1) < Decimal("0.005")


def _log_returns(symbol: str, seed: int, interval_ms: int, days: int) -> tuple[list[float], int]:
    market = SimMarket(
        [symbol],
        seed=seed,
        start_ts=START,
        interval_ms=interval_ms,
        end_ts=START + days * 24 * HOUR,
    )
    mids = [float((e.bid + e.ask) / 2) for e in market.events() if isinstance(e, Quote)]
    return [math.log(b / a) for a, b in itertools.pairwise(mids)], market.jumps


def test_jumps_happen_over_a_long_run() -> None:
    returns, jumps = _log_returns("ETHUSDT", seed=11, interval_ms=10_000, days=8)
    # one 10 s diffusion step has sd ~0.04 %; every jump moves the price by at least 0.4 %
    big = [r for r in returns if abs(r) > 0.003]
    assert jumps >= 4
    assert len(big) >= jumps * 0.8
    assert any(r > 0 for r in big) and any(r < 0 for r in big)


@pytest.mark.parametrize(
    ("symbol", "low", "high"), [("BTCUSDT", 0.40, 0.62), ("SOLUSDT", 0.65, 0.95)]
)
def test_realised_volatility_is_plausible(symbol: str, low: float, high: float) -> None:
    returns, _ = _log_returns(symbol, seed=4, interval_ms=60_000, days=45)
    per_year = 365.25 * 24 * 60
    diffusion = [r for r in returns if abs(r) < 0.003]
    vol = math.sqrt(sum(r * r for r in diffusion) / len(diffusion) * per_year)
    total = math.sqrt(sum(r * r for r in returns) / len(returns) * per_year)
    assert low < vol < high
    assert vol < total < 1.0


async def test_paced_feed_follows_its_clock_and_reports_its_status() -> None:
    time = ManualTime()
    feed = SimFeed(
        ["BTCUSDT"],
        seed=1,
        start_ts=START,
        interval_ms=50,
        speed=1,
        clock=time.clock,
        sleep=time.sleep,
    )
    assert isinstance(feed, Feed)
    assert feed.status.state == "connecting"
    seen: list[tuple[ev.MarketEvent, float]] = []
    async for event in feed:
        assert feed.status.state == "live"
        seen.append((event, time.elapsed))
        if event.ts >= START + 200:
            break
    await feed.aclose()
    assert feed.status.state == "ended"
    assert seen[0][0].ts == START
    # at 1× every step is due (ts - START) / 1000 s after the first: 0, 0.05, … 0.2
    assert all(at == pytest.approx((e.ts - START) / 1000) for e, at in seen)
    assert max(time.sleeps) <= MAX_NAP


async def test_at_ten_times_a_simulated_minute_takes_six_seconds() -> None:
    time = ManualTime()
    feed = SimFeed(
        ["ETHUSDT"], seed=2, start_ts=START, speed=10, clock=time.clock, sleep=time.sleep
    )
    async for event in feed:
        if event.ts >= START + 60_000:
            break
    await feed.aclose()
    assert time.elapsed == pytest.approx(60 / 10)


async def test_unpaced_feed_never_waits_and_yields_to_the_loop_in_batches() -> None:
    time = ManualTime()
    feed = open_feed(
        "sim",
        ["BTCUSDT", "ETHUSDT"],
        speed="max",
        seed=9,
        start_ts=START,
        clock=time.clock,
        sleep=time.sleep,
    )
    n = 0
    async for event in feed:
        n += 1
        if event.ts >= START + 600_000:  # ten simulated minutes
            break
    await feed.aclose()
    assert n > 10_000
    assert set(time.sleeps) == {0} and len(time.sleeps) == (n - 1) // MAX_BATCH
    same = take(SimMarket(["BTCUSDT", "ETHUSDT"], seed=9, start_ts=START, depth=20), 100)
    again = SimFeed(["BTCUSDT", "ETHUSDT"], seed=9, start_ts=START, speed=0)
    got = [e async for e in _first(again, 100)]
    assert got == same


async def _first(feed: SimFeed, n: int):
    count = 0
    async for event in feed:
        yield event
        count += 1
        if count == n:
            await feed.aclose()
            return


def test_registry_knows_the_feeds_and_explains_unknown_ones() -> None:
    assert feed_kind("sim") == "sim" and feed_kind("file:x.jsonl") == "file"
    assert feed_kind("Binance") == "binance"
    with pytest.raises(ValueError, match="valid feeds: binance, bybit, okx, hyperliquid, sim"):
        open_feed("kraken", ["BTCUSDT"])
    with pytest.raises(ValueError, match="needs a path"):
        open_feed("file:", ["BTCUSDT"])
    assert "file:PATH" in VALID_FEEDS
    assert parse_speed("max") == 0 and parse_speed("10x") == 10 and parse_speed(2) == 2
    for bad in ("-1", "fast-ish", "nan"):
        with pytest.raises(ValueError):
            parse_speed(bad)
    assert isinstance(open_feed("sim", [], seed=1, start_ts=START), SimFeed)


def _quotes(events: list[ev.MarketEvent], symbol: str) -> list[Quote]:
    return [e for e in events if isinstance(e, Quote) and e.symbol == symbol]


def test_adding_a_symbol_it_already_plays_keeps_one_path() -> None:
    market = SimMarket(["BTCUSDT"], seed=4, start_ts=START, end_ts=START + 5_000)
    reference = list(SimMarket(["BTCUSDT"], seed=4, start_ts=START, end_ts=START + 5_000).events())
    got: list[ev.MarketEvent] = []
    for event in market.events():
        got.append(event)
        if event.ts == START + 1_000:
            market.add_symbol("BTCUSDT")  # the watchlist adds it again: nothing changes
    assert got == reference
    assert market.symbols == ["BTCUSDT"]
    # one quote per step: 50 steps of 100 ms
    assert [q.ts for q in _quotes(got, "BTCUSDT")] == list(range(START, START + 5_000, 100))


def test_a_removed_then_re_added_symbol_continues_its_same_path() -> None:
    end = START + 6_000
    reference = [
        e
        for e in SimMarket(["BTCUSDT", "ETHUSDT"], seed=4, start_ts=START, end_ts=end).events()
        if e.symbol == "BTCUSDT"
    ]
    market = SimMarket(["BTCUSDT", "ETHUSDT"], seed=4, start_ts=START, end_ts=end)
    got: list[ev.MarketEvent] = []
    for event in market.events():
        got.append(event)
        if event.ts == START + 1_000 and market.symbols == ["BTCUSDT", "ETHUSDT"]:
            market.remove_symbol("BTCUSDT")
            assert market.symbols == ["ETHUSDT"]
        if event.ts == START + 3_000 and "BTCUSDT" not in market.symbols:
            market.add_symbol("BTCUSDT")
    btc = [e for e in got if e.symbol == "BTCUSDT"]
    # nothing delivered while removed; before and after, exactly the uninterrupted path
    missing = [e for e in reference if START + 1_000 < e.ts <= START + 3_000]
    assert missing and not any(START + 1_100 <= e.ts <= START + 3_000 for e in btc)
    assert btc == [e for e in reference if e not in missing]
    assert len(_quotes(btc, "BTCUSDT")) == len({q.ts for q in _quotes(btc, "BTCUSDT")})


async def test_a_symbol_added_to_the_running_feed_joins_at_the_next_step() -> None:
    feed = SimFeed(["BTCUSDT"], seed=5, start_ts=START, speed=0)
    got: list[ev.MarketEvent] = []
    async for event in feed:
        got.append(event)
        if event.ts == START + 500 and "SOLUSDT" not in feed.symbols:
            feed.add_symbol("SOLUSDT")
            feed.add_symbol("SOLUSDT")  # twice: still one path
        if event.ts >= START + 2_000:
            break
    await feed.aclose()
    sol = _quotes(got, "SOLUSDT")
    assert sol[0].ts == START + 600  # the step after the one being played
    assert [q.ts for q in sol] == list(range(START + 600, sol[-1].ts + 1, 100))
    assert abs((sol[0].bid + sol[0].ask) / 2 / 140 - 1) < Decimal("0.001")  # its start level
    assert feed.symbols == ["BTCUSDT", "SOLUSDT"]
    with pytest.raises(UnknownSymbol):
        feed.add_symbol("NOPEUSDT")


def test_a_resumed_sim_continues_after_the_last_time_from_the_last_prices() -> None:
    last_ts = START + 8 * HOUR - 1_234  # 07:59:58.766
    marks = {"BTCUSDT": Decimal("93556.4"), "ETHUSDT": Decimal("3012.55")}
    feed = SimFeed(list(marks), seed=3, after_ts=last_ts, start_prices=marks, speed=0)
    market = feed.market
    assert market.start_ts == START + 8 * HOUR - 1_200  # the next 100 ms step: 07:59:58.800
    events = take(market, 200)
    assert events[0].ts > last_ts
    assert all(b.ts >= a.ts for a, b in itertools.pairwise(events))
    book = bundled("binance")
    for symbol, price in marks.items():
        tick = book[symbol].tick_size
        first = _quotes(events, symbol)[0]
        assert first.ts == market.start_ts
        # the first quote straddles the last mark: its mid within 2 ticks of it
        assert abs((first.bid + first.ask) / 2 - price) <= 2 * tick
        mark = next(e for e in events if isinstance(e, MarkPrice) and e.symbol == symbol)
        assert abs(mark.price / price - 1) < Decimal("0.002")  # a few bp of premium at most
    # the 08:00 funding between the last journaled time and now is settled, once
    fundings = [e for e in events if isinstance(e, Funding)]
    assert [(f.ts, f.symbol) for f in fundings] == [
        (START + 8 * HOUR, "BTCUSDT"),
        (START + 8 * HOUR, "ETHUSDT"),
    ]
    # reproducible, and not a replay of a fresh session's moves
    again = SimFeed(list(marks), seed=3, after_ts=last_ts, start_prices=marks, speed=0)
    assert take(again.market, 200) == events
    fresh = take(SimMarket(list(marks), seed=3, start_ts=market.start_ts), 2_000)
    resumed = take(SimMarket(list(marks), seed=3, after_ts=last_ts, start_prices=marks), 2_000)
    assert _moves(fresh, "BTCUSDT") != _moves(resumed, "BTCUSDT")


def _moves(events: list[ev.MarketEvent], symbol: str) -> list[Decimal]:
    mids = [(q.bid + q.ask) / 2 for q in _quotes(events, symbol)]
    return [b / a for a, b in itertools.pairwise(mids)]


def test_resume_points_and_prices_are_validated() -> None:
    with pytest.raises(ValueError, match="must come after"):
        SimMarket(["BTCUSDT"], start_ts=START, after_ts=START)
    with pytest.raises(ValueError, match="after_ts must be between 0 and"):
        SimMarket(["BTCUSDT"], after_ts=-1)
    with pytest.raises(ValueError, match="after_ts must be between 0 and"):
        SimMarket(["BTCUSDT"], after_ts=10**15)
    for bad in ("0", "-5", "NaN", "Infinity", "1e30"):
        with pytest.raises(ValueError, match="start price of BTCUSDT must be"):
            SimMarket(["BTCUSDT"], start_prices={"BTCUSDT": Decimal(bad)})


async def test_a_paused_sim_holds_its_clock_and_resumes_one_step_later() -> None:
    time = ManualTime()
    feed = SimFeed(["BTCUSDT"], seed=6, start_ts=START, speed=1, clock=time.clock, sleep=time.sleep)
    stream = aiter(feed)
    assert (await anext(stream)).ts == START
    feed.pause()
    assert feed.paused
    nxt = asyncio.ensure_future(_next_quote(stream))
    await turns()
    slept = len(time.sleeps)
    await turns()
    assert not nxt.done() and len(time.sleeps) == slept  # no naps, no events while paused
    time.now += 60  # a minute away
    resumed_at = time.now
    feed.resume()
    quote = await nxt
    # the step after START, 100 ms of sim time after the last event played, not 60 s of them
    assert quote.ts == START + 100
    assert time.now - resumed_at == pytest.approx(0.1)
    await feed.aclose()


async def _next_quote(stream: AsyncIterator[ev.MarketEvent]) -> Quote:
    async for event in stream:
        if isinstance(event, Quote):
            return event
    raise AssertionError("the sim ended")


def test_books_follow_every_quote_with_its_best_levels_and_leave_the_path_alone() -> None:
    plain = take(SimMarket(seed=3, start_ts=START), 400)
    deep = take(SimMarket(seed=3, start_ts=START, depth=20), 400 + 400)
    books = [e for e in deep if isinstance(e, Book)]
    assert [e for e in deep if not isinstance(e, Book)][:400] == plain  # same path, quotes, trades
    for i, event in enumerate(deep[:-1]):
        if isinstance(event, Quote):
            book = deep[i + 1]
            assert isinstance(book, Book) and (book.ts, book.symbol) == (event.ts, event.symbol)
            assert book.bids[0] == (event.bid, event.bid_qty)
            assert book.asks[0] == (event.ask, event.ask_qty)
    inst = bundled("binance")
    for book in books:
        assert len(book.bids) == len(book.asks) == 20
        tick, step = inst[book.symbol].tick_size, inst[book.symbol].step_size
        for side, falling in ((book.bids, True), (book.asks, False)):
            prices = [p for p, _ in side]
            assert prices == sorted(prices, reverse=falling) and len(set(prices)) == 20
            # on the instrument's grids, 1 to 3 ticks apart, positive sizes
            assert all(p % tick == 0 and q % step == 0 and q > 0 for p, q in side)
            assert all(1 <= abs(a - b) / tick <= 3 for a, b in itertools.pairwise(prices))
    again = take(SimMarket(seed=3, start_ts=START, depth=20), 800)
    assert again == deep  # deterministic from the seed
    assert SimFeed(["BTCUSDT"], start_ts=START, speed=0).market.depth == 20  # the terminal's
