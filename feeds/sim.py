"""`sim`: an offline, seeded synthetic market that needs no network.

Why: the terminal, the tests and the benchmarks need a market that is always there, never
flaky and reproducible to the last digit. The sim emits exactly the events a live venue feed
does (`Quote`, `Trade`, `MarkPrice`, `Funding`), on each instrument's tick/step grid.

Model, per symbol, with its own `random.Random(f"{seed}:{symbol}")` (so adding a symbol does
not change the others' paths):

- mid price: geometric Brownian motion with annualised volatility `vol` (table below), plus
  jumps: a Poisson process of `JUMPS_PER_DAY` (1.5) jumps a day, each moving the price by
  ±(0.4 % + an exponential with mean 0.6 %);
- book: bid/ask straddle the mid with a spread of 1 tick (most steps), 2 or 3 ticks;
  sizes are a few tens of thousands of USDT notional on the step grid;
- trades: about `TRADES_PER_SECOND` a second, at the bid (taker sells) or the ask;
- mark price: once a second of simulated time (like Binance's `@markPrice@1s`): the mid
  times (1 + a small mean-reverting premium), with the current funding rate (a slow
  mean-reverting walk around 0.01 % per 8 h) and the next funding time;
- funding: a `Funding` event at every 00:00, 08:00 and 16:00 UTC of simulated time;
- depth (`depth` levels a side, `SimFeed` 20 by default, `SimMarket` none unless asked): a
  `Book` right after every quote, its best levels exactly the quote's (price and size), deeper
  levels 1 tick apart mostly (2 or 3 ticks now and then) with sizes growing with distance
  (about 30,000 USDT notional ±70 % next to the touch, three times that 20 levels out), as
  real books thicken away from the touch. The book draws from its own
  `random.Random(f"{seed}:{symbol}:book")`, so turning depth on or off leaves the price path,
  the quotes and the trades exactly as they were.

Starting prices (rounded levels of late 2025) and volatilities:

    BTCUSDT 95,000  50 %    ETHUSDT 3,100  65 %    SOLUSDT 140  80 %
    BNBUSDT    920  55 %    XRPUSDT     2.2  75 %

Any other symbol of the bundled Binance book starts at `tick_size × 20,000` (±20 %, so a
quote has a realistic ~0.5 bp tick) with 80 % volatility. The jumps add about 6-9 points of
realised volatility on top (BTC measures ~57 % a year, SOL ~85 %).

Time: the sim makes its own timestamps: step `k` is at `start_ts + k * interval_ms` (default
100 ms: 10 quote updates a second per symbol), `start_ts` defaulting to now.
`speed` chooses the pacing (`feeds.pacing.Playback`): 1 = real time (the TUI: one step of every
symbol each `interval_ms` of wall time), N = N× faster, 0 = unpaced, as fast as the consumer
reads (tests, benchmarks, `record --speed max`). The events are identical at any speed; only
the sleeps between them change. Determinism: the same `seed`, `start_ts` and `interval_ms` give
each symbol the same events (on the same Python and platform: the path uses float maths
before being rounded onto the price grid).

One price path per symbol, whatever the watchlist does: `add_symbol` on the running feed adds
a symbol at the next step (a symbol it already plays is left alone); `remove_symbol` only stops
*delivering* it, the path keeps evolving unseen, so adding it back continues the same path
where it has got to by then, never a second one. A symbol added while running starts from its
starting price at that step.

Resuming (`after_ts`, `start_prices`): a saved sim session continues its clock and its prices.
Step 0 is the first step of the `interval_ms` grid after `after_ts` (the last journaled time),
funding times after `after_ts` are settled, and each symbol in `start_prices` (its last mark)
starts there. A resumed symbol draws from `random.Random(f"{seed}:{symbol}:{start_ts}")`, so a
resumed session is as reproducible as a fresh one but does not play the first session's moves
again. Bounds: `core.numbers` ones (times whole ms UTC up to the year 9999, start prices
positive `PRICE`s).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from papertrade.core.events import Book, Funding, Level, MarketEvent, MarkPrice, Quote, Trade
from papertrade.core.instruments import Instrument, bundled
from papertrade.core.numbers import PRICE, BadNumber, timestamp

from .base import DEFAULT_DEPTH, FeedStatus, LocalFeed, check_depth, mono_ms
from .pacing import Ahead, Clock, Playback, PlaybackControls, Sleep
from .registry import DEFAULT_SYMBOLS as DEFAULT_SYMBOLS  # its home is light (no asyncio)

# symbol -> (start price, annualised volatility)
PROFILES: dict[str, tuple[str, float]] = {
    "BTCUSDT": ("95000", 0.50),
    "ETHUSDT": ("3100", 0.65),
    "SOLUSDT": ("140", 0.80),
    "BNBUSDT": ("920", 0.55),
    "XRPUSDT": ("2.2", 0.75),
}
DEFAULT_VOL = 0.80

JUMPS_PER_DAY = 1.5
TRADES_PER_SECOND = 5.0
MARK_INTERVAL_MS = 1000
FUNDING_INTERVAL_MS = 8 * 3600 * 1000
BASE_FUNDING_RATE = 0.0001
_YEAR_MS = 365.25 * 24 * 3600 * 1000
_RATE_UNIT = Decimal("0.00000001")
MAX_DEPTH = 1000


class UnknownSymbol(ValueError):
    """A symbol the sim has no instrument grid for."""


@dataclass(slots=True)
class _Symbol:
    """The evolving state of one simulated instrument (floats inside, Decimals out)."""

    symbol: str
    tick: Decimal
    step: Decimal
    tick_f: float
    step_f: float
    vol: float
    rng: random.Random
    book_rng: random.Random
    mid: float
    premium: float = 0.0
    funding: float = BASE_FUNDING_RATE
    bid: Decimal = field(default=Decimal(0))
    ask: Decimal = field(default=Decimal(0))
    bid_ticks: int = 0
    started: bool = False
    """Played its first step (which stays at the starting price)."""
    muted: bool = False
    """Removed from the feed: the path goes on, its events are not delivered."""


def _check_ts(name: str, ts: int) -> int:
    try:
        return timestamp(ts)
    except BadNumber as exc:
        raise ValueError(f"sim: {name} {exc}") from None


def _check_price(symbol: str, price: Decimal) -> float:
    try:
        if not price.is_finite():
            raise BadNumber(f"must be a finite number (got {price})")
        return float(PRICE.check(price))
    except BadNumber as exc:
        raise ValueError(f"sim: the start price of {symbol} {exc}") from None


def _grid(symbol: str, book: Mapping[str, Instrument]) -> tuple[Decimal, Decimal]:
    if symbol not in book:
        raise UnknownSymbol(f"sim: {symbol} is not in the bundled Binance instruments")
    inst = book[symbol]
    return inst.tick_size, inst.step_size


class SimMarket:
    """The synchronous, pure generator behind `SimFeed` (tests and benchmarks use it directly).

    `events()` yields forever (or until `end_ts`), step by step; it never sleeps.
    `start_ts` defaults to the step after `after_ts` when resuming, else 2025-01-01 00:00 UTC.
    """

    def __init__(
        self,
        symbols: Sequence[str] = DEFAULT_SYMBOLS,
        *,
        seed: int = 0,
        start_ts: int | None = None,
        interval_ms: int = 100,
        end_ts: int | None = None,
        instruments: Mapping[str, Instrument] | None = None,
        after_ts: int | None = None,
        start_prices: Mapping[str, Decimal] | None = None,
        depth: int = 0,
    ) -> None:
        if interval_ms <= 0:
            raise ValueError("interval_ms must be positive")
        self.depth = check_depth(depth, MAX_DEPTH)
        if not symbols:
            raise ValueError("the sim needs at least one symbol")
        if after_ts is not None:
            _check_ts("after_ts", after_ts)
            if start_ts is None:
                start_ts = after_ts - after_ts % interval_ms + interval_ms
            elif start_ts <= after_ts:
                raise ValueError(f"sim: start_ts {start_ts} must come after after_ts {after_ts}")
        if start_ts is None:
            start_ts = 1_735_689_600_000
        self.seed = seed
        self.start_ts = _check_ts("start_ts", start_ts)
        self.after_ts = after_ts
        self.interval_ms = interval_ms
        self.end_ts = end_ts
        self.jumps = 0
        self._book = instruments if instruments is not None else bundled("binance")
        self._start_prices = {s: _check_price(s, p) for s, p in (start_prices or {}).items()}
        self._state: list[_Symbol] = []
        for symbol in symbols:
            self.add_symbol(symbol)

    @property
    def symbols(self) -> list[str]:
        """The symbols delivered (not the removed ones), in the order they were added."""
        return [s.symbol for s in self._state if not s.muted]

    def add_symbol(self, symbol: str) -> None:
        """Deliver `symbol` from the next step on. Idempotent: a symbol already played is left
        alone, a removed one is delivered again on its same path. UnknownSymbol if the sim has
        no instrument grid for it."""
        for s in self._state:
            if s.symbol == symbol:
                s.muted = False
                return
        self._state.append(self._new_symbol(symbol))

    def remove_symbol(self, symbol: str) -> None:
        """Stop delivering `symbol`; its path goes on unseen (see the module notes)."""
        for s in self._state:
            if s.symbol == symbol:
                s.muted = True

    def _new_symbol(self, symbol: str) -> _Symbol:
        tick, step = _grid(symbol, self._book)
        start, vol = PROFILES.get(symbol, (None, DEFAULT_VOL))
        resumed = self._start_prices.get(symbol)
        if resumed is not None:
            rng = random.Random(f"{self.seed}:{symbol}:{self.start_ts}")
            book_rng = random.Random(f"{self.seed}:{symbol}:book:{self.start_ts}")
            start_price = resumed
        else:
            rng = random.Random(f"{self.seed}:{symbol}")
            book_rng = random.Random(f"{self.seed}:{symbol}:book")
            start_price = float(start) if start else float(tick) * 20_000 * rng.uniform(0.8, 1.2)
        return _Symbol(
            symbol, tick, step, float(tick), float(step), vol, rng, book_rng, start_price
        )

    def events(self) -> Iterator[MarketEvent]:
        """Every event in timestamp order; step 0 is at `start_ts`."""
        dt_ms = self.interval_ms
        dt_years = dt_ms / _YEAR_MS
        jump_p = JUMPS_PER_DAY * dt_ms / 86_400_000
        trade_p = min(1.0, TRADES_PER_SECOND * dt_ms / 1000)
        ts = self.start_ts
        settled = self.start_ts if self.after_ts is None else self.after_ts
        next_funding = (settled // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS
        next_mark = ts
        depth = self.depth
        while self.end_ts is None or ts < self.end_ts:
            funding_due = ts >= next_funding
            mark_due = ts >= next_mark
            # a symbol added while this step is being delivered joins at the next step
            state = tuple(self._state)
            if funding_due:
                for s in state:
                    if not s.muted:
                        yield Funding(next_funding, s.symbol, self._rate(s))
                next_funding += FUNDING_INTERVAL_MS
            for s in state:
                if s.started:
                    self._move(s, dt_years, jump_p)
                s.started = True
                quote = self._quote(s, ts)
                trade = self._trade(s, ts) if s.rng.random() < trade_p else None
                mark = self._mark(s, ts, next_funding, dt_ms) if mark_due else None
                book = self._levels(s, quote, depth) if depth else None
                if s.muted:
                    continue  # the path moved all the same: adding it back continues it
                yield quote
                if book is not None:
                    yield book
                if trade is not None:
                    yield trade
                if mark is not None:
                    yield mark
            if mark_due:
                next_mark = ts + MARK_INTERVAL_MS - (ts - self.start_ts) % MARK_INTERVAL_MS
            ts += dt_ms

    # --- the model -------------------------------------------------------------------------

    def _move(self, s: _Symbol, dt_years: float, jump_p: float) -> None:
        rng = s.rng
        sigma = s.vol * math.sqrt(dt_years)
        r = -0.5 * sigma * sigma + sigma * rng.gauss(0.0, 1.0)
        if rng.random() < jump_p:
            size = 0.004 + rng.expovariate(1 / 0.006)
            r += size if rng.random() < 0.5 else -size
            self.jumps += 1
        s.mid *= math.exp(r)
        floor = 50 * s.tick_f  # keep a quotable price however far a path drifts
        if s.mid < floor:
            s.mid = floor

    def _quote(self, s: _Symbol, ts: int) -> Quote:
        rng = s.rng
        u = rng.random()
        spread = 1 if u < 0.8 else (2 if u < 0.95 else 3)
        mid_ticks = s.mid / s.tick_f
        bid_ticks = max(1, math.floor(mid_ticks - spread / 2 + 0.5))
        s.bid_ticks = bid_ticks
        s.bid = Decimal(bid_ticks) * s.tick
        s.ask = Decimal(bid_ticks + spread) * s.tick
        return Quote(ts, s.symbol, s.bid, s.ask, self._size(s, 30_000), self._size(s, 30_000))

    def _levels(self, s: _Symbol, quote: Quote, depth: int) -> Book:
        """The quote as the best levels of a book `depth` deep (see the module notes)."""
        rand = s.book_rng.random
        tick, step = s.tick, s.step
        touch = 30_000 / (s.mid * s.step_f)  # steps of ~30,000 USDT at the touch
        bids: list[Level] = [(quote.bid, quote.bid_qty or step)]
        asks: list[Level] = [(quote.ask, quote.ask_qty or step)]
        bid_t = s.bid_ticks
        ask_t = bid_t + round((quote.ask - quote.bid) / tick)
        for i in range(1, depth):
            mean = touch * (1 + i / 10)
            u = rand()
            bid_t -= 1 if u < 0.75 else (2 if u < 0.93 else 3)
            if bid_t >= 1:
                qty = max(1, int(mean * (0.3 + 1.4 * rand())))
                bids.append((tick * bid_t, step * qty))
            u = rand()
            ask_t += 1 if u < 0.75 else (2 if u < 0.93 else 3)
            asks.append((tick * ask_t, step * max(1, int(mean * (0.3 + 1.4 * rand())))))
        return Book(quote.ts, s.symbol, tuple(bids), tuple(asks))

    def _trade(self, s: _Symbol, ts: int) -> Trade:
        price = s.ask if s.rng.random() < 0.5 else s.bid
        return Trade(ts, s.symbol, price, self._size(s, 3_000))

    def _mark(self, s: _Symbol, ts: int, next_funding: int, dt_ms: int) -> MarkPrice:
        rng = s.rng
        # Ornstein-Uhlenbeck premium (mean 0, ~3 bp) and funding (mean 1 bp per 8 h).
        k = min(1.0, dt_ms / 60_000)
        s.premium += -k * s.premium + 0.0003 * math.sqrt(k) * rng.gauss(0.0, 1.0)
        kf = min(1.0, dt_ms / 3_600_000)
        s.funding += kf * (BASE_FUNDING_RATE - s.funding) + 0.00005 * math.sqrt(kf) * rng.gauss(
            0.0, 1.0
        )
        s.funding = min(0.003, max(-0.003, s.funding))
        index = Decimal(max(1, round(s.mid / s.tick_f))) * s.tick
        mark = Decimal(max(1, round(s.mid * (1 + s.premium) / s.tick_f))) * s.tick
        return MarkPrice(ts, s.symbol, mark, index, self._rate(s), next_funding)

    def _size(self, s: _Symbol, mean_notional: float) -> Decimal:
        notional = s.rng.lognormvariate(math.log(mean_notional), 0.8)
        steps = max(1, round(notional / s.mid / s.step_f))
        return Decimal(steps) * s.step

    @staticmethod
    def _rate(s: _Symbol) -> Decimal:
        return Decimal(round(s.funding * 1e8)) * _RATE_UNIT


class SimFeed(PlaybackControls, LocalFeed):
    """The `sim` feed: a `SimMarket` behind the `Feed` protocol, paced by `speed`.

    Paced (`speed > 0`), step `k` is due `k * interval / speed` after the first one (the
    `Playback` rules: no drift, sleeps in short naps, due events in bounded batches); unpaced
    (`speed == 0`) it yields to the event loop every few hundred events so a UI stays
    responsive; `speed`, `pause()` and `resume()` work while playing. `add_symbol` and
    `remove_symbol` change the running feed in place (`Subscribable`).
    Resuming a saved session: `after_ts` (its last journaled time) and `start_prices` (its
    last marks), see the module notes. `depth`: levels a side of the books that follow every
    quote (20, as the live venues give; 0 for none).
    """

    def __init__(
        self,
        symbols: Sequence[str] = DEFAULT_SYMBOLS,
        *,
        seed: int = 0,
        start_ts: int | None = None,
        interval_ms: int = 100,
        speed: float = 1.0,
        end_ts: int | None = None,
        instruments: Mapping[str, Instrument] | None = None,
        after_ts: int | None = None,
        start_prices: Mapping[str, Decimal] | None = None,
        depth: int = DEFAULT_DEPTH,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0 (0 = as fast as possible)")
        if start_ts is None and after_ts is None and interval_ms > 0:
            now = int(time.time() * 1000)
            start_ts = now - now % interval_ms
        self.name = "sim"
        self.market = SimMarket(
            symbols,
            seed=seed,
            start_ts=start_ts,
            interval_ms=interval_ms,
            end_ts=end_ts,
            instruments=instruments,
            after_ts=after_ts,
            start_prices=start_prices,
            depth=depth,
        )
        self._playback = Playback(speed, clock=clock, sleep=sleep)
        LocalFeed.__init__(self)

    @property
    def symbols(self) -> list[str]:
        """The symbols delivered now."""
        return self.market.symbols

    def add_symbol(self, symbol: str) -> None:
        """Deliver `symbol` too, on the running feed; idempotent, one path per symbol."""
        self.market.add_symbol(symbol)

    def remove_symbol(self, symbol: str) -> None:
        """Stop delivering `symbol` (its path goes on unseen; adding it back continues it).
        Only for a symbol nothing needs any more: a position in it would get no marks."""
        self.market.remove_symbol(symbol)

    async def aclose(self) -> None:
        self._playback.stop()
        await super().aclose()

    async def _run(self) -> AsyncIterator[MarketEvent]:
        self._status = FeedStatus("live", since_ms=mono_ms())
        try:
            async for event in self._playback.play(Ahead(self.market.events())):
                yield event
        finally:
            if self._status.state != "ended":
                self._status = FeedStatus("ended", since_ms=mono_ms())
