"""The cross liquidation price of a hedged symbol: both sides share one, by Binance's two-sided
formula (margin.md §1.7):

    LP = (WB − TMM1 + UPNL1 + cumL + cumS − QL × EPL + QS × EPS)
         / (QL × MMR_L + QS × MMR_S − QL + QS)

TMM1 / UPNL1 are the other symbols' maintenance margin and uPnL; each side's bracket is taken
at its own notional at LP. BTCUSDT brackets (2026.4): tier 1 below 300,000 MMR 0.4 % cum 0,
tier 2 up to 800,000 MMR 0.5 % cum 300. No fees, so WB stays the starting balance. The
expected prices below are computed here in Decimal, never read from the engine."""

from decimal import ROUND_CEILING, ROUND_FLOOR
from decimal import Decimal as D

from papertrade.core import events as ev

TICK = D("0.1")


def two_sided(wb, tmm, upnl, ql, epl, mmr_l, cum_l, qs, eps, mmr_s, cum_s) -> D:
    num = D(wb) - D(tmm) + D(upnl) + D(cum_l) + D(cum_s) - D(ql) * D(epl) + D(qs) * D(eps)
    den = D(ql) * D(mmr_l) + D(qs) * D(mmr_s) - D(ql) + D(qs)
    return num / den


def down(x: D) -> D:
    return x.quantize(TICK, rounding=ROUND_FLOOR)


def up(x: D) -> D:
    return x.quantize(TICK, rounding=ROUND_CEILING)


def hedged(driver, balance: str = "10000"):
    d = type(driver)(balance=balance, taker="0", maker="0")
    d.apply(ev.SetPositionMode(d.tick(), "hedge"))
    d.quote("BTCUSDT", "60000.0", "60000.0")
    d.mark("BTCUSDT", "60000")
    return d


def btc_sides(d):
    return {p.position_side: p for p in d.account().positions if p.symbol == "BTCUSDT"}


def test_net_long_hedge_shares_one_price_below_the_mark(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "1", position_side="long", leverage=20)
    d.order("s", "BTCUSDT", "sell", "0.6", position_side="short")
    # (10,000 − 60,000 + 36,000) / (0.004 + 0.0024 − 1 + 0.6) = −14,000 / −0.3936 = 35,569.105…
    lp = two_sided(10000, 0, 0, 1, 60000, "0.004", 0, "0.6", 60000, "0.004", 0)
    assert down(lp) == D("35569.1")
    held = btc_sides(d)
    assert held["long"].liquidation_price == held["short"].liquidation_price == down(lp)
    # one-way netting would say (0.4 × 60,000 − 10,000) / (0.4 × 0.996) = 35,140.56…: hedge
    # mode holds MM on both sides' whole notional, so its price sits higher
    assert held["long"].liquidation_price > D("35140.5")


def test_the_shared_price_is_where_both_sides_go(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "1", position_side="long", leverage=20)
    d.order("s", "BTCUSDT", "sell", "0.6", position_side="short")
    # one tick above: margin balance 10,000 − 24,430.8 + 0.6 × 24,430.8 = 227.68 >
    # MM 1.6 × 35,569.2 × 0.004 = 227.64288: still open
    assert not [o for o in d.mark("BTCUSDT", "35569.2") if isinstance(o, ev.Liquidation)]
    # at it: 227.64 ≤ 1.6 × 35,569.1 × 0.004 = 227.64224: both sides are liquidated together
    liqs = [o for o in d.mark("BTCUSDT", "35569.1") if isinstance(o, ev.Liquidation)]
    assert sorted((x.side, x.qty) for x in liqs) == [("long", 1), ("short", D("0.6"))]
    assert d.account().positions == ()


def test_net_short_hedge_is_liquidated_by_a_rise(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "0.2", position_side="long", leverage=20)
    d.order("s", "BTCUSDT", "sell", "1", position_side="short")
    # (10,000 − 12,000 + 60,000) / (0.0008 + 0.004 − 0.2 + 1) = 58,000 / 0.8048 = 72,067.59…
    lp = two_sided(10000, 0, 0, "0.2", 60000, "0.004", 0, 1, 60000, "0.004", 0)
    assert lp > 60000
    held = btc_sides(d)
    assert held["long"].liquidation_price == held["short"].liquidation_price == up(lp)
    assert up(lp) == D("72067.6")


