"""The keys a trader presses in a taken-over branch, shared by the two ways into one (the
`papertrade replay` terminal and a replay opened inside a running terminal): both must trade
the branch the same way, so both tests drive it with the same steps and checks.

The branch is `examples/drills/limit-orders.jsonl` taken over at seq 5, its market paused.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from screen_host import until
from textual.pilot import Pilot

from papertrade.tui.screens.modals import LeverageModal
from papertrade.tui.screens.ticket import OrderTicket


async def buy_one_sol_then_leverage_five(app: Any, pilot: Pilot[Any]) -> None:
    """`b` 1 `enter`: a market buy in the branch; `l` 5 `enter`: its leverage, with `space`
    typed into the dialog rather than pacing the (paused) recorded market."""
    trading = app.screen
    engine = app.session.engine
    await pilot.press("b")
    assert isinstance(app.screen, OrderTicket)
    await pilot.press("1", "enter")
    await until(pilot, lambda: app.screen is trading, "the ticket to close")
    assert engine.positions["SOLUSDT"].size == Decimal("1")
    assert engine.positions["SOLUSDT"].mark == Decimal("150.00")

    await pilot.press("l")
    assert isinstance(app.screen, LeverageModal)
    await pilot.press("space")
    assert app.recorded.paused
    await pilot.press(*["backspace"] * 4, "5", "enter")
    await until(pilot, lambda: app.screen is trading, "the dialog to close")
    assert engine.symbol_setting("SOLUSDT")[1] == 5
