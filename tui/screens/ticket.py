"""`OrderTicket`: the modal where an order is typed, previewed and sent.

Why a live preview: before every order a trader should answer "which mode is this, and what is
the most I can lose if I am wrong?" (reference/margin-modes.md). The ticket asks the engine
(`Engine.preview`, a dry run on a copy) and words the answer per mode: isolated risks this
position's own margin; cross risks the whole cross balance.

Use: `push_screen(OrderTicket(engine, symbol, side), callback)`; the result is a `PlaceOrder`
whose `id`/`ts` are placeholders (the caller stamps them) or None when cancelled. Nothing is
returned while the input is invalid or the engine would reject the order: the reason is shown
inline instead. Quantity accepts `0.01` (base units), `$500` (USDT notional) and `25%` (of the
available balance, as margin at the chosen leverage).

In hedge mode the Reduce-only box gives way to the side the order trades (Binance's
positionSide): a buy opens or adds to the long side and a sell the short side by default;
choosing the other side makes the order close that side (a sell on the long side, a buy on the
short side), and the preview says so.
"""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal
from typing import ClassVar

from rich.console import Console
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Input, Label, Static

from papertrade.core import events as ev
from papertrade.core.engine import Engine, OrderPreview
from papertrade.core.margin import order_cost
from papertrade.core.numbers import ONE
from papertrade.tui.screens.modals import StillBackdrop
from papertrade.tui.service.typed import (
    QuantityError,
    parse_decimal,
    parse_leverage,
    parse_quantity,
)
from papertrade.tui.widgets import fmt
from papertrade.tui.widgets.choice import Choice

PREVIEW_ID = "preview"


class TicketError(ValueError):
    """Input the ticket cannot turn into an order; shown inline."""


class TicketCheckbox(Checkbox, inherit_bindings=False):
    """A box toggled by space only: Enter submits the ticket. A stock `Checkbox` toggles on
    Enter, which silently sent a reduce-only order as an ordinary one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_button", "Toggle", show=False)
    ]


def risk_sentence(preview: OrderPreview) -> Text:
    """The most this trade can lose, worded so the trader feels the mode's difference."""
    amount = fmt.money(preview.max_loss)
    text = Text()
    if preview.margin_mode == "isolated":
        text.append("Most you can lose: ", style="bold")
        text.append(f"{amount} USDT", style="bold yellow")
        text.append(
            " — this position's own margin. If it is liquidated, that is gone; the rest of "
            "the account is untouched."
        )
    else:
        text.append("At risk: your whole cross balance, ", style="bold")
        text.append(f"{amount} USDT", style="bold red")
        text.append(
            ". Cross shares one pot: losses here draw on everything, and if it runs out every "
            "cross position is closed, winners too."
        )
    return text


