"""Engine throughput: mark and quote events through `Engine.apply`.

Run: `python benchmarks/engine.py [--events 200000] [--runs 5]`

Marks and quotes, alternating, each of the 20 bundled Binance symbols in turn, with 20 open
positions (10 isolated, 10 cross) so every mark re-prices a position, updates the cross
totals and runs the liquidation test. The baseline, measured in the same run over the same
events (alternating with the engine, run after run), is a bare loop that only stores the last
price per symbol: the ratio says what the margin engine costs on top of merely touching each
event. Target: >= 300,000 events/s (median). Each run starts from the same engine state.

A second run (issue 13) adds a 5-level order book per symbol every 100 ms of event time
(10/s per symbol) under the `queue` fill model, with a resting limit order per symbol, so
every book also re-quotes the symbol and re-counts the queue ahead of that order.
"""

from __future__ import annotations

import argparse
import copy
import gc
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import RUNS, interleaved, verdict
from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.core.numbers import floor_to


def build(
    n: int, seed: int = 7, fill_model: ev.FillModel = "touch"
) -> tuple[Engine, list[ev.Event]]:
    book = bundled("binance")
    symbols = list(book)[:20]
    rng = random.Random(seed)
    settings = ev.SessionSettings(balance=Decimal(10_000_000), fill_model=fill_model)
    engine = Engine(settings=settings)
    prices: dict[str, Decimal] = {}
    ts = 1_767_225_600_000
    for i, sym in enumerate(symbols):
        inst = book[sym]
        price = floor_to(Decimal(rng.uniform(1, 1000)) * 10 * inst.tick_size * 100, inst.tick_size)
        price = max(price, inst.tick_size * 1000)
        prices[sym] = price
        engine.apply(ev.MarkPrice(ts, sym, price))
        engine.apply(ev.Quote(ts, sym, price - inst.tick_size, price))
        qty = max(inst.min_qty, floor_to(Decimal(20_000) / price, inst.step_size))
        mode: ev.MarginMode = "isolated" if i % 2 else "cross"
        out = engine.apply(
            ev.PlaceOrder(
                ts,
                f"open-{sym}",
                sym,
                "buy" if i % 3 else "sell",
                qty,
                "market",
                margin_mode=mode,
                leverage=5,
            )
        )
        assert out and out[0].type == "fill", out
    assert len(engine.positions) == 20
    events: list[ev.Event] = []
    ticks = {s: book[s].tick_size for s in symbols}
    for k in range(n):
        sym = symbols[k % 20]
        ts += 1
        # a bounded random walk of a few ticks: no liquidation, realistic re-pricing
        move = rng.randint(-3, 3) * ticks[sym]
        base = prices[sym]
        price = base + move if base + move > ticks[sym] * 500 else base
        prices[sym] = price
        if k % 2:
            events.append(ev.MarkPrice(ts, sym, price))
        else:
            events.append(ev.Quote(ts, sym, price - ticks[sym], price))
    return engine, events


BOOK_EVERY_MS = 100
"""10 books a second per symbol."""


def with_books(n: int) -> tuple[Engine, list[ev.Event]]:
    """The same marks and quotes under `queue`, a book per symbol every 100 ms of event time
    (5 levels a side around the latest price), and a resting buy 2 ticks under each symbol's
    price (queued behind the book's quantity there)."""
    engine, events = build(n, fill_model="queue")
    insts = bundled("binance")
    ts = events[0].ts
    for sym in list(engine.positions):
        m, inst = engine.markets[sym], insts[sym]
        assert m.bid is not None
        qty = max(inst.min_qty, floor_to(Decimal(200) / m.bid, inst.step_size))
        price = m.bid - 2 * inst.tick_size
        engine.apply(ev.PlaceOrder(ts, f"rest-{sym}", sym, "buy", qty, "limit", price))
    out: list[ev.Event] = []
    next_book: dict[str, int] = {}
    for e in events:
        out.append(e)
        if not isinstance(e, ev.Quote | ev.MarkPrice):
            continue
        sym = e.symbol
        if e.ts >= next_book.get(sym, 0):
            next_book[sym] = e.ts + BOOK_EVERY_MS
            tick = insts[sym].tick_size
            ask = e.ask if isinstance(e, ev.Quote) else e.price
            size = Decimal("1.5")
            bids = tuple((ask - (k + 1) * tick, size + k) for k in range(5))
            asks = tuple((ask + k * tick, size + k) for k in range(5))
            out.append(ev.Book(e.ts, sym, bids, asks))
    assert len(engine.orders) == 20
    return engine, out


def bare_loop(events: list[ev.Event]) -> float:
    last: dict[str, Decimal] = {}
    start = time.perf_counter()
    for e in events:
        last[e.symbol] = e.price if e.type == "mark" else e.bid  # type: ignore[union-attr,assignment]
    return time.perf_counter() - start


def bare_book_loop(events: list[ev.Event]) -> float:
    """`bare_loop` for a stream with books: a book stores its best bid."""
    last: dict[str, Decimal] = {}
    start = time.perf_counter()
    for e in events:
        if isinstance(e, ev.Book):
            last[e.symbol] = e.bids[0][0]
        else:
            last[e.symbol] = e.price if e.type == "mark" else e.bid  # type: ignore[union-attr,assignment]
    return time.perf_counter() - start


def engine_loop(engine: Engine, events: list[ev.Event]) -> tuple[float, int]:
    apply = engine.apply
    outcomes = 0
    start = time.perf_counter()
    for e in events:
        if apply(e):
            outcomes += 1
    return time.perf_counter() - start, outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    start, events = build(args.events)
    n = len(events)
    outcomes = 0

    def rate_of(begin: Engine, work: list[ev.Event]) -> float:
        """Events a second of a fresh copy of `begin` over `work`, the collector held off."""
        nonlocal outcomes
        engine = copy.deepcopy(begin)
        gc.collect()
        gc.disable()
        try:
            took, outcomes = engine_loop(engine, work)
        finally:
            gc.enable()
        return len(work) / took

    def engine_rate() -> float:
        return rate_of(start, events)

    def bare_rate() -> float:
        return n / bare_loop(events)

    ours, base = interleaved([engine_rate, bare_rate], args.runs)
    ok = verdict(
        f"engine, {n:,} marks and quotes of 20 symbols, 20 open positions",
        ours,
        "events/s",
        base,
        "a bare loop storing the last price",
        target=">= 300,000 events/s (median)",
        passed=ours.median >= 300_000,
    )
    print(f"    {outcomes} events with outcomes in the last run")

    book_start, book_events = with_books(args.events)
    nb = len(book_events)
    books = sum(1 for e in book_events if e.type == "book")

    def book_rate() -> float:
        return rate_of(book_start, book_events)

    with_book, base = interleaved([book_rate, lambda: nb / bare_book_loop(book_events)], args.runs)
    verdict(
        f"engine under queue, {nb:,} events of which {books:,} books (10/s per symbol), "
        "20 positions and 20 resting orders",
        with_book,
        "events/s",
        base,
        "a bare loop storing the last price",
        target=None,
        passed=True,
    )
    print(f"    {outcomes} events with outcomes in the last run")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
