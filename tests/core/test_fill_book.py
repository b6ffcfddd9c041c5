"""The `book` fill model: taking orders walk the latest book level by level (README "Fill
models"). Expected numbers are worked out here by hand from the levels: fee = qty × price ×
0.0005 per fill, entries averaged fill by fill at 10 decimals, the impact rule's ticks as
ceil(rest ÷ (shown qty ÷ ticks spanned))."""

from __future__ import annotations

from decimal import ROUND_CEILING
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine

T = 1_767_225_600_000
BTC = "BTCUSDT"
TAKER = D("0.0005")
MAKER = D("0.0002")
Q10 = D("1E-10")


def engine(model: ev.FillModel = "book", **kw: object) -> Engine:
    settings = ev.SessionSettings(D("1000000"), TAKER, MAKER, fill_model=model, **kw)  # type: ignore[arg-type]
    return Engine(settings=settings)


def book(bids: list[tuple[str, str]], asks: list[tuple[str, str]], ts: int = T) -> ev.Book:
    return ev.Book(
        ts,
        BTC,
        tuple((D(p), D(q)) for p, q in bids),
        tuple((D(p), D(q)) for p, q in asks),
    )


def market(id: str, side: ev.Side, qty: str, ts: int = T + 1, **kw: object) -> ev.PlaceOrder:
    return ev.PlaceOrder(ts, id, BTC, side, D(qty), "market", **kw)  # type: ignore[arg-type]


def limit(
    id: str, side: ev.Side, qty: str, price: str, ts: int = T + 1, **kw: object
) -> ev.PlaceOrder:
    return ev.PlaceOrder(ts, id, BTC, side, D(qty), "limit", D(price), **kw)  # type: ignore[arg-type]


def fills(out: list[ev.Outcome]) -> list[ev.Fill]:
    return [o for o in out if isinstance(o, ev.Fill)]


ASKS = [("60000.0", "0.5"), ("60000.5", "1.0"), ("60001.0", "2.0")]
BIDS = [("59999.9", "0.8"), ("59999.5", "1.2"), ("59999.0", "3.0")]


def test_a_market_buy_takes_each_level_with_its_own_fee_and_averages_the_entry() -> None:
    e = engine()
    e.apply(book(BIDS, ASKS))
    out = e.apply(market("m", "buy", "2.5"))
    got = fills(out)
    assert [(f.price, f.qty) for f in got] == [
        (D("60000.0"), D("0.5")),
        (D("60000.5"), D("1.0")),
        (D("60001.0"), D("1.0")),
    ]
    assert [f.fee for f in got] == [
        D("0.5") * D("60000.0") * TAKER,  # 15
        D("1.0") * D("60000.5") * TAKER,  # 30.00025
        D("1.0") * D("60001.0") * TAKER,  # 30.0005
    ]
    assert all(f.liquidity == "taker" for f in got)
    # the average is reported once, on the order's last fill: 150,001.5 / 2.5
    assert [f.average_price for f in got] == [None, None, D("60000.6")]
    # entry averaged fill by fill, as the position grows
    entry = D("60000.0")
    entry = ((D("0.5") * entry + D("1.0") * D("60000.5")) / D("1.5")).quantize(Q10)
    entry = ((D("1.5") * entry + D("1.0") * D("60001.0")) / D("2.5")).quantize(Q10)
    pos = e.account().positions[0]
    assert (pos.qty, pos.entry_price) == (D("2.5"), entry) and entry == D("60000.6")
    assert e.wallet_balance() == D("1000000") - D("15") - D("30.00025") - D("30.0005")


def test_a_market_order_past_the_shown_depth_fills_the_rest_by_the_impact_rule() -> None:
    e = engine()
    e.apply(book(BIDS, ASKS))
    out = e.apply(market("m", "buy", "5"))
    got = fills(out)
    # shown 3.5 BTC over (60001.0 − 60000.0) / 0.1 + 1 = 11 ticks; the rest 1.5 BTC needs
    # ceil(1.5 ÷ (3.5 ÷ 11)) = ceil(4.714…) = 5 ticks past 60001.0
    per_tick = D("3.5") / D(11)
    ticks = (D("1.5") / per_tick).to_integral_value(rounding=ROUND_CEILING)
    assert ticks == 5
    assert [(f.price, f.qty) for f in got][-1] == (D("60001.0") + ticks * D("0.1"), D("1.5"))
    assert got[-1].note is not None and "impact rule" in got[-1].note
    notional = D("30000") + D("60000.5") + D("120002.0") + D("1.5") * D("60001.5")
    assert got[-1].average_price == (notional / 5).quantize(D("1E-8"))
    assert sum(f.qty for f in got) == D("5")
    assert all(f.price >= D("60000.0") for f in got)


