"""Safe bands (`Account.band`, `margin.safe_band`): a quote inside its cross position's band
moves the mark alone, skipping the liquidation test. These pin that the shortcut is exact:
every decision equals the full test worked out here by hand (margin.md: uPnL = size × (mark −
entry), MM = notional × MMR − cum of the bracket holding the notional, a cross account is
liquidated when Σ MM > 0 and wallet + Σ uPnL ≤ Σ MM), and every figure read afterwards is
the one a re-mark at every quote gives."""

from __future__ import annotations

from decimal import Decimal as D
from decimal import localcontext

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import Instrument, bundled
from papertrade.core.margin import INFINITY, safe_band

BOOK = bundled("binance")
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
START = {"BTCUSDT": D("60000"), "ETHUSDT": D("3000"), "SOLUSDT": D("150")}
TS = 1_700_000_000_000


def hand_mm(inst: Instrument, notional: D) -> D:
    """MM by the reference: the first bracket whose cap is above the notional (the last
    bracket past every cap)."""
    for bracket in inst.brackets:
        if notional < bracket.cap:
            return notional * bracket.mmr - bracket.cum
    last = inst.brackets[-1]
    return notional * last.mmr - last.cum


def hand_value(inst: Instrument, size: D, entry: D, price: D) -> D:
    """uPnL − MM of a position at `price`."""
    return size * (price - entry) - hand_mm(inst, abs(size) * price)


# --- the band itself ----------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(SYMBOLS),
    st.integers(-3000, 3000).filter(bool),
    st.integers(50, 400),
    st.integers(50, 400),
    st.integers(0, 10**6),
    st.lists(st.integers(0, 10**6), min_size=1, max_size=8),
)
def test_every_mark_inside_the_band_keeps_the_position_above_its_floor(
    symbol: str, steps: int, entry_pct: int, mark_pct: int, slack: int, picks: list[int]
) -> None:
    inst = BOOK[symbol]
    size = inst.step_size * steps * 10
    entry = (START[symbol] * entry_pct / 100).quantize(inst.tick_size)
    mark = (START[symbol] * mark_pct / 100).quantize(inst.tick_size)
    floor = hand_value(inst, size, entry, mark) - D(slack) / 100
    lo, hi = safe_band(inst, size, entry, mark, floor)
    if lo >= hi:
        return  # empty: no mark is inside, every quote takes the full test
    top = hi if hi != INFINITY else lo * 4 + START[symbol] * 10
    inside = [lo + (top - lo) * D(pick) / 10**6 for pick in picks]
    inside += [lo + (top - lo) / 10**9, top - (top - lo) / 10**9]  # the very ends
    for price in inside:
        if lo < price < hi:
            assert hand_value(inst, size, entry, price) > floor, (price, lo, hi)


def test_a_band_holds_the_mark_it_was_worked_out_at() -> None:
    inst = BOOK["BTCUSDT"]
    size, entry, mark = D("0.5"), D("60000"), D("60000")
    floor = hand_value(inst, size, entry, mark) - D(1000)
    lo, hi = safe_band(inst, size, entry, mark, floor)
    assert lo < mark < hi
    # the long loses 1000 USDT of uPnL − MM (slope 0.5 × (1 − MMR)) a little below 58000
    assert D("57900") < lo < D("58000")


# --- the engine: the shortcut against the full test -----------------------------------------

Step = tuple[str, str, int]

KINDS = ["quote"] * 8 + ["jump"] * 3 + ["sweep"] * 2 + ["trade", "funding", "buy", "sell", "limit"]
"""Mostly quotes (runs of them are where bands live: a sweep moves every symbol the same
way, so several positions near their floors at once), the rest each drop the bands (a limit
order rests a few ticks away: a later quote may fill it)."""
steps = st.lists(
    st.tuples(st.sampled_from(KINDS), st.sampled_from(SYMBOLS), st.integers(-40, 40)),
    min_size=20,
    max_size=80,
)


