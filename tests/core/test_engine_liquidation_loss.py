"""A liquidation's `loss` is never negative, and the total wallet never rises through one.

Funding that is due but larger than an isolated margin takes only that margin (reported as
funding); a cross liquidation attributes the fall of the cross wallet to its positions, each
its own loss plus a share (by maintenance margin) of the margin balance left, floored at 0 and
scaled so the lines still add up to the whole fall."""

from decimal import Decimal as D

from papertrade.core import events as ev


def kinds(outcomes, kind):
    return [o for o in outcomes if isinstance(o, kind)]


def test_funding_larger_than_the_isolated_margin_is_reported_as_funding(nofee) -> None:
    nofee.mark("BTCUSDT", "60000")
    nofee.order("l", "BTCUSDT", "buy", "0.5", margin_mode="isolated", leverage=100)
    # margin 0.5*60,000/100 = 300; a 2 % charge would be 0.5*60,000*0.02 = 600 > 300
    out = nofee.apply(ev.Funding(nofee.tick(), "BTCUSDT", D("0.02")))
    (paid,) = kinds(out, ev.FundingPaid)
    (liq,) = kinds(out, ev.Liquidation)
    assert paid.amount == -300  # all the margin held; the rest was not there to take
    assert liq.loss == 0
    assert nofee.account().wallet_balance == 10000 - 300 == D(10000) + paid.amount - liq.loss


def test_a_profitable_position_in_a_cross_liquidation_shows_no_negative_loss(nofee) -> None:
    nofee.mark("BTCUSDT", "60000")
    nofee.order("btc", "BTCUSDT", "buy", "0.5", leverage=20)
    nofee.mark("ETHUSDT", "3000")
    nofee.order("eth", "ETHUSDT", "sell", "20", leverage=20)
    nofee.mark("BTCUSDT", "61000")  # BTC uPnL +500
    out = nofee.mark("ETHUSDT", "3600")  # the short loses 20*600 = 12,000 in one gap
    btc, eth = kinds(out, ev.Liquidation)
    # margin balance left = 10,000 + 500 - 12,000 = -1,500; MM: BTC 0.5*61,000*0.004 = 122,
    # ETH 20*3,600*0.004 = 288. Raw shares: BTC -500 + (-1,500)*122/410 = -946.34 -> 0;
    # ETH 12,000 + (-1,500)*288/410 = 10,946.34; scaled to the 10,000 fall: ETH takes it all
    assert (btc.symbol, btc.loss) == ("BTCUSDT", 0)
    assert (eth.symbol, eth.loss) == ("ETHUSDT", 10000)
    acct = nofee.account()
    assert acct.wallet_balance == 0 and acct.positions == ()


def test_losses_split_by_own_loss_and_maintenance_share_when_none_is_negative(nofee) -> None:
    nofee.mark("BTCUSDT", "60000")
    nofee.order("btc", "BTCUSDT", "buy", "0.5", leverage=20)
    nofee.mark("ETHUSDT", "3000")
    nofee.order("eth", "ETHUSDT", "buy", "20", leverage=20)
    nofee.mark("BTCUSDT", "59000")  # BTC uPnL -500, MM 0.5*59,000*0.004 = 118
    btc, eth = kinds(nofee.mark("ETHUSDT", "2500"), ev.Liquidation)
    # ETH uPnL 20*(2,500-3,000) = -10,000, MM 20*2,500*0.004 = 200; left = 10,000 - 10,500
    left = D(10000) - 500 - 10000
    btc_share = -D(-500) + left * 118 / (118 + 200)  # 500 - 185.53... = 314.47 >= 0
    assert btc.loss == btc_share.quantize(D("1E-8")) == D("314.46540881")
    assert eth.loss == 10000 - btc.loss  # the last line takes the rest, exactly
