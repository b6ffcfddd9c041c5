"""`TradingSession` without Textual: quantities, journaling, restamping, ids, alerts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.tui.service.trading import TradingSession
from papertrade.tui.service.typed import (
    QuantityError,
    parse_decimal,
    parse_leverage,
    parse_quantity,
)

BTC = bundled("binance")["BTCUSDT"]
T0 = 1_735_689_600_000


class FakeJournal:
    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def append(self, event, outcomes=None) -> int:
        self.events.append(event)
        return len(self.events)


def market(session: TradingSession, ts: int = T0, mark: str = "95000") -> None:
    session.on_market(ev.Quote(ts, "BTCUSDT", Decimal(mark) - Decimal("0.1"), Decimal(mark)))
    session.on_market(ev.MarkPrice(ts, "BTCUSDT", Decimal(mark)))


def test_quantity_forms_base_dollars_and_percent_of_available():
    kw: dict[str, Any] = {
        "price": Decimal("95000"),
        "available": Decimal("10000"),
        "instrument": BTC,
    }
    assert parse_quantity("0.0123", leverage=20, **kw) == Decimal("0.012")
    assert parse_quantity("$500", leverage=20, **kw) == Decimal("0.005")
    assert parse_quantity("$1_000", leverage=20, **kw) == Decimal("0.010")
    # 25 % of 10,000 = 2,500 for margin + opening fee at 10x, taker 0.05 %:
    # qty = 2500 * 10 / (95000 * (1 + 10 * 0.0005)) = 25000 / 95475 = 0.26184... -> 0.261
    assert parse_quantity("25%", leverage=10, **kw) == Decimal("0.261")
    # no fee: 25000 / 95000 = 0.26315... -> 0.263
    assert parse_quantity("25%", leverage=10, taker_fee=Decimal(0), **kw) == Decimal("0.263")


def test_a_hundred_percent_order_fits_margin_and_fee_and_the_engine_fills_it():
    engine = Engine()  # 10,000 USDT, taker 0.05 %
    engine.apply(ev.Quote(T0, "BTCUSDT", Decimal("94999.9"), Decimal("95000")))
    engine.apply(ev.MarkPrice(T0, "BTCUSDT", Decimal("95000")))
    qty = parse_quantity(
        "100%",
        price=Decimal("95000"),
        available=engine.available_balance(),
        leverage=20,
        instrument=BTC,
        taker_fee=engine.settings.taker_fee,
    )
    # 10000 * 20 / (95000 * (1 + 20 * 0.0005)) = 200000 / 95950 = 2.08442... -> 2.084
    assert qty == Decimal("2.084")
    # by hand: margin 2.084 * 95000 / 20 = 9899; fee 2.084 * 95000 * 0.0005 = 98.99;
    # together 9997.99 <= 10000, so 2.01 stays available
    (fill,) = engine.apply(ev.PlaceOrder(T0, "u1", "BTCUSDT", "buy", qty, "market", leverage=20))
    assert isinstance(fill, ev.Fill) and fill.fee == Decimal("98.99")
    assert engine.available_balance() == Decimal("2.01")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "enter a quantity"),
        ("abc", "not a quantity"),
        ("-1", "positive"),
        ("$-5", "positive"),
        ("150%", "at most 100"),
        ("0.0001", "rounds to 0"),
        ("1,5", "use . for decimals"),  # one and a half, or fifteen? asked, not guessed
        ("$1,000", "no thousands separators"),
        ("1e400", "at most 1,000,000,000,000"),
        ("1E+999999999", "at most 1,000,000,000,000"),
        ("99999999999999999999", "at most 1,000,000,000,000"),
        ("$1e30", r"\$ amount must be at most 1,000,000,000,000,000"),
        ("-0", "positive"),
        ("nan", "not a quantity"),
        ("-Infinity", "not a quantity"),
        ("nan%", "above 0 and at most 100"),
        ("1e-30", "18 decimal places"),
        ("9" * 5000, "too long"),
        ("\x1b]0;title\x07", "not a quantity"),
        ("$1e16", "at most"),  # 1e16 USDT: past the money bound before any division
    ],
)
def test_bad_quantities_say_why(text, why):
    with pytest.raises(QuantityError, match=why) as info:
        parse_quantity(
            text, price=Decimal("95000"), available=Decimal("10000"), leverage=20, instrument=BTC
        )
    assert "\x1b" not in str(info.value) and len(str(info.value)) < 120


def test_a_percentage_of_a_price_near_zero_is_refused_not_overflowed():
    with pytest.raises(QuantityError, match="more than 1,000,000,000,000 units"):
        parse_quantity(
            "100%",
            price=Decimal("1e-18"),
            available=Decimal("1e15"),
            leverage=125,
            instrument=BTC,
        )


@pytest.mark.parametrize(
    ("text", "high", "result"),
    [("10", 125, 10), ("20x", 125, 20), (" 125X ", 125, 125), ("75", 75, 75)],
)
def test_typed_leverage_takes_a_whole_number_with_an_optional_x(text, high, result):
    assert parse_leverage(text, high) == result


@pytest.mark.parametrize(
    ("text", "high", "why"),
    [
        ("0", 125, "between 1 and 125x"),
        ("126", 125, "between 1 and 125x"),
        ("76", 75, "between 1 and 75x for BTCUSDT"),
        ("200", 1000, "between 1 and 125x"),  # never past 125, whatever the instrument says
        ("9" * 5000, 125, "whole number"),  # int() would hit the int-str limit
        ("\u0661\u0660", 125, "whole number"),  # Arabic-Indic 10: isdigit() but not ASCII
        ("1.5", 125, "whole number"),
        ("", 125, "whole number"),
    ],
)
def test_bad_leverage_says_why(text, high, why):
    with pytest.raises(ValueError, match=why):
        parse_leverage(text, high, "BTCUSDT")


@pytest.mark.parametrize(
    ("text", "positive", "why"),
    [
        ("1e400", True, "limit price must be at most 1,000,000,000,000"),
        ("-0", True, "must be positive"),
        ("NaN", True, "not a number"),
        ("1,5", True, "use . for decimals"),
        ("-1e16", False, "at least -1,000,000,000,000,000"),
    ],
)
def test_typed_prices_and_margin_amounts_are_bounded(text, positive, why):
    with pytest.raises(ValueError, match=why):
        parse_decimal(text, "limit price", positive=positive)


def test_a_margin_amount_may_be_negative_within_the_money_bound():
    assert parse_decimal("-250.5", "amount", positive=False) == Decimal("-250.5")


def test_every_input_is_journaled_and_commands_use_market_time():
    journal = FakeJournal()
    session = TradingSession(Engine(), ["BTCUSDT"], writer=journal)
    market(session)
    session.order("BTCUSDT", "buy", Decimal("0.01"))
    session.close("BTCUSDT")
    kinds = [type(e).__name__ for e in journal.events]
    assert kinds == ["Quote", "MarkPrice", "PlaceOrder", "ClosePosition"]
    assert all(e.ts == T0 for e in journal.events)
    placed = journal.events[2]
    assert isinstance(placed, ev.PlaceOrder) and placed.id == "u1"


def test_an_older_event_is_restamped_so_the_journal_never_goes_back():
    journal = FakeJournal()
    session = TradingSession(Engine(), ["BTCUSDT"], writer=journal)
    market(session, T0 + 1000)
    market(session, T0)  # a second feed slightly behind
    assert [e.ts for e in journal.events] == [T0 + 1000] * 4


def test_order_ids_skip_ids_already_used_after_a_resume():
    engine = Engine()
    engine.used_ids.update({"u1", "u2"})
    session = TradingSession(engine, ["BTCUSDT"])
    assert session.next_order_id() == "u3"


def test_dirty_tracking_and_outcomes_are_drained_once():
    session = TradingSession(Engine(), ["BTCUSDT", "ETHUSDT"])
    session.take_dirty()
    market(session)
    dirty, account = session.take_dirty()
    assert dirty == {"BTCUSDT"}
    assert account is False, "no position or order moved: the account panel can stay"
    session.order("BTCUSDT", "buy", Decimal("0.01"))
    assert [type(o).__name__ for o in session.take_outcomes()] == ["Fill"]
    assert session.take_outcomes() == []


def test_margin_ratio_alert_fires_once_when_crossing_80_percent():
    session = TradingSession(Engine(), ["BTCUSDT"])
    market(session)
    session.order("BTCUSDT", "buy", Decimal("0.2"), margin_mode="isolated", leverage=100)
    assert session.check_alerts() == []
    pos = session.engine.positions["BTCUSDT"]
    # isolated margin 190, MM 0.4 % of notional: ratio = MM / (margin + uPnL)
    market(session, T0 + 1000, "94495")  # ratio ~0.85
    alerts = session.check_alerts()
    assert [a.scope for a in alerts] == ["BTCUSDT"]
    assert alerts[0].ratio >= Decimal("0.8")
    assert session.check_alerts() == [], "no repeat while it stays above"
    assert pos.symbol in session.engine.positions


def test_unknown_symbols_are_refused_and_removing_keeps_the_position():
    session = TradingSession(Engine(), ["BTCUSDT"])
    with pytest.raises(ValueError, match="unknown symbol"):
        session.add_symbol("NOPEUSDT")
    market(session)
    session.order("BTCUSDT", "buy", Decimal("0.01"))
    assert session.remove_symbol("BTCUSDT")
    assert session.tracked_symbols() == ["BTCUSDT"]
