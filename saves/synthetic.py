"""Seeded random but valid input streams: for replay-equality tests and the journal benchmark.

Kept in the package (not under tests/) because tests and `benchmarks/journal.py` both need it
and tests run with `--import-mode=importlib`, where test modules cannot import each other.
Prices follow a random walk with rare jumps (so liquidations happen); commands mix market and
limit orders, cancels (some of unknown ids, to get rejections), closes, leverage and margin
changes, funding and account snapshots.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal

from papertrade.core import events as ev

_SYMBOLS = {
    # symbol: (start price, tick, step)
    "BTCUSDT": (Decimal("60000"), Decimal("0.1"), Decimal("0.001")),
    "ETHUSDT": (Decimal("3000"), Decimal("0.01"), Decimal("0.001")),
}
START_TS = 1_767_225_600_000


def _q(value: float, step: Decimal) -> Decimal:
    return (Decimal(repr(value)) / step).to_integral_value() * step


def random_stream(
    seed: int, count: int, *, symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
) -> Iterator[ev.Event]:
    """`count` valid engine inputs, the same for the same seed."""
    rnd = random.Random(seed)
    price = {s: float(_SYMBOLS[s][0]) for s in symbols}
    ts = START_TS
    ids: list[str] = []
    n_orders = 0
    for _ in range(count):
        ts += rnd.randint(0, 400)
        sym = rnd.choice(symbols)
        _, tick, step = _SYMBOLS[sym]
        r = rnd.random()
        if r < 0.001:
            price[sym] *= rnd.choice((0.8, 0.85, 1.15, 1.25))
        else:
            price[sym] *= 1 + rnd.gauss(0, 0.0008)
        p = price[sym]
        if r < 0.55:
            half = max(float(tick), p * 0.00005)
            yield ev.Quote(
                ts,
                sym,
                _q(p - half, tick),
                _q(p + half, tick),
                _q(rnd.uniform(0.1, 5), step),
                _q(rnd.uniform(0.1, 5), step),
            )
        elif r < 0.72:
            yield ev.MarkPrice(ts, sym, _q(p, tick), funding_rate=Decimal("0.0001"))
        elif r < 0.82:
            yield ev.Trade(ts, sym, _q(p, tick), _q(rnd.uniform(0.001, 2), step))
        elif r < 0.91:
            n_orders += 1
            oid = f"o{n_orders}"
            ids.append(oid)
            notional = rnd.uniform(200, 8000)
            qty = max(_q(notional / p, step), step * 10)
            side = rnd.choice(ev.SIDES)
            if rnd.random() < 0.5:
                yield ev.PlaceOrder(
                    ts,
                    oid,
                    sym,
                    side,
                    qty,
                    "market",
                    margin_mode=rnd.choice((None, "cross", "isolated")),
                    leverage=rnd.choice((None, 5, 10, 20, 50)),
                    reduce_only=rnd.random() < 0.1,
                )
            else:
                off = rnd.uniform(-0.003, 0.003)
                yield ev.PlaceOrder(
                    ts,
                    oid,
                    sym,
                    side,
                    qty,
                    "limit",
                    price=_q(p * (1 + off), tick),
                    leverage=rnd.choice((None, 10, 20)),
                    post_only=rnd.random() < 0.2,
                )
        elif r < 0.95:
            oid = rnd.choice(ids) if ids and rnd.random() < 0.8 else f"nope{rnd.randint(1, 9)}"
            yield ev.CancelOrder(ts, oid)
        elif r < 0.96:
            yield ev.ClosePosition(ts, sym)
        elif r < 0.97:
            yield ev.SetLeverage(ts, sym, rnd.choice((2, 5, 10, 20, 75)))
        elif r < 0.975:
            yield ev.SetMarginMode(ts, sym, rnd.choice(ev.MARGIN_MODES))
        elif r < 0.98:
            amount = Decimal(rnd.choice(("10", "-5", "25.5")))
            yield ev.AdjustMargin(ts, sym, amount)
        elif r < 0.99:
            yield ev.Funding(ts, sym, Decimal(rnd.choice(("0.0001", "-0.0002", "0.0005"))))
        else:
            yield ev.Snapshot(ts)


def symbol_hour(seed: int = 7, symbol: str = "BTCUSDT") -> Iterator[ev.MarketEvent]:
    """One symbol-hour of market data at the default conflation (10 quotes/s, as
    `feeds.conflate.DEFAULT_PER_SECOND`), a mark a second and 5 trades/s (`feeds.sim`'s rate)."""
    rnd = random.Random(seed)
    base, tick, step = _SYMBOLS[symbol]
    p = float(base)
    ts = START_TS
    for second in range(3600):
        for tenth in range(10):
            t = ts + second * 1000 + tenth * 100
            p *= 1 + rnd.gauss(0, 0.00005)
            yield ev.Quote(
                t,
                symbol,
                _q(p - 0.05, tick),
                _q(p + 0.05, tick),
                _q(rnd.uniform(0.001, 9), step),
                _q(rnd.uniform(0.001, 9), step),
            )
            if tenth % 2:
                yield ev.Trade(t, symbol, _q(p, tick), _q(rnd.uniform(0.001, 3), step))
        yield ev.MarkPrice(
            ts + second * 1000 + 999,
            symbol,
            _q(p, tick),
            index=_q(p * 0.9999, tick),
            funding_rate=Decimal("0.0001"),
            next_funding_ts=ts + 8 * 3600 * 1000,
        )
