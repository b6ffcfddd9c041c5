"""The order ticket as a trader drives it (issue 10, bugs 3 and 6).

Bug 6: the footer says "enter submit", so Enter submits from every field — on Type and Margin
mode it used to reopen the dropdown, on Reduce-only it toggled the box (a user sent a
non-reduce-only order that way). Space changes a choice (Type, Margin mode) and toggles the box.

Bug 3: the preview of a reduce-only order shows what will fill. Fixture market at its end
(see conftest): BTCUSDT bid 94,999.9 / ask 95,000.0, taker fee 0.05 %.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from textual.widgets import Checkbox, Input

from papertrade.tui.screens.ticket import OrderTicket
from papertrade.tui.widgets.choice import Choice


async def _ticket(pilot: Any, tui: Any, key: str, qty: str) -> OrderTicket:
    await pilot.press(key)
    ticket = pilot.app.screen
    assert isinstance(ticket, OrderTicket)
    await tui.type_text(pilot, qty)
    await pilot.pause()
    return ticket


async def test_enter_on_any_field_submits_the_ticket(app_factory, tui) -> None:
    """One ticket per field, in one terminal: each Enter sends one more 0.01 BTCUSDT."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        for n, field in enumerate(["#qty", "#type", "#leverage", "#mode", "#reduce"], 1):
            ticket = await _ticket(pilot, tui, "b", "0.01")
            ticket.query_one(field).focus()
            await pilot.pause()
            reduce_before = ticket.query_one("#reduce", Checkbox).value
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is app.trading, f"enter on {field} did not submit"
            assert reduce_before is False, field
            pos = app.session.engine.positions["BTCUSDT"]
            assert (pos.qty, pos.side) == (Decimal("0.01") * n, "long"), field


async def test_space_changes_the_order_type_and_toggles_reduce_only(app_factory, tui) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        ticket = await _ticket(pilot, tui, "b", "0.01")
        box = ticket.query_one("#reduce", Checkbox)
        box.focus()
        await pilot.press("space")
        await pilot.pause()
        assert box.value is True
        order_type = ticket.query_one("#type", Choice)
        order_type.focus()
        await pilot.press("space")
        await pilot.pause()
        assert order_type.value == "limit"
        price = ticket.query_one("#price", Input)
        assert not price.disabled and price.value == "94999.9"  # a buy rests at the bid
        await pilot.press("left")
        await pilot.pause()
        assert order_type.value == "market" and price.disabled
        await pilot.press("escape")
        await pilot.pause()
        assert app.session.engine.positions == {}


async def test_reduce_only_preview_shows_the_capped_quantity_that_will_fill(
    app_factory, tui
) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        app.session.order("BTCUSDT", "buy", Decimal("0.02"))
        assert app.session.engine.positions["BTCUSDT"].qty == Decimal("0.02")
        ticket = await _ticket(pilot, tui, "s", "0.05")
        ticket.query_one("#reduce", Checkbox).value = True
        await pilot.pause()
        ticket.recompute()
        p = ticket.preview
        assert p is not None and p.reason is None
        # What fills: the 0.02 long at the bid, not the 0.05 typed.
        assert p.qty == Decimal("0.02")
        assert p.notional == Decimal("0.02") * Decimal("94999.9")  # 1,899.998 -> 1,900.00
        assert p.fee == Decimal("0.949999")  # 1,899.998 x 0.0005
        words = ticket.preview_text()
        assert "0.020 @ 94,999.9" in words
        assert "reduce-only: capped at your 0.020 long (typed 0.050)" in words
        assert "Reduce-only: takes 0.020 off your long (closes it); it adds no risk." in words
        assert "At risk" not in words
        await pilot.press("enter")
        await pilot.pause()
        assert "BTCUSDT" not in app.session.engine.positions


async def test_sell_100_percent_fits_the_balance_as_the_engine_costs_a_sell(
    app_factory, tui
) -> None:
    """`100%` must be placeable (issue 10, bug 4) on the side the engine costs above the
    market too: a sell's margin is sized at max(last x 1.0015, mark, price) and a sell below
    the mark pays the difference up front (Binance's cost to open; README "Orders").

    Fixture market: bid 94,999.9, mark and last 95,000.0; 20x; taker fee 0.05 %.
    One unit costs 95,000 x 1.0015 / 20 = 4,757.125 of margin, + 0.1 open loss (mark - bid),
    + 94,999.9 x 0.0005 = 47.49995 fee: 4,804.72495. 10,000 / 4,804.72495 = 2.0812...,
    floored to the 0.001 step: 2.081."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        unit = Decimal(95000) * Decimal("1.0015") / 20 + Decimal("0.1")
        unit += Decimal("94999.9") * Decimal("0.0005")
        assert unit == Decimal("4804.72495")
        expected = (Decimal(10000) / unit).quantize(Decimal("0.001"), rounding="ROUND_FLOOR")
        assert expected == Decimal("2.081")
        ticket = await _ticket(pilot, tui, "s", "100%")
        assert ticket.error is None, ticket.error
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is app.trading
        pos = app.session.engine.positions["BTCUSDT"]
        assert pos.size == -expected
        assert app.session.engine.available_balance() >= 0
