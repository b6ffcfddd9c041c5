"""Price alerts: armed with `A`, fired once when the mark crosses, with a toast, the bell and a
log line; the typed forms and every refusal of the dialog.

The pilot test holds the fixture market after its first second (a manual clock whose sleeps
wait for the test), sets the alert through the real dialog, then lets the market play across
it. BTCUSDT marks in the fixture, one a second from 1735689600000 (see conftest):
94970.0, 94990.0, 95005.0, 95020.0, 95035.0, 95025.0, 95010.0, 94995.0, 94985.0, 95000.0.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from manual_time import ManualTime
from screen_host import until
from textual.widgets import Input, Static

from papertrade.tui.screens.alerts import AlertModal
from papertrade.tui.service.alerts import (
    AlertError,
    FiredAlert,
    PriceAlert,
    PriceAlerts,
    parse_alert,
)

T0 = 1_735_689_600_000


class HeldMarket:
    """A manual clock whose sleeps wait until the test lets the market go on."""

    def __init__(self) -> None:
        self.time = ManualTime()
        self.go = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        await self.go.wait()
        await self.time.sleep(seconds)


def held(app: Any) -> HeldMarket:
    market = HeldMarket()
    app.feed_config.speed = 1
    app.feed_config.options.update(clock=market.time.clock, sleep=market.sleep)
    return market


def log_text(app: Any) -> str:
    return " ".join(" ".join(line.text for line in app.trading.log_panel.lines).split())


def error_text(modal: AlertModal) -> str:
    return str(modal.query_one(".dialog-error", Static).render())


async def test_an_alert_set_with_A_fires_once_when_the_mark_crosses_it(app_factory, tui):
    app = app_factory()
    market = held(app)
    bells: list[int] = []
    ring_bell = app.bell

    def bell() -> None:  # Textual's bell, counted
        bells.append(1)
        ring_bell()

    app.bell = bell
    btc = app.session.engine.markets
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "BTCUSDT" in btc and btc["BTCUSDT"].mark is not None, "t0")
        assert btc["BTCUSDT"].mark == Decimal("94970.0")  # held after the first second
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, AlertModal), "the alert dialog")
        await tui.type_text(pilot, "95010")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is app.trading, "the dialog to close")
        # a bare price above the mark (94970.0) means "above"
        assert list(app.price_alerts) == [PriceAlert("BTCUSDT", "above", Decimal("95010"))]
        assert not bells
        market.go.set()
        await tui.settle(pilot)
        # 94990.0 and 95005.0 stay below; 95020.0 (at t0 + 3 s) is the first mark at or
        # above 95010. 95035.0 and 95025.0 after it meet it too: fired once, then gone.
        assert bells == [1]
        assert len(app.price_alerts) == 0
        text = log_text(app)
        assert "alert set: BTCUSDT mark above 95010" in text
        fired = "BTCUSDT mark 95020 is above your alert at 95010"
        assert text.count(fired) == 1
        assert text.count("alert: ") == 1
        toasts = [n for n in app._notifications if n.title == "Price alert"]
        assert [n.message for n in toasts] == [fired]
        # not an engine input: nothing about it is journaled
        app.writer.flush()
        kinds = {e.type for _, e in app.store.events(app.writer.id)}
        assert kinds <= {"quote", "mark", "trade", "funding", "session", "snapshot"}


async def test_the_dialog_refuses_bad_prices_inline_and_stays_open(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)  # BTCUSDT mark 95000.0
        await pilot.press("A")
        modal = app.screen
        assert isinstance(modal, AlertModal)
        cases = [
            ("abc", "alert price: not a number"),
            ("1,5", "use . for decimals"),
            ("-5", "must be"),
            ("2e12", "at most"),
            ("above 94000", "already above 94000: it would fire at once"),
            ("95000.0", "that is the mark now"),
        ]
        field = modal.query_one(Input)
        for typed, words in cases:
            field.value = typed
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is modal, typed
            assert words in error_text(modal), (typed, error_text(modal))
        assert len(app.price_alerts) == 0
        field.value = "below 90000"
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is app.trading, "the dialog to close")
        assert list(app.price_alerts) == [PriceAlert("BTCUSDT", "below", Decimal("90000"))]
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, AlertModal), "the dialog again")
        assert "armed: below 90000" in app.screen.query_one(".dim", Static).render().plain
        await pilot.press("escape")
        assert app.screen is app.trading
        assert len(app.price_alerts) == 1


@pytest.mark.parametrize(
    ("typed", "mark", "expected"),
    [
        ("96000", Decimal("95000"), ("above", Decimal("96000"))),
        ("94000", Decimal("95000"), ("below", Decimal("94000"))),
        ("above 96000", None, ("above", Decimal("96000"))),
        ("below 1e3", None, ("below", Decimal("1000"))),
        (">96000", Decimal("97000"), ("above", Decimal("96000"))),
        ("< 0.0001", None, ("below", Decimal("0.0001"))),
        ("  ABOVE 1_000 ", None, ("above", Decimal("1000"))),
    ],
)
def test_typed_alerts_read_as_a_trader_says_them(typed, mark, expected):
    assert parse_alert(typed, mark) == expected


@pytest.mark.parametrize(
    ("typed", "mark", "words"),
    [
        ("", None, "type a price"),
        ("above", None, "type a price"),
        ("96000", None, "no mark yet"),
        ("0", Decimal("1"), "must be positive"),
        ("1000000000001", Decimal("1"), "at most"),
        ("nan", Decimal("1"), "not a number"),
        ("9" * 80, Decimal("1"), "too long"),
    ],
)
def test_typed_alerts_that_are_refused_say_why(typed, mark, words):
    with pytest.raises(ValueError, match=words):
        parse_alert(typed, mark)


def test_an_alert_fires_at_or_beyond_its_price_once_and_others_stay_armed():
    alerts = PriceAlerts()
    up = alerts.add("BTCUSDT", "above", Decimal("96000"), Decimal("95000"))
    down = alerts.add("BTCUSDT", "below", Decimal("94000"), Decimal("95000"))
    alerts.add("BTCUSDT", "above", Decimal("96000"), Decimal("95000"))  # a duplicate: once
    assert len(alerts) == 2 and "BTCUSDT" in alerts and "ETHUSDT" not in alerts
    assert alerts.check("ETHUSDT", Decimal("1"), 1) == []
    assert alerts.check("BTCUSDT", Decimal("95999.9"), 1) == []
    assert alerts.check("BTCUSDT", None, 2) == []
    assert alerts.check("BTCUSDT", Decimal("96000"), 3) == [FiredAlert(up, Decimal("96000"), 3)]
    assert alerts.check("BTCUSDT", Decimal("97000"), 4) == []  # fired already
    assert alerts.for_symbol("BTCUSDT") == [down]
    assert alerts.check("BTCUSDT", Decimal("93000"), 5) == [FiredAlert(down, Decimal("93000"), 5)]
    assert len(alerts) == 0 and "BTCUSDT" not in alerts


def test_an_alert_the_mark_already_meets_is_refused():
    alerts = PriceAlerts()
    with pytest.raises(AlertError, match="already above 94000"):
        alerts.add("BTCUSDT", "above", Decimal("94000"), Decimal("95000"))
    with pytest.raises(AlertError, match="already below 96000"):
        alerts.add("BTCUSDT", "below", Decimal("96000"), Decimal("95000"))
    with pytest.raises(AlertError, match="at most"):
        alerts.add("BTCUSDT", "above", Decimal("1e13"), None)
    for n in range(20):
        alerts.add("BTCUSDT", "above", Decimal(96000 + n), Decimal("95000"))
    with pytest.raises(AlertError, match="20 alerts already"):
        alerts.add("BTCUSDT", "above", Decimal(97000), Decimal("95000"))
    assert alerts.clear("BTCUSDT") == 20 and len(alerts) == 0