class OrderTicket(StillBackdrop[ev.PlaceOrder | None]):
    """Buy or sell one symbol: type, quantity, limit price, leverage, mode, reduce-only."""

    DEFAULT_CSS = """
    OrderTicket { align: center middle; }
    OrderTicket > #ticket {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    OrderTicket #ticket-title { text-style: bold; width: 1fr; }
    OrderTicket .row { height: 1; margin-bottom: 1; }
    OrderTicket .label { width: 13; color: $text-muted; }
    OrderTicket Input, OrderTicket Choice, OrderTicket Checkbox { width: 1fr; }
    OrderTicket #ticket-error { color: $error; height: auto; }
    OrderTicket #ticket-preview { height: auto; }
    OrderTicket #ticket-keys { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "submit", "Submit"),
    ]

    def __init__(self, engine: Engine, symbol: str, side: ev.Side) -> None:
        super().__init__()
        self.engine = engine
        self.symbol = symbol
        self.side: ev.Side = side
        self.preview: OrderPreview | None = None
        self.error: str | None = None
        self.command: ev.PlaceOrder | None = None
        self.capped_from: Decimal | None = None
        """The typed quantity when reduce-only cuts it to the position (the preview shows
        what fills, as the engine will: Binance cuts an oversized reduce-only order)."""

    def compose(self) -> ComposeResult:
        mode, lev = self.engine.symbol_setting(self.symbol)
        inst = self.engine.instruments.get(self.symbol)
        with Vertical(id="ticket"):
            style = "green" if self.side == "buy" else "red"
            title = Text(f"{self.side.upper()} ", style=f"bold {style}")
            title.append(self.symbol, style="bold")
            yield Static(title, id="ticket-title")
            yield Static(id="ticket-market")
            max_lev = inst.max_leverage if inst else "?"
            with Horizontal(classes="row"):
                yield Label("Quantity", classes="label")
                yield Input(id="qty", placeholder="0.01 · $500 · 25%", compact=True)
                yield Label("Type", classes="label")
                yield Choice([("Market", "market"), ("Limit", "limit")], "market", id="type")
            with Horizontal(classes="row"):
                yield Label("Limit price", classes="label")
                yield Input(id="price", placeholder="market", disabled=True, compact=True)
                yield Label(f"Lev 1-{max_lev}x", classes="label")
                yield Input(str(lev), id="leverage", compact=True)
            with Horizontal(classes="row"):
                yield Label("Margin mode", classes="label")
                yield Choice([("Cross", "cross"), ("Isolated", "isolated")], mode, id="mode")
                if self.engine.position_mode == "hedge":
                    yield Label("Position", classes="label")
                    yield Choice(
                        [("Long side", "long"), ("Short side", "short")],
                        "long" if self.side == "buy" else "short",
                        id="pside",
                    )
                else:
                    yield Label("", classes="label")
                    yield TicketCheckbox("Reduce-only", id="reduce", compact=True)
            yield Static(id="ticket-error")
            yield Static(id="ticket-preview")
            yield Static(
                "enter submits from any field · space/←→ choose · tab next · esc cancel",
                id="ticket-keys",
            )

    def on_mount(self) -> None:
        self.query_one("#qty", Input).focus()
        self.recompute()
        self.set_interval(0.5, self.recompute)

    # --- reading the form ----------------------------------------------------------------

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value

    def build(self) -> ev.PlaceOrder:
        """The order the form describes, or TicketError with what is wrong."""
        engine = self.engine
        inst = engine.instruments.get(self.symbol)
        order_type: ev.OrderType = self.query_one("#type", Choice).value  # type: ignore[assignment]
        mode: ev.MarginMode = self.query_one("#mode", Choice).value  # type: ignore[assignment]
        max_lev = inst.max_leverage if inst else 125
        try:
            leverage = parse_leverage(self._value("#leverage"), max_lev, self.symbol)
        except ValueError as exc:
            raise TicketError(str(exc)) from None
        price: Decimal | None = None
        if order_type == "limit":
            try:
                price = parse_decimal(self._value("#price"), "limit price")
            except ValueError as exc:
                raise TicketError(str(exc)) from None
        m = engine.markets.get(self.symbol)
        ref = None
        if m is not None:
            ref = (m.ask if self.side == "buy" else m.bid) or m.last or m.mark
        at = price if price is not None else ref
        unit_cost = None
        if at is not None and at > 0 and m is not None:
            unit_cost = order_cost(self.side, ONE, at, leverage, m.mark, m.last)
        try:
            qty = parse_quantity(
                self._value("#qty"),
                price=at,
                available=engine.available_balance(),
                leverage=leverage,
                instrument=inst,
                taker_fee=engine.settings.taker_fee,
                unit_cost=unit_cost,
            )
        except QuantityError as exc:
            raise TicketError(str(exc)) from None
        hedge_side = self.hedge_side()
        return ev.PlaceOrder(
            ts=engine.last_ts,
            id=PREVIEW_ID,
            symbol=self.symbol,
            side=self.side,
            qty=qty,
            order_type=order_type,
            price=price,
            margin_mode=mode,
            leverage=leverage,
            reduce_only=False if hedge_side else self.query_one("#reduce", Checkbox).value,
            position_side=hedge_side,
        )

    def hedge_side(self) -> ev.PositionSlot | None:
        """The side picked in hedge mode (None in one-way mode)."""
        if self.engine.position_mode != "hedge":
            return None
        value = self.query_one("#pside", Choice).value
        return "short" if value == "short" else "long"

    def recompute(self) -> None:
        """Validate the form and refresh the preview (on every edit and twice a second)."""
        self._show_market()
        try:
            command = self.build()
        except TicketError as exc:
            self.command, self.preview, self.error = None, None, str(exc)
        else:
            command = replace(command, ts=self.engine.last_ts)
            self.command = command
            self.capped_from = None
            pos = self.engine.positions.get(self.symbol)
            reduces = pos is not None and (pos.side == "long") == (self.side == "sell")
            if command.reduce_only and pos is not None and reduces and command.qty > pos.qty:
                self.capped_from = command.qty
                command = replace(command, qty=pos.qty)
            self.preview = self.engine.preview(command)
            self.error = (
                f"would be rejected: {self.preview.reason}" if self.preview.reason else None
            )
        qty_empty = not self._value("#qty").strip()
        error = self.query_one("#ticket-error", Static)
        error.update(Text(self.error or "") if not qty_empty else "")
        self.query_one("#ticket-preview", Static).update(self._preview_renderable())

    def _show_market(self) -> None:
        m = self.engine.markets.get(self.symbol)
        inst = self.engine.instruments.get(self.symbol)
        if m is None:
            text = Text("no prices yet", style="yellow")
        else:
            text = Text(
                f"bid {fmt.price(m.bid, inst)}  ask {fmt.price(m.ask, inst)}  "
                f"mark {fmt.price(m.mark, inst)}  available "
                f"{fmt.money(self.engine.available_balance())} USDT",
                style="dim",
            )
        self.query_one("#ticket-market", Static).update(text)

    def _preview_renderable(self) -> Table | Text:
        p = self.preview
        if p is None:
            return Text("")
        inst = self.engine.instruments.get(self.symbol)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        how = "fills now (taker)" if p.fills_now else "rests (maker)"
        grid.add_row(
            "Notional",
            f"{fmt.money(p.notional)} USDT  ({fmt.qty(p.qty, inst)} @ {fmt.price(p.price, inst)},"
            f" {how})",
        )
        if self.capped_from is not None:
            pos = self.engine.positions.get(self.symbol)
            side = pos.side if pos is not None else "position"
            grid.add_row(
                "Quantity",
                Text(
                    f"reduce-only: capped at your {fmt.qty(p.qty, inst)} {side} "
                    f"(typed {fmt.qty(self.capped_from, inst)})",
                    style="yellow",
                ),
            )
        grid.add_row(
            "Margin", f"{fmt.money(p.required_margin)} USDT  ({p.leverage}x {p.margin_mode})"
        )
        grid.add_row("Fee", f"{fmt.money(p.fee, 4)} USDT")
        liq = p.liquidation_price
        m = self.engine.markets.get(self.symbol)
        mark = m.mark if m is not None else None
        dist = ""
        if liq is not None and mark:
            dist = f"  ({fmt.pct((liq - mark) / mark, 1)} from mark)"
        if liq is None and p.reason is None:
            grid.add_row("Est. liq. price", "none: no price would liquidate it")
        else:
            grid.add_row("Est. liq. price", f"{fmt.price(liq, inst)}{dist}")
        out = Table.grid()
        out.add_row(grid)
        pos = self.engine.positions.get(self.symbol)
        command = self.command
        reduces = pos is not None and (pos.side == "long") == (self.side == "sell")
        slot = command.position_side if command is not None else None
        closing = slot in ("long", "short") and (slot == "long") == (self.side == "sell")
        if closing and slot is not None:
            held = self.engine.acct.position(self.symbol, slot)
            if held is None:
                out.add_row(Text(f"Closes your {slot} side: there is none open.", style="bold"))
            else:
                left = held.qty - p.qty
                what = "closes it" if left <= 0 else f"leaves {fmt.qty(left, inst)}"
                out.add_row(
                    Text(
                        f"Closes: takes {fmt.qty(p.qty, inst)} off your {slot} side ({what}); "
                        "it adds no risk.",
                        style="bold",
                    )
                )
        elif command is not None and command.reduce_only and pos is not None and reduces:
            left = pos.qty - p.qty
            what = "closes it" if left <= 0 else f"leaves {fmt.qty(left, inst)}"
            out.add_row(
                Text(
                    f"Reduce-only: takes {fmt.qty(p.qty, inst)} off your {pos.side} ({what}); "
                    "it adds no risk.",
                    style="bold",
                )
            )
        else:
            out.add_row(risk_sentence(p))
        return out

    def preview_text(self) -> str:
        """The preview as plain text (what the trader reads; tests check the words)."""
        console = Console(width=100, record=True, file=io.StringIO())
        console.print(self._preview_renderable())
        return console.export_text()

    # --- events ---------------------------------------------------------------------------

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self.recompute()

    @on(Choice.Changed, "#type")
    def _type_changed(self, event: Choice.Changed) -> None:
        price = self.query_one("#price", Input)
        price.disabled = event.value != "limit"
        price.placeholder = "price" if event.value == "limit" else "market"
        if event.value == "limit" and not price.value:
            m = self.engine.markets.get(self.symbol)
            ref = (m.bid if self.side == "buy" else m.ask) if m is not None else None
            if ref is not None:
                price.value = str(ref)
        self.recompute()

    @on(Choice.Changed, "#mode")
    @on(Choice.Changed, "#pside")
    def _mode_changed(self) -> None:
        self.recompute()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        self.recompute()
        if self.command is None or self.error is not None:
            self.query_one("#ticket-error", Static).update(
                Text(self.error or "enter a quantity", style="bold")
            )
            self.query_one("#qty", Input).focus()
            return
        self.dismiss(self.command)

    def action_cancel(self) -> None:
        self.dismiss(None)