def expected_liquidation(engine: Engine, marks: dict[str, D], symbol: str) -> bool:
    """The full test a quote on `symbol` runs, by hand, at `marks`: its position's pot."""
    pos = engine.positions.get(symbol)
    if pos is None:
        return False
    if pos.mode == "isolated":
        mm = hand_mm(pos.instrument, abs(pos.size) * marks[symbol])
        upnl = pos.size * (marks[symbol] - pos.entry)
        return mm > 0 and pos.margin + upnl <= mm
    cross = [p for p in engine.positions.values() if p.mode == "cross"]
    upnl = sum((p.size * (marks[p.symbol] - p.entry) for p in cross), D(0))
    mm = sum((hand_mm(p.instrument, abs(p.size) * marks[p.symbol]) for p in cross), D(0))
    return mm > 0 and engine.acct.cross_wallet + upnl <= mm


def assert_no_liquidation_inside_the_bands(engine: Engine) -> None:
    """What the bands promise, checked at their worst corner: every cross position at the
    edge of its band that hurts it most (a long at its lower end, a short at its upper end;
    a position without a band at its mark) leaves the account above maintenance."""
    if not engine.acct.banded:
        return
    with localcontext() as exact:
        exact.prec = 80
        balance = engine.acct.cross_wallet
        for p in engine.positions.values():
            if p.mode != "cross":
                continue
            lo, hi = p.safe_lo, p.safe_hi
            worst = p.mark
            if lo < hi:
                nudge = min(D("1e-9"), (hi - lo) / 2) if hi != INFINITY else D("1e-9")
                worst = lo + nudge if p.size > 0 else hi - nudge
            balance += hand_value(p.instrument, p.size, p.entry, worst)
        assert balance > 0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["1500", "4000", "20000"]),
    st.lists(
        st.tuples(st.sampled_from(["buy", "sell"]), st.integers(1, 20), st.booleans()),
        min_size=3,
        max_size=3,
    ),
    steps,
)
def test_every_quote_decides_as_the_full_test_does(
    balance: str, opening: list[tuple[str, int, bool]], walk: list[Step]
) -> None:
    engine = Engine(settings=ev.SessionSettings(D(balance), D("0.0005"), D("0.0002")))
    marks = dict(START)
    ts = TS
    for (side, size, isolated), symbol in zip(opening, SYMBOLS, strict=True):
        inst = BOOK[symbol]
        ts += 1
        engine.apply(ev.Quote(ts, symbol, marks[symbol], marks[symbol]))
        mode: ev.MarginMode = "isolated" if isolated and symbol == "SOLUSDT" else "cross"
        qty = (D(2000) * size / marks[symbol]).quantize(inst.step_size)
        engine.apply(
            ev.PlaceOrder(ts, f"open-{symbol}", symbol, side, qty, "market", None, mode, 50)  # type: ignore[arg-type]
        )
    moves = []
    for kind, symbol, n in walk:  # a sweep: a jump of each symbol in turn
        sweep = [("jump", s, n) for s in SYMBOLS] if kind == "sweep" else [(kind, symbol, n)]
        moves += sweep
    for kind, symbol, n in moves:
        inst = BOOK[symbol]
        ts += 1
        tick = inst.tick_size * (START[symbol] / 1000 / inst.tick_size).quantize(D(1))
        if kind in ("quote", "jump", "trade"):
            move = tick * n * (20 if kind == "jump" else 1)
            price = max(marks[symbol] + move, START[symbol] / 20).quantize(inst.tick_size)
            bid, ask = price - inst.tick_size, price
            event: ev.Event = ev.Quote(ts, symbol, bid, ask)
            marks[symbol] = (bid + ask) / 2
            if kind == "trade":  # without a mark stream a trade marks the symbol too
                event = ev.Trade(ts, symbol, price, inst.step_size)
                marks[symbol] = price
            resting = symbol in engine.acct.orders_by_symbol  # a fill first: not the test here
            expected = expected_liquidation(engine, marks, symbol)
            out = engine.apply(event)
            if not resting:
                assert any(isinstance(o, ev.Liquidation) for o in out) == expected
        elif kind == "funding":
            engine.apply(ev.Funding(ts, symbol, D(n) / 10_000))
        elif kind == "limit":
            price = marks[symbol].quantize(inst.tick_size) + tick * n // 4
            qty = (D(3000) / price).quantize(inst.step_size)
            way: ev.Side = "buy" if n < 0 else "sell"
            engine.apply(ev.PlaceOrder(ts, f"l{ts}", symbol, way, qty, "limit", price))
        else:
            qty = (D(500) * abs(n) / marks[symbol]).quantize(inst.step_size)
            if qty > 0:
                engine.apply(ev.PlaceOrder(ts, f"o{ts}", symbol, kind, qty, "market"))  # type: ignore[arg-type]
        assert_no_liquidation_inside_the_bands(engine)
        # every figure read is the one a re-mark at every quote gives
        cross = [p for p in engine.positions.values() if p.mode == "cross"]
        for p in engine.positions.values():
            assert p.mark == marks[p.symbol]
            assert p.upnl == p.size * (marks[p.symbol] - p.entry)
            assert p.mm == hand_mm(p.instrument, abs(p.size) * marks[p.symbol])
        engine.acct.settle()
        assert engine.acct.cross_upnl == sum((p.upnl for p in cross), D(0))
        assert engine.acct.cross_mm == sum((p.mm for p in cross), D(0))


