"""The depth panel: the selected symbol's book level by level, your resting orders in it, and
`d` showing or hiding it (a right-hand column beside the positions and the orders/log/account
row at 120×40, ten levels a side; a panel of its own at 80×24).

A real app on the fixture market (conftest), with a `book` event pushed through the session as
a feed would deliver it; expected totals and the spread are worked out by hand below.
"""

from __future__ import annotations

from decimal import Decimal as D

from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from papertrade.core import events as ev
from papertrade.core.instruments import bundled
from papertrade.tui.widgets.depth import DepthPanel, Own

LARGE, SMALL = (120, 40), (80, 24)
BIDS = ((D("94999.9"), D("1.5")), (D("94999.0"), D("2.25")), (D("94998.0"), D("4")))
ASKS = ((D("95000.0"), D("0.8")), (D("95001.5"), D("1.2")), (D("95003.0"), D("3")))
# Twelve levels a side, so the panel's cut at ten shows: asks 95,000.0 up by 0.5 with sizes
# 0.1, 0.2, ... 1.2; bids 94,999.9 down by 0.5, 0.25 each.
DEEP_ASKS = tuple((D("95000.0") + D("0.5") * i, D("0.1") * (i + 1)) for i in range(12))
DEEP_BIDS = tuple((D("94999.9") - D("0.5") * i, D("0.25")) for i in range(12))


def on_screen(widget: Widget, size: tuple[int, int]) -> bool:
    region = widget.region
    return bool(widget.display and region.area) and region.right <= size[0]


def lines(panel: DepthPanel) -> list[str]:
    return [line.rstrip() for line in panel.render().plain.splitlines()]


async def test_ten_levels_a_side_beside_the_positions_at_120x40_and_d_hides_it(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=LARGE) as pilot:
        await tui.settle(pilot)
        session, screen = app.session, app.trading
        depth, positions = screen.depth, screen.positions
        # The fixture session fills at the touch: the positions keep the width until d.
        assert not on_screen(depth, LARGE) and not screen.depth_shown
        assert positions.region.width == LARGE[0]
        await pilot.press("d")
        await pilot.pause()
        assert on_screen(depth, LARGE) and screen.depth_shown
        assert lines(depth)[0] == "no depth from this feed yet"  # the fixture has no books
        # A column on the right as tall as the positions and the row under them: 40 rows less
        # the top bar, the footer and the watchlist/chart row's 12.
        lower = screen.query_one("#lower")
        assert depth.region.x == positions.region.right == lower.region.right
        assert depth.region.y == positions.region.y and depth.region.bottom == lower.region.bottom
        assert depth.region.height == 40 - 2 - 12 == 26
        # The positions give it 27 cells and keep every column up to the entry price.
        assert positions.region.width == LARGE[0] - 27
        assert positions.shown[:9] == (
            "symbol", "side", "mode", "size", "liq", "dist", "upnl", "roe", "entry",
        )  # fmt: skip

        line = list(session.history["BTCUSDT"])
        session.on_market(ev.Book(session.engine.last_ts, "BTCUSDT", DEEP_BIDS, DEEP_ASKS))
        assert session.engine.markets["BTCUSDT"].asks == DEEP_ASKS  # the engine has it
        assert list(session.history["BTCUSDT"]) == line  # the chart's line ignores books
        session.order("BTCUSDT", "buy", D("0.01"), "limit", D("94998.9"))  # at the third bid
        session.order("BTCUSDT", "buy", D("0.02"), "limit", D("90000"))  # far below
        screen.flush(force=True)
        await pilot.pause()
        # Totals run from the touch outward: asks 0.1, 0.1 + 0.2 = 0.3, 0.6, 1.0, 1.5, 2.1,
        # 2.8, 3.6, 4.5, 5.5 at the tenth (95,000.0 + 9 x 0.5 = 95,004.5); bids 0.25 more
        # each, 2.5 at the tenth (94,999.9 - 9 x 0.5 = 94,995.4). Spread 95,000.0 - 94,999.9
        # = 0.1, over the mid 94,999.95: 0.1 / 94,999.95 x 10,000 = 0.0105 bps, two decimals
        # under one bps. 24 lines inside the 26-row panel: all ten levels a side.
        assert str(depth.border_title) == "Depth BTCUSDT"
        assert depth.content_size.height == 24
        assert lines(depth) == [
            "    price  size total",
            " 95,004.5 1.000 5.500",
            " 95,004.0 0.900 4.500",
            " 95,003.5 0.800 3.600",
            " 95,003.0 0.700 2.800",
            " 95,002.5 0.600 2.100",
            " 95,002.0 0.500 1.500",
            " 95,001.5 0.400 1.000",
            " 95,001.0 0.300 0.600",
            " 95,000.5 0.200 0.300",
            " 95,000.0 0.100 0.100",
            " spread 0.1 (0.01 bps)",
            " 94,999.9 0.250 0.250",
            " 94,999.4 0.250 0.500",
            "●94,998.9 0.250 0.750",
            "└ 0.010 yours",
            " 94,998.4 0.250 1.000",
            " 94,997.9 0.250 1.250",
            " 94,997.4 0.250 1.500",
            " 94,996.9 0.250 1.750",
            " 94,996.4 0.250 2.000",
            " 94,995.9 0.250 2.250",
            " 94,995.4 0.250 2.500",
            " 1 order of yours deeper",
        ]

        # Conflated in the widget: nothing new, nothing drawn; a new book, one draw.
        drawn = depth.draws
        depth.update_from(session.engine, "BTCUSDT")
        assert depth.draws == drawn
        thinner = ((D("95000.0"), D("0.05")), *DEEP_ASKS[1:])
        session.on_market(ev.Book(session.engine.last_ts, "BTCUSDT", DEEP_BIDS, thinner))
        depth.update_from(session.engine, "BTCUSDT")
        assert depth.draws == drawn + 1
        assert lines(depth)[10] == " 95,000.0 0.050 0.050"

        await pilot.press("d")
        await pilot.pause()
        assert not on_screen(depth, LARGE) and positions.region.width == LARGE[0]

        # 80x24: one panel at a time; the depth is one of them, out of view until d.
        await pilot.resize_terminal(*SMALL)
        await pilot.pause()
        assert screen.compact and not on_screen(depth, SMALL)
        footer_keys = {k.key: k for k in screen.query_one(Footer).query(FooterKey)}
        assert on_screen(footer_keys["d"], SMALL)  # the key is in the 80-column footer
        await pilot.press("2")
        await pilot.press("d")
        await pilot.pause()
        assert on_screen(depth, SMALL) and not on_screen(screen.chart, SMALL)
        assert on_screen(positions, SMALL) and on_screen(screen.account, SMALL)
        # Between the positions and the account strip, as every other panel is.
        assert positions.region.bottom <= depth.region.y < screen.account.region.y
        shown = lines(depth)
        assert " spread 0.1 (0.01 bps)" in shown and len(shown) <= depth.content_size.height
        await pilot.press("d")  # back to the panel it replaced
        await pilot.pause()
        assert on_screen(screen.chart, SMALL) and not on_screen(depth, SMALL)


