"""The losses of an entry in hedge mode (issue 15 §3, orders.md §4): the entry opens or adds to
its LONG or SHORT side; isolated, that side alone; cross, both sides of the symbol and every
other cross position on the one cross wallet.

Expected figures are written out here in Decimal from margin.md: §1.7's two-sided formula

    LP = (WB − TMM1 + UPNL1 + cumL + cumS − QL × EPL + QS × EPS)
         / (QL × MMR_L + QS × MMR_S − QL + QS)

(TMM1 / UPNL1: the other symbols' maintenance margin and uPnL at their marks), its one-sided
form for an isolated side (WB = its margin, TMM1 = UPNL1 = 0), fees at taker 0.05 %. BTCUSDT
and ETHUSDT tier 1: below 300,000 MMR 0.4 %, cum 0; tick 0.1 / 0.01, step 0.001; 20x.
The property at the end checks the previewed price against the engine itself: the mark at it
liquidates the side, one tick before does not.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR
from decimal import Decimal as D

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from papertrade.core import events as ev
from papertrade.core.sizing import loss_scenarios

TAKER = D("0.0005")
TICK = D("0.1")


def down(x: D) -> D:
    """A fall's first triggering tick."""
    return x.quantize(TICK, rounding=ROUND_FLOOR)


def up(x: D) -> D:
    """A rise's first triggering tick."""
    return x.quantize(TICK, rounding=ROUND_CEILING)


def two_sided(w_star: D, ql: D, epl: D, qs: D, eps: D, mmr: D = D("0.004")) -> D:
    """margin.md §1.7 with both sides in tier 1 (cum 0) and W* = WB − TMM1 + UPNL1."""
    return (w_star - ql * epl + qs * eps) / (ql * mmr + qs * mmr - ql + qs)


def hedge(driver_cls, mode: ev.MarginMode = "cross", balance: str = "10000"):
    d = driver_cls(balance=balance)
    d.apply(ev.SetPositionMode(d.tick(), "hedge"))
    if mode == "isolated":
        d.apply(ev.SetMarginMode(d.tick(), "BTCUSDT", "isolated"))
    d.quote("BTCUSDT", "59990", "60000")
    d.mark("BTCUSDT", "60000")
    return d


def entry(d, side: ev.Side, qty: str, slot: ev.PositionSide) -> ev.PlaceOrder:
    return ev.PlaceOrder(d.ts, "x", "BTCUSDT", side, D(qty), "market", position_side=slot)


def test_cross_long_against_a_held_short_shares_one_price_and_takes_both_sides_and_eth(
    make_driver,
) -> None:
    d = hedge(make_driver)
    d.quote("ETHUSDT", "2999.99", "3000")
    d.mark("ETHUSDT", "3000")
    d.order("e", "ETHUSDT", "buy", "2", position_side="long")  # fee 2 × 3,000 × 0.0005 = 3
    d.mark("ETHUSDT", "2900")  # uPnL −200, MM 2 × 2,900 × 0.004 = 23.2
    d.order("s", "BTCUSDT", "sell", "0.6", position_side="short")  # at the bid 59,990
    before = d.engine.to_state()
    got = loss_scenarios(d.engine, entry(d, "buy", "1", "long"), D(59000), D(60000))
    assert d.engine.to_state() == before  # read only
    assert got is not None

    short_fee = D("0.6") * D(59990) * TAKER  # 17.997
    wallet = D(10000) - D(3) - short_fee  # 9,979.003
    fee = D(60000) * TAKER  # 30: the long's entry at the ask
    w_star = wallet - fee - D("23.2") + D(-200)
    # (9,725.803 − 60,000 + 35,994) / (0.004 + 0.0024 − 1 + 0.6) = −14,280.197 / −0.3936
    lp = down(two_sided(w_star, D(1), D(60000), D("0.6"), D(59990)))
    assert lp == D("36280.9")  # 36,280.988…
    assert (got.here.mode, got.here.price) == ("cross", lp)
    # tier 1 everywhere: nothing partial passes; the pot from before the trade goes, the
    # short's uPnL (−0.6 × 10 at mark 60,000) and ETH's −200 counted
    assert got.here.loss == wallet - 6 - 200 == D("9773.003")
    assert got.here.taken == ("BTCUSDT", "ETHUSDT")  # both BTC sides, named once, then ETH

    # isolated instead: the long alone on 1 × 60,000 / 20 = 3,000 of margin
    iso_lp = down((D(60000) - D(3000)) / (1 - D("0.004")))
    assert iso_lp == D("57228.9")
    assert (got.other.mode, got.other.price, got.other.loss) == ("isolated", iso_lp, D(3030))
    assert got.other.taken == ("BTCUSDT",)
    # at the stop: 1 × 1,000 + 30 + 59,000 × 0.0005
    assert got.loss_at_stop == D("1059.5") and not got.stop_after_liquidation