def opened(balance: str = "100000") -> Engine:
    """Three cross positions (two long, one short) at 5x, quoted once after opening."""
    engine = Engine(settings=ev.SessionSettings(D(balance), D("0.0005"), D("0.0002")))
    for i, symbol in enumerate(SYMBOLS):
        price = START[symbol]
        engine.apply(ev.Quote(TS + i, symbol, price, price))
        qty = (D(20000) / price).quantize(BOOK[symbol].step_size)
        side: ev.Side = "sell" if i == 1 else "buy"
        engine.apply(
            ev.PlaceOrder(TS + i, f"open-{symbol}", symbol, side, qty, "market", None, "cross", 5)
        )
    for i, symbol in enumerate(SYMBOLS):
        engine.apply(ev.Quote(TS + 10 + i, symbol, START[symbol], START[symbol]))
    return engine


def test_a_quote_inside_the_band_moves_the_mark_alone_and_the_figures_read_stay_exact() -> None:
    engine = opened()
    assert engine.acct.banded
    btc = engine.positions["BTCUSDT"]
    assert engine.apply(ev.Quote(TS + 20, "BTCUSDT", D("60100"), D("60100.2"))) == []
    assert btc.safe_lo < D("60100.1") < btc.safe_hi
    assert btc.mark == D("60100.1")
    # 0.333 BTC long from 60000: uPnL 0.333 × 100.1 = 33.3333; MM 0.333 × 60100.1 × 0.004
    assert btc.upnl == D("33.3333")
    assert btc.mm == D("0.333") * D("60100.1") * D("0.004")
    state = engine.account()
    assert state.positions[0].unrealized_pnl == D("33.33330000")


def test_a_quote_past_the_liquidation_price_liquidates_at_that_very_quote() -> None:
    engine = Engine(settings=ev.SessionSettings(D("2000"), D("0"), D("0")))
    engine.apply(ev.Quote(TS, "BTCUSDT", D("60000"), D("60000")))
    engine.apply(ev.PlaceOrder(TS, "o", "BTCUSDT", "buy", D("0.5"), "market", None, "cross", 20))
    # one cross long, wallet 2000 (no fees): liquidated once 2000 + 0.5 × (P − 60000) ≤
    # 0.5 × P × 0.004, i.e. P ≤ 28000 / 0.498 = 56224.899…
    liquidated_at = None
    price = D("60000")
    while liquidated_at is None:
        price -= D("7.3")
        out = engine.apply(ev.Quote(TS + 1, "BTCUSDT", price, price))
        if any(isinstance(o, ev.Liquidation) for o in out):
            liquidated_at = price
    assert liquidated_at <= D("28000") / D("0.498") < liquidated_at + D("7.3")


def test_a_preview_on_a_banded_engine_is_the_one_a_restored_engine_gives() -> None:
    engine = opened()
    engine.apply(ev.Quote(TS + 20, "ETHUSDT", D("3010"), D("3010.02")))
    engine.apply(ev.Quote(TS + 21, "SOLUSDT", D("149"), D("149.01")))
    assert engine.acct.banded
    restored = Engine.from_state(engine.to_state())
    order = ev.PlaceOrder(TS + 22, "p", "ETHUSDT", "buy", D("2"), "market")
    assert engine.preview(order) == restored.preview(order)
    later: list[ev.Event] = [
        ev.Quote(TS + 23, "BTCUSDT", D("59000"), D("59000.1")),
        order,
        ev.Funding(TS + 24, "SOLUSDT", D("0.001")),
        ev.Quote(TS + 25, "SOLUSDT", D("120"), D("120.01")),
    ]
    for event in later:
        assert engine.apply(event) == restored.apply(event)
    assert engine.account() == restored.account()


