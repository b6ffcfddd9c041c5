"""A property that pins the refactor behind hedge mode: an account that only ever holds one
side of a symbol behaves the same in hedge mode (buys and sells on the long side) as in
one-way mode (buys, and reduce-only sells: a hedge sell on the long side is one, small
ones below the minimum notional included) — every fill, funding payment, liquidation
and account figure is equal, the position's `position_side` aside. One-way is the reference
the existing tests pin to the cent; hedge mode must not drift from it where they overlap."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papertrade.core import events as ev
from papertrade.core.engine import Engine

step = st.one_of(
    st.tuples(st.just("mark"), st.integers(400, 800).map(lambda n: D(n) * 100)),
    st.tuples(st.just("buy"), st.integers(1, 400).map(lambda n: D(n) / 1000)),
    st.tuples(st.just("sell"), st.integers(1, 100).map(lambda n: D(n) / 100)),
    st.tuples(st.just("funding"), st.integers(-10, 10).map(lambda n: D(n) / 10000)),
)


def plain_side(outcome: ev.Outcome) -> ev.Outcome:
    if isinstance(outcome, ev.AccountState):
        positions = tuple(replace(p, position_side="both") for p in outcome.positions)
        return replace(outcome, positions=positions)
    if isinstance(outcome, ev.Fill):  # a hedge fill names its side; one-way fills do not
        return replace(outcome, position_side=None)
    return outcome


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["cross", "isolated"]),
    st.sampled_from([5, 20, 50]),
    st.lists(step, min_size=1, max_size=30),
)
def test_one_side_in_hedge_mode_is_one_way_mode(mode: str, lev: int, steps: list) -> None:
    base = ev.SessionSettings(D("5000"), D("0.0005"), D("0.0002"))
    one_way = Engine(settings=base)
    hedge = Engine(settings=replace(base, position_mode="hedge"))
    ts = 1_700_000_000_000
    mark = D("60000")
    inputs: list[tuple[ev.Event, ev.Event]]
    for kind, value in [("mark", mark), *steps]:
        ts += 1000
        pos = one_way.positions.get("BTCUSDT")
        if kind == "mark":
            mark = value
            quote, price = ev.Quote(ts, "BTCUSDT", mark, mark), ev.MarkPrice(ts, "BTCUSDT", mark)
            inputs = [(quote, quote), (price, price)]
        elif kind == "buy":
            order = ev.PlaceOrder(ts, f"b{ts}", "BTCUSDT", "buy", value, "market")
            order.margin_mode, order.leverage = mode, lev  # type: ignore[assignment]
            inputs = [(order, replace(order, position_side="long"))]
        elif kind == "sell":
            if pos is None:
                continue
            qty = max(D("0.001"), (pos.qty * value).quantize(D("0.001")))
            order = ev.PlaceOrder(ts, f"s{ts}", "BTCUSDT", "sell", min(qty, pos.qty), "market")
            order.reduce_only = True
            inputs = [(order, replace(order, reduce_only=False, position_side="long"))]
        else:
            funding = ev.Funding(ts, "BTCUSDT", value)
            inputs = [(funding, funding)]
        for a, b in inputs:
            got_one_way = one_way.apply(a)
            got_hedge = [plain_side(o) for o in hedge.apply(b)]
            assert got_hedge == got_one_way
    snap = ev.Snapshot(ts + 1)
    assert [plain_side(o) for o in hedge.apply(snap)] == one_way.apply(snap)
