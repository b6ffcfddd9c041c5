"""The order ticket parses on every keystroke: whatever the trader types or pastes, the terminal
stays up and the ticket says what is wrong (issue 9: `1e400`, `1E+999999999`, 20 nines, `$1e30`
used to kill the whole terminal before Enter was even pressed)."""

from __future__ import annotations

from textual.widgets import Input

from papertrade.tui.screens.ticket import OrderTicket

HOSTILE = [
    ("1e400", "at most 1,000,000,000,000"),
    ("1E+999999999", "at most 1,000,000,000,000"),
    ("9" * 20, "at most 1,000,000,000,000"),
    ("$1e30", "at most 1,000,000,000,000,000"),
    ("-0", "must be positive"),
    ("nan", "not a quantity"),
    ("1,5", "use . for decimals"),
    ("9" * 5000, "too long"),
    ("\x1b]0;title\x07", "not a quantity"),
]


LEVERAGE = [
    ("9" * 5000, "whole number"),
    ("\u0661\u0660", "whole number"),
    ("126", "between 1 and"),
]


async def test_typing_any_quantity_leaves_the_terminal_up_with_a_reason(app_factory, tui) -> None:
    """Each hostile text in a freshly opened ticket; one terminal takes them all (one boot
    instead of one per text: the terminal staying up through all of them is the claim)."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        for text, words in HOSTILE:
            await pilot.press("b")
            ticket = app.screen
            assert isinstance(ticket, OrderTicket), text
            ticket.query_one("#qty", Input).value = text  # as typed or pasted, without Enter
            await pilot.pause()
            ticket.recompute()
            assert ticket.command is None, text
            assert ticket.error is not None and words in ticket.error, (text, ticket.error)
            assert app.is_running and app.return_code is None, text
            await pilot.press("escape")
            assert app.screen is app.trading, text


async def test_typing_any_leverage_leaves_the_terminal_up_with_a_reason(app_factory, tui) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        for text, words in LEVERAGE:
            await pilot.press("b")
            ticket = app.screen
            assert isinstance(ticket, OrderTicket), text
            ticket.query_one("#qty", Input).value = "0.01"
            ticket.query_one("#leverage", Input).value = text
            await pilot.pause()
            ticket.recompute()
            assert ticket.error is not None and words in ticket.error, (text, ticket.error)
            assert app.is_running, text
            await pilot.press("escape")
            assert app.screen is app.trading, text
