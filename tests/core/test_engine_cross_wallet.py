"""No money from nowhere: isolated margin comes out of the cross wallet itself, never out of
unrealized cross profit (Binance "How to Adjust Margin Balance", max addable):

    max addable = max(0, min(cross wallet − Σ isolated open-order IM − Σ cross MM,
                             available for order))

Every expected number is worked out below from that rule, not from the engine's functions."""

from decimal import Decimal as D
from pathlib import Path

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine


def one(outcomes, kind):
    (item,) = [o for o in outcomes if isinstance(o, kind)]
    return item


def btc_cross_long_in_profit(nofee) -> None:
    """Cross BTC long 1 @ 60,000 at 20x (IM 3,000), then the mark rises to 70,000."""
    nofee.quote("BTCUSDT", "60000", "60000")
    nofee.mark("BTCUSDT", "60000")
    nofee.order("btc", "BTCUSDT", "buy", "1", leverage=20)
    nofee.mark("BTCUSDT", "70000")


def test_cross_profit_cannot_be_moved_into_isolated_margin(nofee) -> None:
    btc_cross_long_in_profit(nofee)
    nofee.mark("ETHUSDT", "3000")
    nofee.order("eth", "ETHUSDT", "buy", "1", margin_mode="isolated", leverage=10)  # 300
    # cross wallet 10,000 - 300 = 9,700; cross uPnL +10,000; cross MM 70,000*0.004 = 280;
    # available = 9,700 + 10,000 - 70,000/20 = 16,200; max addable = min(9,700 - 0 - 280,
    # 16,200) = 9,420: the 10,000 of open profit stays where it is
    assert nofee.engine.max_addable_margin("ETHUSDT") == D(9420)
    assert nofee.engine.max_addable_margin("BTCUSDT") == 0  # cross: nothing to add to
    rej = one(nofee.apply(ev.AdjustMargin(nofee.tick(), "ETHUSDT", D("9420.01"))), ev.Rejected)
    assert rej.reason.startswith("can add at most 9,420.00 USDT to the ETHUSDT isolated margin")
    assert nofee.apply(ev.AdjustMargin(nofee.tick(), "ETHUSDT", D(9420))) == []
    assert nofee.engine.acct.cross_wallet == D(9700) - 9420 == 280
    assert nofee.position("ETHUSDT").margin == 300 + 9420
    assert nofee.engine.max_addable_margin("ETHUSDT") == 0


def test_isolated_order_margin_is_bounded_by_the_cross_wallet(nofee) -> None:
    btc_cross_long_in_profit(nofee)
    nofee.quote("ETHUSDT", "3000", "3000")
    nofee.mark("ETHUSDT", "3000")
    # available = 10,000 + 10,000 - 3,500 = 16,500 would cover 40 ETH at 10x (IM 12,000),
    # but only 10,000 - 280 (cross MM) = 9,720 of the cross wallet may become isolated margin
    before = nofee.engine.to_state()
    rej = one(
        nofee.order("iso", "ETHUSDT", "buy", "40", margin_mode="isolated", leverage=10),
        ev.Rejected,
    )
    assert rej.reason == (
        "insufficient cross wallet for isolated margin: needs 12,000.00 USDT, 9,720.00 USDT can "
        "move (unrealized profit cannot become isolated margin)"
    )
    after = nofee.engine.to_state()
    for part in ("cross_wallet", "positions", "orders", "symbol_settings", "used_ids"):
        assert after[part] == before[part]
    # a resting isolated order is held to the same bound: 40 * 2,900 / 10 = 11,600 > 9,720
    rej = one(
        nofee.order("iso2", "ETHUSDT", "buy", "40", "2900", margin_mode="isolated", leverage=10),
        ev.Rejected,
    )
    assert "needs 11,600.00 USDT, 9,720.00 USDT can move" in rej.reason
    # the same order in cross is fine: open profit may back cross orders
    fill = one(nofee.order("cross", "ETHUSDT", "buy", "40", leverage=10), ev.Fill)
    assert fill.qty == 40 and nofee.engine.acct.cross_wallet == 10000


