"""The `queue` fill model: a resting limit order joins the back of the queue at its price and
fills only as traded volume gets past what was ahead of it (README "Fill models"). The tape
and the expected queue positions and fills are written out by hand."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from papertrade.core import events as ev
from papertrade.core.engine import Engine

T = 1_767_225_600_000
BTC = "BTCUSDT"
MAKER = D("0.0002")


def engine() -> Engine:
    settings = ev.SessionSettings(D("1000000"), D("0.0005"), MAKER, fill_model="queue")
    return Engine(settings=settings)


def lv(*pairs: tuple[str, str]) -> tuple[ev.Level, ...]:
    return tuple((D(p), D(q)) for p, q in pairs)


BIDS = lv(("59999.9", "1.5"), ("59999.5", "3.2"), ("59999.0", "2.0"))
ASKS = lv(("60000.0", "1.0"), ("60000.5", "2.0"))


def rest(e: Engine, id: str, side: ev.Side, qty: str, price: str, ts: int) -> ev.OrderState:
    out = e.apply(ev.PlaceOrder(ts, id, BTC, side, D(qty), "limit", D(price)))
    assert out == [], out
    return next(o for o in e.account().open_orders if o.id == id)


def ahead(e: Engine, id: str) -> D | None:
    return next(o.queue_ahead for o in e.account().open_orders if o.id == id)


def fills(out: list[ev.Outcome]) -> list[ev.Fill]:
    return [o for o in out if isinstance(o, ev.Fill)]


def test_a_resting_buy_fills_only_after_the_volume_ahead_of_it_has_traded() -> None:
    e = engine()
    e.apply(ev.Book(T, BTC, BIDS, ASKS))
    order = rest(e, "b", "buy", "1", "59999.5", T + 1)
    assert order.queue_ahead == D("3.2")  # the book's quantity at 59,999.5
    tape = [  # (trade qty at 59,999.5, ahead after, filled by it)
        ("1.0", D("2.2"), None),
        ("2.0", D("0.2"), None),
        ("0.5", D("0"), D("0.3")),  # 0.2 works off the queue, 0.3 fills the order
        ("0.4", D("0"), D("0.4")),
        ("1.0", None, D("0.3")),  # the last 0.3: the order is done
    ]
    for n, (traded, after, filled) in enumerate(tape):
        out = e.apply(ev.Trade(T + 2 + n, BTC, D("59999.5"), D(traded)))
        got = fills(out)
        if filled is None:
            assert got == []
        else:
            (fill,) = got
            assert (fill.price, fill.qty, fill.liquidity) == (D("59999.5"), filled, "maker")
            assert fill.fee == filled * D("59999.5") * MAKER
        if after is not None:
            assert ahead(e, "b") == after
    assert not e.orders
    pos = e.account().positions[0]
    assert (pos.qty, pos.entry_price) == (D("1"), D("59999.5"))


def test_a_trade_through_the_price_fills_the_whole_rest_at_once() -> None:
    e = engine()
    e.apply(ev.Book(T, BTC, BIDS, ASKS))
    rest(e, "b", "buy", "1", "59999.5", T + 1)
    assert fills(e.apply(ev.Trade(T + 2, BTC, D("59999.5"), D("3.5"))))[0].qty == D("0.3")
    (fill,) = fills(e.apply(ev.Trade(T + 3, BTC, D("59999.4"), D("0.001"))))
    assert (fill.qty, fill.price) == (D("0.7"), D("59999.5"))


def test_a_quote_through_the_price_fills_it_but_a_quote_at_the_price_does_not() -> None:
    e = engine()
    e.apply(ev.Book(T, BTC, BIDS, ASKS))
    rest(e, "s", "sell", "0.5", "60000.5", T + 1)
    assert ahead(e, "s") == D("2.0")
    assert fills(e.apply(ev.Quote(T + 2, BTC, D("60000.5"), D("60000.6")))) == []
    (fill,) = fills(e.apply(ev.Quote(T + 3, BTC, D("60000.6"), D("60000.7"))))
    assert (fill.qty, fill.price, fill.liquidity) == (D("0.5"), D("60000.5"), "maker")


def test_cancellations_ahead_cap_the_queue_and_a_new_best_price_has_nobody_ahead() -> None:
    e = engine()
    e.apply(ev.Book(T, BTC, BIDS, ASKS))
    rest(e, "b", "buy", "1", "59999.5", T + 1)
    e.apply(ev.Book(T + 2, BTC, lv(("59999.9", "1"), ("59999.5", "1.1")), ASKS))
    assert ahead(e, "b") == D("1.1")
    e.apply(ev.Book(T + 3, BTC, lv(("59999.9", "1"), ("59999.5", "4")), ASKS))
    assert ahead(e, "b") == D("1.1")  # orders joining behind it do not move it back
    e.apply(ev.Book(T + 4, BTC, lv(("59999.9", "1"), ("59999.0", "4")), ASKS))
    assert ahead(e, "b") == D("0")  # the level emptied within the shown range
    assert rest(e, "best", "buy", "0.1", "59999.9", T + 5).queue_ahead == D("1")
    # below the deepest shown bid the book says nothing: counted as nobody ahead
    assert rest(e, "deep", "buy", "0.1", "59990.0", T + 6).queue_ahead == D("0")


def test_an_improving_order_has_nobody_ahead_and_other_models_show_no_queue() -> None:
    e = engine()
    e.apply(ev.Book(T, BTC, BIDS, ASKS))
    assert rest(e, "b", "buy", "0.1", "59999.8", T + 1).queue_ahead == D("0")
    other = Engine(settings=ev.SessionSettings(D("1000000"), fill_model="book"))
    other.apply(ev.Book(T, BTC, BIDS, ASKS))
    assert rest(other, "b", "buy", "0.1", "59999.5", T + 1).queue_ahead is None


def test_a_partly_filled_order_holds_margin_for_its_rest_and_a_cancel_frees_only_that() -> None:
    e = engine()
    e.apply(ev.MarkPrice(T, BTC, D("60000")))
    e.apply(ev.Book(T, BTC, BIDS, ASKS))
    rest(e, "b", "buy", "2", "59999.5", T + 1)
    e.apply(ev.Trade(T + 2, BTC, D("59999.5"), D("4.2")))  # 3.2 ahead, then 1 of 2 fills
    (order,) = e.account().open_orders
    assert order.qty == D("1")
    held_rest = D("1") * D("59999.5") / 20  # initial margin of the rest at 20× (no open loss)
    # the filled 1 BTC: initial margin at mark 60,000 with 20×, uPnL (60,000 − 59,999.5) × 1
    wallet = D("1000000") - D("59999.5") * MAKER
    im = D("60000") / 20
    upnl = D("60000") - D("59999.5")
    assert e.available_balance() == wallet + upnl - im - held_rest
    e.apply(ev.CancelOrder(T + 3, "b"))
    assert e.available_balance() == wallet + upnl - im
    assert e.account().positions[0].qty == D("1")


def test_queue_positions_and_the_book_survive_a_state_round_trip() -> None:
    e = engine()
    e.apply(ev.Book(T, BTC, BIDS, ASKS))
    rest(e, "b", "buy", "1", "59999.5", T + 1)
    e.apply(ev.Trade(T + 2, BTC, D("59999.5"), D("1")))
    copy = Engine.from_state(e.to_state())
    assert copy.to_state() == e.to_state()
    assert copy.settings.fill_model == "queue"
    assert ahead(copy, "b") == D("2.2")
    tail: list[ev.Event] = [
        ev.Trade(T + 3, BTC, D("59999.5"), D("2.5")),
        ev.PlaceOrder(T + 4, "m", BTC, "buy", D("2"), "market"),
    ]
    assert [copy.apply(x) for x in tail] == [e.apply(x) for x in tail]


@settings(max_examples=50, deadline=None)
@given(
    shown=st.integers(0, 5000),
    qty=st.integers(1, 3000),
    tape=st.lists(st.integers(1, 2000), max_size=12),
)
def test_no_resting_order_fills_before_the_volume_ahead_of_it_has_traded(
    shown: int, qty: int, tape: list[int]
) -> None:
    step = D("0.001")
    price = D("59999.5")
    e = engine()
    bids = ((D("59999.9"), D("1")), (price, shown * step)) if shown else ((D("59999.9"), D(1)),)
    e.apply(ev.Book(T, BTC, (*bids, (D("59990.0"), D("1"))), ASKS))
    # 0.002 BTC minimum keeps the order above the 100 USDT minimum notional
    rest(e, "b", "buy", str((qty + 1) * step), str(price), T + 1)
    traded = filled = D(0)
    for n, q in enumerate(tape):
        traded += q * step
        filled += sum(
            (f.qty for f in fills(e.apply(ev.Trade(T + 2 + n, BTC, price, q * step)))), D(0)
        )
        assert filled == min((qty + 1) * step, max(D(0), traded - shown * step))


def test_stops_and_reduce_only_orders_act_on_the_partly_filled_position() -> None:
    e = engine()
    e.apply(ev.Book(T, BTC, BIDS, ASKS))
    e.apply(ev.Trade(T, BTC, D("60000.0"), D("0.1")))
    rest(e, "b", "buy", "2", "59999.5", T + 1)
    e.apply(ev.Trade(T + 2, BTC, D("59999.5"), D("3.9")))  # 3.2 ahead, then 0.7 of 2 fills
    assert e.account().positions[0].qty == D("0.7")
    # a reduce-only sell bigger than the position so far: cut to the 0.7 held now
    out = e.apply(
        ev.PlaceOrder(T + 3, "tp", BTC, "sell", D("1.5"), "limit", D("60000.5"), reduce_only=True)
    )
    assert out == [ev.ReduceOnlyCut(T + 3, "tp", BTC, D("1.5"), D("0.7"))]
    stop = ev.PlaceOrder(
        T + 4, "sl", BTC, "sell", D(0), "stop_market", trigger_price=D("59000.0"),
        close_position=True,
    )  # fmt: skip
    assert e.apply(stop) == []
    e.apply(ev.Trade(T + 5, BTC, D("59999.5"), D("0.2")))  # 0.2 more: position 0.9
    assert e.account().positions[0].qty == D("0.9")
    # the book's 2.0 at 60,000.5 is ahead of the sell; 2.5 traded there: 0.5 reaches it
    out = e.apply(ev.Trade(T + 6, BTC, D("60000.5"), D("2.5")))
    (fill,) = fills(out)
    assert (fill.order_id, fill.qty) == ("tp", D("0.5"))
    assert e.account().positions[0].qty == D("0.4")
    assert next(o.qty for o in e.account().open_orders if o.id == "tp") == D("0.2")
    out = e.apply(ev.Trade(T + 7, BTC, D("58999.0"), D("0.1")))  # through b: it fills; sl fires
    got = fills(out)
    assert [(f.order_id, f.qty) for f in got] == [("b", D("1.1")), ("sl", D("1.5"))]
    assert not e.positions
    # the reduce-only rest went with the position it reduced
    assert "tp" not in e.orders
