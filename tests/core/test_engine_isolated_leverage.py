"""Binance refuses to lower the leverage of an isolated position that is open (-4161,
"Leverage reduction is not supported in Isolated Margin Mode with open positions"); it would
otherwise pull margin in silently. Raising it stays allowed and moves no margin."""

from decimal import Decimal as D

from papertrade.core import events as ev


def one(outcomes, kind):
    (item,) = [o for o in outcomes if isinstance(o, kind)]
    return item


def test_lowering_isolated_leverage_with_a_position_is_refused_and_changes_nothing(nofee) -> None:
    nofee.mark("ETHUSDT", "3000")
    nofee.order("l", "ETHUSDT", "buy", "10", margin_mode="isolated", leverage=20)  # 1500
    before = nofee.engine.to_state()
    rej = one(nofee.apply(ev.SetLeverage(nofee.tick(), "ETHUSDT", 10)), ev.Rejected)
    assert rej.reason == (
        "cannot lower ETHUSDT leverage from 20x to 10x with an open isolated position (Binance "
        "-4161: leverage reduction is not supported in Isolated Margin Mode with open "
        "positions): close it first"
    )
    assert nofee.engine.to_state() == {**before, "last_ts": nofee.engine.last_ts}
    assert nofee.engine.symbol_setting("ETHUSDT") == ("isolated", 20)


def test_an_order_asking_for_lower_isolated_leverage_is_refused_whole(nofee) -> None:
    nofee.mark("ETHUSDT", "3000")
    nofee.order("l", "ETHUSDT", "buy", "10", margin_mode="isolated", leverage=20)
    rej = one(nofee.order("more", "ETHUSDT", "buy", "1", leverage=5), ev.Rejected)
    assert "Binance -4161" in rej.reason
    pos = nofee.position("ETHUSDT")
    assert (pos.qty, pos.leverage, pos.margin) == (10, 20, D(10 * 3000) / 20)


def test_raising_isolated_leverage_is_allowed_and_keeps_the_margin(nofee) -> None:
    nofee.mark("ETHUSDT", "3000")
    nofee.order("l", "ETHUSDT", "buy", "10", margin_mode="isolated", leverage=20)
    assert nofee.apply(ev.SetLeverage(nofee.tick(), "ETHUSDT", 25)) == []
    pos = nofee.position("ETHUSDT")
    assert (pos.leverage, pos.margin) == (25, D(10 * 3000) / 20)  # still 1,500
    assert nofee.account().available_balance == 10000 - 1500


def test_lowering_is_allowed_again_once_the_position_is_closed(nofee) -> None:
    nofee.mark("ETHUSDT", "3000")
    nofee.order("l", "ETHUSDT", "buy", "10", margin_mode="isolated", leverage=20)
    nofee.apply(ev.ClosePosition(nofee.tick(), "ETHUSDT"))
    assert nofee.apply(ev.SetLeverage(nofee.tick(), "ETHUSDT", 10)) == []
    assert nofee.engine.symbol_setting("ETHUSDT") == ("isolated", 10)


def test_lowering_cross_leverage_is_still_a_margin_question(nofee) -> None:
    nofee.mark("ETHUSDT", "3000")
    nofee.order("l", "ETHUSDT", "buy", "10", leverage=20)  # IM 1,500
    # cross: at 10x the IM is 3,000, and 10,000 covers it
    assert nofee.apply(ev.SetLeverage(nofee.tick(), "ETHUSDT", 10)) == []
    assert nofee.account().available_balance == 10000 - D(10 * 3000) / 10
