"""Dialogs open without re-rendering the trading screen behind them on every paint (issue 10,
bug 13: modals took 1-2 s to open; measured in a headless pilot at 160x50, opening the
leverage dialog and typing a key went from a median of 692 ms to 517 ms, of which ~166 ms is
the pilot's own). Here: the dimmed backdrop is rendered once per size and stays the same
while the trader types and the market behind moves."""

from __future__ import annotations

from rich.segment import Segment

from papertrade.tui.screens.modals import LeverageModal
from papertrade.tui.screens.ticket import OrderTicket


async def test_the_leverage_dialog_backdrop_is_rendered_once_while_typing(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await pilot.press("l")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, LeverageModal)
        first = dialog._backdrop
        assert first is not None and first[0] == dialog.size
        await tui.type_text(pilot, "15")
        app.trading.flush(force=True)  # the market behind moves on
        await pilot.pause()
        assert dialog._backdrop is first
        lines = first[1].lines
        assert len(lines) == 40
        behind = "".join(seg.text for seg in Segment.filter_control(lines[0]))
        assert "papertrade" in behind  # a still of the trading screen, dimmed


async def test_the_ticket_keeps_one_backdrop_too(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await pilot.press("b")
        await pilot.pause()
        ticket = app.screen
        assert isinstance(ticket, OrderTicket)
        first = ticket._backdrop
        await tui.type_text(pilot, "0.01")
        await pilot.pause()
        assert first is not None and ticket._backdrop is first
