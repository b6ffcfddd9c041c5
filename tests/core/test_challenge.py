"""Challenge rules, refills and named gaps, on the real engine with numbers worked by hand.

Every account here trades without fees, marks only (a market order fills at the mark), so
equity = 10,000 + qty × (mark − entry) and each boundary below is plain arithmetic.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal as D

import pytest

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine

DAY1 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC
DAY2 = DAY1 + 86_400_000


def engine(**rules: object) -> Engine:
    settings = ev.SessionSettings(D("10000"), D("0"), D("0"))
    return Engine(settings=replace(settings, **rules))  # type: ignore[arg-type]


def mark(e: Engine, ts: int, price: str, symbol: str = "BTCUSDT") -> list[ev.Outcome]:
    return e.apply(ev.MarkPrice(ts, symbol, D(price)))


def order(e: Engine, ts: int, id: str, side: ev.Side, qty: str, **kw: object) -> list[ev.Outcome]:
    return e.apply(ev.PlaceOrder(ts, id, "BTCUSDT", side, D(qty), "market", **kw))  # type: ignore[arg-type]


def kinds(out: list[ev.Outcome]) -> list[str]:
    return [o.type for o in out]


@pytest.mark.parametrize("limit", [ev.Limit(D("500")), ev.Limit(D("5"), percent=True)])
def test_daily_loss_is_reached_at_its_exact_limit_and_blocks_opening_until_the_next_utc_day(
    limit: ev.Limit,
) -> None:
    e = engine(max_daily_loss=limit)
    mark(e, DAY1, "60000")
    assert kinds(order(e, DAY1 + 1, "long", "buy", "1")) == ["fill"]
    # 1 × (59,500.01 − 60,000) = −499.99: short of 500 (5 % of the day's opening 10,000)
    assert mark(e, DAY1 + 2, "59500.01") == []
    # 1 × (59,500 − 60,000) = −500: reached
    assert mark(e, DAY1 + 3, "59500") == [
        ev.RuleBreached(DAY1 + 3, "max_daily_loss", D("500"), D("500"))
    ]
    [refused] = order(e, DAY1 + 4, "more", "buy", "0.1")
    assert isinstance(refused, ev.Rejected)
    assert "max_daily_loss" in refused.reason and "00:00 UTC" in refused.reason
    # closing is never refused: half the position sold, realized 0.5 × −500 = −250
    [cut] = order(e, DAY1 + 5, "cut", "sell", "0.5")
    assert isinstance(cut, ev.Fill) and cut.realized_pnl == D("-250")
    # reached once a day, not again on the next lower price
    assert mark(e, DAY1 + 6, "59000") == []
    # the last millisecond of the day is still blocked; the next day opens
    assert kinds(order(e, DAY2 - 1, "late", "buy", "0.1")) == ["rejected"]
    assert kinds(order(e, DAY2, "next-day", "buy", "0.1")) == ["fill"]
    assert e.challenge is not None and not e.challenge.passed


def test_the_next_day_measures_its_loss_from_the_previous_days_closing_equity() -> None:
    e = engine(max_daily_loss=ev.Limit(D("300")))
    mark(e, DAY1, "60000")
    order(e, DAY1 + 1, "long", "buy", "1")
    assert mark(e, DAY1 + 2, "59800") == []  # −200 on day 1: equity 9,800 at its close
    # day 2 opens at 9,800; −299.99 more (59,500.01) is not yet 300, −300 (59,500) is
    assert mark(e, DAY2, "59500.01") == []
    assert mark(e, DAY2 + 1, "59500") == [
        ev.RuleBreached(DAY2 + 1, "max_daily_loss", D("300"), D("300"))
    ]


def test_trailing_drawdown_is_measured_from_the_peak_and_blocks_for_the_rest_of_the_session() -> (
    None
):
    e = engine(max_drawdown=ev.Limit(D("4"), percent=True))
    mark(e, DAY1, "60000")
    order(e, DAY1 + 1, "long", "buy", "1")
    assert mark(e, DAY1 + 2, "61000") == []  # peak equity 11,000: limit 4 % = 440
    assert mark(e, DAY1 + 3, "60560.01") == []  # 439.99 below the peak
    assert mark(e, DAY1 + 4, "60560") == [
        ev.RuleBreached(DAY1 + 4, "max_drawdown", D("440"), D("440"))
    ]
    assert kinds(order(e, DAY1 + 5, "more", "buy", "0.1")) == ["rejected"]
    [closed] = order(e, DAY1 + 6, "close", "sell", "1", reduce_only=True)
    assert isinstance(closed, ev.Fill) and closed.realized_pnl == D("560")
    [still] = order(e, DAY2 + 7, "next-day", "buy", "0.1")
    assert isinstance(still, ev.Rejected) and "rest of the session" in still.reason


def test_max_leverage_refuses_an_opening_order_above_it_and_never_a_closing_one() -> None:
    e = engine(max_leverage=10)
    mark(e, DAY1, "60000")
    [refused] = order(e, DAY1 + 1, "at-20x", "buy", "0.1")  # the default 20x
    assert isinstance(refused, ev.Rejected)
    assert refused.reason.startswith("challenge rule max_leverage: 20x is above the 10x")
    assert e.symbol_setting("BTCUSDT")[1] == 20  # nothing changed
    assert kinds(order(e, DAY1 + 2, "at-10x", "buy", "0.1", leverage=10)) == ["fill"]
    e.apply(ev.SetLeverage(DAY1 + 3, "BTCUSDT", 20))
    assert kinds(order(e, DAY1 + 4, "close", "sell", "0.1")) == ["fill"]


def test_max_position_notional_allows_its_exact_size_and_refuses_a_step_more() -> None:
    e = engine(max_position_notional=D("30000"))
    mark(e, DAY1, "60000")
    assert kinds(order(e, DAY1 + 1, "half", "buy", "0.5")) == ["fill"]  # 0.5 × 60,000 = 30,000
    # the smallest order BTCUSDT takes (100 USDT minimum): 0.502 × 60,000 = 30,120
    [refused] = order(e, DAY1 + 2, "more", "buy", "0.002")
    assert isinstance(refused, ev.Rejected)
    assert "30,120.00 USDT, above the 30,000.00 USDT" in refused.reason
    assert kinds(order(e, DAY1 + 3, "trim", "sell", "0.2")) == ["fill"]


def test_a_wiped_account_is_refilled_to_the_starting_balance_and_each_wipe_counted() -> None:
    settings = ev.SessionSettings(D("1000"), D("0"), D("0"), refill=True)
    e = Engine(settings=settings)
    mark(e, DAY1, "60000")
    order(e, DAY1 + 1, "first", "buy", "1", leverage=100)  # margin 600 of 1,000
    # 50,000 is far past bankruptcy (59,000 = 60,000 − 1,000): the wallet goes to 0
    out = mark(e, DAY1 + 2, "50000")
    assert kinds(out) == ["liquidation", "refill"]
    assert out[-1] == ev.Refill(DAY1 + 2, D("1000"))
    assert e.wallet_balance() == D("1000") and not e.positions
    order(e, DAY1 + 3, "again", "buy", "1", leverage=100)
    assert kinds(mark(e, DAY1 + 4, "45000")) == ["liquidation", "refill"]
    assert e.challenge is not None
    assert e.challenge.refills == [(DAY1 + 2, D("1000")), (DAY1 + 4, D("1000"))]


def test_a_loss_that_leaves_money_is_no_wipe() -> None:
    settings = ev.SessionSettings(D("10000"), D("0"), D("0"), refill=True)
    e = Engine(settings=settings)
    mark(e, DAY1, "60000")
    order(e, DAY1 + 1, "iso", "buy", "1", leverage=50, margin_mode="isolated")  # margin 1,200
    assert kinds(mark(e, DAY1 + 2, "50000")) == ["liquidation"]
    assert e.wallet_balance() == D("8800")  # 10,000 − the isolated margin, no refill


def test_a_liquidation_after_a_feed_gap_carries_the_gap_and_the_move() -> None:
    e = engine()
    mark(e, DAY1, "60000")
    order(e, DAY1 + 1, "iso", "buy", "1", leverage=50, margin_mode="isolated")
    mark(e, DAY1 + 1000, "59800")
    # 47 s later: (58,000 − 59,800) / 59,800 = −3.0100…% → −3.01
    [liq] = mark(e, DAY1 + 48_000, "58000")
    assert isinstance(liq, ev.Liquidation)
    assert (liq.after_gap_ms, liq.price_move) == (47_000, D("-3.01"))
    line = json.loads(codec.dumps(liq))
    assert (line["after_gap_ms"], line["price_move"]) == (47_000, "-3.01")


def stop_after(gap_ms: int, price: str) -> ev.OrderTriggered:
    """A sell stop at 59,990 on the mark, triggered by `price` `gap_ms` after 60,000."""
    e = engine()
    mark(e, DAY1, "60000")
    e.apply(
        ev.PlaceOrder(
            DAY1, "stop", "BTCUSDT", "sell", D("0.01"), "stop_market",
            trigger_price=D("59990"), working_type="mark",
        )
    )  # fmt: skip
    out = mark(e, DAY1 + gap_ms, price)
    trig = out[0]
    assert isinstance(trig, ev.OrderTriggered)
    return trig


def test_a_stop_on_the_first_price_after_a_gap_names_it_at_the_boundaries() -> None:
    # 5,000 ms is no gap, 5,001 is; −1.67 % = (59,000 − 60,000) / 60,000
    assert stop_after(5_000, "59000").after_gap_ms is None
    late = stop_after(5_001, "59000")
    assert (late.after_gap_ms, late.price_move) == (5_001, D("-1.67"))
    # a 2 % move is no gap, a step more is: (58,799.9 − 60,000) / 60,000 = −2.000166…%
    assert stop_after(1_000, "58800").after_gap_ms is None
    jump = stop_after(1_000, "58799.9")
    assert (jump.after_gap_ms, jump.price_move) == (1_000, D("-2.00"))


def test_the_engine_state_carries_the_challenge_and_old_states_load_without_it() -> None:
    e = engine(max_daily_loss=ev.Limit(D("500")), max_drawdown=ev.Limit(D("20"), True))
    mark(e, DAY1, "60000")
    order(e, DAY1 + 1, "long", "buy", "1")
    mark(e, DAY1 + 2, "59500")  # daily loss reached
    state = json.loads(json.dumps(e.to_state()))
    back = Engine.from_state(state)
    for key in ("settings", "challenge", "markets"):
        assert back.to_state()[key] == e.to_state()[key]
    assert state["settings"]["rules"] == {"max_daily_loss": "500", "max_drawdown": "20%"}
    assert kinds(order(back, DAY1 + 3, "more", "buy", "0.1")) == ["rejected"]
    assert kinds(mark(back, DAY1 + 4, "59000")) == []  # once a day, after the reload too
    old = {k: v for k, v in state.items() if k != "challenge"}
    old["settings"] = {k: v for k, v in state["settings"].items() if k != "rules"}
    plain = Engine.from_state(old)
    assert plain.challenge is None
    assert kinds(order(plain, DAY1 + 3, "more", "buy", "0.1")) == ["fill"]


def test_the_session_line_reads_and_writes_the_rules() -> None:
    text = (
        '{"type":"session","max_daily_loss":"5%","max_drawdown":"1000","max_leverage":10,'
        '"max_position_notional":"50000","refill":true}'
    )
    settings = codec.parse_line(text)
    assert isinstance(settings, ev.SessionSettings)
    assert settings.max_daily_loss == ev.Limit(D("5"), True)
    assert settings.max_drawdown == ev.Limit(D("1000"))
    assert (settings.max_leverage, settings.max_position_notional, settings.refill) == (
        10,
        D("50000"),
        True,
    )
    assert codec.parse_line(codec.dumps(settings)) == settings
    assert "max_" not in codec.dumps(ev.SessionSettings())  # no rules, no keys


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("max_daily_loss", '"5x"', "max_daily_loss"),
        ("max_daily_loss", '"150%"', "at most 100"),
        ("max_drawdown", '"-10"', "max_drawdown"),
        ("max_drawdown", "500", "must be a string"),
        ("max_leverage", "0", "from 1"),
        ("max_position_notional", '"0"', "max_position_notional"),
        ("refill", '"yes"', "refill"),
    ],
)
def test_a_bad_rule_is_refused_with_its_field(field: str, value: str, words: str) -> None:
    with pytest.raises(codec.FormatError) as caught:
        codec.parse_line(f'{{"type":"session","{field}":{value}}}')
    assert words in caught.value.message


def test_in_hedge_mode_a_breach_refuses_either_side_opening_and_allows_closing() -> None:
    e = engine(max_drawdown=ev.Limit(D("100")), position_mode="hedge")
    mark(e, DAY1, "60000")
    order(e, DAY1 + 1, "long", "buy", "1", position_side="long")
    # 1 × (59,900 − 60,000) = −100 from the 10,000 peak: reached
    assert kinds(mark(e, DAY1 + 2, "59900")) == ["rule_breached"]
    assert kinds(order(e, DAY1 + 3, "short", "sell", "0.1", position_side="short")) == ["rejected"]
    assert kinds(order(e, DAY1 + 4, "more", "buy", "0.1", position_side="long")) == ["rejected"]
    assert kinds(order(e, DAY1 + 5, "out", "sell", "1", position_side="long")) == ["fill"]
