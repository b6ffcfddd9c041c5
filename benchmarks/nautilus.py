"""Our engine against nautilus_trader's BacktestEngine on the same quote ticks (issue 14).

Run: `python benchmarks/nautilus.py [--ticks 200000] [--runs 5] [--python PATH]`

Optional and run by hand: nautilus_trader is a heavy install, not a dependency and not in CI.
It lives in its own virtualenv:

    python3.11 -m venv /tmp/ntvenv && /tmp/ntvenv/bin/pip install nautilus_trader==1.221.0

`--python` (or `NAUTILUS_PYTHON`) names that interpreter; without either, this interpreter and
then `/tmp/ntvenv/bin/python` are tried. When none imports nautilus_trader the script says how
to install it and exits 0 with SKIPPED.

The work, one description for both sides (written to a file both read: the same ticks, not two
generators that could drift): 10 of the bundled Binance
perpetuals at seeded prices; 20 set-up quote ticks (each symbol twice at the same prices) with
a market order per symbol after its first (long or short, ~20,000 USDT, cross at 5×), so 10
positions are open; then `--ticks` quote ticks, each symbol in turn, a bounded random walk of a
few ticks (no liquidation). Only those ticks are timed:

- ours, in this interpreter: `Engine.apply` over `ev.Quote` events (as `benchmarks/engine.py`),
  each run from a copy of the engine as the set-up left it. With no mark-price stream a quote
  marks the symbol's position at its mid and decides the liquidation test on every tick:
  inside the position's safe band (where no mark can liquidate the account, `Account.band`)
  by two comparisons, its unrealized PnL, maintenance margin and the cross totals then worked
  out when read; outside the band, the full re-mark and test.
- nautilus, in a worker process in its own interpreter: a fresh `BacktestEngine` per run (a
  Binance-like venue, MARGIN account, NETTING OMS, L1 book, `StandardMarginModel`), the ticks
  as `QuoteTick` objects for hand-built `CryptoPerpetual` instruments, and a `Strategy` that
  subscribes to every instrument's quotes and opens the positions with market orders. The
  strategy stamps the clock at the last set-up tick (after checking the 10 positions are open)
  and at the last tick: the tick loop of `engine.run()` without the engine's start and stop.
  The whole `engine.run()` is shown beside it.

What differs, as close as nautilus allows: nautilus has no isolated margin, no tiered brackets
and no liquidation in its backtest; its margin account holds initial (order) margin = notional ×
0.2 (1/leverage) and maintenance (position) margin = notional × the rate of the bracket our
engine puts the position in (`margin_maint`), without the cumulative amount that ours subtracts
(10 to 50 USDT for 3 of the 10 symbols at ~20,000 USDT). On a quote its portfolio only drops the
instrument's cached unrealized PnL (worked out again when asked), where ours decides the
liquidation test at once (and its figures, too, are worked out when read while the mark stays
inside the band); nautilus in turn runs its matching engine, cache and message bus on every
tick, and the strategy's quote handler (a counter; unsubscribing after the set-up changed
nothing measurable). Both processes freeze the data they hold out of the cyclic garbage
collector (`gc.freeze()`, as `benchmarks/journal.py` does) and leave it enabled while timing.
Runs alternate, ours then nautilus's, so a burst of load on the machine hits both; the figure is
our ticks/s, the baseline nautilus's, and the ratio of each alternated pair is judged: target >=
3x (median). The same runs are shown on CPU time too (`time.process_time()` of each process),
which load from other processes inflates far less than the wall clock. The positions both sides
opened (side, quantity, entry price) are compared: a difference fails the run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import RUNS, Spread, interleaved, verdict  # noqa: E402

if TYPE_CHECKING:  # papertrade is imported where it runs: the worker's interpreter lacks it
    from papertrade.core import events as ev
    from papertrade.core.engine import Engine

VERSION = "1.221.0"
"""The nautilus_trader release the issue's figure was measured against."""
DEFAULT_VENV = Path("/tmp/ntvenv/bin/python")
INSTALL = (
    f"python3.11 -m venv /tmp/ntvenv && /tmp/ntvenv/bin/pip install nautilus_trader=={VERSION}"
)
SYMBOLS = 10
LEVERAGE = 5
BALANCE = "10000000"
START_MS = 1_767_225_600_000
TAG = "@@nautilus "
"""Prefix of the worker's protocol lines: anything else it prints is passed on to stderr."""

