"""ROE is uPnL over the initial margin, as Binance shows it (issue 10, bug 13): adding margin to
an isolated position used to lower its ROE (computed over the isolated margin). `fmt.roe` is
the one formula; the positions table (tui/widgets/positions.py, being reworked by the layout
change) is to call it."""

from __future__ import annotations

from decimal import Decimal

from papertrade.core import events as ev
from papertrade.tui.widgets import fmt


async def test_adding_isolated_margin_leaves_roe_on_the_initial_margin(app_factory, tui):
    """BTC long 0.2 at the ask 95,000, 100x isolated: initial margin 0.2 x 95,000 / 100 = 190.
    100 USDT added: margin about 290. Marked 95,500: uPnL 0.2 x 500 = 100, ROE 100 / 190 =
    52.63 % (over the margin it would read 100 / 290 = 34.5 %)."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        session = app.session
        session.order("BTCUSDT", "buy", Decimal("0.2"), margin_mode="isolated", leverage=100)
        session.adjust_margin("BTCUSDT", Decimal("100"))
        pos = session.engine.positions["BTCUSDT"]
        assert pos.margin > Decimal("280")
        session.on_market(ev.MarkPrice(session.engine.last_ts + 1000, "BTCUSDT", Decimal("95500")))
        assert pos.upnl == Decimal("100")
        assert fmt.roe(pos) == Decimal("100") / Decimal("190")
        assert fmt.pct(fmt.roe(pos)) == "+52.63%"
