"""The command palette offers one quit (issue 10, bug 13): it listed Textual's "Quit" and the
trading screen's "Quit and save", which ran the same save-and-summary quit."""

from __future__ import annotations

from papertrade.tui.screens.palette import TradingCommands


async def test_the_palette_lists_one_quit_and_it_is_the_saving_one(app_factory, tui) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        system = list(app.get_system_commands(app.trading))
        trading = [name for name, _, _ in TradingCommands(app.trading)._commands()]
        quits = [t for t in [*(c.title for c in system), *trading] if "quit" in t.lower()]
        assert quits == ["Quit and save"]
        (quit_command,) = [c for c in system if c.title == "Quit and save"]
        assert quit_command.callback == app.action_quit  # save, summary, exit
