"""`core.depth.walk` against VWAPs computed by hand."""

from __future__ import annotations

from decimal import Decimal as D

from papertrade.core.depth import walk

ASKS = ((D("100"), D("1")), (D("101"), D("2")), (D("103"), D("0.5")))
BIDS = ((D("99"), D("1.5")), (D("98"), D("1")))


def test_a_buy_walks_the_asks_level_by_level() -> None:
    w = walk(ASKS, D("2.5"), buy=True)
    assert w.fills == ((D("100"), D("1")), (D("101"), D("1.5")))
    assert (w.filled, w.remaining) == (D("2.5"), D("0"))
    # by hand: (100·1 + 101·1.5) / 2.5 = 251.5 / 2.5 = 100.6
    assert w.notional == D("251.5") and w.average == D("100.6")
    assert w.last_price == D("101")


def test_a_sell_larger_than_the_book_fills_what_is_shown() -> None:
    w = walk(BIDS, D("4"), buy=False)
    assert w.fills == BIDS and w.filled == D("2.5") and w.remaining == D("1.5")
    # (99·1.5 + 98·1) / 2.5 = 246.5 / 2.5 = 98.6
    assert w.average == D("98.6")


def test_a_limit_stops_the_walk_at_its_price() -> None:
    w = walk(ASKS, D("3"), D("101"), buy=True)
    assert w.filled == D("3") and w.remaining == D("0")
    w = walk(ASKS, D("3.5"), D("101"), buy=True)
    assert w.filled == D("3") and w.remaining == D("0.5") and w.last_price == D("101")
    w = walk(BIDS, D("1"), D("99.5"), buy=False)
    assert w.fills == () and w.average is None and w.remaining == D("1")


def test_an_empty_book_fills_nothing() -> None:
    w = walk((), D("1"), buy=True)
    assert (w.filled, w.remaining, w.average, w.last_price) == (D("0"), D("1"), None, None)