Spec = dict[str, Any]
"""The shared description of the work (JSON): instruments, positions and ticks."""


# --- the work, once for both sides --------------------------------------------------------------


def make_spec(ticks: int, seed: int = 7) -> Spec:
    """Instruments, positions and quote ticks as strings, from the bundled Binance book."""
    from papertrade.core import events as ev
    from papertrade.core.instruments import bundled
    from papertrade.core.numbers import floor_to, plain

    book = bundled("binance")
    names = list(book)[:SYMBOLS]
    rng = random.Random(seed)
    instruments: list[dict[str, Any]] = []
    price: dict[str, Decimal] = {}
    for i, sym in enumerate(names):
        inst = book[sym]
        tick = inst.tick_size
        p = max(floor_to(Decimal(rng.uniform(1, 1000)) * 1000 * tick, tick), tick * 1000)
        price[sym] = p
        qty = max(inst.min_qty, floor_to(Decimal(20_000) / p, inst.step_size))
        instruments.append(
            {
                "symbol": sym,
                "base": inst.base,
                "tick": str(tick),
                "step": str(inst.step_size),
                "min_qty": str(inst.min_qty),
                "mmr": str(inst.bracket_for(qty * p).mmr),
                "side": "buy" if i % 3 else "sell",
                "qty": plain(qty),
                "size": plain(qty * 1000),
            }
        )
    defaults = ev.SessionSettings()
    rows: list[list[Any]] = []
    for _ in range(2):  # set-up: the orders go in after the first round, fill by the second
        for i, sym in enumerate(names):
            tick = book[sym].tick_size
            rows.append([i, plain(price[sym] - tick), plain(price[sym])])
    for k in range(ticks):
        i = k % SYMBOLS
        sym = names[i]
        tick = book[sym].tick_size
        move = rng.randint(-3, 3) * tick
        p = price[sym] + move if price[sym] + move > tick * 500 else price[sym]
        price[sym] = p
        rows.append([i, plain(p - tick), plain(p)])
    return {
        "balance": BALANCE,
        "leverage": LEVERAGE,
        "taker_fee": str(defaults.taker_fee),
        "maker_fee": str(defaults.maker_fee),
        "start_ms": START_MS,
        "setup": 2 * SYMBOLS,
        "instruments": instruments,
        "ticks": rows,
    }


# --- our side -----------------------------------------------------------------------------------


def ours(spec: Spec) -> tuple[Engine, list[ev.Quote]]:
    """The engine after the set-up (10 cross positions at 5x) and the timed quotes."""
    from papertrade.core import events as ev
    from papertrade.core.engine import Engine

    insts = spec["instruments"]
    engine = Engine(settings=ev.SessionSettings(balance=Decimal(spec["balance"])))
    quotes: list[ev.Quote] = []
    for n, (i, bid, ask) in enumerate(spec["ticks"]):
        inst = insts[i]
        size = Decimal(inst["size"])
        quotes.append(
            ev.Quote(spec["start_ms"] + n, inst["symbol"], Decimal(bid), Decimal(ask), size, size)
        )
    setup = spec["setup"]
    for n, quote in enumerate(quotes[:setup]):
        assert not engine.apply(quote)
        if n < SYMBOLS:
            inst = insts[n]
            out = engine.apply(
                ev.PlaceOrder(
                    quote.ts,
                    f"open-{inst['symbol']}",
                    inst["symbol"],
                    inst["side"],
                    Decimal(inst["qty"]),
                    "market",
                    margin_mode="cross",
                    leverage=spec["leverage"],
                )
            )
            assert out and out[0].type == "fill", out
    assert len(engine.positions) == SYMBOLS
    return engine, quotes[setup:]


Held = list[tuple[str, str, Decimal, Decimal]]
"""(symbol, side, quantity, entry price) of each open position, sorted."""


def our_positions(engine: Engine) -> Held:
    return sorted(
        (p.symbol, "long" if p.size > 0 else "short", abs(p.size), p.entry)
        for p in engine.positions.values()
    )


def held(rows: list[list[str]]) -> Held:
    """The worker's positions (strings over JSON) as `Held`."""
    return sorted((sym, side, Decimal(qty), Decimal(px)) for sym, side, qty, px in rows)


