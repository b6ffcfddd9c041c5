"""Properties of liquidation as executed (hypothesis): large and small BTC/ETH positions, either
margin mode, random marks and funding.

- total wallet change = realized PnL (fills and liquidated parts, each recomputed from its
  entry and fill price) − fees − clearance fees + funding + insurance covered;
- no `loss` is negative and the wallet never rises through a liquidation;
- a partial liquidation leaves the position open at `remaining_qty` and its account above
  maintenance; a tier-1 position always closes whole;
- every clearance fee is the liquidated qty × fill price × the symbol's rate.
"""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.core.margin import liquidatable

BOOK = bundled("binance")
BASE = {"BTCUSDT": D(70000), "ETHUSDT": D(3000)}
EIGHT = D("1E-8")

position = st.tuples(
    st.sampled_from(["BTCUSDT", "ETHUSDT"]),
    st.sampled_from(["buy", "sell"]),
    st.sampled_from(["isolated", "cross"]),
    st.sampled_from([5, 10, 20, 25]),
    st.sampled_from([20, 300, 700, 950]),  # share of the wallet's buying power, per mille
)
move = st.one_of(
    st.tuples(st.just("mark"), st.sampled_from(list(BASE)), st.integers(-90, 60)),
    st.tuples(st.just("funding"), st.sampled_from(list(BASE)), st.integers(-30, 30)),
    # marks move tick by tick in reality: land at or just past a position's liquidation price
    st.tuples(st.just("at_lp"), st.sampled_from(list(BASE)), st.sampled_from([0, 1, 3, 40])),
)


def _step(symbol: str) -> D:
    return BOOK[symbol].step_size


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    balance=st.sampled_from([D(20000), D(300000), D(2000000), D(5000000)]),
    taker=st.sampled_from([D(0), D("0.0005")]),
    opens=st.lists(position, min_size=1, max_size=2),
    moves=st.lists(move, min_size=1, max_size=25),
)
def test_liquidation_properties(balance, taker, opens, moves) -> None:
    engine = Engine(settings=ev.SessionSettings(balance, taker, D(0)))
    ts = 1_700_000_000_000
    level = dict.fromkeys(BASE, 1000)
    for symbol, price in BASE.items():
        tick = BOOK[symbol].tick_size
        engine.apply(ev.MarkPrice(ts, symbol, price))
        engine.apply(ev.Quote(ts, symbol, price - tick, price))
    realized = fees = clearance = funding = insured = D(0)
    events: list[ev.Event] = []
    for i, (symbol, side, mode, lev, share) in enumerate(opens):
        ts += 1
        events.append(ev.SetMarginMode(ts, symbol, mode))
        qty = (balance * lev * share / 1000 / BASE[symbol] / 2).quantize(_step(symbol))
        qty = max(qty, D(1) if symbol == "ETHUSDT" else D("0.01"))
        events.append(ev.PlaceOrder(ts, f"o{i}", symbol, side, qty, "market", leverage=lev))
    for kind, symbol, delta in moves:
        ts += 1000
        if kind == "mark":
            level[symbol] = max(500, min(1500, level[symbol] + delta))
            price = (BASE[symbol] * level[symbol] / 1000).quantize(BOOK[symbol].tick_size)
            events.append(ev.MarkPrice(ts, symbol, price))
        elif kind == "at_lp":
            events.append(ev.MarkPrice(ts, symbol, D(-delta)))  # resolved when it is applied
        else:
            events.append(ev.Funding(ts, symbol, D(delta) / 10000))
    for step in events:
        if isinstance(step, ev.MarkPrice) and step.price <= 0:
            lp = next(
                (
                    p.liquidation_price
                    for p in engine.account().positions
                    if p.symbol == step.symbol
                ),
                None,
            )
            if lp is None:
                continue
            ticks = -step.price * BOOK[step.symbol].tick_size
            long = engine.positions[step.symbol].size > 0
            step = ev.MarkPrice(step.ts, step.symbol, lp - ticks if long else lp + ticks)
        before = engine.account()
        entries = {(p.symbol, p.side): p for p in before.positions}
        out = engine.apply(step)
        after = engine.account()
        funded = sum((o.amount for o in out if isinstance(o, ev.FundingPaid)), D(0))
        liqs = [o for o in out if isinstance(o, ev.Liquidation)]
        for o in out:
            if isinstance(o, ev.Fill):
                realized += o.realized_pnl
                fees += o.fee
        funding += funded
        for liq in liqs:
            pos = entries[(liq.symbol, liq.side)]
            assert pos.qty == liq.qty + liq.remaining_qty
            assert liq.loss >= 0 and liq.insurance_covered >= 0
            assert liq.price is not None
            rate = BOOK[liq.symbol].liquidation_fee
            assert liq.clearance_fee == (liq.qty * liq.price * rate).quantize(EIGHT)
            sign = 1 if liq.side == "long" else -1
            own = sign * liq.qty * (liq.price - pos.entry_price)
            # a bankruptcy price is shown at 8 decimals: its PnL is exact to qty x 1e-8
            assert abs(own - liq.realized_pnl) <= liq.qty * EIGHT
            realized += liq.realized_pnl
            clearance += liq.clearance_fee
            insured += liq.insurance_covered
            tier1 = pos.qty * liq.mark_price < BOOK[liq.symbol].brackets[0].cap
            if tier1:
                assert liq.remaining_qty == 0
            event("partial" if liq.remaining_qty else "whole")
            if liq.remaining_qty:
                assert liq.price == liq.mark_price and liq.insurance_covered == 0
                (left,) = [
                    p for p in after.positions if (p.symbol, p.side) == (liq.symbol, liq.side)
                ]
                assert left.qty == liq.remaining_qty
                if liq.margin_mode == "isolated":
                    live = engine.positions[liq.symbol]
                    assert not liquidatable(live.margin + live.upnl, live.mm)
                else:
                    assert not engine.acct.cross_liquidatable()
        if liqs:
            # the wallet never rises through a liquidation (funding paid before it aside)
            assert after.wallet_balance <= before.wallet_balance + funded
        assert engine.acct.cross_wallet >= 0
    change = engine.wallet_balance() - balance
    assert change == realized - fees - clearance + funding + insured
    assert engine.totals.clearance_fees == clearance
    assert engine.totals.insurance_covered == insured
