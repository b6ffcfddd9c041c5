"""The order ticket's preview: time per preview, in a trial of the live engine.

Run: `python benchmarks/preview.py [--previews 300] [--runs 5] [--ids 1200]`

The ticket previews on every keystroke. The engine holds what a long session leaves: 10
open positions (cross and isolated alternating) in 10 symbols, a resting limit order and a
waiting stop in each, and `--ids` order ids used (limit orders placed and cancelled, as a
trader who moves orders around does). Each run previews a market order, a resting limit
order (the preview fills it at its price) and a reduce-only close in turn, `--previews`
times in all. The baseline, alternated with it run after run, is the preview this replaced:
the order run on a copy of the engine (`Engine.from_state(engine.to_state())`), the test
suite's oracle (`tests/core/test_preview_trial.py`).

Target: faster than the clone (median), every preview equal to the clone's, and the engine's
saved state the same after every run as before the first.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import RUNS, interleaved, verdict
from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.core.numbers import floor_to
from papertrade.core.preview import OrderPreview
from tests.core.test_preview_trial import clone_preview

TS = 1_767_225_600_000


def build(ids: int) -> tuple[Engine, list[ev.PlaceOrder]]:
    """The engine of a long session and the orders the ticket previews."""
    book = bundled("binance")
    symbols = list(book)[:10]
    engine = Engine(settings=ev.SessionSettings(balance=Decimal(1_000_000)))
    prices: dict[str, Decimal] = {}
    for i, sym in enumerate(symbols):
        inst = book[sym]
        price = max(inst.tick_size * 1000, floor_to(Decimal(100 + 37 * i), inst.tick_size))
        prices[sym] = price
        engine.apply(ev.MarkPrice(TS, sym, price))
        engine.apply(ev.Quote(TS, sym, price - inst.tick_size, price))
        engine.apply(ev.Trade(TS, sym, price, Decimal(1)))
        qty = max(inst.min_qty, floor_to(Decimal(20_000) / price, inst.step_size))
        mode: ev.MarginMode = "isolated" if i % 2 else "cross"
        side: ev.Side = "buy" if i % 3 else "sell"
        out = engine.apply(
            ev.PlaceOrder(TS, f"open-{sym}", sym, side, qty, "market", margin_mode=mode, leverage=5)
        )
        assert out and out[0].type == "fill", out
        far = floor_to(price * Decimal("0.8"), inst.tick_size)
        engine.apply(ev.PlaceOrder(TS, f"rest-{sym}", sym, "buy", qty, "limit", far))
        stop = floor_to(price * Decimal("0.7"), inst.tick_size)
        stop_side: ev.Side = "sell" if side == "buy" else "buy"
        trigger = stop if side == "buy" else floor_to(price * Decimal("1.3"), inst.tick_size)
        out = engine.apply(
            ev.PlaceOrder(
                TS,
                f"stop-{sym}",
                sym,
                stop_side,
                Decimal(0),
                "stop_market",
                trigger_price=trigger,
                close_position=True,
            )
        )
        assert not out, out
    n = 0
    while len(engine.used_ids) < ids:
        sym = symbols[n % 10]
        inst = book[sym]
        far = floor_to(prices[sym] * Decimal("0.9"), inst.tick_size)
        qty = max(inst.min_qty, floor_to(Decimal(200) / far, inst.step_size))
        engine.apply(ev.PlaceOrder(TS, f"moved-{n}", sym, "buy", qty, "limit", far))
        engine.apply(ev.CancelOrder(TS, f"moved-{n}"))
        n += 1
    assert len(engine.positions) == 10 and len(engine.orders) == 10 and len(engine.algo) == 10
    sym = symbols[1]
    inst = book[sym]
    qty = max(inst.min_qty, floor_to(Decimal(5_000) / prices[sym], inst.step_size))
    pos = engine.positions[symbols[2]]
    previews = [
        ev.PlaceOrder(TS, "ticket", sym, "buy", qty, "market", leverage=5),
        ev.PlaceOrder(
            TS,
            "ticket",
            sym,
            "buy",
            qty,
            "limit",
            floor_to(prices[sym] * Decimal("0.99"), inst.tick_size),
        ),
        ev.PlaceOrder(
            TS,
            "ticket",
            pos.symbol,
            "sell" if pos.size > 0 else "buy",
            pos.qty,
            "market",
            reduce_only=True,
        ),
    ]
    return engine, previews


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--previews", type=int, default=300)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--ids", type=int, default=1200)
    args = parser.parse_args()
    engine, commands = build(args.ids)
    state = engine.to_state()
    n = args.previews
    work = [commands[k % len(commands)] for k in range(n)]
    expected = [clone_preview(engine, c) for c in commands]
    unchanged = True
    agrees = True

    def per_preview(run: Callable[[Engine, ev.PlaceOrder], OrderPreview]) -> float:
        """Milliseconds per preview over the work; checks the results and the state."""
        nonlocal unchanged, agrees
        got: list[OrderPreview] = []
        start = time.perf_counter()
        for c in work:
            got.append(run(engine, c))
        took = time.perf_counter() - start
        agrees = agrees and got[: len(commands)] == expected
        unchanged = unchanged and engine.to_state() == state
        return took / n * 1000

    def trial() -> float:
        return per_preview(Engine.preview)

    def clone() -> float:
        return per_preview(clone_preview)

    ours, base = interleaved([trial, clone], args.runs)
    faster = ours.median < base.median
    ok = verdict(
        f"preview per keystroke, {len(engine.used_ids):,} used order ids, 10 positions, "
        "10 resting orders, 10 stops (market, resting limit, reduce-only close in turn)",
        ours,
        "ms",
        base,
        "the order run on a clone of the engine (the old preview)",
        target="faster than the clone, equal previews, engine state unchanged",
        passed=faster and agrees and unchanged,
    )
    print(f"    speed-up: {base.median / ours.median:.1f}x (median / median)")
    print(f"    previews equal to the clone's: {agrees}; engine state unchanged: {unchanged}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
