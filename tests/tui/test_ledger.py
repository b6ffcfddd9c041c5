"""The ledger behind the order/trade history panels and the break-even column.

Every expected number is worked out by hand in the test from the fills it feeds.
"""

from __future__ import annotations

from decimal import Decimal as D

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.tui.service.ledger import Ledger, break_even, funding_estimate


def fill(order_id: str, side: ev.Side, qty: str, price: str, fee: str, ts: int = 1) -> ev.Fill:
    return ev.Fill(ts, order_id, "BTCUSDT", side, D(qty), D(price), D(fee), D(0), "taker")


def order(oid: str, side: ev.Side, qty: str, kind: ev.OrderType = "market", price: str = ""):
    return ev.PlaceOrder(1, oid, "BTCUSDT", side, D(qty), kind, D(price) if price else None)


def test_break_even_adds_fees_per_unit_to_a_long_and_takes_them_from_a_short() -> None:
    # long 2 @ 100 having paid 0.30 in fees: 100 + 0.30 / 2 = 100.15
    assert break_even(D(100), D(2), D("0.30")) == D("100.15")
    # short 2 @ 3000 having paid 3: 3000 - 3 / 2 = 2998.5
    assert break_even(D(3000), D(-2), D(3)) == D("2998.5")


def test_funding_estimate_is_rate_times_notional_paid_by_longs_when_positive() -> None:
    # 0.5 BTC at mark 60,000, rate 0.01 %: notional 30,000 x 0.0001 = 3
    assert funding_estimate(D("0.5"), D(60000), D("0.0001")) == D(-3)
    assert funding_estimate(D("-0.5"), D(60000), D("0.0001")) == D(3)
    assert funding_estimate(D("-0.5"), D(60000), D("-0.0001")) == D(-3)


def test_fees_follow_the_open_position_through_adds_reductions_and_a_flip() -> None:
    ledger = Ledger()
    ledger.on_command(order("u1", "buy", "2"), [fill("u1", "buy", "2", "100", "0.1")])
    ledger.on_command(order("u2", "buy", "1"), [fill("u2", "buy", "1", "106", "0.053")])
    assert ledger.open_fees("BTCUSDT", D(3)) == D("0.153")  # 0.1 + 0.053
    # selling 1 of 3 keeps the fees of the 2 left: 0.153 * 2 / 3 = 0.102
    ledger.on_command(order("u3", "sell", "1"), [fill("u3", "sell", "1", "110", "0.055")])
    assert ledger.open_fees("BTCUSDT", D(2)) == D("0.102")
    # selling 4 of a 2 long flips to a 2 short: half of that fill's fee opened it, 0.22 / 2
    ledger.on_command(order("u4", "sell", "4"), [fill("u4", "sell", "4", "110", "0.22")])
    assert ledger.open_fees("BTCUSDT", D(-2)) == D("0.11")
    ledger.on_command(order("u5", "buy", "2"), [fill("u5", "buy", "2", "110", "0.11")])
    assert ledger.open_fees("BTCUSDT", D(-2)) is None  # flat now: nothing is open


def test_a_partial_liquidation_keeps_the_fees_of_what_stays_open() -> None:
    ledger = Ledger()
    ledger.on_command(order("u1", "buy", "200"), [fill("u1", "buy", "200", "70000", "7000")])
    cut = ev.Liquidation(
        2, "BTCUSDT", "cross", "long", D(40), D(67000), D(1), D(0), D(0), D(67000), D(160)
    )
    ledger.on_outcomes([cut])
    # 160 of 200 stay: 7,000 x 160 / 200 = 5,600
    assert ledger.open_fees("BTCUSDT", D(160)) == D(5600)
    rest = ev.Liquidation(3, "BTCUSDT", "cross", "long", D(160), D(66000), D(1))
    ledger.on_outcomes([rest])
    assert ledger.open_fees("BTCUSDT", D(160)) is None  # closed whole


