"""`TradingSession`: the live trading state behind the terminal, without Textual.

Why a separate, UI-free object: everything the trading screen does to the account — apply a
market event, place or cancel an order, close a position, change leverage — goes through here,
so it is testable without a terminal and the screens stay thin. It owns

- the `Engine` (the simulated exchange) and, when saving, the `SessionWriter`: every engine
  input (conflated market events and user commands) is journaled right after it is applied;
- the command id counter (ids never collide with ones already used, also after a resume);
- what changed since the UI last looked: dirty symbols, new outcomes, margin-ratio alerts.
  The UI drains these on its flush timer; no message is posted per tick.

Timestamps: commands are stamped with the engine's latest event time (market time), so a saved
session's journal never goes backwards, whatever clock the feed runs on. A market event older
than the last one (two feeds merged) is restamped forward for the same reason.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol, TypedDict, Unpack

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.numbers import floor_to
from papertrade.core.positions import Position
from papertrade.tui.service.history import HISTORY_POINTS, sample
from papertrade.tui.service.ledger import Ledger, break_even
from papertrade.tui.service.shadows import LiveShadows
from papertrade.tui.service.stops import Leg, close_position_order, replaced, to_tick

ALERT_RATIO = Decimal("0.8")
LIMIT_PRICED = frozenset({"limit", "stop_limit", "take_profit_limit"})


class Journal(Protocol):
    """The part of `saves.writer.SessionWriter` the session needs (tests may pass a fake)."""

    def append(self, event: ev.Event, outcomes: Iterable[ev.Outcome] | None = None) -> int: ...


class OrderFields(TypedDict, total=False):
    """The optional fields of an order, as `ev.PlaceOrder` names them (one list for both
    `TradingSession.order` and `order_command`)."""

    margin_mode: ev.MarginMode | None
    leverage: int | None
    reduce_only: bool
    position_side: ev.PositionSlot | None
    trigger_price: Decimal | None
    working_type: ev.WorkingType | None
    activation_price: Decimal | None
    callback_rate: Decimal | None
    time_in_force: ev.TimeInForce | None
    good_till: int | None
    close_position: bool | None
    price_protect: bool | None


@dataclasses.dataclass(slots=True, frozen=True)
class Alert:
    """A margin ratio crossed `ALERT_RATIO` upwards: `scope` is "cross" or a symbol (with
    its side in hedge mode: "BTCUSDT long")."""

    scope: str
    ratio: Decimal


class TradingSession:
    """The engine, its journal and the change tracking the UI flushes from."""

    def __init__(
        self,
        engine: Engine,
        symbols: Iterable[str],
        *,
        writer: Journal | None = None,
        venue: str = "binance",
        history_points: int = HISTORY_POINTS,
        shadows: LiveShadows | None = None,
    ) -> None:
        self.engine = engine
        self.shadows = shadows or LiveShadows(engine.settings, engine.instruments)
        """The same inputs all isolated and all cross (the account panel's comparison line).
        Fresh by default: a session on an engine with history passes them rebuilt from its
        journal (`shadows.journal_shadows`)."""
        self.writer = writer
        self.venue = venue
        self.watchlist: list[str] = []
        self.history: dict[str, deque[tuple[int, Decimal]]] = {}
        self.start_price: dict[str, Decimal] = {}
        self.dirty: set[str] = set()
        self.account_dirty = True
        self.outcomes: list[ev.Outcome] = []
        self.notes: list[tuple[str, str]] = []
        self.alerts: list[Alert] = []
        self.events_in = 0
        self.journal_error: str | None = None
        self.ledger = Ledger()
        """Order and trade history of this run, fees paid per open position (the panels)."""
        self._history_points = history_points
        self._next_id = 1
        self._above: set[str] = set()
        self._pending_mode: ev.PositionMode | None = None
        for symbol in symbols:
            self.add_symbol(symbol)

    # --- watchlist -------------------------------------------------------------------------

    def add_symbol(self, symbol: str) -> bool:
        """Add to the watchlist; False if already there. Unknown symbols are refused."""
        symbol = symbol.strip().upper()
        if symbol not in self.engine.instruments:
            raise ValueError(f"unknown symbol {symbol}: not a {self.venue} instrument")
        if symbol in self.watchlist:
            return False
        self.watchlist.append(symbol)
        self.history.setdefault(symbol, deque(maxlen=self._history_points))
        self.dirty.add(symbol)
        return True

    def remove_symbol(self, symbol: str) -> bool:
        """Drop from the watchlist (its position and orders, if any, stay and keep updating)."""
        if symbol not in self.watchlist:
            return False
        self.watchlist.remove(symbol)
        return True

    def tracked_symbols(self) -> list[str]:
        """Symbols the feed must deliver: the watchlist plus any with a position or order."""
        held = [p.symbol for p in self.engine.positions.values()]
        extra = [*held, *self.engine.acct.orders_by_symbol]
        return list(dict.fromkeys([*self.watchlist, *extra]))

    # --- the hot path ----------------------------------------------------------------------

    def on_market(self, event: ev.MarketEvent) -> list[ev.Outcome]:
        """Apply one (already conflated) market event and journal it. Plain state updates only."""
        engine = self.engine
        if event.ts < engine.last_ts:
            event = dataclasses.replace(event, ts=engine.last_ts)
        if self._pending_mode is not None:
            mode, self._pending_mode = self._pending_mode, None
            self.submit(ev.SetPositionMode(event.ts, mode))
        outcomes = engine.apply(event)
        self._journal(event, outcomes)
        shadows_moved = self.shadows.step(event)
        self.events_in += 1
        symbol = event.symbol
        self.dirty.add(symbol)
        if shadows_moved:
            self.account_dirty = True
        if outcomes:
            self.outcomes.extend(outcomes)
            self.ledger.on_outcomes(outcomes)
            self.account_dirty = True
        elif symbol in engine.positions or (
            engine.position_mode == "hedge" and engine.symbol_positions(symbol)
        ):
            self.account_dirty = True
        self._sample(event)
        return outcomes

    def _sample(self, event: ev.MarketEvent) -> None:
        """The chart's line (`tui.service.history`); the first price is the change's base."""
        price = sample(self.history, event, self.engine, self._history_points)
        if price is not None:
            self.start_price.setdefault(event.symbol, price)

    def _journal(self, event: ev.Event, outcomes: list[ev.Outcome]) -> None:
        """Append to the journal; if the writer has failed, keep trading but say so (once the
        journal is broken nothing later can be saved consistently, so stop trying)."""
        if self.writer is None or self.journal_error is not None:
            return
        try:
            self.writer.append(event, outcomes)
        except Exception as exc:
            self.journal_error = str(exc) or type(exc).__name__

    # --- commands --------------------------------------------------------------------------

    @property
    def now(self) -> int:
        """Command timestamp: the latest market time the engine has seen."""
        return self.engine.last_ts

    def next_order_id(self) -> str:
        used = self.engine.used_ids
        while f"u{self._next_id}" in used:
            self._next_id += 1
        oid = f"u{self._next_id}"
        self._next_id += 1
        return oid

    def submit(self, command: ev.Command) -> list[ev.Outcome]:
        """Apply a user command, journal it, and queue its outcomes for the log."""
        outcomes = self.engine.apply(command)
        self._journal(command, outcomes)
        self.shadows.step(command)
        self.ledger.on_command(command, outcomes)
        self.outcomes.extend(outcomes)
        self.account_dirty = True
        symbol = getattr(command, "symbol", None)
        if symbol:
            self.dirty.add(symbol)
        return outcomes

    def order(
        self,
        symbol: str,
        side: ev.Side,
        qty: Decimal,
        order_type: ev.OrderType = "market",
        price: Decimal | None = None,
        **fields: Unpack[OrderFields],
    ) -> list[ev.Outcome]:
        """Place an order now (the next user order id)."""
        command = self.order_command(
            symbol, side, qty, order_type, price, order_id=self.next_order_id(), **fields
        )
        return self.submit(command)

    def order_command(
        self,
        symbol: str,
        side: ev.Side,
        qty: Decimal,
        order_type: ev.OrderType = "market",
        price: Decimal | None = None,
        *,
        order_id: str = "preview",
        **fields: Unpack[OrderFields],
    ) -> ev.PlaceOrder:
        """The command a ticket would send (id "preview" until it is really sent). The
        limit price goes only with the types that rest at one; a close-position stop has
        no quantity (it closes what exists at trigger)."""
        return ev.PlaceOrder(
            ts=self.now,
            id=order_id,
            symbol=symbol,
            side=side,
            qty=qty,
            order_type=order_type,
            price=price if order_type in LIMIT_PRICED else None,
            **fields,
        )

    def amend(
        self,
        order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> list[ev.Outcome]:
        return self.submit(ev.AmendOrder(self.now, order_id, qty, price, trigger_price))

    def set_position_stop(
        self, pos: Position, leg: Leg, trigger: Decimal, working: ev.WorkingType = "contract"
    ) -> list[ev.Outcome]:
        """Place the position's TP (`leg` "tp") or SL ("sl") at `trigger`; once the engine
        has taken it, the earlier close-position order of that kind goes (a refused one
        leaves the old in place)."""
        old = replaced(self.engine, pos, leg)
        command = close_position_order(
            pos, leg, trigger, working, ts=self.now, order_id=self.next_order_id()
        )
        out = self.submit(command)
        if any(isinstance(o, ev.Rejected) for o in out):
            return out
        for oid in old:
            out += self.cancel(oid)
        return out

    def close_part_command(self, pos: Position, fraction: Decimal) -> ev.PlaceOrder | None:
        """A reduce-only market order for `fraction` (0 < f < 1) of the position, on the
        quantity step; None when that rounds to nothing."""
        qty = floor_to(pos.qty * fraction, pos.instrument.step_size)
        if qty <= 0:
            return None
        return ev.PlaceOrder(
            ts=self.now,
            id=self.next_order_id(),
            symbol=pos.symbol,
            side="sell" if pos.side == "long" else "buy",
            qty=qty,
            order_type="market",
            reduce_only=pos.slot == "both",
            position_side=None if pos.slot == "both" else pos.slot,
        )

    def reverse_command(self, pos: Position, order_id: str = "preview") -> ev.PlaceOrder:
        """One market order of twice the position the other way (one-way mode): it closes
        the position and opens the same size on the other side, a flip costed as one."""
        return ev.PlaceOrder(
            ts=self.now,
            id=order_id,
            symbol=pos.symbol,
            side="sell" if pos.side == "long" else "buy",
            qty=pos.qty * 2,
            order_type="market",
        )

    def break_even_price(self, pos: Position) -> Decimal | None:
        """Entry including the fees paid to open (the ledger's), on the tick grid toward the
        position's side; None when those fees are not known (see `Ledger.open_fees`)."""
        fees = self.ledger.open_fees(pos.key, pos.size)
        if fees is None:
            return None
        price = break_even(pos.entry, pos.size, fees)
        return to_tick(price, pos.instrument.tick_size, "sl", pos)

    def cancel(self, order_id: str) -> list[ev.Outcome]:
        return self.submit(ev.CancelOrder(self.now, order_id))

    @property
    def open_order_ids(self) -> list[str]:
        """Every open order: resting on the book, then conditional orders waiting off it."""
        return [*self.engine.orders, *(o.id for o in self.engine.algo)]

    def cancel_all(self) -> list[ev.Outcome]:
        out: list[ev.Outcome] = []
        for oid in self.open_order_ids:
            out += self.cancel(oid)
        return out

    def close(self, symbol: str, position_side: ev.PositionSlot | None = None) -> list[ev.Outcome]:
        return self.submit(ev.ClosePosition(self.now, symbol, position_side))

    def set_leverage(self, symbol: str, leverage: int) -> list[ev.Outcome]:
        return self.submit(ev.SetLeverage(self.now, symbol, leverage))

    def set_margin_mode(self, symbol: str, mode: ev.MarginMode) -> list[ev.Outcome]:
        return self.submit(ev.SetMarginMode(self.now, symbol, mode))

    def adjust_margin(
        self, symbol: str, amount: Decimal, position_side: ev.PositionSlot | None = None
    ) -> list[ev.Outcome]:
        return self.submit(ev.AdjustMargin(self.now, symbol, amount, position_side))

    def start_in_position_mode(self, mode: ev.PositionMode) -> None:
        """A new session asked for on the command line (`--position-mode`): switched, and
        journaled, at the first market event's time, so the journal never holds a command
        stamped before its market began. A resumed session switches at once."""
        if self.engine.position_mode == mode:
            return
        if self.engine.last_ts:
            self.set_position_mode(mode)
        else:
            self._pending_mode = mode

    def set_position_mode(self, mode: ev.PositionMode) -> list[ev.Outcome]:
        """One-way or hedge for the whole account; the engine refuses it (and says why) while
        any position or order is open."""
        return self.submit(ev.SetPositionMode(self.now, mode))

    # --- what the UI drains ----------------------------------------------------------------

    def take_dirty(self) -> tuple[set[str], bool]:
        """Symbols changed and whether account/positions changed, since the last call."""
        dirty, account = self.dirty, self.account_dirty
        self.dirty = set()
        self.account_dirty = False
        return dirty, account

    def take_outcomes(self) -> list[ev.Outcome]:
        out, self.outcomes = self.outcomes, []
        return out

    def note(self, text: str, style: str = "") -> None:
        """A line for this session's log (feed changes, a take-over's greeting): kept with
        the session, so only the screen trading it shows it. At most 200 wait."""
        self.notes.append((text, style))
        del self.notes[:-200]

    def take_notes(self) -> list[tuple[str, str]]:
        out, self.notes = self.notes, []
        return out

    def check_alerts(self) -> list[Alert]:
        """Margin ratios that crossed 80 % upwards since the last check (cross and isolated).

        Checked on the UI flush, not per tick: an alert a tenth of a second late is fine.
        """
        engine = self.engine
        ratios: dict[str, Decimal] = {}
        cross = engine.acct.cross_margin_ratio()
        if cross is not None and any(p.mode == "cross" for p in engine.positions.values()):
            ratios["cross"] = cross
        for pos in engine.positions.values():
            if pos.mode == "isolated":
                r = engine.position_margin_ratio(pos)
                if r is not None:
                    ratios[pos.symbol if pos.slot == "both" else f"{pos.symbol} {pos.slot}"] = r
        fired = [
            Alert(k, v) for k, v in ratios.items() if v >= ALERT_RATIO and k not in self._above
        ]
        self._above = {k for k, v in ratios.items() if v >= ALERT_RATIO}
        return fired

    # --- read helpers shared by widgets ----------------------------------------------------

    def change(self, symbol: str) -> Decimal | None:
        """Fractional price change since this session (this run) first saw the symbol."""
        start = self.start_price.get(symbol)
        hist = self.history.get(symbol)
        if start is None or not hist or start == 0:
            return None
        return hist[-1][1] / start - 1
