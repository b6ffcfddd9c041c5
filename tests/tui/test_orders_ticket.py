"""Issue 12: the order ticket offers every order type with only the fields it uses, sends the
conditional fields, and previews what a trigger would do.

Fixture market at its end (see conftest): BTCUSDT bid 94,999.9 / ask 95,000.0 / last and
mark 95,000.0; 10,000 USDT; taker fee 0.05 %.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from textual.widgets import Checkbox, Input

from papertrade.tui.screens.ticket import OrderTicket
from papertrade.tui.widgets.choice import Choice


async def _open(pilot: Any, key: str, order_type: str) -> OrderTicket:
    await pilot.press(key)
    ticket = pilot.app.screen
    assert isinstance(ticket, OrderTicket)
    ticket.query_one("#type", Choice).value = order_type
    await pilot.pause()
    return ticket


async def _type(pilot: Any, tui: Any, ticket: OrderTicket, field: str, text: str) -> None:
    ticket.query_one(field, Input).focus()
    await tui.type_text(pilot, text)
    await pilot.pause()


def _shown(ticket: OrderTicket) -> set[str]:
    ids: tuple[str, ...] = ("price", "trigger", "working", "callback", "activation", "tif")
    ids = (*ids, "good-till", "close-position", "protect")
    return {i for i in ids if _on_screen(ticket.query_one(f"#{i}"))}


def _on_screen(widget: Any) -> bool:
    """Displayed, and so is every container up to the ticket (a hidden row hides its
    fields)."""
    node = widget
    while node is not None and not isinstance(node, OrderTicket):
        if not node.display:
            return False
        node = node.parent
    return True


FIELDS = {
    "market": set(),
    "limit": {"price", "tif"},
    "stop_market": {"trigger", "working", "close-position", "protect"},
    "stop_limit": {"price", "trigger", "working", "tif", "protect"},
    "take_profit_market": {"trigger", "working", "close-position", "protect"},
    "take_profit_limit": {"price", "trigger", "working", "tif", "protect"},
    "trailing_stop_market": {"working", "callback", "activation", "protect"},
}


async def test_each_type_shows_only_its_fields(app_factory, tui) -> None:
    """A fresh ticket per type, in one terminal."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        for order_type, fields in FIELDS.items():
            ticket = await _open(pilot, "b", order_type)
            assert _shown(ticket) == fields, order_type
            if "tif" in fields:
                ticket.query_one("#tif", Choice).value = "GTD"
                await pilot.pause()
                assert "good-till" in _shown(ticket), order_type
            await pilot.press("escape")
            assert app.screen is app.trading, order_type


async def test_a_stop_market_is_sent_with_its_trigger_and_watched_price(app_factory, tui):
    """A sell stop 0.01 BTC at 94,000 on the mark, reduce-only, with price protect: Enter
    sends it and it waits as a conditional order, the position untouched."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        app.session.order("BTCUSDT", "buy", D("0.01"))
        ticket = await _open(pilot, "s", "stop_market")
        ticket.query_one("#working", Choice).value = "mark"
        ticket.query_one("#reduce", Checkbox).value = True
        ticket.query_one("#protect", Checkbox).value = True
        await _type(pilot, tui, ticket, "#qty", "0.01")
        await _type(pilot, tui, ticket, "#trigger", "94000")
        assert ticket.error is None
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is app.trading
        (waiting,) = list(app.session.engine.algo)
        c = waiting.command
        assert (c.order_type, c.side, c.qty, c.trigger_price) == (
            "stop_market",
            "sell",
            D("0.01"),
            D("94000"),
        )
        assert (c.working_type, c.reduce_only, c.price_protect) == ("mark", True, True)
        assert app.session.engine.positions["BTCUSDT"].qty == D("0.01")


async def test_close_position_needs_no_quantity_and_previews_the_loss_at_trigger(
    app_factory, tui
) -> None:
    """Long 0.1 BTC at 95,000 (20x cross). A close-position sell stop at 94,000: by hand,
    (94,000 - 95,000) x 0.1 = -100.00, less the taker fee 94,000 x 0.1 x 0.0005 = 4.70:
    a loss of -104.70 if it fills at the trigger."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        app.session.order("BTCUSDT", "buy", D("0.1"))
        ticket = await _open(pilot, "s", "stop_market")
        ticket.query_one("#close-position", Checkbox).value = True
        await pilot.pause()
        assert ticket.query_one("#qty", Input).disabled
        await _type(pilot, tui, ticket, "#trigger", "94000")
        text = " ".join(ticket.preview_text().split())
        assert "fires at 94,000.0 (last price) and becomes a market order" in text
        assert "If it fills at 94,000.0: loss -104.70 USDT on 0.100 (taker fee 4.70" in text
        await pilot.press("enter")
        await pilot.pause()
        (waiting,) = list(app.session.engine.algo)
        assert waiting.command.close_position is True and waiting.command.qty == 0