def test_a_position_the_ledger_did_not_see_open_has_no_known_fees() -> None:
    ledger = Ledger()
    assert ledger.open_fees("BTCUSDT", D(1)) is None  # opened before this run (a resume)
    ledger.on_outcomes([fill("u1", "buy", "1", "100", "0.05")])
    assert ledger.open_fees("BTCUSDT", D(3)) is None  # 1 seen, 3 held: no guess


def test_order_history_says_what_became_of_each_order() -> None:
    ledger = Ledger()
    ledger.on_command(
        order("u1", "buy", "2"),
        [fill("u1", "buy", "1", "100", "0.05"), fill("u1", "buy", "1", "102", "0.051")],
    )
    ledger.on_command(order("u2", "buy", "1", "limit", "90"), [])
    ledger.on_command(ev.CancelOrder(2, "u2"), [ev.OrderCancelled(2, "u2", "cancelled by user")])
    ledger.on_command(order("u3", "sell", "9"), [ev.Rejected(3, "order", "u3", "no margin")])
    ledger.on_command(
        ev.ClosePosition(4, "BTCUSDT"), [fill("close-BTCUSDT-4", "sell", "2", "101", "0.1")]
    )
    got = {oid: (r.order_type, r.status, r.avg_price, r.reason) for oid, r in ledger.orders.items()}
    assert got == {
        "u1": ("market", "filled", D(101), ""),  # (100 + 102) / 2
        "u2": ("limit", "cancelled", None, "cancelled by user"),
        "u3": ("market", "rejected", None, "no margin"),
        "close-BTCUSDT-4": ("close", "filled", D(101), ""),
    }
    assert [n for n, _ in ledger.trades] == [1, 2, 3]
    assert ledger.open_fees("BTCUSDT", D(0)) is None


def test_histories_are_bounded_and_keep_the_newest() -> None:
    ledger = Ledger(max_rows=3)
    for n in range(1, 6):
        oid = f"u{n}"
        ledger.on_command(order(oid, "buy", "1"), [fill(oid, "buy", "1", "100", "0")])
    assert list(ledger.orders) == ["u3", "u4", "u5"]
    assert [n for n, _ in ledger.trades] == [3, 4, 5]


def test_hedge_sides_keep_their_own_fees_live_and_from_the_journal() -> None:
    """A hedge fill names its side, so the long and the short of one symbol carry their own
    fees (a sell that closes the long must not eat into the short's)."""

    def hedged(oid: str, side: ev.Side, qty: str, fee: str, slot: ev.PositionSlot) -> ev.Fill:
        return ev.Fill(
            1, oid, "BTCUSDT", side, D(qty), D(100), D(fee), D(0), "taker", position_side=slot
        )

    fills = [
        hedged("l1", "buy", "2", "0.1", "long"),
        hedged("s1", "sell", "1", "0.05", "short"),
        hedged("l2", "sell", "1", "0.05", "long"),  # closes half the long
    ]
    live = Ledger()
    live.on_outcomes(fills)
    assert live.open_fees("BTCUSDT:long", D(1)) == D("0.05")  # 0.1 * 1 / 2
    assert live.open_fees("BTCUSDT:short", D(-1)) == D("0.05")  # untouched by the long's sell
    assert live.open_fees("BTCUSDT", D(0)) is None
    # the short side liquidated whole: the long's fees stay
    live.on_outcomes([ev.Liquidation(2, "BTCUSDT", "cross", "short", D(1), D(150), D("50.05"))])
    assert live.open_fees("BTCUSDT:short", D(-1)) is None
    assert live.open_fees("BTCUSDT:long", D(1)) == D("0.05")
    # a resume reads the same from the stored outcome lines
    resumed = Ledger()
    resumed.fees.carry_journal((n, codec.dumps(f)) for n, f in enumerate(fills, 1))
    assert resumed.open_fees("BTCUSDT:long", D(1)) == D("0.05")
    assert resumed.open_fees("BTCUSDT:short", D(-1)) == D("0.05")