def test_max_addable_leaves_what_resting_isolated_orders_hold(nofee) -> None:
    nofee.mark("ETHUSDT", "3000")
    nofee.order("eth", "ETHUSDT", "buy", "1", margin_mode="isolated", leverage=10)  # 300
    nofee.quote("SOLUSDT", "150", "150.01")
    nofee.mark("SOLUSDT", "150")
    nofee.order("sol", "SOLUSDT", "buy", "10", "140", margin_mode="isolated", leverage=10)
    # the resting SOL bid holds 10 * 140 / 10 = 140 (below mark: no open loss)
    # cross wallet 9,700; no cross positions; available 9,700 - 140 = 9,560
    # max addable = min(9,700 - 140 - 0, 9,560) = 9,560
    assert nofee.engine.max_addable_margin("ETHUSDT") == 9560
    assert nofee.engine.max_addable_margin("SOLUSDT") == 0  # no position yet


def test_an_order_cannot_take_more_fee_than_the_cross_wallet_holds(driver) -> None:
    # taker 0.05 %. Most of the cross wallet moved into an isolated position; the cross long
    # then sits on a big open profit, but fees must come from the wallet itself
    driver.quote("BTCUSDT", "60000", "60000")
    driver.mark("BTCUSDT", "60000")
    driver.quote("ETHUSDT", "3000", "3000")
    driver.mark("ETHUSDT", "3000")
    driver.order("btc", "BTCUSDT", "buy", "1", leverage=100)  # fee 30: wallet 9,970
    driver.order("eth", "ETHUSDT", "buy", "3", margin_mode="isolated", leverage=1)
    # ETH: IM 9,000 and fee 4.5 -> cross wallet 9,970 - 9,004.5 = 965.5
    assert driver.engine.acct.cross_wallet == D("965.5")
    driver.mark("BTCUSDT", "70000")  # cross MM 280, uPnL +10,000
    # max addable = min(965.5 - 0 - 280, 965.5 + 10,000 - 700) = 685.5
    assert driver.engine.max_addable_margin("ETHUSDT") == D("685.5")
    assert driver.apply(ev.AdjustMargin(driver.tick(), "ETHUSDT", D("685.5"))) == []
    assert driver.engine.acct.cross_wallet == 280
    # 10 BTC more at 70,000, 100x: IM 7,000 fits the available 280 + 10,000 - 700 = 9,580,
    # but its fee, 700,000 * 0.0005 = 350, is more than the 280 the wallet holds
    driver.quote("BTCUSDT", "70000", "70000")
    rej = one(driver.order("btc2", "BTCUSDT", "buy", "10", leverage=100), ev.Rejected)
    assert rej.reason == (
        "the fill at 70000 would take the cross wallet to -70.00 USDT: fees and losses cannot "
        "exceed the wallet"
    )
    # 5 BTC (fee 175) is fine and leaves 280 - 175 = 105
    assert one(driver.order("btc3", "BTCUSDT", "buy", "5", leverage=100), ev.Fill).fee == 175
    assert driver.engine.acct.cross_wallet == 105


def test_story_no_money_from_nowhere_drill() -> None:
    drill = Path(__file__).parents[2] / "examples" / "drills" / "no-money-from-nowhere.jsonl"
    settings, events = codec.parse_lines(drill.read_text().splitlines())
    engine = Engine(settings=settings)
    outcomes = [o for e in events for o in engine.apply(e)]
    rejected = [o.command for o in outcomes if isinstance(o, ev.Rejected)]
    assert rejected == ["adjust_margin", "order", "set_leverage", "order", "order"]
    # 9,420 moved (the most: 9,700 cross wallet - 280 cross MM), 280 left backing the cross
    # long; the crash to 59,000 liquidates it and takes exactly those 280, never more
    (liq,) = [o for o in outcomes if isinstance(o, ev.Liquidation)]
    assert (liq.symbol, liq.loss) == ("BTCUSDT", 280)
    (cut,) = [o for o in outcomes if isinstance(o, ev.ReduceOnlyCut)]
    assert (cut.requested_qty, cut.qty) == (5, 1)
    # ETH closed at its entry: the wallet is what was never at risk, 10,000 - 280
    assert engine.acct.wallet_balance() == 9720 and engine.acct.cross_wallet == 9720
