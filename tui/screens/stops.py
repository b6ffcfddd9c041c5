"""Dialogs for the stops of an open position and its orders: `t` sets the position's
take-profit and stop-loss, `e` moves an open order's price or trigger (amend).

Each validates inline and returns plain values (None when cancelled); the trading screen
turns them into engine commands through the session. Enter submits from any field.

The screen behind a dialog is a still (`StillBackdrop`), so each dialog shows the market it
acts on itself, re-read from the engine's own state four times a second: the `t` dialog what
each leg would make or lose and whether the exchange would refuse it for triggering at once,
`e` how far the typed price is from the market, the close dialog the mark and the part's PnL.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from papertrade.core import events as ev
from papertrade.core.instruments import Instrument
from papertrade.core.market import MarketState
from papertrade.core.positions import Position
from papertrade.tui.screens.modals import _Dialog
from papertrade.tui.service.stops import (
    LegPreview,
    amend_preview,
    leg_preview,
    price_for_roe,
    to_tick,
    watched_price,
)
from papertrade.tui.service.typed import parse_decimal
from papertrade.tui.widgets import fmt
from papertrade.tui.widgets.choice import Choice

LIVE_REFRESH_S = 0.25
"""How often a dialog re-reads the market it acts on (its backdrop stands still)."""


@dataclass(frozen=True, slots=True)
class TpSl:
    """Trigger prices on the tick grid; None removes that leg."""

    tp: Decimal | None
    sl: Decimal | None
    working: ev.WorkingType


class TpSlModal(_Dialog):
    """The position's TP and SL, typed as prices or as ROE % (`20` for a TP, `-10` or `10`
    for an SL: a stop is always a loss), watching the last or the mark price."""

    DEFAULT_CSS = """
    TpSlModal .row { height: 1; margin-bottom: 1; }
    TpSlModal .label { width: 12; color: $text-muted; }
    TpSlModal Input { width: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "submit", "Apply"),
    ]

    def __init__(
        self,
        pos: Position,
        tp: Decimal | None,
        sl: Decimal | None,
        market: MarketState | None = None,
    ) -> None:
        """`market`: the engine's own state of the symbol, re-read while the dialog is up."""
        super().__init__()
        self.pos, self.tp, self.sl, self.market = pos, tp, sl, market

    def compose(self) -> ComposeResult:
        pos = self.pos
        with Vertical(classes="dialog"):
            yield Static(Text(f"TP/SL of {pos.symbol} {pos.side}", style="bold"))
            yield Static(id="tpsl-market", classes="dim")
            with Horizontal(classes="row"):
                yield Label("By", classes="label")
                yield Choice([("Price", "price"), ("ROE %", "roe")], "price", id="by")
            with Horizontal(classes="row"):
                yield Label("Take profit", classes="label")
                yield Input(self._shown(self.tp), id="tp", placeholder="none", compact=True)
            with Horizontal(classes="row"):
                yield Label("Stop loss", classes="label")
                yield Input(self._shown(self.sl), id="sl", placeholder="none", compact=True)
            with Horizontal(classes="row"):
                yield Label("Trigger on", classes="label")
                yield Choice([("Last", "contract"), ("Mark", "mark")], "contract", id="on")
            yield Static(id="tpsl-preview")
            yield Static(classes="dialog-error")
            yield Static("enter apply · empty removes · space/←→ choose · esc", classes="dim")

    @staticmethod
    def _shown(value: Decimal | None) -> str:
        return "" if value is None else str(value)

    def on_mount(self) -> None:
        self.query_one("#sl", Input).focus()
        self._refresh()
        self.set_interval(LIVE_REFRESH_S, self._refresh)

    def leg(self, field: str) -> Decimal | None:
        """The trigger a field asks for (ValueError with what is wrong)."""
        text = self.query_one(f"#{field}", Input).value.strip()
        if not text:
            return None
        pos = self.pos
        if self.query_one("#by", Choice).value == "roe":
            roe = parse_decimal(text.removesuffix("%"), f"{field.upper()} ROE %", positive=False)
            if field == "sl":
                roe = -abs(roe)
            price = price_for_roe(pos, roe)
            if price <= 0:
                raise ValueError(f"{field.upper()}: an ROE of {roe}% is below a zero price")
            return to_tick(price, pos.instrument.tick_size, field, pos)
        return parse_decimal(text, f"{field.upper()} price")

    def result(self) -> TpSl:
        working = self.query_one("#on", Choice).value
        return TpSl(self.leg("tp"), self.leg("sl"), "mark" if working == "mark" else "contract")

    @on(Input.Changed)
    @on(Choice.Changed)
    def _refresh(self) -> None:
        pos, inst = self.pos, self.pos.instrument
        market = self.market
        last = market.last if market is not None else None
        self.query_one("#tpsl-market", Static).update(
            f"{fmt.qty(pos.qty, inst)} at {fmt.price(pos.entry, inst)} · "
            f"last {fmt.price(last, inst)} · mark {fmt.price(pos.mark, inst)} · {pos.leverage}x · "
            "closes the whole position at trigger"
        )
        try:
            r = self.result()
        except ValueError as exc:
            self.error(str(exc))
            self.query_one("#tpsl-preview", Static).update("")
            return
        self.error("")
        watched = watched_price(market, r.working)
        text = Text()
        for name, trigger in (("tp", r.tp), ("sl", r.sl)):
            if text:
                text.append("\n")
            if trigger is None:
                text.append(f"{name.upper()} none", style="dim")
            else:
                text.append_text(self._leg_text(leg_preview(pos, name, trigger, watched), r))
        self.query_one("#tpsl-preview", Static).update(text)

    def _leg_text(self, leg: LegPreview, r: TpSl) -> Text:
        inst = self.pos.instrument
        on = "mark" if r.working == "mark" else "last"
        text = Text(f"{leg.leg.upper()} {fmt.price(leg.trigger, inst)}")
        if leg.at_once:
            text.append(
                f" · {on} {fmt.price(leg.watched, inst)} is past it: refused (fires at once)",
                style="bold red",
            )
            return text
        if leg.away is not None:
            text.append(f" · {fmt.pct(leg.away)} from {on}")
        text.append(" · PnL ")
        text.append_text(fmt.signed_text(fmt.money(leg.pnl), leg.pnl))
        text.append(" before fees")
        return text

    @on(Input.Submitted)
    def action_submit(self) -> None:
        try:
            self.dismiss(self.result())
        except ValueError as exc:
            self.error(str(exc))


