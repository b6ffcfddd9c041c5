"""Hedge mode in the terminal (pilot tests on the fixture market and a real store): the account
panel says the mode, the palette switches it (refused with the engine's reason while anything
is open), the ticket picks the side, the positions table shows both sides of a symbol and `c`
closes the selected one.

Market at the end of the fixture: BTCUSDT bid 94,999.9 / ask 95,000.0, mark 95,000.0.
"""

from __future__ import annotations

import io
from decimal import Decimal

from rich.console import Console

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.saves.store import Store
from papertrade.tui.cli.terminal import build_parser
from papertrade.tui.screens.palette import TradingCommands
from papertrade.tui.screens.ticket import OrderTicket
from papertrade.tui.service.trading import TradingSession
from papertrade.tui.widgets.choice import Choice


def rendered(renderable) -> str:
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def log_text(app) -> str:
    return " ".join(" ".join(line.text for line in app.trading.log_panel.lines).split())


def palette_command(app, prefix: str):
    found = [
        (n, cb) for n, cb, _ in TradingCommands(app.trading)._commands() if n.startswith(prefix)
    ]
    assert len(found) == 1, [n for n, _, _ in TradingCommands(app.trading)._commands()]
    return found[0][1]


async def switch_to_hedge(pilot, app) -> None:
    palette_command(app, "Switch to hedge position mode")()
    await pilot.pause()


async def ticket_order(pilot, tui, key: str, qty: str, side: str | None = None) -> OrderTicket:
    await pilot.press(key)
    ticket = pilot.app.screen
    assert isinstance(ticket, OrderTicket)
    if side is not None:
        ticket.query_one("#pside", Choice).value = side
        await pilot.pause()
    await tui.type_text(pilot, qty)
    await pilot.pause()
    return ticket


