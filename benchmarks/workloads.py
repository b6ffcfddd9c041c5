"""The drill the benchmarks run: every symbol marked and quoted, positions and resting orders
in all of them.

A workload where half the positions are never re-marked measures an engine that skips work a
real session does; here each step marks or quotes every symbol in turn, each symbol holds an
open position (cross and isolated alternating) and a resting limit order far from the price,
so every mark re-prices a position and every quote is checked against an order.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from papertrade.core import events as ev
from papertrade.core.instruments import bundled
from papertrade.core.numbers import floor_to, plain

START_TS = 1_767_225_600_000


def drill_lines(events: int, symbols: int = 10, seed: int = 7) -> Iterator[str]:
    """The JSON lines of a drill of `events` lines after a set-up of a few per symbol."""
    book = bundled("binance")
    names = list(book)[:symbols]
    rng = random.Random(seed)
    ts = START_TS
    yield '{"type":"session","balance":"10000000"}'
    price: dict[str, Decimal] = {}
    for i, sym in enumerate(names):
        inst = book[sym]
        p = max(floor_to(Decimal(rng.uniform(1, 1000)) * 1000 * inst.tick_size, inst.tick_size),
                inst.tick_size * 1000)  # fmt: skip
        price[sym] = p
        qty = max(inst.min_qty, floor_to(Decimal(20_000) / p, inst.step_size))
        side = "buy" if i % 3 else "sell"
        mode = "isolated" if i % 2 else "cross"
        yield (f'{{"type":"quote","ts":{ts},"symbol":"{sym}","bid":"{plain(p - inst.tick_size)}",'
               f'"ask":"{plain(p)}"}}')  # fmt: skip
        yield f'{{"type":"mark","ts":{ts},"symbol":"{sym}","price":"{plain(p)}"}}'
        yield (f'{{"type":"order","ts":{ts},"id":"open-{sym}","symbol":"{sym}","side":"{side}",'
               f'"qty":"{plain(qty)}","order_type":"market","margin_mode":"{mode}",'
               f'"leverage":5}}')  # fmt: skip
        rest = floor_to(p * Decimal("0.5"), inst.tick_size)
        yield (f'{{"type":"order","ts":{ts},"id":"rest-{sym}","symbol":"{sym}","side":"buy",'
               f'"qty":"{plain(qty)}","order_type":"limit","price":"{plain(rest)}",'
               f'"margin_mode":"{mode}","leverage":5}}')  # fmt: skip
    for event in _walk(events, names, price, rng, ts):
        if isinstance(event, ev.MarkPrice):
            yield (f'{{"type":"mark","ts":{event.ts},"symbol":"{event.symbol}",'
                   f'"price":"{plain(event.price)}"}}')  # fmt: skip
        else:
            yield (f'{{"type":"quote","ts":{event.ts},"symbol":"{event.symbol}",'
                   f'"bid":"{plain(event.bid)}","ask":"{plain(event.ask)}"}}')  # fmt: skip


def market_events(events: int, symbols: int = 10, seed: int = 7) -> Iterator[ev.MarketEvent]:
    """`events` marks and quotes, alternating, each symbol in turn (the same walk as
    `drill_lines`, without its set-up): what a journal saves in a live session."""
    book = bundled("binance")
    names = list(book)[:symbols]
    rng = random.Random(seed)
    price = {s: max(book[s].tick_size * 1000, book[s].tick_size * rng.randint(1000, 100_000))
             for s in names}  # fmt: skip
    for event in _walk(events, names, price, rng, START_TS):
        if isinstance(event, ev.Quote):  # live quotes carry the sizes at the touch
            sizes = rng.randint(1, 90_000)
            step = book[event.symbol].step_size
            event = ev.Quote(event.ts, event.symbol, event.bid, event.ask, sizes * step,
                             (sizes % 977 + 1) * step)  # fmt: skip
        yield event


def _walk(
    events: int, names: list[str], price: dict[str, Decimal], rng: random.Random, ts: int
) -> Iterator[ev.MarkPrice | ev.Quote]:
    """A bounded random walk of a few ticks per step: re-prices without liquidating."""
    book = bundled("binance")
    ticks = {s: book[s].tick_size for s in names}
    for k in range(events):
        sym = names[(k // 2) % len(names)]
        ts += 1
        tick = ticks[sym]
        move = rng.randint(-3, 3) * tick
        p = price[sym] + move if price[sym] + move > tick * 500 else price[sym]
        price[sym] = p
        if k % 2:
            yield ev.MarkPrice(ts, sym, p)
        else:
            yield ev.Quote(ts, sym, p - tick, p)


def write_drill(path: Path, events: int, symbols: int = 10) -> Path:
    """`drill_lines` into `path` (reused when it is already there with the same size)."""
    if not path.exists():
        tmp = path.with_suffix(".partial")
        with tmp.open("w", encoding="utf-8") as f:
            for line in drill_lines(events, symbols):
                f.write(line + "\n")
        tmp.replace(path)
    return path
