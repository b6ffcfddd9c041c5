"""The engine's side of conditional orders, time in force and amend: placing a stop, firing
it, expiring GTD orders, amending an open order, and the stop loss an entry carries (checked
before the entry is taken, placed as `<id>:sl` when it fills).

A mixin of `Engine`, kept in its own module so the engine's dispatch stays the small hooks
that call it (on a trade or mark, on a liquidation, before every event). What it needs of the
engine is declared below for the type checker; the rules themselves live in `conditional`
(triggers, trailing state) and `tif` (time in force, bands, sizes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from papertrade.core import events as ev
from papertrade.core import tif
from papertrade.core.conditional import (
    MAX_CALLBACK_RATE,
    MAX_CONDITIONAL_ORDERS,
    MIN_CALLBACK_RATE,
    STOP_LOSS_SUFFIX,
    ConditionalBook,
    ConditionalOrder,
    becomes,
    immediate_trigger,
)
from papertrade.core.numbers import ZERO, human, plain

if TYPE_CHECKING:
    from papertrade.core.account import Account
    from papertrade.core.instruments import Instrument, InstrumentBook
    from papertrade.core.market import MarketState


class Reject(Exception):
    """Raised inside a command handler; becomes a `Rejected` outcome, state untouched."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConditionalDesk:
    """Conditional orders, GTD expiry and amend, for `Engine`."""

    if TYPE_CHECKING:
        acct: Account
        algo: ConditionalBook
        expiries: tif.Expiries
        instruments: InstrumentBook
        markets: dict[str, MarketState]
        used_ids: set[str]
        position_mode: ev.PositionMode
        settings: ev.SessionSettings
        attached_stops: dict[str, Decimal]

        def _place(
            self,
            c: ev.PlaceOrder,
            watched: Decimal | None = None,
            reissue: bool = False,
            *,
            whole: bool = False,
        ) -> list[ev.Outcome]: ...

        def _order_slot(self, c: ev.PlaceOrder) -> ev.PositionSlot: ...

        def _run(
            self,
            command: str,
            order_id: str | None,
            ts: int,
            body: Callable[[], list[ev.Outcome]],
        ) -> list[ev.Outcome]: ...

        def _check_grid(self, inst: Instrument, c: ev.PlaceOrder) -> None: ...

    @staticmethod
    def _refuse(reason: str | None) -> None:
        if reason is not None:
            raise Reject(reason)

    @staticmethod
    def _worse(side: ev.Side, a: Decimal, b: Decimal) -> Decimal:
        """The price less favourable to the trader: the higher for a buy, the lower for a sell."""
        return max(a, b) if side == "buy" else min(a, b)

    def _watched_price(self, symbol: str, working: ev.WorkingType) -> Decimal | None:
        m = self.markets.get(symbol)
        return None if m is None else m.watched(working)

    def _place_conditional(
        self, c: ev.PlaceOrder, inst: Instrument, reissue: bool
    ) -> list[ev.Outcome]:
        """Validate a stop, take-profit or trailing stop and set it waiting; it holds no
        margin until it triggers (README "Stops, take-profits and trailing stops")."""
        slot = self._order_slot(c)
        if not reissue and len(self.algo) >= MAX_CONDITIONAL_ORDERS:
            raise Reject(
                f"at most {MAX_CONDITIONAL_ORDERS} open conditional orders per account: "
                "cancel one first"
            )
        if not c.close_position:
            self._check_grid(inst, c)
        else:
            self._check_grid(inst, dataclasses.replace(c, qty=inst.step_size))
        tick = inst.tick_size
        for name, value in (
            ("trigger_price", c.trigger_price),
            ("activation_price", c.activation_price),
        ):
            if value is not None and value % tick != 0:
                raise Reject(
                    f"{name} {plain(value)} is not a multiple of the {c.symbol} tick "
                    f"{plain(tick)} (Binance -4014: price not increased by tick size)"
                )
        rate = c.callback_rate
        if rate is not None and not MIN_CALLBACK_RATE <= rate <= MAX_CALLBACK_RATE:
            raise Reject(
                f"callback_rate {plain(rate)} % is outside {plain(MIN_CALLBACK_RATE)} … "
                f"{plain(MAX_CALLBACK_RATE)} %"
            )
        if not reissue:
            self._refuse(tif.gtd_refusal(c))
        if self.settings.exchange_limits:
            self._refuse(tif.size_refusal(inst, becomes(c.order_type) == "market", c.qty))
        working = c.working_type or "contract"
        latest = self._watched_price(c.symbol, working)
        if latest is None:
            what = "last trade" if working == "contract" else "mark"
            raise Reject(
                f"no {what} price for {c.symbol} yet: a {working}-price order needs one to "
                "be checked against"
            )
        if slot != "both":
            self._refuse(self._hedge_refusal(c, slot))
        elif c.reduce_only:
            pos = self.acct.positions.get(c.symbol)
            if pos is None or (pos.size > 0) == (c.side == "buy"):
                want = "short" if c.side == "buy" else "long"
                raise Reject(f"reduce-only order would not reduce: no {want} {c.symbol} position")
        if not c.close_position and not c.reduce_only and not _closes(c.side, slot):
            at = c.price or c.trigger_price or c.activation_price or latest
            if c.qty * at < inst.min_notional:
                raise Reject(
                    f"order value {human(c.qty * at)} USDT is below the {c.symbol} minimum of "
                    f"{human(inst.min_notional)} USDT"
                )
        existing = self.algo.orders.get(c.id) if reissue else None
        if existing is None or c.trigger_price != existing.command.trigger_price:
            self._refuse(immediate_trigger(c, latest))
        if existing is not None:
            existing.command = c
            return []
        order = ConditionalOrder(c)
        order.start(latest)
        self.used_ids.add(c.id)
        self.algo.add(order)
        if c.good_till is not None:
            self.expiries.add(c.good_till, c.id)
        return []

    def _hedge_refusal(self, c: ev.PlaceOrder, slot: ev.PositionSlot) -> str | None:
        """Hedge mode's own checks of a conditional order (orders.md §4): the side it names
        is the position it trades, so a buy on the short side or a sell on the long side only
        closes. A closing order needs that side's position now and no more than it (it holds
        no margin, so nothing else is counted against it; at trigger the ordinary hedge rules
        apply); a close_position order must be one that closes its side."""
        if c.close_position:
            if not _closes(c.side, slot):
                return (
                    f"close_position in hedge mode closes the side it names: a {c.side} on the "
                    f"{slot} side would open, not close (Binance allows no BUY close_position "
                    "on the LONG side nor SELL on the SHORT side)"
                )
            return None
        if not _closes(c.side, slot):
            return None
        pos = self.acct.position(c.symbol, slot)
        if pos is None:
            return (
                f"no {slot} {c.symbol} position to close (a {c.side} on the {slot} side only "
                f"closes it; to open a {'short' if slot == 'long' else 'long'}, use that side)"
            )
        if c.qty > pos.qty:
            return (
                f"{c.side} {plain(c.qty)} on the {slot} side would close more than the {slot} "
                f"{c.symbol} position of {plain(pos.qty)}"
            )
        return None

    def _triggers(
        self, symbol: str, working: ev.WorkingType, price: Decimal, ts: int
    ) -> list[ev.Outcome]:
        """Evaluate the symbol's conditional orders watching `working` at `price`, in
        placement order; each that fires becomes its ordinary order at once."""
        out: list[ev.Outcome] = []
        for order in list(self.algo.by_symbol.get(symbol, ())):
            if order.id not in self.algo.orders or order.watches != working:
                continue  # gone through an earlier trigger in this loop, or watching another
            if not order.observe(price):
                continue
            if order.command.price_protect and self._protected(symbol):
                continue
            level = order.trigger_level()
            assert level is not None  # a trailing stop fires only once active
            out += self._fire(order, level, price, ts)
        return out

    def _protected(self, symbol: str) -> bool:
        """price_protect: mark and last apart by more than the symbol's trigger_protect."""
        m = self.markets[symbol]
        if not m.has_mark or m.mark is None or m.last is None or not m.mark:
            return False
        return abs(m.mark - m.last) / m.mark > self.instruments[symbol].trigger_protect

    def _fire(
        self, order: ConditionalOrder, level: Decimal, watched: Decimal, ts: int
    ) -> list[ev.Outcome]:
        c = order.command
        self.algo.remove(order)
        out: list[ev.Outcome] = [
            ev.OrderTriggered(ts, c.id, c.symbol, c.order_type, level, watched)
        ]
        qty, reduce_only = c.qty, c.reduce_only
        slot: ev.PositionSlot = c.position_side or "both"
        whole = False
        if c.close_position:
            pos = self.acct.position(c.symbol, slot)
            if pos is None or (pos.size > 0) == (c.side == "buy"):
                return [*out, ev.OrderCancelled(ts, c.id, "position_closed")]
            # one-way: a reduce-only order of the whole position; hedge: the side's whole
            # position, however much of it resting closing orders already cover (they go
            # with the position when it closes)
            qty, reduce_only, whole = pos.qty, slot == "both", slot != "both"
        child = ev.PlaceOrder(
            ts,
            c.id,
            c.symbol,
            c.side,
            qty,
            becomes(c.order_type),
            c.price,
            reduce_only=reduce_only,
            post_only=c.post_only,
            position_side=c.position_side,
            time_in_force=c.time_in_force,
            good_till=c.good_till,
        )
        return out + self._run(
            "trigger", c.id, ts, lambda: self._place(child, watched, True, whole=whole)
        )

    def _expire(self, ts: int) -> list[ev.Outcome]:
        """GTD orders whose good_till has come: cancelled before the event is applied."""
        out: list[ev.Outcome] = []
        for good_till, order_id in self.expiries.pop_due(ts):
            resting = self.acct.orders.get(order_id)
            if resting is not None and resting.good_till == good_till:
                self.acct.remove_order(resting)
                out.append(ev.OrderCancelled(ts, order_id, "expired"))
            waiting = self.algo.orders.get(order_id)
            if waiting is not None and waiting.command.good_till == good_till:
                self.algo.remove(waiting)
                out.append(ev.OrderCancelled(ts, order_id, "expired"))
        return out

    def _on_amend(self, c: ev.AmendOrder) -> list[ev.Outcome]:
        """Re-place an open order with new values under its id: every check of a new order
        applies (a limit moved across the market fills), and a refused amend changes nothing.
        A conditional order keeps its place, age and trailing state."""

        def body() -> list[ev.Outcome]:
            if c.qty is None and c.price is None and c.trigger_price is None:
                raise Reject("nothing to amend: give a new qty, price or trigger_price")
            resting = self.acct.orders.get(c.id)
            waiting = self.algo.orders.get(c.id)
            if waiting is not None:
                old = waiting.command
                if c.qty is not None and old.close_position:
                    raise Reject("a close_position order has no qty: it closes the position")
                if c.price is not None and old.price is None:
                    raise Reject(f"a {old.order_type} order has no limit price to amend")
                if c.trigger_price is not None and old.trigger_price is None:
                    raise Reject(
                        "a trailing stop has no trigger price: its level follows the market"
                    )
                new = dataclasses.replace(
                    old,
                    qty=old.qty if c.qty is None else c.qty,
                    price=old.price if c.price is None else c.price,
                    trigger_price=old.trigger_price if c.trigger_price is None else c.trigger_price,
                )
                return self._place(new, reissue=True)
            if resting is None:
                raise Reject(f"no open order with id {c.id}")
            if c.trigger_price is not None:
                raise Reject(f"{c.id} is a limit order: it has no trigger price")
            new = ev.PlaceOrder(
                c.ts,
                c.id,
                resting.symbol,
                resting.side,
                resting.qty if c.qty is None else c.qty,
                "limit",
                resting.price if c.price is None else c.price,
                reduce_only=resting.reduce_only,
                post_only=resting.post_only,
                position_side=None if resting.slot == "both" else resting.slot,
                time_in_force="GTD" if resting.good_till is not None else None,
                good_till=resting.good_till,
                stop_loss=self.attached_stops.get(c.id),
            )
            # a refused `_place` changes nothing, so undoing the removal is the whole undo;
            # both order books are put back as they were, order for order (their order is
            # the state's), without snapshotting the engine (issue 14)
            acct = self.acct
            orders = dict(acct.orders)
            books = {symbol: list(book) for symbol, book in acct.orders_by_symbol.items()}
            acct.remove_order(resting)
            try:
                return self._place(new, reissue=True)
            except Reject:
                acct.orders.clear()
                acct.orders.update(orders)
                acct.orders_by_symbol.clear()
                acct.orders_by_symbol.update(books)
                raise

        return self._run("amend", c.id, c.ts, body)

    def _cancel_liquidated(self, out: list[ev.Outcome]) -> list[ev.Outcome]:
        """A liquidated symbol's conditional orders go with its resting ones; an isolated
        hedge side's liquidation takes only that side's (as it does the resting orders)."""
        for o in list(out):
            if isinstance(o, ev.Liquidation) and o.symbol in self.algo.by_symbol:
                side: ev.PositionSlot = "both"
                if self.position_mode == "hedge" and o.margin_mode == "isolated":
                    side = o.side
                reason = f"{o.symbol} position liquidated"
                out += self.algo.cancel_symbol(o.symbol, o.ts, reason, side)
        return out

    # --- the stop loss placed with an entry ---------------------------------------------------

    def _stop_loss_command(
        self,
        entry_id: str,
        symbol: str,
        entry_side: ev.Side,
        ts: int,
        stop: Decimal,
        slot: ev.PositionSlot = "both",
    ) -> ev.PlaceOrder:
        return ev.PlaceOrder(
            ts,
            entry_id + STOP_LOSS_SUFFIX,
            symbol,
            "sell" if entry_side == "buy" else "buy",
            ZERO,
            "stop_market",
            trigger_price=stop,
            close_position=True,
            position_side=None if slot == "both" else slot,
        )

    def _check_stop_loss(self, c: ev.PlaceOrder, inst: Instrument, entry: Decimal) -> None:
        """Refuse the whole entry when its stop loss could not be placed now: checked before
        anything moves, so a bad stop leaves the account as it was."""
        stop = c.stop_loss
        assert stop is not None
        slot = self._order_slot(c)
        if _closes(c.side, slot):
            raise Reject(
                f"stop_loss goes with an entry: a {c.side} on the {slot} side only closes it "
                f"(protect the {slot} position with a close_position stop_market instead)"
            )
        below = c.side == "buy"
        if (stop >= entry) if below else (stop <= entry):
            raise Reject(
                f"stop_loss {plain(stop)} must be {'below' if below else 'above'} the entry "
                f"price {plain(entry)} (on the losing side of a {c.side})"
            )
        if stop % inst.tick_size != 0:
            raise Reject(
                f"stop_loss {plain(stop)} is not a multiple of the {c.symbol} tick "
                f"{plain(inst.tick_size)} (Binance -4014: price not increased by tick size)"
            )
        stop_id = c.id + STOP_LOSS_SUFFIX
        if stop_id in self.used_ids:
            raise Reject(f"order id {stop_id} (the stop loss's) is already in use")
        if c.id not in self.attached_stops and len(self.algo) >= MAX_CONDITIONAL_ORDERS:
            raise Reject(
                f"at most {MAX_CONDITIONAL_ORDERS} open conditional orders per account: "
                "cancel one before placing an entry with a stop loss"
            )
        latest = self._watched_price(c.symbol, "contract")
        if latest is None:
            raise Reject(
                f"no last trade price for {c.symbol} yet: the stop loss watches it, so it "
                "cannot be checked"
            )
        command = self._stop_loss_command(c.id, c.symbol, c.side, c.ts, stop, slot)
        self._refuse(immediate_trigger(command, latest))

    def _hold_stop(self, entry_id: str, stop: Decimal) -> None:
        """Keep an accepted entry's stop until the entry fills (orders gone since without
        filling, cancelled or expired, are dropped here)."""
        held = self.attached_stops
        for gone in [k for k in held if k not in self.acct.orders]:
            del held[gone]
        held[entry_id] = stop

    def _attach_stop(
        self,
        entry_id: str,
        symbol: str,
        entry_side: ev.Side,
        ts: int,
        slot: ev.PositionSlot = "both",
    ) -> list[ev.Outcome]:
        """After the entry's first fill: its stop as a close-position `stop_market`, id
        `<entry id>:sl` (close-position, so later fills of the same entry are covered too);
        in hedge mode on the entry's side, so it closes that side only. If it would be refused
        now (the price already past it), the outcome says why and the entry stands (README
        "Stop loss with the entry")."""
        stop = self.attached_stops.pop(entry_id)
        command = self._stop_loss_command(entry_id, symbol, entry_side, ts, stop, slot)
        want = "long" if entry_side == "buy" else "short"
        pos = self.acct.position(symbol, slot)
        if pos is None or pos.side != want:
            reason = f"the entry left no {want} {symbol} position to protect"
            out: list[ev.Outcome] = [ev.Rejected(ts, "stop_loss", command.id, reason)]
        else:
            out = self._run("stop_loss", command.id, ts, lambda: self._place(command))
        return [
            dataclasses.replace(
                o,
                reason=f"stop loss {plain(stop)} of {entry_id} not placed, the entry stands: "
                f"{o.reason}",
            )
            if isinstance(o, ev.Rejected)
            else o
            for o in out
        ]

    def _attached_state(self) -> dict[str, dict[str, str]]:
        """The open entries' stops, for `to_state` (the key only when there are some)."""
        held = {k: str(v) for k, v in self.attached_stops.items() if k in self.acct.orders}
        return {"attached_stops": held} if held else {}


def _closes(side: ev.Side, slot: ev.PositionSlot) -> bool:
    """In hedge mode a sell on the long side or a buy on the short side only closes."""
    return slot != "both" and (slot == "long") == (side == "sell")