def test_a_long_added_to_a_net_short_is_liquidated_by_a_rise_and_its_stop_still_fires(
    make_driver,
) -> None:
    """The shared price of a net short lies above the mark: a long's stop below it comes
    first, though a price comparison (stop ≤ LP) would call it unreachable."""
    d = hedge(make_driver)
    d.order("s", "BTCUSDT", "sell", "2", position_side="short")  # fee 2 × 59,990 × 0.0005
    got = loss_scenarios(d.engine, entry(d, "buy", "0.5", "long"), D(59000), D(60000))
    assert got is not None
    wallet = D(10000) - D(2) * D(59990) * TAKER  # 9,940.01
    # (9,940.01 − 15 − 30,000 + 119,980) / (0.002 + 0.008 − 0.5 + 2) = 99,905.01 / 1.51
    lp = up(two_sided(wallet - D(15), D("0.5"), D(60000), D(2), D(59990)))
    assert lp == D("66162.3") and got.here.price == lp  # 66,162.258…: above the mark
    assert got.here.loss == wallet - 2 * 10  # the short's uPnL at 60,000: −20
    assert not got.stop_after_liquidation
    assert got.loss_at_stop == D("0.5") * (1000 + D(60000) * TAKER + D(59000) * TAKER)


def test_isolated_short_side_has_its_own_price_and_cross_instead_folds_both_margins(
    make_driver,
) -> None:
    d = hedge(make_driver, "isolated")
    d.order("l", "BTCUSDT", "buy", "1", position_side="long")  # margin 3,000, fee 30
    d.quote("BTCUSDT", "61990", "62000")
    d.mark("BTCUSDT", "62000")  # the long: +2,000
    got = loss_scenarios(d.engine, entry(d, "sell", "0.5", "short"), D(63000), D(61990))
    assert got is not None
    margin = D("0.5") * D(61990) / 20  # 1,549.75
    fee = D("0.5") * D(61990) * TAKER  # 15.4975
    # a short alone: (Q·EP + W) / (Q × (1 + MMR)), the first tick at or above
    lp = up((D("0.5") * D(61990) + margin) / (D("0.5") * D("1.004")))
    assert lp == D("64830.2")  # 32,544.75 / 0.502 = 64,830.179…
    assert (got.here.mode, got.here.price) == ("isolated", lp)
    assert got.here.loss == margin + fee and got.here.taken == ("BTCUSDT",)

    # cross instead: both sides on the wallet with their margins back in it
    wallet = D(10000) - D(30) - D(3000) + D(3000)
    w_star = wallet - fee  # no other symbol
    cross_lp = two_sided(w_star, D(1), D(60000), D("0.5"), D(61990))
    # (9,954.5025 − 60,000 + 30,995) / (0.004 + 0.002 − 1 + 0.5) = −19,050.4975 / −0.494
    assert down(cross_lp) == D("38563.7")
    assert got.other.price == down(cross_lp)
    assert got.other.loss == wallet + 2000  # the pot from before, with the long's profit
    assert got.other.taken == ("BTCUSDT",)
    # at the stop: 0.5 × (1,010 + the fees at 61,990 and 63,000)
    assert got.loss_at_stop == D("0.5") * D(1010) + fee + D("0.5") * D(63000) * TAKER
    assert not got.stop_after_liquidation


