"""Issue 12 on the screen: a triggered stop in the log (trigger, actual fill, slippage),
cancellation reasons in words, and the open-orders table showing conditional orders with
their type, trigger, watched price, flags, time in force and age."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from papertrade.core import events as ev

D = Decimal


def _log(app: Any) -> str:
    return " ".join(" ".join(line.text for line in app.trading.log_panel.lines).split())


async def test_a_triggered_stop_is_logged_with_trigger_fill_and_slippage(app_factory, tui):
    """By hand: long 0.01 BTC, a sell stop (close position) at 94,000 on the last price.
    The book gaps to bid 93,850 / ask 93,860, then a trade prints at 93,900: the stop fires at
    that trade and sells at the bid after it, 93,850 — 150 worse than its trigger, which is
    150 / 94,000 = 0.1596 % -> "0.16%"."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        session = app.session
        session.order("BTCUSDT", "buy", D("0.01"))
        session.order(
            "BTCUSDT",
            "sell",
            D(0),
            "stop_market",
            trigger_price=D("94000"),
            close_position=True,
        )
        ts = session.engine.last_ts
        session.on_market(ev.Quote(ts + 1000, "BTCUSDT", D("93850"), D("93860")))
        session.on_market(ev.Trade(ts + 2000, "BTCUSDT", D("93900"), D("0.5")))
        assert "BTCUSDT" not in session.engine.positions
        app.trading.flush()
        await pilot.pause()
        text = _log(app)
        assert "TRIGGERED u2 stop_market BTCUSDT: trigger 94000 crossed at 93900" in text
        assert "FILL sell 0.01 BTCUSDT @ 93850" in text
        assert "trigger 94000, slippage 150 against (0.16%)" in text
        assert text.index("TRIGGERED u2") < text.index("FILL sell 0.01")


async def test_a_take_profit_filled_past_its_trigger_slips_in_favour(app_factory, tui):
    """Long 0.01 BTC, a sell take-profit at 96,000 on the last price. The bid jumps to
    96,100 and a trade prints at 96,150: it sells at the worse of the two for a seller,
    96,100 — 100 better than its trigger (100 / 96,000 = 0.1042 % -> "0.10%")."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        session = app.session
        session.order("BTCUSDT", "buy", D("0.01"))
        session.order(
            "BTCUSDT",
            "sell",
            D("0.01"),
            "take_profit_market",
            trigger_price=D("96000"),
            reduce_only=True,
        )
        ts = session.engine.last_ts
        session.on_market(ev.Quote(ts + 1000, "BTCUSDT", D("96100"), D("96110")))
        session.on_market(ev.Trade(ts + 2000, "BTCUSDT", D("96150"), D("0.5")))
        app.trading.flush()
        await pilot.pause()
        assert "trigger 96000, slippage 100 in favour (0.10%)" in _log(app)


async def test_ioc_and_expiry_cancellations_say_why(app_factory, tui):
    """An IOC buy limit at 94,000 under the 95,000 ask cannot fill at once: cancelled, with
    the reason in words. A GTD limit good till now + 601 s expires on the first event after."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        session = app.session
        session.order("BTCUSDT", "buy", D("0.01"), "limit", D("94000"), time_in_force="IOC")
        ts = session.engine.last_ts
        session.order(
            "BTCUSDT",
            "buy",
            D("0.01"),
            "limit",
            D("94000"),
            time_in_force="GTD",
            good_till=ts + 601_000,
        )
        assert len(session.engine.orders) == 1
        session.on_market(ev.MarkPrice(ts + 602_000, "BTCUSDT", D("95000")))
        assert not session.engine.orders
        app.trading.flush()
        await pilot.pause()
        text = _log(app)
        assert "CANCELLED u1: IOC: the part that could not fill at once is cancelled" in text
        assert "CANCELLED u2: expired (its good-till time passed)" in text


async def test_the_orders_table_shows_a_waiting_stop_with_its_trigger_and_age(app_factory, tui):
    """A sell stop-limit (trigger 94,000 on mark, limit 93,900, reduce-only) and a trailing
    stop with an activation price wait off the book; both are rows of the orders table, with
    type, trigger, watched price, flags and time in force. 90 s later the age reads 1m."""
    app = app_factory()
    async with app.run_test(size=(200, 40)) as pilot:
        await tui.settle(pilot)
        session = app.session
        session.order("BTCUSDT", "buy", D("0.02"))
        session.order(
            "BTCUSDT",
            "sell",
            D("0.01"),
            "stop_limit",
            D("93900"),
            trigger_price=D("94000"),
            working_type="mark",
            reduce_only=True,
        )
        session.order(
            "BTCUSDT",
            "sell",
            D("0.01"),
            "trailing_stop_market",
            activation_price=D("96000"),
            callback_rate=D("1.5"),
            reduce_only=True,
        )
        ts = session.engine.last_ts
        session.on_market(ev.MarkPrice(ts + 90_000, "BTCUSDT", D("95000")))
        app.trading.flush()
        await pilot.pause()
        table = app.trading.orders
        assert table.row_keys == ["u2", "u3"]

        def row(key: str) -> dict[str, str]:
            return {c: str(table._cell(key, c)) for c, _, _ in table.COLUMNS}

        stop, trail = row("u2"), row("u3")
        assert (stop["type"], stop["side"], stop["qty"]) == ("stop lim", "sell", "0.010")
        assert (stop["price"], stop["trigger"], stop["watch"]) == ("93,900.0", "94,000.0", "mark")
        assert (stop["flags"], stop["tif"], stop["age"]) == ("reduce", "GTC", "1m")
        assert (trail["type"], trail["trigger"], trail["watch"]) == (
            "trailing",
            "act 96,000.0",
            "last",
        )
        assert trail["tif"] == "" and trail["price"] == "cb 1.5%"
        # x cancels the selected (waiting) order like a resting one
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("x")
        await pilot.pause()
        assert table.row_keys == ["u3"]
