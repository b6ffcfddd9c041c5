"""The trading log's words and clock (issue 10, bugs 7 and 13).

Bug 7: "LIQUIDATED cross long 10 ETHUSDT at mark 3000: lost -18.00 USDT" beside BTC's "lost
9,988": each position's line now says its part, and one line says what the account lost.
Bug 13: fills were stamped in market time and feed lines in wall-clock time; now every line
is in market time (UTC), and the panel says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from screen_host import until

from papertrade.core import events as ev
from papertrade.tui.widgets.log import CLOCK_LABEL

HOUR_MS = 3_600_000


def _lines(app: Any) -> list[str]:
    return [line.text for line in app.trading.log_panel.lines]


async def test_cross_liquidation_lines_say_each_part_and_the_accounts_loss(app_factory, tui):
    """By hand, fixture market (BTC ask 95,000, ETH ask 3,100), 10,000 USDT, taker 0.05 %:
    BTC long 0.5 at 95,000 (20x, fee 23.75) and ETH long 10 at 3,100 (20x, fee 15.50) leave a
    cross wallet of 10,000 - 23.75 - 15.50 = 9,960.75. Marked BTC 60,000 and ETH 3,200 (ETH in
    profit +1,000), the margin balance 9,960.75 - 17,500 + 1,000 < 0: everything goes, the
    account loses its whole wallet, 9,960.75, and ETH, in profit, has a part of 0.00."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        session = app.session
        session.order("BTCUSDT", "buy", Decimal("0.5"), margin_mode="cross", leverage=20)
        session.order("ETHUSDT", "buy", Decimal("10"), margin_mode="cross", leverage=20)
        assert session.engine.acct.cross_wallet == Decimal("9960.75")
        ts = session.engine.last_ts
        session.on_market(ev.MarkPrice(ts + 1000, "ETHUSDT", Decimal("3200")))
        session.on_market(ev.MarkPrice(ts + 2000, "BTCUSDT", Decimal("60000")))
        assert session.engine.positions == {}
        app.trading.flush()
        await pilot.pause()
        text = " ".join(" ".join(_lines(app)).split())
        assert "LIQUIDATED cross long 10 ETHUSDT at mark 3200: its part of the account's " in text
        assert "LIQUIDATED cross long 0.5 BTCUSDT at mark 60000: its part of the account's" in text
        assert (
            "LIQUIDATED cross account: lost 9,960.75 USDT in all, the whole cross wallet "
            "(BTCUSDT 9,960.75 + ETHUSDT 0.00); 2 cross positions closed, winners too" in text
        )
        assert "lost -" not in text and "-0.00" not in text


async def test_every_log_line_is_stamped_in_market_time_and_labelled(app_factory, tui):
    """The fixture plays 2025-01-01 00:00:00-00:00:09 and the wall clock is pinned at
    00:00:00; the market then moves an hour on. A feed line written after that reads 01:00:09
    (market time), like the fill beside it — not 00:00:00 (the wall clock)."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        session = app.session
        later = session.engine.last_ts + HOUR_MS
        session.on_market(ev.Quote(later, "BTCUSDT", Decimal("94999.9"), Decimal("95000.0")))
        session.order("BTCUSDT", "buy", Decimal("0.01"))
        app.log_line("note X")
        app.trading.flush()
        await pilot.pause()
        stamp = datetime.fromtimestamp(later / 1000, UTC).strftime("%H:%M:%S")
        assert stamp == "01:00:09"
        lines = _lines(app)
        fill = next(line for line in lines if "FILL buy 0.01 BTCUSDT" in line)
        note = next(line for line in lines if "note X" in line)
        assert fill.startswith(stamp) and note.startswith(stamp)
        assert app.trading.log_panel.border_subtitle == CLOCK_LABEL == "market time, UTC"


async def test_the_log_wraps_its_lines_again_when_its_width_changes(app_factory, tui) -> None:
    """At 120 columns with the depth panel the log shares the width with the account and the
    depth column; at 80 it takes the whole width. A terminal resized from one to the other kept
    the lines wrapped to the narrower log."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await pilot.press("d")  # the depth column: the log under the orders narrows
        log = app.trading.log_panel
        await until(pilot, lambda: log.scrollable_content_region.width < 60, "a narrower log")
        # 57 characters and the 9 of the time stamp: more than the narrow log, less than 78
        sentence = "long enough to wrap beside the depth column but not at 80"
        log.add_text(sentence)
        await pilot.pause()
        narrow = log.scrollable_content_region.width
        assert narrow < len(sentence) + 9 < 78
        assert max(line.cell_length for line in log.lines) <= narrow
        await pilot.resize_terminal(80, 24)
        app.trading.action_panel("log")
        await until(pilot, lambda: log.scrollable_content_region.width > 60, "the full width")
        await pilot.pause()
        texts = [line.text for line in log.lines]
        # one line now, not two, and written once
        assert sum(sentence in text for text in texts) == 1, texts


def test_an_order_walked_through_the_book_is_one_toast_line() -> None:
    """Three fills of one order (the `book` model's one fill per level): one line with the
    total, the average and the fees, not three toasts."""
    from papertrade.tui.widgets.log import describe_fills

    def fill(qty: str, price: str, fee: str, average: str | None = None) -> ev.Fill:
        return ev.Fill(
            1, "u1", "BTCUSDT", "buy", Decimal(qty), Decimal(price), Decimal(fee), Decimal(0),
            "taker", average_price=None if average is None else Decimal(average),
        )  # fmt: skip

    # by hand: (0.5 x 100 + 1 x 101 + 0.5 x 103) / 2 = 202.5 / 2 = 101.25; fees 0.3 in all
    walked = [fill("0.5", "100", "0.05"), fill("1", "101", "0.1"), fill("0.5", "103", "0.15")]
    text = describe_fills(walked)
    assert text == "FILL buy 2 BTCUSDT @ 101.25 avg over 3 fills (taker, fees 0.3000)"
    # the engine's own average on the last fill is the one shown when it is there
    walked[-1] = fill("0.5", "103", "0.15", average="101.25")
    assert describe_fills(walked) == text
    assert describe_fills(walked[:1]) == "FILL buy 0.5 BTCUSDT @ 100 (taker, fee 0.0500)"
    # an average is shown to 8 significant digits, as a price reads: 94,994.02991667 -> .03
    walked[-1] = fill("0.5", "103", "0.15", average="94994.02991667")
    assert "@ 94994.03 avg over 3 fills" in describe_fills(walked)