def test_an_order_in_the_queue_shows_what_is_ahead_of_it_and_the_levels_fit_the_height():
    """Under the `queue` model the engine keeps each resting order's `queue_ahead`; the panel
    words it under the order's level. A short panel shows fewer levels a side, never more
    than ten."""
    panel = DepthPanel()
    panel.symbol, panel.inst = "BTCUSDT", bundled("binance")["BTCUSDT"]
    panel.bids, panel.asks = BIDS, ASKS
    panel.own = (
        Own("sell", D("95001.5"), D("0.5"), D("3.2")),
        Own("buy", D("94999.5"), D("0.02"), None),  # between two bids: a row of its own
    )
    text = [line.rstrip() for line in panel.draw(40).plain.splitlines()]
    # 25 cells: what the 27-wide column holds inside its border.
    assert text[2:4] == ["●95,001.5 1.200 2.000", "└ 0.500, ahead: 3.200 BTC"]
    assert max(len(line) for line in text) == 25
    assert text[6:10] == [
        " 94,999.9 1.500 1.500",
        "●94,999.5",
        "└ 0.020 yours",
        " 94,999.0 2.250 3.750",
    ]

    panel.own = ()
    # 7 lines: the header and the spread leave 5, so two levels a side.
    short = panel.draw(7).plain.splitlines()
    assert (
        len(short) == 6 and short[1].startswith(" 95,001.5") and short[-1].startswith(" 94,999.0")
    )
    # One decimal from one bps up: 95,010.0 - 94,999.9 = 10.1 over the mid 95,004.95 is
    # 10.1 / 95,004.95 x 10,000 = 1.063 bps.
    panel.asks = ((D("95010.0"), D("1")),)
    assert " spread 10.1 (1.1 bps)" in panel.draw(7).plain.splitlines()
    deep = tuple((D(95000) + i, D(1)) for i in range(12))
    panel.asks = deep
    tall = panel.draw(60).plain.splitlines()
    assert tall[1].startswith(" 95,009.0") and " 95,010.0" not in panel.draw(60).plain