def test_a_market_sell_walks_the_bids_down_and_never_fills_better_than_the_last_level() -> None:
    e = engine()
    e.apply(book(BIDS, ASKS))
    got = fills(e.apply(market("s", "sell", "6")))
    # shown 5 BTC over (59999.9 − 59999.0) / 0.1 + 1 = 10 ticks: 0.5 per tick; the rest of
    # 1 BTC is 2 ticks below 59999.0
    assert [(f.price, f.qty) for f in got] == [
        (D("59999.9"), D("0.8")),
        (D("59999.5"), D("1.2")),
        (D("59999.0"), D("3.0")),
        (D("59998.8"), D("1")),
    ]


def test_the_take_bound_stops_the_walk_and_cancels_the_rest() -> None:
    e = engine(exchange_limits=True)
    e.apply(ev.MarkPrice(T, BTC, D("60000")))
    # BTCUSDT market take bound 0.05: no buy above 60,000 × 1.05 = 63,000
    e.apply(book([("59999.0", "5")], [("60000.0", "1"), ("62999.9", "1"), ("63000.1", "9")]))
    out = e.apply(market("m", "buy", "5"))
    assert [(f.price, f.qty) for f in fills(out)] == [
        (D("60000.0"), D("1")),
        (D("62999.9"), D("1")),
    ]
    assert out[-1] == ev.OrderCancelled(T + 1, "m", "market_take_bound")
    assert e.account().positions[0].qty == D("2")


def test_ioc_takes_what_the_book_shows_up_to_its_price_and_cancels_the_rest() -> None:
    e = engine()
    e.apply(book(BIDS, ASKS))
    out = e.apply(limit("i", "buy", "3", "60000.5", time_in_force="IOC"))
    assert [(f.price, f.qty) for f in fills(out)] == [
        (D("60000.0"), D("0.5")),
        (D("60000.5"), D("1.0")),
    ]
    assert out[-1] == ev.OrderCancelled(T + 1, "i", "ioc_remainder")
    assert not e.orders


def test_fok_is_cancelled_whole_when_the_book_cannot_fill_it_and_fills_when_it_can() -> None:
    e = engine()
    e.apply(book(BIDS, ASKS))
    before = e.wallet_balance()
    out = e.apply(limit("f", "buy", "2", "60000.5", time_in_force="FOK"))
    assert out == [ev.OrderCancelled(T + 1, "f", "fok_unfilled")]  # only 1.5 up to 60,000.5
    assert e.wallet_balance() == before and not e.positions and not e.orders
    out = e.apply(limit("g", "buy", "1.5", "60000.5", T + 2, time_in_force="FOK"))
    assert [(f.price, f.qty) for f in fills(out)] == [
        (D("60000.0"), D("0.5")),
        (D("60000.5"), D("1.0")),
    ]


def test_a_marketable_gtc_limit_fills_what_it_reaches_and_rests_the_rest_at_its_price() -> None:
    e = engine()
    e.apply(book(BIDS, ASKS))
    out = e.apply(limit("g", "buy", "2", "60000.5"))
    assert sum(f.qty for f in fills(out)) == D("1.5")
    (order,) = e.account().open_orders
    assert (order.qty, order.price, order.queue_ahead) == (D("0.5"), D("60000.5"), None)
    out = e.apply(ev.CancelOrder(T + 2, "g"))
    assert out == [ev.OrderCancelled(T + 2, "g", "cancelled by user")]
    assert e.account().positions[0].qty == D("1.5")  # the cancel took only the rest


def test_without_a_book_the_touch_rule_fills_and_the_fill_says_so() -> None:
    e = engine()
    e.apply(ev.Quote(T, BTC, D("59999.9"), D("60000.0")))
    (fill,) = fills(e.apply(market("m", "buy", "3")))
    assert (fill.price, fill.qty, fill.liquidity) == (D("60000.0"), D("3"), "taker")
    assert fill.note == "no BTCUSDT book yet: filled whole at the touch"
    assert '"note":"no BTCUSDT book yet' in codec.dumps(fill)
    plain = engine("touch")
    plain.apply(ev.Quote(T, BTC, D("59999.9"), D("60000.0")))
    (touch,) = fills(plain.apply(market("m", "buy", "3")))
    assert touch.note is None and "note" not in codec.dumps(touch)
    assert "average_price" not in codec.dumps(touch)


def test_a_book_is_the_best_quote_in_every_model() -> None:
    e = engine("touch")
    e.apply(book(BIDS, ASKS))
    (fill,) = fills(e.apply(market("m", "buy", "2.5")))
    assert (fill.price, fill.qty) == (D("60000.0"), D("2.5"))  # touch: whole, at the top