# --- nautilus's side (the worker, in nautilus's interpreter) ------------------------------------


def worker(spec_path: Path) -> int:
    """Build the QuoteTicks once, then run a fresh BacktestEngine for every `run` on stdin."""
    import nautilus_trader  # type: ignore[import-not-found]
    from nautilus_trader.accounting.margin_models import (  # type: ignore[import-not-found]
        StandardMarginModel,
    )
    from nautilus_trader.backtest.config import (  # type: ignore[import-not-found]
        BacktestEngineConfig,
    )
    from nautilus_trader.backtest.engine import BacktestEngine  # type: ignore[import-not-found]
    from nautilus_trader.config import LoggingConfig  # type: ignore[import-not-found]
    from nautilus_trader.model.currencies import USDT  # type: ignore[import-not-found]
    from nautilus_trader.model.data import QuoteTick  # type: ignore[import-not-found]
    from nautilus_trader.model.enums import (  # type: ignore[import-not-found]
        AccountType,
        BookType,
        CurrencyType,
        OmsType,
        OrderSide,
    )
    from nautilus_trader.model.identifiers import (  # type: ignore[import-not-found]
        InstrumentId,
        Symbol,
        TraderId,
        Venue,
    )
    from nautilus_trader.model.instruments import (  # type: ignore[import-not-found]
        CryptoPerpetual,
    )
    from nautilus_trader.model.objects import (  # type: ignore[import-not-found]
        Currency,
        Money,
        Price,
        Quantity,
    )
    from nautilus_trader.trading.strategy import Strategy  # type: ignore[import-not-found]

    spec: Spec = json.loads(spec_path.read_text(encoding="utf-8"))
    venue = Venue("BINANCE")
    setup: int = spec["setup"]
    total = len(spec["ticks"])

    def precision(step: str) -> int:
        exponent = Decimal(step).as_tuple().exponent
        assert isinstance(exponent, int)
        return max(0, -exponent)

    def instrument(d: dict[str, Any]) -> Any:
        base = Currency(d["base"], 8, 0, d["base"], CurrencyType.CRYPTO)
        return CryptoPerpetual(
            instrument_id=InstrumentId(Symbol(f"{d['symbol']}-PERP"), venue),
            raw_symbol=Symbol(d["symbol"]),
            base_currency=base,
            quote_currency=USDT,
            settlement_currency=USDT,
            is_inverse=False,
            price_precision=precision(d["tick"]),
            size_precision=precision(d["step"]),
            price_increment=Price.from_str(d["tick"]),
            size_increment=Quantity.from_str(d["step"]),
            min_quantity=Quantity.from_str(d["min_qty"]),
            margin_init=Decimal(1) / Decimal(spec["leverage"]),
            margin_maint=Decimal(d["mmr"]),
            maker_fee=Decimal(spec["maker_fee"]),
            taker_fee=Decimal(spec["taker_fee"]),
            ts_event=0,
            ts_init=0,
        )

    instruments = [instrument(d) for d in spec["instruments"]]
    instruments_by_id = {inst.id: inst for inst in instruments}
    sizes = [
        Quantity.from_str(f"{Decimal(d['size']):.{inst.size_precision}f}")
        for inst, d in zip(instruments, spec["instruments"], strict=True)
    ]
    ticks = []
    for n, (i, bid, ask) in enumerate(spec["ticks"]):
        ts = (spec["start_ms"] + n) * 1_000_000
        inst = instruments[i]
        ticks.append(
            QuoteTick(
                instrument_id=inst.id,
                bid_price=Price.from_str(f"{Decimal(bid):.{inst.price_precision}f}"),
                ask_price=Price.from_str(f"{Decimal(ask):.{inst.price_precision}f}"),
                bid_size=sizes[i],
                ask_size=sizes[i],
                ts_event=ts,
                ts_init=ts,
            )
        )
    orders = [
        (
            inst.id,
            OrderSide.BUY if d["side"] == "buy" else OrderSide.SELL,
            Quantity.from_str(f"{Decimal(d['qty']):.{inst.size_precision}f}"),
        )
        for inst, d in zip(instruments, spec["instruments"], strict=True)
    ]

    class Opener(Strategy):
        """Subscribes to every instrument's quotes, opens one position in each with a market
        order, and stamps the clock at the last set-up tick and at the last tick."""

        def __init__(self) -> None:
            super().__init__()
            self.seen = 0
            self.started = (0.0, 0.0)
            self.ended = (0.0, 0.0)
            self.problem = ""

        def on_start(self) -> None:
            for inst in instruments:
                self.subscribe_quote_ticks(inst.id)

        def on_quote_tick(self, tick: Any) -> None:
            self.seen += 1
            seen = self.seen
            if seen <= SYMBOLS:
                instrument_id, side, qty = orders[seen - 1]
                if tick.instrument_id != instrument_id:  # nautilus would swallow an exception
                    self.problem = f"set-up tick {seen} is {tick.instrument_id}"
                self.submit_order(self.order_factory.market(instrument_id, side, qty))
            elif seen == setup:
                opened = len(self.cache.positions_open())
                if opened != SYMBOLS:
                    self.problem = f"{opened} positions open after the set-up, not {SYMBOLS}"
                self.started = (time.perf_counter(), time.process_time())
            elif seen == total:
                self.ended = (time.perf_counter(), time.process_time())

    def run() -> dict[str, Any]:
        engine = BacktestEngine(
            config=BacktestEngineConfig(
                trader_id=TraderId("BENCH-001"), logging=LoggingConfig(bypass_logging=True)
            )
        )
        engine.add_venue(
            venue=venue,
            oms_type=OmsType.NETTING,
            account_type=AccountType.MARGIN,
            base_currency=USDT,
            starting_balances=[Money(Decimal(spec["balance"]), USDT)],
            default_leverage=Decimal(spec["leverage"]),
            margin_model=StandardMarginModel(),
            book_type=BookType.L1_MBP,
        )
        for inst in instruments:
            engine.add_instrument(inst)
        engine.add_data(ticks)
        strategy = Opener()
        engine.add_strategy(strategy)
        gc.collect()
        start = time.perf_counter()
        engine.run()
        whole = time.perf_counter() - start
        positions = sorted(
            [
                str(p.instrument_id.symbol).removesuffix("-PERP"),
                "long" if p.is_long else "short",
                str(p.quantity),
                f"{p.avg_px_open:.{instruments_by_id[p.instrument_id].price_precision}f}",
            ]
            for p in engine.cache.positions_open()
        )
        problem = strategy.problem
        if strategy.seen != total or not strategy.ended[0]:
            problem = problem or f"the strategy saw {strategy.seen} of {total} ticks"
        result = {
            "loop": strategy.ended[0] - strategy.started[0],
            "loop_cpu": strategy.ended[1] - strategy.started[1],
            "run": whole,
            "positions": positions,
            "problem": problem,
        }
        engine.dispose()
        return result

    gc.collect()
    gc.freeze()
    _say({"ready": nautilus_trader.__version__})
    for line in sys.stdin:
        if line.strip() != "run":
            break
        _say(run())
    return 0


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(TAG + json.dumps(message) + "\n")
    sys.stdout.flush()


