"""Netted positions: add, reduce, close, flip; realized PnL to the wallet."""

from decimal import Decimal as D

from papertrade.core import events as ev


def fills(outcomes):
    return [o for o in outcomes if isinstance(o, ev.Fill)]


def test_adding_averages_the_entry_by_quantity(nofee) -> None:
    nofee.quote("ETHUSDT", "3000", "3000")
    nofee.order("a", "ETHUSDT", "buy", "1")
    nofee.quote("ETHUSDT", "3300", "3300")
    nofee.order("b", "ETHUSDT", "buy", "2")
    # (1*3000 + 2*3300) / 3 = 9600 / 3 = 3200
    pos = nofee.position("ETHUSDT")
    assert (pos.side, pos.qty, pos.entry_price) == ("long", D(3), D(3200))


def test_reducing_realizes_pnl_into_the_wallet(driver) -> None:
    driver.quote("ETHUSDT", "3000", "3000")
    driver.order("a", "ETHUSDT", "buy", "2")  # fee 2*3000*0.0005 = 3
    driver.quote("ETHUSDT", "3100", "3100")
    (fill,) = fills(driver.order("b", "ETHUSDT", "sell", "0.5"))  # fee 0.5*3100*0.0005 = 0.775
    assert fill.realized_pnl == D("0.5") * (3100 - 3000) == 50
    assert driver.account().wallet_balance == D(10000) - 3 + 50 - D("0.775")
    assert driver.position("ETHUSDT").qty == D("1.5")


def test_flip_closes_then_opens_the_other_side(nofee) -> None:
    nofee.quote("SOLUSDT", "100", "100")
    nofee.order("a", "SOLUSDT", "buy", "10")
    nofee.quote("SOLUSDT", "90", "90")
    (fill,) = fills(nofee.order("b", "SOLUSDT", "sell", "25"))
    assert fill.realized_pnl == 10 * (90 - 100) == -100
    pos = nofee.position("SOLUSDT")
    assert (pos.side, pos.qty, pos.entry_price) == ("short", D(15), D(90))


def test_close_command_market_closes_whole_position(nofee) -> None:
    nofee.quote("SOLUSDT", "100", "100.01")
    nofee.order("a", "SOLUSDT", "sell", "4", margin_mode="isolated", leverage=5)
    nofee.quote("SOLUSDT", "95", "95.01")
    (fill,) = fills(nofee.apply(ev.ClosePosition(nofee.tick(), "SOLUSDT")))
    # a short closes by buying at the ask: 4 * (100 - 95.01) = 19.96
    assert (fill.side, fill.qty, fill.price, fill.realized_pnl) == (
        "buy",
        4,
        D("95.01"),
        D("19.96"),
    )
    acct = nofee.account()
    assert acct.positions == () and acct.wallet_balance == D("10019.96")


def test_close_without_position_is_rejected(driver) -> None:
    (rej,) = driver.apply(ev.ClosePosition(driver.tick(), "BTCUSDT"))
    assert isinstance(rej, ev.Rejected) and rej.reason == "no open BTCUSDT position to close"


def test_isolated_margin_comes_from_wallet_and_returns_on_close(nofee) -> None:
    nofee.quote("ETHUSDT", "3000", "3000")
    nofee.order("a", "ETHUSDT", "buy", "5", margin_mode="isolated", leverage=10)
    acct = nofee.account()
    # isolated margin 5*3000/10 = 1500 stays inside the wallet balance
    assert (acct.wallet_balance, acct.available_balance) == (10000, 8500)
    assert acct.positions[0].margin == 1500
    nofee.order("b", "ETHUSDT", "sell", "2")
    # reducing 2 of 5 releases 2/5 of the margin: 1500 - 600 = 900
    assert nofee.position("ETHUSDT").margin == 900