def test_a_stale_book_never_beats_a_newer_quote_and_keeps_its_shape_behind_it() -> None:
    e = engine()
    e.apply(book(BIDS, ASKS))
    e.apply(ev.Quote(T + 1, BTC, D("60000.4"), D("60000.5")))
    got = fills(e.apply(market("m", "buy", "1", T + 2)))
    # the ask moved up 0.5 since the book: the book's levels move with it, 0.5 at 60,000.5
    # then 1.0 at 60,001.0 (not the whole book stacked at the new ask)
    assert [(f.price, f.qty) for f in got] == [(D("60000.5"), D("0.5")), (D("60001.0"), D("0.5"))]
    assert all(f.price >= D("60000.5") for f in got)


def test_closing_a_position_walks_the_book_and_reduce_only_is_cut_to_the_position() -> None:
    e = engine()
    e.apply(book(BIDS, ASKS))
    e.apply(market("m", "buy", "1.5"))
    out = e.apply(market("r", "sell", "1", T + 2, reduce_only=True))
    assert [(f.price, f.qty) for f in fills(out)] == [
        (D("59999.9"), D("0.8")),
        (D("59999.5"), D("0.2")),
    ]
    out = e.apply(market("r2", "sell", "2", T + 3, reduce_only=True))
    cut = out[0]
    assert isinstance(cut, ev.ReduceOnlyCut) and cut.qty == D("0.5")
    assert [(f.price, f.qty) for f in fills(out)] == [(D("59999.9"), D("0.5"))]
    assert not e.positions
    e.apply(market("again", "buy", "1.5", T + 4))
    out = e.apply(ev.ClosePosition(T + 5, BTC))
    assert [(f.price, f.qty) for f in fills(out)] == [
        (D("59999.9"), D("0.8")),
        (D("59999.5"), D("0.7")),
    ]
    # the close realizes each part against the entry of 60,000.0 × 0.5 + 60,000.5 × 1 over 1.5
    entry = ((D("0.5") * D("60000.0") + D("1.0") * D("60000.5")) / D("1.5")).quantize(Q10)
    assert [f.realized_pnl for f in fills(out)] == [
        ((D("59999.9") - entry) * D("0.8")).quantize(D("1E-8")),
        ((D("59999.5") - entry) * D("0.7")).quantize(D("1E-8")),
    ]
    assert not e.positions


def test_a_triggered_stop_walks_the_book_no_better_than_its_triggering_trade() -> None:
    e = engine()
    e.apply(book(BIDS, ASKS))
    e.apply(ev.Trade(T, BTC, D("60000.0"), D("1")))
    e.apply(market("m", "buy", "1"))
    e.apply(
        ev.PlaceOrder(T + 2, "sl", BTC, "sell", D("1"), "stop_market", trigger_price=D("59990.0"))
    )
    out = e.apply(ev.Trade(T + 3, BTC, D("59980.0"), D("1")))  # the book still shows 59,999.9
    assert isinstance(out[0], ev.OrderTriggered)
    got = fills(out)
    # the book anchored at the triggering 59,980.0 (19.9 below its best bid): 0.8 there, the
    # rest at the next level, 59,999.5 - 19.9 = 59,979.6
    assert [(f.price, f.qty) for f in got] == [(D("59980.0"), D("0.8")), (D("59979.6"), D("0.2"))]


LEVELS = st.lists(
    st.tuples(st.integers(1, 30), st.integers(1, 3000)),
    min_size=1,
    max_size=6,
    unique_by=lambda x: x[0],
)


@settings(max_examples=50, deadline=None)
@given(
    asks=LEVELS,
    bids=LEVELS,
    quote_shift=st.integers(-5, 5),
    side=st.sampled_from(["buy", "sell"]),
    qty=st.integers(2, 12000),  # ≥ 0.002 BTC: above the 100 USDT minimum notional
)
def test_a_book_model_fill_is_never_better_than_the_touch(
    asks: list[tuple[int, int]],
    bids: list[tuple[int, int]],
    quote_shift: int,
    side: ev.Side,
    qty: int,
) -> None:
    tick, step = D("0.1"), D("0.001")
    ask_levels = sorted((D(60000) + t * tick, q * step) for t, q in asks)
    bid_levels = sorted(((D(60000) - t * tick, q * step) for t, q in bids), reverse=True)
    e = engine()
    e.apply(ev.Book(T, BTC, tuple(bid_levels), tuple(ask_levels)))
    # a newer quote, possibly inside or outside the book's top
    bid = bid_levels[0][0] + quote_shift * tick
    ask = max(ask_levels[0][0] + quote_shift * tick, bid + tick)
    e.apply(ev.Quote(T + 1, BTC, bid, ask))
    touch = ask if side == "buy" else bid
    got = fills(e.apply(market("m", side, str(qty * step), T + 2)))
    assert got, "a market order with a book always fills"
    assert sum(f.qty for f in got) == qty * step
    for f in got:
        assert f.price >= touch if side == "buy" else f.price <= touch