@dataclass(frozen=True, slots=True)
class Amend:
    price: Decimal | None
    trigger: Decimal | None


class AmendModal(_Dialog):
    """Move an open order's limit price and/or trigger price, keeping its id."""

    DEFAULT_CSS = """
    AmendModal .row { height: 1; margin-bottom: 1; }
    AmendModal .label { width: 12; color: $text-muted; }
    AmendModal Input { width: 1fr; }
    """

    def __init__(
        self,
        order: ev.OrderState,
        market: MarketState | None = None,
        instrument: Instrument | None = None,
    ) -> None:
        """`market`: the engine's own state of the symbol, re-read while the dialog is up."""
        super().__init__()
        self.order = order
        self.market = market
        self.instrument = instrument

    def compose(self) -> ComposeResult:
        o = self.order
        with Vertical(classes="dialog"):
            yield Static(Text(f"Amend {o.id}: {o.order_type} {o.side} {o.symbol}", style="bold"))
            if o.price is not None:
                with Horizontal(classes="row"):
                    yield Label("Limit price", classes="label")
                    yield Input(str(o.price), id="price", compact=True)
            if o.trigger_price is not None:
                with Horizontal(classes="row"):
                    yield Label("Trigger at", classes="label")
                    yield Input(str(o.trigger_price), id="trigger", compact=True)
            yield Static(id="amend-market", classes="dim")
            yield Static(classes="dialog-error")
            yield Static("enter apply · esc cancel", classes="dim")

    def on_mount(self) -> None:
        self.query(Input).first().focus()
        self._show()
        self.set_interval(LIVE_REFRESH_S, self._show)

    @on(Input.Changed)
    def _show(self) -> None:
        """The market beside what is typed: how far each price is from the price it is
        compared with (a limit with the last trade, a trigger with what it watches), and a
        trigger the watched price has already passed (the engine refuses it, -2021)."""
        o, market, inst = self.order, self.market, self.instrument
        if market is None:
            return
        text = Text(
            f"last {fmt.price(market.last, inst)} · mark {fmt.price(market.mark, inst)} · "
            f"bid {fmt.price(market.bid, inst)} · ask {fmt.price(market.ask, inst)}"
        )
        for field in self.query(Input):
            try:
                value = parse_decimal(field.value, f"{field.id} price")
            except ValueError:
                continue
            seen = amend_preview(o, market, field.id == "trigger", value)
            if seen is None:
                continue
            text.append(f"\n{seen.what} {fmt.pct(seen.away)} from {seen.on}")
            if seen.at_once:
                text.append(f" · {seen.on} is past it: refused (fires at once)", "bold red")
        self.query_one("#amend-market", Static).update(text)

    @on(Input.Submitted)
    def _submit(self) -> None:
        values: dict[str, Decimal | None] = {"price": None, "trigger": None}
        for field in self.query(Input):
            name = field.id or ""
            try:
                value = parse_decimal(field.value, f"{name} price")
            except ValueError as exc:
                self.error(str(exc))
                return
            original = self.order.price if name == "price" else self.order.trigger_price
            values[name] = None if value == original else value
        if values["price"] is None and values["trigger"] is None:
            self.dismiss(None)
            return
        self.dismiss(Amend(values["price"], values["trigger"]))


