"""Margin math against worked examples from Binance's liquidation-price FAQ formulas
(https://www.binance.com/en/support/faq/360033525271) and freqtrade's Binance test vectors
(freqtrade `tests/exchange/test_binance.py`). Each expected number is written out with the
formula that produces it."""

from decimal import Decimal as D

import pytest

from papertrade.core import margin
from papertrade.core.instruments import Instrument, bundled, parse_brackets

BTC = bundled("binance")["BTCUSDT"]
ETH = bundled("binance")["ETHUSDT"]


def flat(mmr: str, cum: str) -> Instrument:
    """An instrument with a single bracket, as freqtrade's tests mock it."""
    rows = [{"floor": "0", "cap": "1E+15", "max_leverage": 125, "mmr": mmr, "cum": cum}]
    return Instrument(
        "TESTUSDT", "TEST", "USDT", D("0.01"), D("0.001"), D("0.001"), D("0"), parse_brackets(rows)
    )


def close(a: D | None, b: str, places: int = 2) -> bool:
    assert a is not None
    return abs(a - D(b)) < D(1).scaleb(-places)


def test_isolated_long_btc_10x_reference_5_1() -> None:
    # LP = (3000 + 0 - 1*0.5*60000) / (0.5*0.004 - 0.5) = -27000 / -0.498 = 54216.8674...
    lp = margin.liquidation_price_exact(BTC, D("0.5"), D(60000), D(3000))
    assert lp == D(-27000) / D("-0.498")
    assert close(lp, "54216.87")
    # on the BTC tick grid (0.1) a long's LP rounds down: the first tick that triggers
    assert margin.liquidation_price(BTC, D("0.5"), D(60000), D(3000)) == D("54216.8")


def test_isolated_short_mirror_and_bankruptcy() -> None:
    # short: (3000 + 0 + 0.5*60000) / (0.5*0.004 + 0.5) = 33000 / 0.502 = 65737.05...
    assert close(margin.liquidation_price_exact(BTC, D("-0.5"), D(60000), D(3000)), "65737.05")
    assert margin.liquidation_price(BTC, D("-0.5"), D(60000), D(3000)) == D("65737.1")
    assert margin.bankruptcy_price(D("0.5"), D(60000), D(3000)) == D(54000)
    assert margin.bankruptcy_price(D("-0.5"), D(60000), D(3000)) == D(66000)


def test_bracket_is_rechecked_at_the_liquidation_price_5_3() -> None:
    # 6 BTC @ 60000, 2x: wallet 180000. Entry bracket 2 (0.5%, cum 300) would give
    # (180000 + 300 - 360000)/(6*0.005 - 6) = 30100.50, whose notional (180,603) is bracket 1;
    # bracket 1 (0.4%, 0): (180000 - 360000)/(6*0.004 - 6) = 30120.48 is self-consistent.
    lp = margin.liquidation_price_exact(BTC, D(6), D(60000), D(180000))
    assert close(lp, "30120.48")


def test_cross_liquidation_prices_5_2() -> None:
    # wallet 10000, BTC long 0.5 @ 60000 (MM 120), ETH short 5 @ 3000 (MM 60), marks = entries
    # LP(BTC) = (10000 - 60 - 30000)/(0.5*0.004 - 0.5) = 40281.12
    assert close(
        margin.liquidation_price_exact(BTC, D("0.5"), D(60000), D(10000), D(60)), "40281.12"
    )
    # LP(ETH) = (10000 - 120 + 15000)/(5*0.004 + 5) = 24880/5.02 = 4956.18
    assert close(margin.liquidation_price_exact(ETH, D(-5), D(3000), D(10000), D(120)), "4956.18")
    # ETH mark 3300: the short loses 1500 and its MM is 66 -> (10000-66-1500-30000)/-0.498
    assert close(
        margin.liquidation_price_exact(BTC, D("0.5"), D(60000), D(10000), D(66), D(-1500)),
        "43305.22",
    )


@pytest.mark.parametrize(
    ("size", "open_rate", "leverage", "expected"),
    [
        ("-1.0", "10", 5, "11.89108910891089"),
        ("-1.0", "10", 3, "13.211221122079207"),
        ("-1.0", "8", 5, "9.514851485148514"),
        ("-0.6", "10", 5, "11.897689768976898"),
        ("1.0", "10", 5, "8.070707070707071"),
        ("1.0", "8", 5, "6.454545454545454"),
        ("1.0", "10", 3, "6.723905723905723"),
        ("0.6", "10", 5, "8.063973063973064"),
    ],
)
def test_freqtrade_isolated_vectors(
    size: str, open_rate: str, leverage: int, expected: str
) -> None:
    # freqtrade mocks MMR/cum as (0.01, 0.01) and uses wallet = amount * open_rate / leverage
    inst = flat("0.01", "0.01")
    qty = abs(D(size))
    wallet = qty * D(open_rate) / leverage
    lp = margin.liquidation_price_exact(inst, D(size), D(open_rate), wallet)
    assert close(lp, expected, places=9)


