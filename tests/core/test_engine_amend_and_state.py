"""Amending open orders, and the engine state carrying every new order kind across a save."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from papertrade.core import events as ev
from papertrade.core.engine import Engine


def place(d: Any, id: str, side: ev.Side, kind: ev.OrderType, qty: str, **kw: Any) -> Any:
    for name in ("trigger_price", "price", "activation_price", "callback_rate"):
        if name in kw:
            kw[name] = D(kw[name])
    return d.apply(ev.PlaceOrder(d.tick(), id, "BTCUSDT", side, D(qty), kind, **kw))


def amend(d: Any, id: str, **kw: str) -> list[ev.Outcome]:
    return d.apply(ev.AmendOrder(d.tick(), id, **{k: D(v) for k, v in kw.items()}))


def long_one(d: Any) -> None:
    d.quote("BTCUSDT", "59990", "60000")
    d.trade("BTCUSDT", "60000")
    d.order("long", "BTCUSDT", "buy", "1")


def test_moving_a_stop_keeps_its_id_and_fires_at_the_new_trigger(nofee) -> None:
    long_one(nofee)
    place(nofee, "sl", "sell", "stop_market", "1", trigger_price="58000", reduce_only=True)
    assert amend(nofee, "sl", trigger_price="59500") == []
    (state,) = nofee.account().open_orders
    assert (state.id, state.trigger_price) == ("sl", 59500)
    out = nofee.trade("BTCUSDT", "59500")
    assert isinstance(out[0], ev.OrderTriggered) and out[0].trigger_price == 59500


def test_an_amend_that_would_trigger_at_once_is_refused_and_changes_nothing(nofee) -> None:
    long_one(nofee)
    place(nofee, "sl", "sell", "stop_market", "1", trigger_price="58000", reduce_only=True)
    before = nofee.engine.to_state()
    (rej,) = amend(nofee, "sl", trigger_price="60000")
    assert isinstance(rej, ev.Rejected) and rej.command == "amend" and "-2021" in rej.reason
    after = nofee.engine.to_state()
    assert after == {**before, "last_ts": after["last_ts"]}


def test_amending_a_limit_order_rechecks_it_and_a_refusal_restores_it(nofee) -> None:
    nofee.quote("BTCUSDT", "59990", "60000")
    place(nofee, "bid", "buy", "limit", "0.1", price="59000")
    place(nofee, "bid2", "buy", "limit", "0.1", price="58000")
    # 0.1 × 59,000 / 20 + 0.1 × 58,000 / 20 = 295 + 290 held
    assert nofee.account().available_balance == D(10000) - 295 - 290
    assert amend(nofee, "bid", qty="0.2") == []
    assert nofee.account().available_balance == D(10000) - 590 - 290  # 0.2 × 59,000 / 20
    # re-placed, as Binance's modify, it queues behind the orders it was ahead of
    assert [o.id for o in nofee.account().open_orders] == ["bid2", "bid"]
    before = nofee.engine.to_state()
    (rej,) = amend(nofee, "bid", qty="10")  # 10 × 59,000 / 20 = 29,500 > 9,120 available
    assert isinstance(rej, ev.Rejected) and "insufficient available balance" in rej.reason
    assert nofee.engine.to_state() == {**before, "last_ts": nofee.ts}
    assert nofee.engine.orders["bid"].qty == D("0.2")
    # moved across the market it fills as a taker, under the same id
    (fill,) = amend(nofee, "bid", price="60100")
    assert isinstance(fill, ev.Fill) and (fill.order_id, fill.price) == ("bid", 60000)


def test_amend_refusals_say_why(nofee) -> None:
    long_one(nofee)
    place(nofee, "ts", "sell", "trailing_stop_market", "1", callback_rate="1", reduce_only=True)
    place(nofee, "cp", "sell", "stop_market", "0", trigger_price="59000", close_position=True)
    for id, kw, words in (
        ("nope", {"qty": "1"}, "no open order with id nope"),
        ("ts", {"trigger_price": "59000"}, "a trailing stop has no trigger price"),
        ("cp", {"qty": "1"}, "a close_position order has no qty"),
        ("cp", {"price": "58000"}, "has no limit price"),
    ):
        (rej,) = amend(nofee, id, **kw)
        assert isinstance(rej, ev.Rejected) and words in rej.reason


def test_state_round_trip_carries_conditional_orders_and_trailing_progress(nofee) -> None:
    long_one(nofee)
    nofee.mark("BTCUSDT", "60000")
    place(nofee, "ts", "sell", "trailing_stop_market", "1", callback_rate="2", reduce_only=True)
    place(nofee, "sl", "sell", "stop_limit", "1", trigger_price="58000", price="57900",
          working_type="mark", reduce_only=True, price_protect=True)  # fmt: skip
    good_till = nofee.ts + 1000 + 3_600_000
    place(nofee, "g", "buy", "limit", "0.1", price="55000", time_in_force="GTD",
          good_till=good_till)  # fmt: skip
    nofee.trade("BTCUSDT", "62000")  # the trailing stop's high: 62,000; level 60,760
    state = json.loads(json.dumps(nofee.engine.to_state()))
    copy = Engine.from_state(state)
    again = copy.to_state()
    assert (again["orders"], again["conditional_orders"]) == (
        state["orders"],
        state["conditional_orders"],
    )
    assert state["orders"][0]["good_till"] == good_till
    assert copy.account().open_orders == nofee.account().open_orders
    later: list[ev.Event] = [
        ev.Trade(nofee.ts + 1000, "BTCUSDT", D("61000"), D("1")),
        ev.MarkPrice(good_till, "BTCUSDT", D("61000")),
        ev.Trade(good_till + 1, "BTCUSDT", D("60760"), D("1")),
    ]
    assert [nofee.engine.apply(e) for e in later] == [copy.apply(e) for e in later]
    assert copy.account() == nofee.engine.account()
    assert copy.positions == {}  # the trailing stop sold at 60,760


def test_a_state_from_before_conditional_orders_still_loads(nofee) -> None:
    nofee.quote("BTCUSDT", "59990", "60000")
    place(nofee, "bid", "buy", "limit", "0.1", price="59000")
    state = nofee.engine.to_state()
    assert "conditional_orders" not in state and "good_till" not in state["orders"][0]
    assert Engine.from_state(state).to_state() == state


@settings(max_examples=60, deadline=None)
@given(
    side=st.sampled_from(["buy", "sell"]),
    moves=st.lists(
        st.tuples(st.sampled_from(["trade", "quote"]), st.integers(-3000, 3000)),
        min_size=1,
        max_size=12,
    ),
    working=st.sampled_from(["contract", "mark"]),
)
def test_a_stop_never_fills_better_than_the_first_watched_price_past_its_trigger(
    side: ev.Side, moves: list[tuple[str, int]], working: ev.WorkingType
) -> None:
    """Whatever quotes (stale or fresh) surround it, a triggered stop fills at or worse
    than the watched price that triggered it, which is itself at or past the trigger."""
    e = Engine(settings=ev.SessionSettings(D(10_000_000), D(0), D(0)))
    ts = 1_000
    e.apply(ev.Trade(ts, "BTCUSDT", D(60000), D(1)))
    e.apply(ev.MarkPrice(ts, "BTCUSDT", D(60000)))
    e.apply(ev.Quote(ts, "BTCUSDT", D(59999), D(60001)))
    trigger = D(59000) if side == "sell" else D(61000)
    out = e.apply(
        ev.PlaceOrder(ts, "s", "BTCUSDT", side, D(1), "stop_market", trigger_price=trigger,
                      working_type=working)
    )  # fmt: skip
    assert out == []
    price = D(60000)
    for kind, step in moves:
        ts += 1
        price = max(D(1000), price + step)
        if kind == "quote":
            e.apply(ev.Quote(ts, "BTCUSDT", price - 1, price + 1))
            continue
        event: ev.Event = (
            ev.Trade(ts, "BTCUSDT", price, D(1))
            if working == "contract"
            else ev.MarkPrice(ts, "BTCUSDT", price)
        )
        out = e.apply(event)
        triggered = [o for o in out if isinstance(o, ev.OrderTriggered)]
        if not triggered:
            assert (price > trigger) if side == "sell" else (price < trigger)
            continue
        assert triggered[0].watched_price == price
        assert (price <= trigger) if side == "sell" else (price >= trigger)
        (fill,) = [o for o in out if isinstance(o, ev.Fill)]
        assert (fill.price <= price) if side == "sell" else (fill.price >= price)
        break