def test_each_side_takes_the_bracket_of_its_own_notional_at_the_price(driver) -> None:
    d = hedged(driver, balance="100000")
    d.order("l", "BTCUSDT", "buy", "10", position_side="long", leverage=20)
    d.order("s", "BTCUSDT", "sell", "5", position_side="short")
    # tier 1 for both: −200,000 / −4.94 = 40,485.8…, but the long's 10 × 40,485.8 = 404,858
    # is tier 2: redo with the long in tier 2 (0.5 %, cum 300) and the short in tier 1
    naive = two_sided(100000, 0, 0, 10, 60000, "0.004", 0, 5, 60000, "0.004", 0)
    assert 10 * naive >= 300000
    lp = two_sided(100000, 0, 0, 10, 60000, "0.005", 300, 5, 60000, "0.004", 0)
    assert 300000 <= 10 * lp < 800000 and 5 * lp < 300000  # self-consistent
    assert down(lp) == D("40507.0")  # −199,700 / −4.93 = 40,507.099…
    assert btc_sides(d)["long"].liquidation_price == down(lp)


def test_other_symbols_enter_through_their_mm_and_upnl(driver) -> None:
    d = hedged(driver)
    d.quote("ETHUSDT", "3000.00", "3000.00")
    d.mark("ETHUSDT", "3000")
    d.order("e", "ETHUSDT", "buy", "10", position_side="long", leverage=20)
    d.order("l", "BTCUSDT", "buy", "1", position_side="long", leverage=20)
    d.order("s", "BTCUSDT", "sell", "0.6", position_side="short")
    d.mark("ETHUSDT", "2900")
    # ETH: uPnL 10 × (2,900 − 3,000) = −1,000; MM 29,000 × 0.004 = 116
    lp = two_sided(10000, 116, -1000, 1, 60000, "0.004", 0, "0.6", 60000, "0.004", 0)
    assert down(lp) == D("38404.4")  # −15,116 / −0.3936 = 38,404.47…
    held = btc_sides(d)
    assert held["long"].liquidation_price == held["short"].liquidation_price == down(lp)


def test_a_lone_side_uses_the_one_way_formula(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "0.4", position_side="long", leverage=20)
    # long: (Q·EP − W) / (Q·(1 − MMR)) = (24,000 − 10,000) / 0.3984 = 35,140.56…
    expected = down((D("0.4") * 60000 - 10000) / (D("0.4") * (1 - D("0.004"))))
    assert expected == D("35140.5")
    assert btc_sides(d)["long"].liquidation_price == expected


def test_a_perfect_hedge_with_room_has_no_price_near_the_market(driver) -> None:
    d = hedged(driver)
    d.order("l", "BTCUSDT", "buy", "1", position_side="long", leverage=20)
    d.order("s", "BTCUSDT", "sell", "1", position_side="short")
    # equal sizes: margin balance stays 10,000 whatever the mark; MM 2 × P × MMR reaches it
    # only far up the brackets. Tier 1 would give (10,000 + 0) / 0.008 = 1,250,000, whose
    # notional 1,250,000 is tier 3 (0.65 %, cum 1,500 a side): 13,000 / 0.013 = 1,000,000, in
    # tier 3 for both sides: that is the price, far above the market
    lp = two_sided(10000, 0, 0, 1, 60000, "0.0065", 1500, 1, 60000, "0.0065", 1500)
    assert lp == 1000000
    assert btc_sides(d)["long"].liquidation_price == up(lp)


def test_no_shared_price_past_the_top_bracket(driver) -> None:
    # Long 0.1 and short 0.05 BTC at ~60,000 on a 10,000 wallet, cross: net long 0.05, so a
    # fall would have to pass zero: LP_fall = (W − 0.1·60,000 + 0.05·60,000) / (0.1·0.004 +
    # 0.05·0.004 − 0.05) < 0 for every bracket. A rise only liquidates once MMR reaches the
    # top tiers, where 0.15 × LP exceeds BTCUSDT's largest notional cap (1.8e9 USDT, so
    # LP > 1.2e10): no position can be that big, so there is no liquidation price to show.
    d = type(driver)(balance="10000", taker="0", maker="0")
    d.apply(ev.SetPositionMode(d.tick(), "hedge"))
    d.quote("BTCUSDT", "60000.0", "60000.0")
    d.mark("BTCUSDT", "60000")
    d.order("l", "BTCUSDT", "buy", "0.1", position_side="long")
    d.order("s", "BTCUSDT", "sell", "0.05", position_side="short")
    prices = {p.position_side: p.liquidation_price for p in d.account().positions}
    assert prices == {"long": None, "short": None}
