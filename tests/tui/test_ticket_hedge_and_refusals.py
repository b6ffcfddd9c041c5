"""The order ticket on its own (a bare app around a real engine; no feed, no store): in hedge
mode an entry with a stop shows its losses (issue 15 §3), and a refused order changes nothing
the trader sees but the error line.

Expected figures are worked out here from margin.md §1.7 (the two-sided cross formula; the
one-sided one for an isolated side), taker 0.05 %, BTCUSDT tier 1 (MMR 0.4 %, cum 0), 20x.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR
from decimal import Decimal as D

from screen_host import until
from textual.app import App
from textual.widgets import Input

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.tui.screens.ticket import OrderTicket
from papertrade.tui.widgets.choice import Choice

TAKER = D("0.0005")


class TicketHost(App[None]):
    """Opens one ticket and keeps what it is dismissed with."""

    def __init__(self, engine: Engine, side: ev.Side) -> None:
        super().__init__()
        self.engine, self.side = engine, side
        self.results: list[ev.PlaceOrder | None] = []

    def on_mount(self) -> None:
        self.push_screen(OrderTicket(self.engine, "BTCUSDT", self.side), self.results.append)


class Feed:
    def __init__(self, position_mode: ev.PositionMode = "one_way") -> None:
        self.engine = Engine(settings=ev.SessionSettings(D(10000), TAKER, D("0.0002")))
        self.ts = 1_700_000_000_000
        if position_mode == "hedge":
            self(ev.SetPositionMode(self.tick(), "hedge"))

    def tick(self) -> int:
        self.ts += 1000
        return self.ts

    def __call__(self, event: ev.Event) -> None:
        out = self.engine.apply(event)
        assert not [o for o in out if isinstance(o, ev.Rejected)], out

    def market(self, symbol: str, bid: str, ask: str, mark: str) -> None:
        self(ev.Quote(self.tick(), symbol, D(bid), D(ask)))
        self(ev.Trade(self.tick(), symbol, D(ask), D(1)))  # a stop loss watches the last trade
        self(ev.MarkPrice(self.tick(), symbol, D(mark)))

    def order(self, symbol: str, side: ev.Side, qty: str, **kw: object) -> None:
        self(ev.PlaceOrder(self.tick(), f"o{self.ts}", symbol, side, D(qty), "market", **kw))  # type: ignore[arg-type]


def words(ticket: OrderTicket) -> str:
    return " ".join(ticket.preview_text().split())


async def opened(pilot, app: TicketHost) -> OrderTicket:
    await until(pilot, lambda: isinstance(app.screen, OrderTicket), "the ticket")
    ticket = app.screen
    assert isinstance(ticket, OrderTicket)
    return ticket


async def test_hedge_entry_with_a_stop_shows_its_losses_and_a_closing_order_none() -> None:
    feed = Feed("hedge")
    feed.market("ETHUSDT", "2999.99", "3000", "3000")
    feed.order("ETHUSDT", "buy", "2", position_side="long")  # fee 3
    feed(ev.MarkPrice(feed.tick(), "ETHUSDT", D(2900)))  # uPnL −200, MM 23.2
    feed.market("BTCUSDT", "59990", "60000", "60000")
    feed.order("BTCUSDT", "sell", "0.6", position_side="short")  # at 59,990, fee 17.997
    app = TicketHost(feed.engine, "buy")
    async with app.run_test(size=(120, 40)) as pilot:
        ticket = await opened(pilot, app)
        assert ticket.query_one("#pside", Choice).value == "long"
        ticket.query_one("#qty", Input).value = "1"
        ticket.query_one("#stop-loss", Input).value = "59000"
        await pilot.pause()
        assert ticket.error is None, ticket.error
        text = words(ticket)

        wallet = D(10000) - 3 - D("0.6") * 59990 * TAKER  # 9,979.003
        w_star = wallet - 60000 * TAKER - D("23.2") - 200  # the long's fee 30, ETH held
        lp = (w_star - 60000 + D("0.6") * 59990) / (D("0.004") + D("0.0024") - 1 + D("0.6"))
        lp = lp.quantize(D("0.1"), rounding=ROUND_FLOOR)
        assert lp == D("36280.9")
        lost = wallet - D("0.6") * 10 - 200  # the pot before the trade: 9,773.003
        assert f"Liq. cross at {lp:,} takes both BTC sides and ETH: −9,773.00 USDT" in text
        assert lost.quantize(D("0.01")) == D("9773.00")
        iso = ((60000 - D(3000)) / D("0.996")).quantize(D("0.1"), rounding=ROUND_FLOOR)
        assert f"If isolated at {iso:,}: −3,030.00 USDT, its own margin" in text  # 3,000 + 30
        assert "At the stop −1,059.50 USDT, fees included" in text  # 1,000 + 30 + 29.5

        # a buy on the short side closes it (a stop loss goes with entries only): no losses
        # to show, the closing line instead
        ticket.query_one("#pside", Choice).value = "short"
        ticket.query_one("#qty", Input).value = "0.5"
        ticket.query_one("#stop-loss", Input).value = ""
        await pilot.pause()
        assert ticket.error is None, ticket.error
        text = words(ticket)
        assert "Closes: takes 0.500 off your short side (leaves 0.100)" in text
        assert "At the stop" not in text and "Liq." not in text


async def test_a_refused_leverage_changes_nothing_but_the_error_line() -> None:
    feed = Feed()
    feed.market("BTCUSDT", "59990", "60000", "60000")
    feed.order("BTCUSDT", "buy", "0.1", margin_mode="isolated", leverage=20)
    engine = feed.engine
    state = engine.to_state()
    app = TicketHost(engine, "buy")
    async with app.run_test(size=(120, 40)) as pilot:
        ticket = await opened(pilot, app)
        qty, lev = ticket.query_one("#qty", Input), ticket.query_one("#leverage", Input)
        qty.value = "0.01"
        await pilot.pause()
        assert "(20x isolated)" in words(ticket)

        lev.focus()
        cases = [
            ("0", "leverage must be between 1 and 125x"),
            ("200x", "leverage must be between 1 and 125x"),
            ("10", "cannot lower BTCUSDT leverage from 20x to 10x"),  # valid, refused
        ]
        for typed, reason in cases:
            lev.value = typed
            await pilot.pause()
            assert ticket.error is not None and reason in ticket.error, ticket.error
            shown = words(ticket)
            # nothing is figured at a leverage out of range or refused
            assert "Margin" not in shown and "lose" not in shown and "liq" not in shown, shown
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is ticket and app.results == []  # nothing sent
            assert lev.value == typed, typed  # kept, to be corrected
            assert app.focused is lev, typed  # the focus stays where the trader was
            assert qty.value == "0.01"
            assert words(ticket) == shown  # the preview did not change either
            assert ticket.error is not None and reason in ticket.error
            assert engine.to_state() == state  # nor did the engine: same setting, no order

        lev.value = "25"  # raising an isolated position's leverage is allowed
        await pilot.pause()
        assert ticket.error is None and "(25x isolated)" in words(ticket)
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.results), "the ticket to send")
        (sent,) = app.results
        assert sent is not None and (sent.leverage, sent.qty) == (25, D("0.01"))
