"""Conditional orders in hedge mode (orders.md §1, §4): each carries its `position_side`
through the trigger, and the order it becomes trades that side only; Binance's hedge refusals
come with their reason and change nothing.

Hand figures: no fees; long 1 and short 1 BTC both at 60,000 (cross 10x) on 100,000 USDT, so
realized PnL is qty × the move from 60,000 (a long gains when it rises, a short when it falls).
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from papertrade.core import events as ev

ENTRY = D(60000)


def place(d: Any, id: str, side: ev.Side, order_type: ev.OrderType, qty: str = "0.5", **kw: Any):
    for name in ("trigger_price", "price", "activation_price", "callback_rate"):
        if name in kw:
            kw[name] = D(kw[name])
    return d.apply(ev.PlaceOrder(d.tick(), id, "BTCUSDT", side, D(qty), order_type, **kw))


def at(d: Any, price: str) -> list[ev.Outcome]:
    """The market at one price: quote, trade and mark all at `price`."""
    return d.quote("BTCUSDT", price, price) + d.trade("BTCUSDT", price) + d.mark("BTCUSDT", price)


def both_sides(make_driver: Any, balance: str = "100000") -> Any:
    d = make_driver(balance=balance, taker="0", maker="0")
    assert d.apply(ev.SetPositionMode(d.tick(), "hedge")) == []
    at(d, "60000")
    kw: dict[str, Any] = {"margin_mode": "cross", "leverage": 10}
    assert isinstance(d.order("l", "BTCUSDT", "buy", "1", position_side="long", **kw)[0], ev.Fill)
    assert isinstance(d.order("s", "BTCUSDT", "sell", "1", position_side="short")[0], ev.Fill)
    return d


def sides(d: Any) -> dict[str, tuple[D, D]]:
    """Open positions of BTCUSDT: side → (qty, entry)."""
    return {p.position_side: (p.qty, p.entry_price) for p in d.account().positions}


# (type, side, fields, price path, fill price); the closing side is the one the side names
CLOSING = [
    ("stop_market", "long", {"trigger_price": "59000"}, ["59500", "59000"], "59000"),
    ("stop_market", "short", {"trigger_price": "61000"}, ["60500", "61000"], "61000"),
    # the limit 58,900 crosses the bid 59,000 when it triggers: a taker fill at 59,000
    ("stop_limit", "long", {"trigger_price": "59000", "price": "58900"}, ["59000"], "59000"),
    ("stop_limit", "short", {"trigger_price": "61000", "price": "61100"}, ["61000"], "61000"),
    ("take_profit_market", "long", {"trigger_price": "61000"}, ["61000"], "61000"),
    ("take_profit_market", "short", {"trigger_price": "59000"}, ["59000"], "59000"),
    ("take_profit_limit", "long", {"trigger_price": "61000", "price": "61000"}, ["61000"], "61000"),
    (
        "take_profit_limit",
        "short",
        {"trigger_price": "59000", "price": "59000"},
        ["59000"],
        "59000",
    ),
    # trailing 1 % from 60,000: the long's high 61,000 sets 61,000 × 0.99 = 60,390 (60,300 fires);
    # the short's low 59,000 sets 59,000 × 1.01 = 59,590 (59,700 fires)
    ("trailing_stop_market", "long", {"callback_rate": "1"}, ["61000", "60400", "60300"], "60300"),
    ("trailing_stop_market", "short", {"callback_rate": "1"}, ["59000", "59500", "59700"], "59700"),
]


@pytest.mark.parametrize(("order_type", "slot", "fields", "path", "fill"), CLOSING)
def test_each_conditional_type_closes_only_the_side_it_names(
    make_driver: Any, order_type: Any, slot: str, fields: dict[str, str], path: list[str], fill: str
) -> None:
    d = both_sides(make_driver)
    side: ev.Side = "sell" if slot == "long" else "buy"
    assert place(d, "c", side, order_type, position_side=slot, **fields) == []
    (waiting,) = [o for o in d.account().open_orders if o.id == "c"]
    assert waiting.position_side == slot
    out = [o for p in path for o in at(d, p)]
    (trig,) = [o for o in out if isinstance(o, ev.OrderTriggered)]
    (f,) = [o for o in out if isinstance(o, ev.Fill)]
    assert (trig.order_id, f.order_id, f.side, f.qty, f.price) == (
        "c",
        "c",
        side,
        D("0.5"),
        D(fill),
    )
    move = D(fill) - ENTRY
    assert f.realized_pnl == (D("0.5") * move if slot == "long" else D("0.5") * -move)
    other = "short" if slot == "long" else "long"
    assert sides(d) == {slot: (D("0.5"), ENTRY), other: (D(1), ENTRY)}
    assert d.engine.algo.orders == {}


@pytest.mark.parametrize(
    ("slot", "side", "trigger", "path", "entry"),
    [
        # buy 1 on the long side at 61,000: long 2 at (60,000 + 61,000) / 2 = 60,500
        ("long", "buy", "61000", ["61000"], "60500"),
        # sell 1 on the short side at 59,000: short 2 at (60,000 + 59,000) / 2 = 59,500
        ("short", "sell", "59000", ["59000"], "59500"),
    ],
)
def test_a_stop_that_opens_adds_to_its_own_side(
    make_driver: Any, slot: str, side: Any, trigger: str, path: list[str], entry: str
) -> None:
    d = both_sides(make_driver)
    assert (
        place(d, "add", side, "stop_market", "1", trigger_price=trigger, position_side=slot) == []
    )
    out = [o for p in path for o in at(d, p)]
    (f,) = [o for o in out if isinstance(o, ev.Fill)]
    assert (f.side, f.qty, f.price, f.realized_pnl) == (side, 1, D(trigger), 0)
    other = "short" if slot == "long" else "long"
    assert sides(d) == {slot: (D(2), D(entry)), other: (D(1), ENTRY)}


REFUSALS = [
    # (side, type, fields, words of the reason)
    ("buy", "stop_market", {"trigger_price": "61000", "close_position": True,
     "position_side": "long"}, "a buy on the long side would open, not close"),
    ("sell", "take_profit_market", {"trigger_price": "61000", "close_position": True,
     "position_side": "short"}, "a sell on the short side would open, not close"),
    ("sell", "stop_market", {"trigger_price": "59000"}, "say which position the order is for"),
    ("sell", "stop_market", {"trigger_price": "59000", "position_side": "both"},
     "say which position the order is for"),
    ("sell", "stop_market", {"trigger_price": "59000", "position_side": "long",
     "reduce_only": True}, "reduce_only is not accepted in hedge mode"),
    ("buy", "stop_market", {"trigger_price": "61000", "position_side": "short", "qty": "1.5"},
     "buy 1.5 on the short side would close more than the short BTCUSDT position of 1"),
    ("sell", "trailing_stop_market", {"callback_rate": "1", "position_side": "long",
     "qty": "2"}, "would close more than the long BTCUSDT position of 1"),
]  # fmt: skip


@pytest.mark.parametrize(("side", "order_type", "fields", "words"), REFUSALS)
def test_hedge_refusals_say_why_and_change_nothing(
    make_driver: Any, side: Any, order_type: Any, fields: dict[str, Any], words: str
) -> None:
    d = both_sides(make_driver)
    fields = dict(fields)
    qty = "0" if fields.get("close_position") else fields.pop("qty", "0.5")
    before = d.engine.to_state()
    (rej,) = place(d, "x", side, order_type, qty, **fields)
    assert isinstance(rej, ev.Rejected) and words in rej.reason, rej
    after = d.engine.to_state()
    assert after.pop("last_ts") > before.pop("last_ts")
    assert after == before


def test_a_closing_stop_needs_its_side_open_and_one_way_refuses_a_side(make_driver: Any) -> None:
    d = make_driver(balance="100000", taker="0", maker="0")
    d.apply(ev.SetPositionMode(d.tick(), "hedge"))
    at(d, "60000")
    d.order("l", "BTCUSDT", "buy", "1", position_side="long")
    (rej,) = place(d, "x", "buy", "stop_market", trigger_price="61000", position_side="short")
    assert isinstance(rej, ev.Rejected)
    assert rej.reason.startswith("no short BTCUSDT position to close")
    one_way = make_driver(taker="0", maker="0")
    at(one_way, "60000")
    (rej,) = place(one_way, "y", "sell", "stop_market", trigger_price="59000", position_side="long")
    assert isinstance(rej, ev.Rejected) and "needs hedge mode" in rej.reason
    assert d.engine.algo.orders == {} and one_way.engine.algo.orders == {}


def test_close_position_closes_its_whole_side_and_that_side_s_resting_orders(
    make_driver: Any,
) -> None:
    d = both_sides(make_driver)
    # a resting take-profit buy 0.4 on the short side at 55,000 already covers part of it
    assert d.order("tp", "BTCUSDT", "buy", "0.4", "55000", position_side="short") == []
    assert d.order("ltp", "BTCUSDT", "sell", "0.3", "65000", position_side="long") == []
    assert place(d, "ssl", "buy", "stop_market", "0", trigger_price="62000",
                 close_position=True, position_side="short") == []  # fmt: skip
    assert place(d, "lsl", "sell", "stop_market", "0", trigger_price="58000",
                 close_position=True, position_side="long") == []  # fmt: skip
    out = at(d, "62000")
    (f,) = [o for o in out if isinstance(o, ev.Fill)]
    # the whole short of 1 at 62,000: 1 × (60,000 − 62,000) = −2,000
    assert (f.order_id, f.side, f.qty, f.price, f.realized_pnl) == ("ssl", "buy", 1, 62000, -2000)
    cancelled = {(o.order_id, o.reason) for o in out if isinstance(o, ev.OrderCancelled)}
    assert cancelled == {("tp", "short position closed: nothing to reduce")}
    assert sides(d) == {"long": (D(1), ENTRY)}
    assert set(d.engine.orders) == {"ltp"} and set(d.engine.algo.orders) == {"lsl"}
    assert d.account().wallet_balance == 100000 - 2000


def test_a_closed_side_drops_its_closing_conditionals_and_keeps_close_position(
    make_driver: Any,
) -> None:
    d = both_sides(make_driver)
    place(d, "s-tp", "buy", "take_profit_market", trigger_price="55000", position_side="short")
    place(d, "s-all", "buy", "stop_market", "0", trigger_price="65000", close_position=True,
          position_side="short")  # fmt: skip
    place(d, "s-add", "sell", "stop_market", trigger_price="55000", position_side="short")
    place(d, "l-tp", "sell", "take_profit_market", trigger_price="65000", position_side="long")
    out = d.apply(ev.ClosePosition(d.tick(), "BTCUSDT", "short"))
    cancelled = [(o.order_id, o.reason) for o in out if isinstance(o, ev.OrderCancelled)]
    assert cancelled == [("s-tp", "position_closed")]
    assert set(d.engine.algo.orders) == {"s-all", "s-add", "l-tp"}
    # the short is gone: its close_position stop fires into nothing and says so
    out = at(d, "65000")
    assert ("s-all", "position_closed") in [
        (o.order_id, o.reason) for o in out if isinstance(o, ev.OrderCancelled)
    ]


def test_a_waiting_conditional_order_blocks_a_switch_of_position_mode(make_driver: Any) -> None:
    d = both_sides(make_driver)
    place(d, "s-all", "buy", "stop_market", "0", trigger_price="65000", close_position=True,
          position_side="short")  # fmt: skip
    d.apply(ev.ClosePosition(d.tick(), "BTCUSDT", "short"))
    d.apply(ev.ClosePosition(d.tick(), "BTCUSDT", "long"))
    assert d.account().positions == () and d.engine.orders == {}
    (rej,) = d.apply(ev.SetPositionMode(d.tick(), "one_way"))
    assert isinstance(rej, ev.Rejected)
    assert (
        rej.reason
        == "cannot switch to one-way mode with 1 open order: close and cancel everything first"
    )
    d.apply(ev.CancelOrder(d.tick(), "s-all"))
    assert d.apply(ev.SetPositionMode(d.tick(), "one_way")) == []
