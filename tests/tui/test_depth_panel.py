"""The depth panel: the selected symbol's book level by level, your resting orders in it, and
`d` showing or hiding it (beside the orders at 120×40, a panel of its own at 80×24).

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


def on_screen(widget: Widget, size: tuple[int, int]) -> bool:
    region = widget.region
    return bool(widget.display and region.area) and region.right <= size[0]


def lines(panel: DepthPanel) -> list[str]:
    return [line.rstrip() for line in panel.render().plain.splitlines()]


async def test_the_book_shows_level_by_level_with_your_orders_and_d_hides_it(app_factory, tui):
    app = app_factory()
    async with app.run_test(size=LARGE) as pilot:
        await tui.settle(pilot)
        session, screen = app.session, app.trading
        depth = screen.depth
        # The fixture session fills at the touch: the orders keep the width until d.
        assert not on_screen(depth, LARGE) and not screen.depth_shown
        books_width = screen.books.region.width
        await pilot.press("d")
        await pilot.pause()
        assert on_screen(depth, LARGE) and screen.depth_shown
        assert screen.books.region.width == books_width - depth.region.width  # it gives way
        assert lines(depth)[0] == "no depth from this feed yet"  # the fixture has no books

        line = list(session.history["BTCUSDT"])
        session.on_market(ev.Book(session.engine.last_ts, "BTCUSDT", BIDS, ASKS))
        assert session.engine.markets["BTCUSDT"].asks == ASKS  # the engine has it
        assert list(session.history["BTCUSDT"]) == line  # the chart's line ignores books
        session.order("BTCUSDT", "buy", D("0.01"), "limit", D("94999.0"))  # at a level
        session.order("BTCUSDT", "buy", D("0.02"), "limit", D("94999.5"))  # between two
        session.order("BTCUSDT", "buy", D("0.02"), "limit", D("90000"))  # far below
        screen.flush(force=True)
        await pilot.pause()
        # Totals run from the touch outward: asks 0.8, 0.8 + 1.2 = 2.0, 2.0 + 3 = 5.0;
        # bids 1.5, 1.5 + 2.25 = 3.75, 3.75 + 4 = 7.75. Spread 95,000.0 - 94,999.9 = 0.1,
        # over the mid 94,999.95: 0.1 / 94,999.95 x 10,000 = 0.0105 bps.
        assert str(depth.border_title) == "Depth BTCUSDT"
        assert lines(depth) == [
            "    price  size total",
            " 95,003.0 3.000 5.000",
            " 95,001.5 1.200 2.000",
            " 95,000.0 0.800 0.800",
            " spread 0.1 (0.01 bps)",
            " 94,999.9 1.500 1.500",
            "●94,999.5",
            "└ 0.020 yours",
            "●94,999.0 2.250 3.750",
            "└ 0.010 yours",
            " 94,998.0 4.000 7.750",
            " 1 order of yours deeper",
        ]

        # Conflated in the widget: nothing new, nothing drawn; a new book, one draw.
        drawn = depth.draws
        depth.update_from(session.engine, "BTCUSDT")
        assert depth.draws == drawn
        thinner = ((D("95000.0"), D("0.3")), *ASKS[1:])
        session.on_market(ev.Book(session.engine.last_ts, "BTCUSDT", BIDS, thinner))
        depth.update_from(session.engine, "BTCUSDT")
        assert depth.draws == drawn + 1
        assert lines(depth)[3] == " 95,000.0 0.300 0.300"

        await pilot.press("d")
        await pilot.pause()
        assert not on_screen(depth, LARGE) and screen.books.region.width == books_width

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
        assert on_screen(screen.positions, SMALL) and on_screen(screen.account, SMALL)
        assert " spread 0.1 (0.01 bps)" in lines(depth)
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
    panel.own = (Own("sell", D("95001.5"), D("0.5"), D("3.2")),)
    text = [line.rstrip() for line in panel.draw(40).plain.splitlines()]
    assert text[2:4] == ["●95,001.5 1.200 2.000", "└ 0.500 · ahead: 3.200 BTC"]

    panel.own = ()
    # 7 lines: the header and the spread leave 5, so two levels a side.
    short = panel.draw(7).plain.splitlines()
    assert (
        len(short) == 6 and short[1].startswith(" 95,001.5") and short[-1].startswith(" 94,999.0")
    )
    deep = tuple((D(95000) + i, D(1)) for i in range(12))
    panel.asks = deep
    tall = panel.draw(60).plain.splitlines()
    assert tall[1].startswith(" 95,009.0") and " 95,010.0" not in panel.draw(60).plain