FRACTIONS = (("25%", "0.25"), ("50%", "0.5"), ("75%", "0.75"), ("100%", "1"))


class CloseModal(_Dialog):
    """How much of the position to close at market: 25/50/75/100 %, 100 chosen; `enter`
    confirms, `space`/`←→` change it, `escape` cancels. Returns the fraction (a Decimal)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "submit", "Close"),
        Binding("1", "pick('0.25')", show=False),
        Binding("2", "pick('0.5')", show=False),
        Binding("3", "pick('0.75')", show=False),
        Binding("4", "pick('1')", show=False),
    ]

    def __init__(self, pos: Position) -> None:
        super().__init__()
        self.pos = pos

    def compose(self) -> ComposeResult:
        pos = self.pos
        inst = pos.instrument
        with Vertical(classes="dialog"):
            yield Static(
                Text(
                    f"Close {pos.side.upper()} {fmt.qty(pos.qty, inst)} {pos.symbol} at market",
                    style="bold",
                )
            )
            yield Choice(FRACTIONS, "1", id="fraction")
            yield Static(id="close-what")
            yield Static("enter close · space/←→ or 1-4 choose · esc cancel", classes="dim")

    def on_mount(self) -> None:
        self.query_one("#fraction", Choice).focus()
        self._show()
        # The backdrop is a still (`StillBackdrop`): the price and PnL the close would meet
        # are shown here, live, from the engine's own position.
        self.set_interval(LIVE_REFRESH_S, self._show)

    @on(Choice.Changed)
    def _show(self) -> None:
        pos = self.pos
        inst = pos.instrument
        part = pos.qty * self.fraction
        text = Text(f"closes {fmt.qty(part, inst)} (reduce-only)", style="dim")
        if pos.qty:
            upnl = pos.upnl * part / pos.qty
            text.append(f"\nmark {fmt.price(pos.mark, inst)} · its PnL now ")
            text.append_text(fmt.signed_text(fmt.money(upnl), upnl))
            text.append(" USDT, before the taker fee")
        self.query_one("#close-what", Static).update(text)

    @property
    def fraction(self) -> Decimal:
        return Decimal(self.query_one("#fraction", Choice).value)

    def action_pick(self, value: str) -> None:
        self.query_one("#fraction", Choice).value = value

    def action_submit(self) -> None:
        self.dismiss(self.fraction)
