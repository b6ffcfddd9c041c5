"""Dialogs open without re-rendering the trading screen behind them on every paint (issue 10,
bug 13: modals took 1-2 s to open; measured in a headless pilot at 160x50, opening the
leverage dialog and typing a key went from a median of 692 ms to 517 ms, of which ~166 ms is
the pilot's own). Here: the dimmed backdrop is rendered once per size and stays the same
while the trader types and the market behind moves."""

from __future__ import annotations

from rich.segment import Segment
from textual.widgets._footer import FooterKey

from papertrade.tui.screens.modals import LeverageModal
from papertrade.tui.screens.ticket import OrderTicket
from papertrade.tui.widgets.footer import SteadyFooter


async def test_dialogs_keep_one_backdrop_and_the_footer_keys(app_factory, tui):
    """In one terminal: the leverage dialog opened and closed keeps the footer's key widgets
    (Textual's footer re-mounts every key when its screen is suspended or resumed, though
    nothing it shows changes); opened again, its backdrop is rendered once while the trader
    types and the market behind moves; the ticket keeps one backdrop too."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        trading = app.trading
        footer = trading.query_one(SteadyFooter)
        before = list(footer.query(FooterKey))
        assert [k.key for k in before][:3] == ["b", "s", "c"]
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, LeverageModal)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.trading
        await pilot.pause()
        assert list(footer.query(FooterKey)) == before

        await pilot.press("l")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, LeverageModal)
        first = dialog._backdrop
        assert first is not None and first[0] == dialog.size
        await tui.type_text(pilot, "15")
        trading.flush(force=True)  # the market behind moves on
        await pilot.pause()
        assert dialog._backdrop is first
        lines = first[1].lines
        assert len(lines) == 40
        behind = "".join(seg.text for seg in Segment.filter_control(lines[0]))
        assert "papertrade" in behind  # a still of the trading screen, dimmed
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.trading

        await pilot.press("b")
        await pilot.pause()
        ticket = app.screen
        assert isinstance(ticket, OrderTicket)
        first = ticket._backdrop
        await tui.type_text(pilot, "0.01")
        await pilot.pause()
        assert first is not None and ticket._backdrop is first


async def test_the_footer_still_follows_a_keymap(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        app.set_keymap({"buy": "B"})
        app.trading.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        footer = app.trading.query_one(SteadyFooter)
        keys = [k.key for k in footer.query(FooterKey)]
        assert "B" in keys and "b" not in keys, keys