def test_freqtrade_binance_faq_vectors_isolated_and_cross() -> None:
    eth = flat("0.10", "135365")
    btc = flat("0.025", "16300")
    wallet = D("1535443.01")
    eth_size, eth_entry, eth_mark = D("3683.979"), D("1456.84"), D("1335.18")
    btc_size, btc_entry, btc_mark = D("109.488"), D("32481.98"), D("31967.27")
    assert close(margin.liquidation_price_exact(eth, eth_size, eth_entry, wallet), "1114.78")
    assert close(margin.liquidation_price_exact(btc, btc_size, btc_entry, wallet), "18778.73")
    # cross: the other position's MM and uPnL at its mark
    btc_mm = btc_size * btc_mark * D("0.025") - 16300  # 71,200.811...
    btc_upnl = btc_size * (btc_mark - btc_entry)  # -56,354.568...
    assert close(
        margin.liquidation_price_exact(eth, eth_size, eth_entry, wallet, btc_mm, btc_upnl),
        "1153.26",
    )
    eth_mm = eth_size * eth_mark * D("0.10") - 135365  # 356,512.508
    eth_upnl = eth_size * (eth_mark - eth_entry)  # -448,192.885
    assert close(eth_mm, "356512.51") and close(eth_upnl, "-448192.89")
    assert close(
        margin.liquidation_price_exact(btc, btc_size, btc_entry, wallet, eth_mm, eth_upnl),
        "26316.89",
    )


def test_long_that_cannot_be_liquidated_has_no_price() -> None:
    # 1x long fully funded plus extra: margin 70000 >= notional 60000 -> never liquidated
    assert margin.liquidation_price(BTC, D(1), D(60000), D(70000)) is None


def test_maintenance_margin_is_continuous_across_brackets() -> None:
    # at the 300,000 edge: bracket 1 gives 300000*0.004 = 1200; bracket 2 gives
    # 300000*0.005 - 300 = 1200
    assert margin.maintenance_margin(BTC, D(300000)) == D(1200)
    assert margin.maintenance_margin(BTC, D("299999.9")) == D("299999.9") * D("0.004")
    assert margin.maintenance_margin(BTC, D(1000000)) == D(1000000) * D("0.0065") - 1500


def test_max_removable_margin_reference_example() -> None:
    # at mark 62000: min(3000 - 124, 3000 + 0.5*2000 - 62000*0.5/10) = min(2876, 900) = 900
    assert margin.max_removable_margin(D(3000), D(124), D("0.5"), D(60000), D(62000), 10) == 900
    assert margin.max_removable_margin(D(3000), D(120), D("0.5"), D(60000), D(60000), 10) == 0


def test_bundled_brackets_follow_the_cum_recurrence() -> None:
    for inst in bundled("binance").values():
        prev = None
        for b in inst.brackets:
            if prev is None:
                assert b.floor == 0 and b.cum == 0
            else:
                assert b.cum == b.floor * (b.mmr - prev.mmr) + prev.cum, inst.symbol
            prev = b


def test_btc_and_eth_brackets_match_the_reference_table() -> None:
    btc = [(b.floor, b.cap, b.max_leverage, b.mmr, b.cum) for b in BTC.brackets]
    assert btc[:4] == [
        (0, 300000, 150, D("0.004"), 0),
        (300000, 800000, 100, D("0.005"), 300),
        (800000, 3000000, 75, D("0.0065"), 1500),
        (3000000, 12000000, 50, D("0.01"), 12000),
    ]
    assert btc[-1] == (1200000000, 1800000000, 1, D("0.5"), 421482000)
    eth = [(b.floor, b.cap, b.max_leverage, b.mmr, b.cum) for b in ETH.brackets]
    assert eth[5] == (50000000, 65000000, 20, D("0.025"), 382000)
    assert eth[-1] == (800000000, 1200000000, 1, D("0.5"), 280507000)
    assert len(bundled("binance")) >= 20
    assert BTC.notional_cap(150) == 300000 and BTC.notional_cap(100) == 800000


def test_margin_ratio_of_an_exhausted_balance_reads_100_percent() -> None:
    # Binance liquidates at margin balance <= MM, i.e. when MM / balance reaches 1
    assert margin.margin_ratio(D(120), D(1200)) == D("0.1")
    assert margin.margin_ratio(D(120), D(0)) == 1
    assert margin.margin_ratio(D(120), D(-50)) == 1
    assert margin.margin_ratio(D(0), D(1000)) is None  # nothing at risk
    assert margin.liquidatable(D(120), D(120)) and not margin.liquidatable(D("120.01"), D(120))
    assert not margin.liquidatable(D(-5), D(0))


def test_max_addable_is_backed_by_the_cross_wallet_not_by_open_profit() -> None:
    # min(cross wallet - iso order IM - cross MM, available): 9,700 - 140 - 280 = 9,280 vs 16,200
    assert margin.max_addable_margin(D(9700), D(140), D(280), D(16200)) == 9280
    # available is the smaller: 9,700 - 0 - 0 = 9,700 vs 500
    assert margin.max_addable_margin(D(9700), D(0), D(0), D(500)) == 500
    assert margin.max_addable_margin(D(100), D(0), D(280), D(5000)) == 0  # never negative


def test_order_cost_is_im_at_the_assumed_price_plus_open_loss() -> None:
    # buy 0.1 @ 60,050, mark 59,000, 20x: 0.1*60,050/20 + 0.1*(60,050-59,000) = 300.25 + 105
    assert margin.order_cost("buy", D("0.1"), D(60050), 20, D(59000), None) == D("405.25")
    # sell 0.1 @ 60,500, mark 61,000, last 60,000: assumed max(60,090, 61,000, 60,500)
    assert margin.assumed_price("sell", D(60500), D(61000), D(60000)) == 61000
    assert margin.order_cost("sell", D("0.1"), D(60500), 20, D(61000), D(60000)) == 305 + 50
    # sell above the market: assumed = last * 1.0015 = 60,400 * 1.0015 = 60,490.6
    assert margin.assumed_price("sell", D(60450), D(60000), D(60400)) == D("60490.6")
    # without market data a buy costs its IM at its own price
    assert margin.order_cost("buy", D(2), D(100), 10, None, None) == 20
    assert margin.order_cost("buy", D(0), D(100), 10, D(50), None) == 0