async def test_the_palette_switches_to_hedge_and_the_account_panel_says_so(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        assert "Position mode" not in rendered(app.trading.account.render())
        seq = app.writer.last_seq
        await switch_to_hedge(pilot, app)
        assert app.session.engine.position_mode == "hedge"
        assert app.writer.last_seq == seq + 1  # the switch is journaled like any command
        shown = rendered(app.trading.account.render())
        assert "Position mode" in shown and "hedge" in shown
        assert "position mode: hedge mode" in log_text(app)
        # and back: the palette now offers one-way
        palette_command(app, "Switch to one-way position mode")()
        await pilot.pause()
        assert app.session.engine.position_mode == "one_way"


async def test_switching_with_a_position_open_is_refused_with_the_reason(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        app.session.order("BTCUSDT", "buy", Decimal("0.01"))
        app.trading.flush()
        await switch_to_hedge(pilot, app)
        assert app.session.engine.position_mode == "one_way"
        assert (
            "cannot switch to hedge mode with 1 open position: close and cancel everything first"
            in log_text(app)
        )


async def test_the_ticket_picks_the_side_and_the_table_shows_both(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await switch_to_hedge(pilot, app)
        ticket = await ticket_order(pilot, tui, "b", "0.02")
        assert ticket.query_one("#pside", Choice).value == "long"  # a buy opens the long side
        assert not ticket.query("#reduce")  # no reduce-only in hedge mode: the side says it
        await pilot.press("enter")
        await pilot.pause()
        ticket = await ticket_order(pilot, tui, "s", "0.01")
        assert ticket.query_one("#pside", Choice).value == "short"
        await pilot.press("enter")
        await pilot.pause()
        engine = app.session.engine
        sides = {p.slot: (p.side, p.qty) for p in engine.positions.values()}
        assert sides == {"long": ("long", Decimal("0.02")), "short": ("short", Decimal("0.01"))}
        app.trading.flush()
        table = app.trading.positions
        assert table.row_keys == ["BTCUSDT:long", "BTCUSDT:short"]
        cells = [str(table.get_cell(key, "side")) for key in table.row_keys]
        assert cells == ["LONG", "SHORT"]
        # each side's break-even from its own fees (hedge fills name their side): both were
        # taker fills, fee = qty * entry * 0.0005, so long: entry + fee / qty = entry * 1.0005
        # and short: entry - fee / qty = entry * 0.9995 (shown to the 0.1 tick)
        long, short = engine.positions["BTCUSDT:long"], engine.positions["BTCUSDT:short"]
        expected = [long.entry * Decimal("1.0005"), short.entry * Decimal("0.9995")]
        shown = [Decimal(str(table.get_cell(k, "be")).replace(",", "")) for k in table.row_keys]
        assert all(abs(a - b) <= Decimal("0.05") for a, b in zip(shown, expected, strict=True))


async def test_a_sell_on_the_long_side_closes_part_of_it(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await switch_to_hedge(pilot, app)
        app.session.order("BTCUSDT", "buy", Decimal("0.03"), position_side="long")
        app.session.order("BTCUSDT", "sell", Decimal("0.01"), position_side="short")
        ticket = await ticket_order(pilot, tui, "s", "0.01", side="long")
        assert "Closes: takes 0.010 off your long side (leaves 0.020)" in rendered(
            ticket._preview_renderable()
        )
        await pilot.press("enter")
        await pilot.pause()
        engine = app.session.engine
        assert engine.positions["BTCUSDT:long"].qty == Decimal("0.02")
        assert engine.positions["BTCUSDT:short"].qty == Decimal("0.01")


async def test_c_closes_the_selected_side_and_never_guesses(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await switch_to_hedge(pilot, app)
        app.session.order("BTCUSDT", "buy", Decimal("0.02"), position_side="long")
        app.session.order("BTCUSDT", "sell", Decimal("0.01"), position_side="short")
        app.trading.flush()
        engine = app.session.engine
        await pilot.press("c")  # the watchlist's BTCUSDT: both sides open, which one?
        await pilot.pause()
        assert set(engine.positions) == {"BTCUSDT:long", "BTCUSDT:short"}
        await pilot.press("tab")  # positions panel: rows long, short
        await pilot.press("j")  # the short
        await pilot.press("c", "enter")  # enter: the whole side
        await pilot.pause()
        assert set(engine.positions) == {"BTCUSDT:long"}
        fills = [o for o in app.session.ledger.trades]
        assert (fills[-1][1].side, fills[-1][1].qty) == ("buy", Decimal("0.01"))
        # one side left: `c` on the watchlist symbol closes it
        await pilot.press("shift+tab")
        await pilot.press("c", "enter")
        await pilot.pause()
        assert engine.positions == {}


async def test_the_journal_of_a_hedge_session_rebuilds_its_account(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await switch_to_hedge(pilot, app)
        app.session.order("BTCUSDT", "buy", Decimal("0.02"), position_side="long")
        app.session.order("BTCUSDT", "sell", Decimal("0.01"), position_side="short")
        live = app.session.engine.account()
        app.writer.flush()
        rebuilt = app.store.engine_at(app.writer.id)
        assert rebuilt.position_mode == "hedge"
        assert rebuilt.account() == live


def test_position_mode_from_the_command_line_switches_at_the_first_market_event(
    tmp_path,
) -> None:
    args = build_parser().parse_args(["--position-mode", "hedge"])
    assert args.position_mode == "hedge"
    t0 = 1_735_689_600_000
    with Store.open(tmp_path / "cli.db") as store:
        settings = ev.SessionSettings()
        engine = Engine(bundled("binance"), settings)
        writer = store.start_session("cli", "sim", ["BTCUSDT"], settings, engine=engine)
        session = TradingSession(engine, ["BTCUSDT"], writer=writer, venue="sim")
        session.start_in_position_mode(args.position_mode)
        assert engine.position_mode == "one_way"  # nothing is stamped before the market
        session.on_market(ev.Quote(t0, "BTCUSDT", Decimal("95000.0"), Decimal("95000.0")))
        assert engine.position_mode == "hedge"
        writer.close()
        events = [e for _, e in store.events("cli")]
    assert events[:2] == [
        ev.SetPositionMode(t0, "hedge"),
        ev.Quote(t0, "BTCUSDT", Decimal("95000.0"), Decimal("95000.0")),
    ]