# --- the parent: both sides, alternated ---------------------------------------------------------


def find_python(chosen: str | None) -> tuple[str, str] | None:
    """(interpreter, nautilus_trader version) of the first that imports it, or None."""
    candidates = [chosen] if chosen else [sys.executable, str(DEFAULT_VENV)]
    probe = "import nautilus_trader; print(nautilus_trader.__version__)"
    for python in candidates:
        if not (shutil.which(python) or Path(python).exists()):
            continue
        got = subprocess.run([python, "-c", probe], capture_output=True, text=True)
        if got.returncode == 0:
            return python, got.stdout.strip()
    return None


class Worker:
    """The nautilus side as a child process: `run()` asks it for one timed BacktestEngine run."""

    def __init__(self, python: str, spec_path: Path) -> None:
        self.proc = subprocess.Popen(
            [python, str(Path(__file__).resolve()), "--worker", str(spec_path)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.version = str(self._read()["ready"])

    def _read(self) -> dict[str, Any]:
        out: IO[str] | None = self.proc.stdout
        assert out is not None
        for line in out:
            if line.startswith(TAG):
                message: dict[str, Any] = json.loads(line[len(TAG) :])
                return message
            sys.stderr.write(line)
        raise RuntimeError(f"the nautilus worker stopped (exit {self.proc.wait()})")

    def run(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument(
        "--python",
        default=os.environ.get("NAUTILUS_PYTHON"),
        help=f"an interpreter with nautilus_trader (default: this one, then {DEFAULT_VENV})",
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        return worker(args.worker)
    if args.ticks < 1 or args.runs < 1:
        parser.error("--ticks and --runs must be at least 1")

    found = find_python(args.python)
    if found is None:
        where = args.python or f"this interpreter or {DEFAULT_VENV}"
        print(f"nautilus_trader is not importable in {where}. To install it (heavy, optional):")
        print(f"    {INSTALL}")
        print("then run again (or pass --python PATH / set NAUTILUS_PYTHON).")
        print("SKIPPED")
        return 0
    python, version = found
    if version != VERSION:
        print(f"note: nautilus_trader {version}; the issue's figure is against {VERSION}")

    import copy

    spec = make_spec(args.ticks)
    start, quotes = ours(spec)
    n = len(quotes)
    mine = our_positions(start)
    gc.collect()
    gc.freeze()
    problems: list[str] = []
    whole: list[float] = []
    cpu: tuple[list[float], list[float]] = ([], [])
    outcomes = 0

    def our_rate() -> float:
        nonlocal outcomes
        engine = copy.deepcopy(start)
        apply = engine.apply
        outcomes = 0
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        for q in quotes:
            if apply(q):
                outcomes += 1
        took, cpu_took = time.perf_counter() - t, time.process_time() - c
        if len(engine.positions) != SYMBOLS:
            problems.append(f"ours: {len(engine.positions)} positions at the end")
        cpu[0].append(n / cpu_took)
        return n / took

    with tempfile.TemporaryDirectory(prefix="nautilus-bench-") as tmp:
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        del spec
        nautilus = Worker(python, spec_path)
        try:

            def their_rate() -> float:
                got = nautilus.run()
                if got["problem"]:
                    problems.append(f"nautilus: {got['problem']}")
                theirs = held(got["positions"])
                if theirs != mine:
                    problems.append(f"positions differ: ours {mine}, nautilus {theirs}")
                whole.append(float(got["run"]))
                cpu[1].append(n / float(got["loop_cpu"]))
                return n / float(got["loop"])

            our_spread, their_spread = interleaved([our_rate, their_rate], args.runs)
        finally:
            nautilus.close()

    for problem in dict.fromkeys(problems):
        print(f"PROBLEM {problem}")
    ok = verdict(
        f"engine vs nautilus_trader {nautilus.version} BacktestEngine, {n:,} quote ticks, "
        f"{SYMBOLS} instruments, {SYMBOLS} open positions (cross, {LEVERAGE}x), wall clock",
        our_spread,
        "ticks/s",
        their_spread,
        "nautilus_trader's tick loop",
        ratio=ratios(our_spread, their_spread),
        target=">= 3x nautilus's ticks/s (median of the alternated pairs' ratios)",
        passed=ratios(our_spread, their_spread).median >= 3 and not problems,
    )
    print("    issue 14 measured 2.25x")
    ours_cpu, theirs_cpu = Spread(tuple(cpu[0])), Spread(tuple(cpu[1]))
    verdict(
        "the same runs on CPU time (each process's own: what other load on the machine "
        "inflates least)",
        ours_cpu,
        "ticks/s",
        theirs_cpu,
        "nautilus_trader's tick loop",
        ratio=ratios(ours_cpu, theirs_cpu),
        target=None,
        passed=True,
    )
    runs = Spread(tuple(whole))
    print(
        f"nautilus's whole engine.run() (start, {2 * SYMBOLS} set-up ticks, the timed ones, "
        f"stop): {runs.min:.3g} / {runs.median:.3g} s (min / median), wall clock"
    )
    print(
        f"    {outcomes} of our ticks had outcomes in the last run; the {len(mine)} positions "
        "(side, quantity, entry) equal on both sides"
        + ("" if not problems else " (unless a PROBLEM above says otherwise)")
    )
    return 0 if ok else 1


def ratios(ours: Spread, theirs: Spread) -> Spread:
    """Each alternated pair's ratio (ours / theirs)."""
    return Spread(tuple(a / b for a, b in zip(ours.values, theirs.values, strict=True)))


if __name__ == "__main__":
    sys.exit(main())
