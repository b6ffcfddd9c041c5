"""`OrderTicket`: the modal where an order is typed, previewed and sent.

Why a live preview: before every order a trader should answer "which mode is this, and what is
the most I can lose if I am wrong?" (reference/margin-modes.md). The ticket asks the engine
(`Engine.preview`, a dry run the engine undoes) and words the answer per mode: isolated risks this
position's own margin; cross risks the whole cross balance.

Use: `push_screen(OrderTicket(engine, symbol, side), callback)`; the result is a `PlaceOrder`
whose `id`/`ts` are placeholders (the caller stamps them) or None when cancelled. Nothing is
returned while the input is invalid or the engine would reject the order: the reason is shown
inline instead. Quantity accepts `0.01` (base units), `$500` (USDT notional) and `25%` (of the
available balance, as margin at the chosen leverage), or a risk: `r1%` (of equity) / `r$200`
(USDT) lost at the Stop loss price, fees included (`core.sizing`).

Issue 15 §3: market and limit entries take a Stop loss price (required with a risk, optional
otherwise); the engine places it as a close-position stop when the entry fills. With a stop
the preview shows the sized quantity and its cap, the loss at the stop, and the loss at
liquidation in this margin mode and in the other (for cross, every cross position that goes
down with it).

In hedge mode the Reduce-only box gives way to the side the order trades (Binance's
positionSide): a buy opens or adds to the long side and a sell the short side by default;
choosing the other side makes the order close that side (a sell on the long side, a buy on the
short side), and the preview says so. An entry's losses with a stop are its side's: isolated,
that side alone; cross, both sides of the symbol on its one mark with every other cross
position ("takes both BTC sides and ETH").

A refused order (a form that does not parse, or one the engine would reject) is said on the
error line and changes nothing else: Enter leaves the typed text to be corrected and the
focus where it was, and the preview figures nothing from it (no margin, liquidation or loss
at a leverage that is out of range or that the engine will not set).

Issue 12: every order type Binance offers — market, limit, stop, stop-limit, take-profit,
take-profit-limit, trailing stop — with only the fields that type uses on screen (trigger
price and the price it watches, activation price and callback % for a trailing stop, time in
force for what rests at a price, good-till for GTD, close-position and price-protect for the
conditional ones). A conditional order's preview is what its trigger would do: the profit or
loss if it fills exactly at the trigger (a gap fills it worse), and where the position's
liquidation price stands against it; a stop beyond the liquidation price is flagged red,
because the position is liquidated before the stop can trigger. The engine's refusal (hedge
mode, a stop that would trigger at once, …) is shown inline, as for any order.
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
from papertrade.core.conditional import trailing_level
from papertrade.core.engine import Engine, OrderPreview
from papertrade.core.margin import order_cost
from papertrade.core.numbers import ONE, ZERO
from papertrade.core.sizing import RiskSize, SizingError, Wipeout, loss_scenarios, size_from_risk
from papertrade.tui.screens.modals import StillBackdrop
from papertrade.tui.service.depth import slippage
from papertrade.tui.service.typed import (
    QuantityError,
    parse_decimal,
    parse_duration,
    parse_leverage,
    parse_quantity,
    parse_risk,
)
from papertrade.tui.widgets import fmt
from papertrade.tui.widgets.choice import Choice
from papertrade.tui.widgets.depth import slippage_text

PREVIEW_ID = "preview"
TYPES: tuple[tuple[str, str], ...] = (
    ("Market", "market"),
    ("Limit", "limit"),
    ("Stop", "stop_market"),
    ("Stop-lim", "stop_limit"),
    ("TP", "take_profit_market"),
    ("TP-lim", "take_profit_limit"),
    ("Trail", "trailing_stop_market"),
)
ENTRIES = frozenset(ev.ORDER_TYPES)
"""Types that take a stop loss with them (market and limit)."""
PRICED = frozenset({"limit", "stop_limit", "take_profit_limit"})
"""Types that carry a limit price (and so a time in force)."""
TRIGGERED = frozenset({"stop_market", "stop_limit", "take_profit_market", "take_profit_limit"})
"""Types with a trigger price."""
CONDITIONAL = TRIGGERED | {"trailing_stop_market"}
CLOSABLE = frozenset({"stop_market", "take_profit_market"})
"""Types that can close the whole position at trigger (`close_position`, no quantity)."""
STOPS = frozenset({"stop_market", "stop_limit", "trailing_stop_market"})
CAP_WORDS = {
    "available": "{lev}x leverage",
    "leverage": "the {lev}x bracket's largest position",
    "max_qty": "the largest order allowed",
}
"""What cut a risk-sized quantity, as the preview names it."""
"""Types that trigger against the trader: a stop beyond liquidation never fires."""
FIELD_ROWS = ("#row-price", "#row-trigger", "#row-trail", "#row-tif", "#row-flags")


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
    """Buy or sell one symbol: type, quantity, prices, leverage, mode, reduce-only, and the
    conditional fields the type uses."""

    DEFAULT_CSS = """
    OrderTicket { align: center middle; }
    OrderTicket > #ticket {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    OrderTicket #ticket-title { text-style: bold; width: 1fr; }
    OrderTicket .row { height: 1; margin-bottom: 1; }
    OrderTicket .label { width: 13; color: $text-muted; }
    OrderTicket .label.second { width: 12; margin-left: 1; }
    OrderTicket Input, OrderTicket Choice, OrderTicket Checkbox { width: 1fr; }
    OrderTicket #type { width: 1fr; }
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
        self.sized: RiskSize | None = None
        """The quantity sized from a typed risk (`r1%`, `r$200`), with its cap."""
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
                yield Label("Type", classes="label")
                yield Choice(TYPES, "market", id="type")
            with Horizontal(classes="row"):
                yield Label("Quantity", classes="label")
                yield Input(id="qty", placeholder="0.01 · $500 · 25% · r1%", compact=True)
                yield Label(f"Lev 1-{max_lev}x", classes="label second")
                yield Input(str(lev), id="leverage", compact=True)
            with Horizontal(classes="row", id="row-price"):
                yield Label("Limit price", classes="label", id="price-label")
                yield Input(id="price", placeholder="price", compact=True)
                yield Label("Stop loss", classes="label", id="stop-label")
                yield Input(id="stop-loss", placeholder="price", compact=True)
            with Horizontal(classes="row", id="row-trigger"):
                yield Label("Trigger at", classes="label", id="trigger-label")
                yield Input(id="trigger", placeholder="price", compact=True)
                yield Label("Trigger on", classes="label second")
                yield Choice([("Last", "contract"), ("Mark", "mark")], "contract", id="working")
            with Horizontal(classes="row", id="row-trail"):
                yield Label("Callback %", classes="label")
                yield Input(id="callback", placeholder="0.1-20", compact=True)
                yield Label("Activation", classes="label second")
                yield Input(id="activation", placeholder="now", compact=True)
            with Horizontal(classes="row", id="row-tif"):
                yield Label("Time in force", classes="label")
                yield Choice([(t, t) for t in ("GTC", "IOC", "FOK", "GTX", "GTD")], "GTC", id="tif")
                yield Label("Good till", classes="label second")
                yield Input(id="good-till", placeholder="30m · 4h · 2d", compact=True)
            with Horizontal(classes="row", id="row-flags"):
                yield Label("", classes="label")
                yield TicketCheckbox("Close position", id="close-position", compact=True)
                yield Label("", classes="label")
                yield TicketCheckbox("Price protect", id="protect", compact=True)
            with Horizontal(classes="row"):
                yield Label("Margin mode", classes="label")
                yield Choice([("Cross", "cross"), ("Isolated", "isolated")], mode, id="mode")
                if self.engine.position_mode == "hedge":
                    yield Label("Position", classes="label second")
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
        self._show_fields()
        self.recompute()
        self.set_interval(0.5, self.recompute)

    # --- reading the form ----------------------------------------------------------------

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value

    def _price(self, selector: str, what: str) -> Decimal:
        try:
            return parse_decimal(self._value(selector), what)
        except ValueError as exc:
            raise TicketError(str(exc)) from None

    @property
    def order_type(self) -> ev.OrderType:
        return self.query_one("#type", Choice).value  # type: ignore[return-value]

    def closes_position(self) -> bool:
        """Close-position chosen, on a type that has it."""
        box = self.query_one("#close-position", Checkbox)
        return self.order_type in CLOSABLE and box.value

    def build(self) -> ev.PlaceOrder:
        """The order the form describes, or TicketError with what is wrong."""
        engine = self.engine
        self.sized = None  # a quantity sized from an earlier form never outlives it
        inst = engine.instruments.get(self.symbol)
        order_type = self.order_type
        mode: ev.MarginMode = self.query_one("#mode", Choice).value  # type: ignore[assignment]
        max_lev = inst.max_leverage if inst else 125
        try:
            leverage = parse_leverage(self._value("#leverage"), max_lev, self.symbol)
        except ValueError as exc:
            raise TicketError(str(exc)) from None
        price = self._price("#price", "limit price") if order_type in PRICED else None
        trigger = self._price("#trigger", "trigger price") if order_type in TRIGGERED else None
        activation: Decimal | None = None
        callback: Decimal | None = None
        if order_type == "trailing_stop_market":
            callback = self._price("#callback", "callback %")
            if self._value("#activation").strip():
                activation = self._price("#activation", "activation price")
        tif: ev.TimeInForce | None = None
        good_till: int | None = None
        if order_type in PRICED:
            tif = self.query_one("#tif", Choice).value  # type: ignore[assignment]
            if tif == "GTD":
                try:
                    good_till = engine.last_ts + parse_duration(self._value("#good-till"))
                except ValueError as exc:
                    raise TicketError(str(exc)) from None
        m = engine.markets.get(self.symbol)
        ref = None
        if m is not None:
            ref = (m.ask if self.side == "buy" else m.bid) or m.last or m.mark
        at = price if price is not None else trigger if trigger is not None else ref
        unit_cost = None
        if at is not None and at > 0 and m is not None:
            unit_cost = order_cost(self.side, ONE, at, leverage, m.mark, m.last)
        stop_loss: Decimal | None = None
        if order_type in ENTRIES and self._value("#stop-loss").strip():
            stop_loss = self._price("#stop-loss", "stop loss")
        try:
            risk = parse_risk(self._value("#qty"))
        except QuantityError as exc:
            raise TicketError(str(exc)) from None
        close = self.closes_position()
        if close:
            qty = ZERO
        elif risk is not None:
            if order_type not in ENTRIES:
                raise TicketError("a risk size (r1%, r$200) goes with market and limit orders")
            if stop_loss is None:
                raise TicketError("a risk size needs a Stop loss price: the loss is taken there")
            if inst is None or at is None:
                raise TicketError("no price yet: a risk size needs market data")
            try:
                self.sized = size_from_risk(
                    risk,
                    equity=engine.acct.margin_balance(),
                    side=self.side,
                    entry=at,
                    stop=stop_loss,
                    taker_fee=engine.settings.taker_fee,
                    leverage=leverage,
                    available=engine.available_balance(),
                    instrument=inst,
                    unit_cost=unit_cost,
                    market=order_type == "market",
                )
            except SizingError as exc:
                raise TicketError(str(exc)) from None
            qty = self.sized.qty
        else:
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
        conditional = order_type in CONDITIONAL
        working: ev.WorkingType = self.query_one("#working", Choice).value  # type: ignore[assignment]
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
            reduce_only=(
                False if hedge_side or close else self.query_one("#reduce", Checkbox).value
            ),
            position_side=hedge_side,
            trigger_price=trigger,
            working_type=working if conditional and working != "contract" else None,
            activation_price=activation,
            callback_rate=callback,
            time_in_force=tif if tif not in (None, "GTC") else None,
            good_till=good_till,
            close_position=True if close else None,
            price_protect=(
                True if conditional and self.query_one("#protect", Checkbox).value else None
            ),
            stop_loss=stop_loss,
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
        qty_empty = not self._value("#qty").strip() and not self.closes_position()
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
        if self.command is not None and self.command.order_type in CONDITIONAL:
            return self._trigger_preview(self.command)
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
        if p.reason is not None:
            # margin, liquidation and risk would describe a position the engine will not
            # open, at settings it refuses (a leverage it will not set): the error line says
            # why, and nothing is figured from it
            return grid
        # Under the book/queue fill models: the typed size walked through the current book.
        walked = slippage(self.engine, self.command, p.qty) if self.command else None
        if walked is not None:
            limit = self.command is not None and self.command.order_type == "limit"
            grid.add_row("Book fill", slippage_text(walked, inst, limit=limit))
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
        losses = self._loss_rows(p)
        for label, value in losses:
            grid.add_row(label, value)
        # with losses, their liquidation line names the price (and the ticket fits 80×24)
        named = any(label.startswith("Liq.") for label, _ in losses)
        if not named:
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
        elif not named:
            out.add_row(risk_sentence(p))
        return out

    def _loss_rows(self, p: OrderPreview) -> list[tuple[str, str | Text]]:
        """With a stop loss: the sized quantity and its cap, the loss at the stop, and the loss
        at liquidation in this mode and the other (they replace the liquidation price and the
        risk sentence, which they make exact). Empty without a stop or nothing to show."""
        c = self.command
        rows: list[tuple[str, str | Text]] = []
        if c is None or c.stop_loss is None or p.reason is not None or p.price is None:
            return rows
        inst = self.engine.instruments.get(self.symbol)
        sized = self.sized
        if sized is not None:
            risk = sized.risk.words()
            if sized.cap is None:
                rows.append(("Quantity", f"{fmt.qty(sized.qty, inst)} from the risk of {risk}"))
            else:
                words = (
                    f"capped by {CAP_WORDS[sized.cap].format(lev=p.leverage)}: "
                    f"{fmt.qty(sized.qty, inst)} (risk {risk} wanted {fmt.qty(sized.wanted, inst)})"
                )
                rows.append(("Quantity", Text(words, style="yellow")))
        s = loss_scenarios(
            self.engine, c, c.stop_loss, p.price, "taker" if p.fills_now else "maker"
        )
        if s is None or s.loss_at_stop is None:
            return rows
        if s.stop_after_liquidation:
            first = f"never: liquidated at {fmt.price(s.here.price, inst)} first"
            rows.append(("At the stop", Text(first, style="bold white on red")))
        else:
            rows.append(("At the stop", f"−{fmt.money(s.loss_at_stop)} USDT, fees included"))
        rows.append((f"Liq. {s.here.mode}", self._wipeout_words(s.here)))
        rows.append((f"If {s.other.mode}", self._wipeout_words(s.other)))
        return rows

    def _wipeout_words(self, w: Wipeout) -> Text:
        inst = self.engine.instruments.get(self.symbol)
        if w.price is None:
            return Text(f"none: no {self.symbol} price alone liquidates it")
        text = Text(f"at {fmt.price(w.price, inst)}")
        if w.mode == "cross":
            names = [self._cascade_name(s) for s in w.taken]
            listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
            text.append(f" takes {listed}")
        text.append(": ")
        text.append(f"−{fmt.money(w.loss)} USDT", style="bold red")
        if w.mode == "isolated":
            text.append(", its own margin")
        return text

    def _cascade_name(self, symbol: str) -> str:
        """A symbol a cross liquidation takes, by its base; "both BTC sides" for this symbol in
        hedge mode when the side across is open too (one mark takes both)."""
        base = self.engine.instruments[symbol].base
        slot = self.hedge_side()
        if symbol == self.symbol and slot is not None:
            across: ev.PositionSlot = "short" if slot == "long" else "long"
            if self.engine.acct.position(symbol, across) is not None:
                return f"both {base} sides"
        return base

    def trigger_level(self, c: ev.PlaceOrder) -> Decimal | None:
        """Where the order fires: its trigger price; for a trailing stop the level it would
        have if its tracking started now (at its activation price, else the watched price)."""
        if c.order_type != "trailing_stop_market":
            return c.trigger_price
        m = self.engine.markets.get(self.symbol)
        watched = None
        if m is not None:
            watched = m.mark if c.working_type == "mark" else m.last
        start = c.activation_price or watched
        if start is None or c.callback_rate is None:
            return None
        return trailing_level(c.side, start, c.callback_rate)

    def _trigger_preview(self, c: ev.PlaceOrder) -> Table:
        """What the trigger would do: the order it becomes, the P&L if it fills exactly at
        the trigger, and the liquidation price against it."""
        engine = self.engine
        inst = engine.instruments.get(self.symbol)
        level = self.trigger_level(c)
        watched = "mark price" if c.working_type == "mark" else "last price"
        out = Table.grid()
        if level is None:
            out.add_row(Text("no price to trail from yet", style="yellow"))
            return out
        becomes = (
            f"a limit order at {fmt.price(c.price, inst)}"
            if c.order_type in PRICED
            else "a market order"
        )
        lead = "trails; now fires at" if c.order_type == "trailing_stop_market" else "fires at"
        out.add_row(
            Text(
                f"Waits off the book and holds no margin; {lead} {fmt.price(level, inst)} "
                f"({watched}) and becomes {becomes}.",
            )
        )
        slot = self.hedge_side() or "both"
        pos = engine.acct.position(self.symbol, slot)
        reduces = pos is not None and (pos.side == "long") == (self.side == "sell")
        if pos is None or not reduces:
            if c.close_position or c.reduce_only:
                out.add_row(Text("No position to reduce now: it will do nothing.", style="bold"))
            else:
                out.add_row(
                    Text("Opens or adds at trigger; its margin is checked then.", style="bold")
                )
            return out
        fill_at = c.price if c.order_type in PRICED and c.price is not None else level
        qty = pos.qty if c.close_position else min(c.qty, pos.qty)
        sign = 1 if pos.side == "long" else -1
        fee = fill_at * qty * engine.settings.taker_fee
        pnl = (fill_at - pos.entry) * qty * sign - fee
        word = "loss" if pnl < 0 else "profit"
        line = Text(f"If it fills at {fmt.price(fill_at, inst)}: {word} ")
        line.append(f"{fmt.money(pnl)} USDT", style="bold red" if pnl < 0 else "bold green")
        line.append(
            f" on {fmt.qty(qty, inst)} (taker fee {fmt.money(fee)} included); a gap fills it worse."
        )
        out.add_row(line)
        liq = engine.position_liquidation_price(pos)
        if liq is None:
            out.add_row(Text("Liquidation: none — no price would liquidate this position."))
        elif c.order_type in STOPS and (level <= liq if pos.side == "long" else level >= liq):
            out.add_row(
                Text(
                    f"Liquidation price {fmt.price(liq, inst)}: liquidated before this stop "
                    "can trigger.",
                    style="bold white on red",
                )
            )
        else:
            gap = abs(level - liq)
            out.add_row(
                Text(
                    f"Liquidation price {fmt.price(liq, inst)}: {fmt.price(gap, inst)} "
                    f"({fmt.pct(gap / level, 2, signed=False)}) beyond the trigger."
                )
            )
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
    def _type_changed(self) -> None:
        price = self.query_one("#price", Input)
        if self.order_type in PRICED and not price.value:
            m = self.engine.markets.get(self.symbol)
            ref = (m.bid if self.side == "buy" else m.ask) if m is not None else None
            if ref is not None:
                price.value = str(ref)
        self._show_fields()
        self.recompute()

    def _show_fields(self) -> None:
        """Only the rows the chosen type uses are on screen (and so in the tab order)."""
        order_type = self.order_type
        tif = self.query_one("#tif", Choice).value
        shown = {
            "#row-price": order_type in PRICED or order_type in ENTRIES,
            "#row-trigger": order_type in CONDITIONAL,
            "#row-trail": order_type == "trailing_stop_market",
            "#row-tif": order_type in PRICED,
            "#row-flags": order_type in CONDITIONAL,
        }
        for row in FIELD_ROWS:
            self.query_one(row).display = shown[row]
        self.query_one("#trigger").display = order_type in TRIGGERED
        self.query_one("#trigger-label").display = order_type in TRIGGERED
        self.query_one("#price", Input).disabled = order_type not in PRICED
        self.query_one("#price").display = order_type in PRICED
        self.query_one("#price-label").display = order_type in PRICED
        self.query_one("#stop-loss").display = order_type in ENTRIES
        self.query_one("#stop-label").display = order_type in ENTRIES
        self.query_one("#good-till").display = tif == "GTD"
        self.query_one("#close-position").display = order_type in CLOSABLE
        self.query_one("#qty", Input).disabled = self.closes_position()

    @on(Choice.Changed, "#tif")
    @on(Choice.Changed, "#working")
    @on(Checkbox.Changed, "#close-position")
    def _field_changed(self) -> None:
        self._show_fields()
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
            # only the error line changes: the typed text stays to be corrected, and the
            # focus stays in the field the trader was in (it is often the one at fault)
            self.query_one("#ticket-error", Static).update(
                Text(self.error or "enter a quantity", style="bold")
            )
            return
        self.dismiss(self.command)

    def action_cancel(self) -> None:
        self.dismiss(None)