def test_a_stop_past_a_hedged_cross_price_is_flagged(make_driver) -> None:
    d = hedge(make_driver, balance="2000")
    d.order("s", "BTCUSDT", "sell", "0.2", position_side="short")  # fee 5.999
    got = loss_scenarios(d.engine, entry(d, "buy", "0.5", "long"), D(55000), D(60000))
    assert got is not None
    wallet = D(2000) - D("0.2") * D(59990) * TAKER  # 1,994.001
    lp = down(two_sided(wallet - 15, D("0.5"), D(60000), D("0.2"), D(59990)))
    # (1,979.001 − 30,000 + 11,998) / (0.002 + 0.0008 − 0.3) = −16,022.999 / −0.2972
    assert lp == D("53913.1") and got.here.price == lp
    assert not got.stop_after_liquidation  # 55,000 comes before 53,913.1
    deep = loss_scenarios(d.engine, entry(d, "buy", "0.5", "long"), D(53000), D(60000))
    assert deep is not None and deep.stop_after_liquidation


def test_orders_that_close_a_hedge_side_have_no_scenarios(make_driver) -> None:
    d = hedge(make_driver)
    d.order("l", "BTCUSDT", "buy", "1", position_side="long")
    d.order("s", "BTCUSDT", "sell", "1", position_side="short")
    engine = d.engine
    assert loss_scenarios(engine, entry(d, "sell", "0.5", "long"), D(61000), D(59990)) is None
    assert loss_scenarios(engine, entry(d, "buy", "0.5", "short"), D(59000), D(60000)) is None
    unnamed = ev.PlaceOrder(d.ts, "x", "BTCUSDT", "buy", D("0.5"), "market")
    assert loss_scenarios(engine, unnamed, D(59000), D(60000)) is None  # the engine refuses it
    assert loss_scenarios(engine, entry(d, "buy", "0.5", "long"), D(59000), D(60000))


# `make_driver` is the Driver class, not a driver: every example builds its own engine
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    mode=st.sampled_from(["cross", "isolated"]),
    side=st.sampled_from(["buy", "sell"]),
    held=st.decimals(min_value=0, max_value=6, places=3),
    qty=st.decimals(min_value=D("0.01"), max_value=6, places=3),
    move=st.integers(min_value=-6000, max_value=6000),
    eth=st.decimals(min_value=0, max_value=40, places=3),
)
def test_the_previewed_price_is_where_the_engine_liquidates_the_side(
    make_driver, mode: ev.MarginMode, side: ev.Side, held: D, qty: D, move: int, eth: D
) -> None:
    """Open the hedge side across (and an ETH cross long), move BTC, preview an entry, place
    it: the engine liquidates the entry's side with the mark at the previewed price, and not
    with the mark one tick before it. Sizes reach BTC's second bracket (300,000)."""
    d = hedge(make_driver, mode, balance="60000")
    slot: ev.PositionSide = "long" if side == "buy" else "short"
    across: ev.PositionSide = "short" if slot == "long" else "long"
    if eth:
        d.quote("ETHUSDT", "2999.99", "3000")
        d.mark("ETHUSDT", "3000")
        d.order("e", "ETHUSDT", "buy", str(eth), position_side="long")
        d.mark("ETHUSDT", "2950")
    if held:
        d.order("h", "BTCUSDT", "sell" if side == "buy" else "buy", str(held), position_side=across)
    price = D(60000 + move)
    d.quote("BTCUSDT", str(price - TICK), str(price))
    d.mark("BTCUSDT", str(price))
    assume(d.engine.acct.position("BTCUSDT", across) is not None or not held)
    order = entry(d, side, str(qty), slot)
    fill = price if side == "buy" else price - TICK
    got = loss_scenarios(d.engine, order, None, fill)
    assert got is not None
    out = d.apply(order)
    assume(not any(isinstance(o, ev.Rejected | ev.Liquidation) for o in out))
    lp = got.here.price
    assume(lp is not None)
    assert lp is not None
    shown = {p.position_side: p for p in d.account().positions if p.symbol == "BTCUSDT"}
    assert shown[slot].liquidation_price == lp  # the engine's own figure agrees
    before = lp + TICK if lp < price else lp - TICK
    hit = [o for o in d.mark("BTCUSDT", str(before)) if isinstance(o, ev.Liquidation)]
    assert not [o for o in hit if o.symbol == "BTCUSDT" and o.side == slot]
    hit = [o for o in d.mark("BTCUSDT", str(lp)) if isinstance(o, ev.Liquidation)]
    assert [o for o in hit if o.symbol == "BTCUSDT" and o.side == slot]
