"""The command palette offers one quit (issue 10, bug 13): it listed Textual's "Quit" and the
trading screen's "Quit and save", which ran the same save-and-summary quit. And it offers
every key of the trading screen."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from decimal import Decimal

from textual.binding import Binding

from papertrade.tui.screens.palette import TradingCommands
from papertrade.tui.screens.trading import TradingScreen


async def test_one_quit_and_every_key_of_the_trading_screen_have_a_palette_entry(
    app_factory, tui
) -> None:
    """The palette lists one quit, the saving one. Footer and help keys all reach the palette
    (issue 10 leftover: the alert key and the panel and tab keys had no entry): checked with a
    position on an isolated symbol and an order open, so the entries that need them are
    offered. One terminal for both."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        system = list(app.get_system_commands(app.trading))
        trading = [name for name, _, _ in TradingCommands(app.trading)._commands()]
        quits = [t for t in [*(c.title for c in system), *trading] if "quit" in t.lower()]
        assert quits == ["Quit and save"]
        (quit_command,) = [c for c in system if c.title == "Quit and save"]
        assert quit_command.callback == app.action_quit  # save, summary, exit

        session = app.session
        session.order("BTCUSDT", "buy", Decimal("0.01"), margin_mode="isolated", leverage=10)
        session.order("BTCUSDT", "buy", Decimal("0.01"), order_type="limit", price=Decimal(90000))
        app.trading.flush(force=True)
        await pilot.pause()
        helps = [h for _, _, h in TradingCommands(app.trading)._commands()]
        bindings = [
            b for b in TradingScreen.BINDINGS if isinstance(b, Binding) and b.action != "app.quit"
        ]
        # P's entry needs a liquidation: test_postmortem_screen.py checks it after one
        missing = {
            b.key
            for b in bindings
            if b.id != "postmortem"
            and not any(h.endswith((f"({b.key})", f"({b.key_display})")) for h in helps)
        }
        assert missing == set()
        system = [c.title for c in app.get_system_commands(app.trading)]
        assert "Quit and save" in system  # q


async def run(command: Callable[[], object]) -> None:
    """What the palette does with a command: call it, await what it returns if awaitable."""
    result = command()
    if inspect.isawaitable(result):
        await result


async def test_the_palette_shows_the_panel_and_filter_it_runs(app_factory, tui) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        commands = {n: c for n, c, _ in TradingCommands(app.trading)._commands()}
        await run(commands["Show the chart"])
        await pilot.pause()
        assert app.trading.panel == "chart"
        await run(commands["Orders and history: only BTCUSDT"])
        await pilot.pause()
        assert app.trading.symbol_filter == "BTCUSDT"
        commands = {n: c for n, c, _ in TradingCommands(app.trading)._commands()}
        assert "Orders and history: every symbol" in commands
