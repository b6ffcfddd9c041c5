"""`TradingSession` without Textual: quantities, journaling, restamping, ids, alerts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.tui.service.trading import TradingSession
from papertrade.tui.service.typed import QuantityError, parse_quantity

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
    assert parse_quantity("$1,000", leverage=20, **kw) == Decimal("0.010")
    # 25 % of 10,000 as margin at 10x = 25,000 notional = 0.263 BTC (floored to the step)
    assert parse_quantity("25%", leverage=10, **kw) == Decimal("0.263")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "enter a quantity"),
        ("abc", "not a quantity"),
        ("-1", "positive"),
        ("$-5", "positive"),
        ("150%", "at most 100"),
        ("0.0001", "rounds to 0"),
    ],
)
def test_bad_quantities_say_why(text, why):
    with pytest.raises(QuantityError, match=why):
        parse_quantity(
            text, price=Decimal("95000"), available=Decimal("10000"), leverage=20, instrument=BTC
        )


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
