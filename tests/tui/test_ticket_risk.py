"""The ticket sized from risk (issue 15 §3): `r5%` with a Stop loss, the cap shown, the losses
at the stop and at liquidation in both modes, and the stop placed with the entry.

Fixture market at its end (see conftest): BTCUSDT bid 94,999.9 / ask, last and mark 95,000.0;
ETHUSDT ask, last and mark 3,100.00; balance 10,000, taker 0.05 %, 20x cross.
"""

from __future__ import annotations

from decimal import ROUND_DOWN
from decimal import Decimal as D

from textual.widgets import Input

from papertrade.tui.screens.ticket import OrderTicket


def floor(value: D, step: str) -> D:
    return (value / D(step)).to_integral_value(ROUND_DOWN) * D(step)


async def test_r5_percent_with_a_stop_is_capped_shows_the_cross_cascade_and_places_the_stop(
    app_factory, tui
) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        app.session.order("ETHUSDT", "buy", D("3"))  # fee 3 × 3,100 × 0.0005 = 4.65
        await pilot.press("b")
        ticket = app.screen
        assert isinstance(ticket, OrderTicket)
        await tui.type_text(pilot, "r5%")
        await pilot.pause()
        assert ticket.command is None  # a risk without a stop sizes nothing, and says why
        assert ticket.error is not None and "needs a Stop loss price" in ticket.error
        ticket.query_one("#stop-loss", Input).focus()
        await tui.type_text(pilot, "94900")
        await pilot.pause()
        ticket.recompute()

        equity = D(10000) - D("4.65")  # margin balance: the ETH fill's fee, uPnL 0
        per_unit = D(100) + D(95000) * D("0.0005") + D(94900) * D("0.0005")  # 194.95
        wanted = floor(equity * 5 / 100 / per_unit, "0.001")  # 499.7675 / 194.95 → 2.563
        # available: equity − ETH's margin 3 × 3,100 / 20 = 465; one BTC holds 4,750 + 47.5
        qty = floor((equity - D(465)) / (D(95000) / 20 + D("47.5")), "0.001")  # 1.986
        assert (wanted, qty) == (D("2.563"), D("1.986"))
        assert ticket.sized is not None and ticket.sized.qty == qty
        words = " ".join(ticket.preview_text().split())
        assert "capped by 20x leverage: 1.986 (risk 5 % wanted 2.563)" in words

        # cross: the BTC mark that liquidates, ETH held at 3,100 (MM 3 × 3,100 × 0.004)
        fee = qty * D(95000) * D("0.0005")  # 94.335
        w_star = equity - fee - D("37.2")
        lp = floor((qty * D(95000) - w_star) / (qty * D("0.996")), "0.1")
        assert lp == D("90394.9")
        assert "at 90,394.9 takes BTC and ETH: −9,995.35 USDT" in words
        iso_margin = qty * D(95000) / 20  # 9,433.5
        iso_lp = floor((qty * D(95000) - iso_margin) / (qty * D("0.996")), "0.1")
        assert f"at {iso_lp:,}: −9,527.84 USDT, its own margin" in words  # 9,433.5 + 94.335
        # at the stop: 1.986 × 100 + the fees at 95,000 and 94,900
        at_stop = qty * D(100) + fee + qty * D(94900) * D("0.0005")
        assert at_stop == D("387.1707")
        assert "−387.17 USDT, fees included" in words

        await pilot.press("enter")
        await pilot.pause()
        engine = app.session.engine
        assert engine.positions["BTCUSDT"].qty == qty
        (stop,) = [o.command for o in engine.algo if o.symbol == "BTCUSDT"]
        assert stop.id.endswith(":sl") and stop.trigger_price == D("94900")
        assert stop.close_position and stop.side == "sell"