async def test_a_stop_beyond_the_liquidation_price_is_flagged(app_factory, tui) -> None:
    """Long 0.1 BTC at 95,000, isolated 100x: margin 95 USDT, so it is liquidated near
    95,000 x (1 - 1/100 + maintenance) ≈ 94,4xx. A stop at 90,000 lies beyond it."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        session = app.session
        session.order("BTCUSDT", "buy", D("0.1"), margin_mode="isolated", leverage=100)
        liq = session.engine.position_liquidation_price(session.engine.positions["BTCUSDT"])
        assert liq is not None and D(90000) < liq < D(95000)
        ticket = await _open(pilot, "s", "stop_market")
        ticket.query_one("#close-position", Checkbox).value = True
        await _type(pilot, tui, ticket, "#trigger", "90000")
        assert "liquidated before this stop can trigger" in ticket.preview_text()
        ticket.query_one("#trigger", Input).value = "94990"
        await pilot.pause()
        assert "liquidated before" not in ticket.preview_text()


async def test_the_engines_refusal_shows_inline(app_factory, tui) -> None:
    """A buy stop at 94,000 with the last price at 95,000 would trigger at once: the engine
    refuses it and the ticket says why, sending nothing on Enter."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        ticket = await _open(pilot, "b", "stop_market")
        await _type(pilot, tui, ticket, "#qty", "0.01")
        await _type(pilot, tui, ticket, "#trigger", "94000")
        assert ticket.error is not None and "immediately trigger" in ticket.error
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is ticket and not list(app.session.engine.algo)


async def test_trailing_stop_and_gtd_limit_are_sent_with_their_fields(app_factory, tui):
    """A sell trailing stop with callback 2 % and no activation previews the level it
    would fire at now: 95,000 x 0.98 = 93,100. A GTD limit good for 2h carries
    good_till = now + 7,200,000 ms."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        session = app.session
        session.order("BTCUSDT", "buy", D("0.01"))
        ticket = await _open(pilot, "s", "trailing_stop_market")
        await _type(pilot, tui, ticket, "#qty", "0.01")
        await _type(pilot, tui, ticket, "#callback", "2")
        assert "trails; now fires at 93,100.0" in " ".join(ticket.preview_text().split())
        await pilot.press("enter")
        await pilot.pause()
        (trail,) = list(session.engine.algo)
        assert (trail.command.callback_rate, trail.command.activation_price) == (D(2), None)
        now = session.engine.last_ts
        ticket = await _open(pilot, "b", "limit")
        ticket.query_one("#tif", Choice).value = "GTD"
        await _type(pilot, tui, ticket, "#qty", "0.01")
        await _type(pilot, tui, ticket, "#good-till", "2x")
        assert ticket.error is not None and "whole number and m, h or d" in ticket.error
        ticket.query_one("#good-till", Input).value = "2h"
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        (resting,) = session.engine.orders.values()
        assert resting.state().good_till == now + 7_200_000