def test_anything_but_a_quote_or_trade_inside_a_band_drops_the_bands() -> None:
    engine = opened()
    assert engine.acct.banded
    engine.apply(ev.Trade(TS + 19, "SOLUSDT", D("150.5"), D("1")))
    assert engine.acct.banded
    assert engine.positions["SOLUSDT"].mark == D("150.5")
    engine.apply(ev.Funding(TS + 20, "SOLUSDT", D("0.0001")))
    assert not engine.acct.banded
    assert all(p.safe_lo == INFINITY for p in engine.positions.values())
    engine.apply(ev.Quote(TS + 21, "SOLUSDT", D("150"), D("150.01")))
    assert engine.acct.banded  # the full test passed: banded afresh
    engine.apply(ev.PlaceOrder(TS + 22, "r", "ETHUSDT", "buy", D("1"), "limit", D("2000")))
    assert not engine.acct.banded
    engine.apply(ev.Quote(TS + 23, "ETHUSDT", D("3001"), D("3001.01")))  # it has an order
    assert not engine.acct.banded


def test_the_headroom_is_shared_in_equal_parts_and_the_corner_of_the_bands_spends_it_all() -> None:
    """Three cross longs, no fees, wallet 10,000, every mark at its entry: uPnL 0 each.
    MM (tier 1): BTC 1 x 60,000 x 0.004 = 240; ETH 10 x 3,000 x 0.004 = 120; SOL 100 x 150 x
    0.005 = 75. Headroom H = 10,000 - 435 = 9,565; a share s = 9,565 / 3 = 3,188.33...
    A long's uPnL - MM inside tier 1 is k x p - c with k = size x (1 - MMR), c = size x entry:
    its band's lower end is where that meets its value now (-MM) less s:
      BTC p = (60,000 - 240 - s) / 0.996;  ETH (30,000 - 120 - s) / 9.96;
      SOL (15,000 - 75 - s) / 99.5.
    With all three there at once the account has spent H to the last digit: the shares add up
    to the headroom, no more (a share of H / 2 would put the corner past liquidation)."""
    engine = Engine(settings=ev.SessionSettings(D("10000"), D("0"), D("0")))
    sizes = {"BTCUSDT": D("1"), "ETHUSDT": D("10"), "SOLUSDT": D("100")}
    for n, (symbol, size) in enumerate(sizes.items()):
        engine.apply(ev.Quote(TS + n, symbol, START[symbol], START[symbol]))
        order = ev.PlaceOrder(TS + n, f"o{n}", symbol, "buy", size, "market", None, "cross", 20)
        assert not any(isinstance(o, ev.Rejected) for o in engine.apply(order))
    for n, symbol in enumerate(sizes):  # the first bands the account, the next work it out
        engine.apply(ev.Quote(TS + 10 + n, symbol, START[symbol], START[symbol]))
    engine.apply(ev.Quote(TS + 20, "BTCUSDT", START["BTCUSDT"], START["BTCUSDT"]))
    assert engine.acct.banded
    with localcontext() as exact:
        exact.prec = 80
        share = (D("10000") - D("240") - D("120") - D("75")) / 3
        by_hand = {
            "BTCUSDT": (D("60000") - D("240") - share) / D("0.996"),
            "ETHUSDT": (D("30000") - D("120") - share) / D("9.96"),
            "SOLUSDT": (D("15000") - D("75") - share) / D("99.5"),
        }
        for symbol, edge in by_hand.items():
            lo = engine.positions[symbol].safe_lo
            assert edge <= lo < edge + D("1e-20"), (symbol, lo, edge)  # rounded inward
        # the corner: every long at its lower end
        marks = {s: engine.positions[s].safe_lo for s in sizes}
        upnl = sum((sizes[s] * (marks[s] - START[s]) for s in sizes), D(0))
        mm = sum((hand_mm(BOOK[s], sizes[s] * marks[s]) for s in sizes), D(0))
        left = D("10000") + upnl - mm
        assert D(0) < left < D("1e-15")
