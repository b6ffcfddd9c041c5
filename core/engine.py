"""The simulated exchange: a deterministic state machine over market events and commands.

`Engine.apply(event)` is the only way in. It validates commands (a rejected command changes
nothing and says why), matches resting orders against quotes and trades, marks positions to
market, liquidates on every mark price and settles funding. No clock, no I/O: the same events
in always give the same outcomes out, which is what makes a replay exact.

Rules follow Binance USDⓈ-M in one-way or hedge mode; see README "How the simulation works".

Longer than the ~500-line house limit on purpose: this is the one entry point, and its event
dispatch, command validation and state round-trip read best together. The rules it applies
live in their own modules: `margin` (formulas), `costs` (cost to open, fill refusals),
`liquidation` (what a failed maintenance test does), `preview` (the order ticket) with
`trial` (run on the live engine, then put back what was touched),
`conditional` and `tif` (trigger rules, time in force, exchange limits) with
`conditional_desk` (the mixin that places, fires, expires and amends such orders), and
`fill_models` (the `book` and `queue` models' walk, impact and queue rules, README "Fill
models"; `touch`, the default, is the engine's original rule and stays exactly as it was).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from papertrade.core import events as ev
from papertrade.core import tif
from papertrade.core.account import Account, Totals
from papertrade.core.challenge import (
    Challenge,
    gap_of,
    named,
    rules_from_state,
    rules_to_state,
)
from papertrade.core.conditional import (
    ConditionalBook,
    ConditionalOrder,
    is_conditional,
    shape_error,
)
from papertrade.core.conditional_desk import ConditionalDesk
from papertrade.core.conditional_desk import Reject as _Reject
from papertrade.core.costs import fill_refusal, opening_cost, plan_fill, resting_refusal
from papertrade.core.fill_models import impact_price, queue_take, shown_at, take
from papertrade.core.instruments import Instrument, InstrumentBook, bundled
from papertrade.core.liquidation import liquidate_cross, liquidate_isolated
from papertrade.core.margin import (
    hedged_liquidation_price,
    initial_margin,
    liquidatable,
    liquidation_price,
    maintenance_margin,
    margin_ratio,
    max_removable_margin,
    unrealized_pnl,
)
from papertrade.core.market import MarketState
from papertrade.core.numbers import ZERO, dec, human, money, plain
from papertrade.core.orders import Order, opening_qty
from papertrade.core.positions import ENTRY_QUANTUM, HEDGE_SLOTS, Position, position_key
from papertrade.core.preview import OrderPreview, preview_order
from papertrade.core.trial import Trials

__all__ = ["DEFAULT_LEVERAGE", "DEFAULT_MODE", "RULES_VERSION", "Engine", "OrderPreview", "Totals"]

DEFAULT_LEVERAGE = 20
_TWO = Decimal(2)
"""A Decimal divisor: `x / 2` with an int converts the 2 on every call."""
_QUOTE = ev.Quote
_TRADE = ev.Trade
DEFAULT_MODE: ev.MarginMode = "cross"
STATE_VERSION = 1
RULES_VERSION = 3
"""The trading rules a session is recorded under (journaled with it): a journal replays
exactly under the rules it was recorded with (`RULES` says what each version added)."""
RULES: dict[int, str] = {
    1: "market and limit orders, isolated and cross margin, tiered liquidation, funding",
    2: "partial liquidation, clearance fees, hedge mode and conditional orders",
    3: (
        "order-book fill models, stop losses placed with the entry, conditional orders in "
        "hedge mode, a waiting stop blocking a position-mode switch, hedge fills naming their side"
    ),
}


class Engine(ConditionalDesk, Trials):
    def __init__(
        self,
        instruments: InstrumentBook | None = None,
        settings: ev.SessionSettings | None = None,
    ) -> None:
        self.instruments = instruments if instruments is not None else bundled("binance")
        self.settings = settings or ev.SessionSettings()
        self.markets: dict[str, MarketState] = {}
        self.acct = Account(self.settings.balance, self.markets)
        self.position_mode: ev.PositionMode = self.settings.position_mode
        self._queue = self.settings.fill_model == "queue"
        """Resting orders keep their place in the queue at their price (README "Fill models")."""
        self.symbol_settings: dict[str, tuple[ev.MarginMode, int]] = {}
        self.used_ids: set[str] = set()
        self.totals = Totals()
        self.last_ts = 0
        self.algo = ConditionalBook()
        """Conditional orders waiting for their trigger (no margin held; see `conditional`)."""
        self.expiries = tif.Expiries()
        self.attached_stops: dict[str, Decimal] = {}
        """Entries placed with a `stop_loss` that have not filled yet: id → stop price
        (`conditional_desk.attach_stop` places the stop when the entry fills)."""
        self.challenge = Challenge(self.settings) if self.settings.has_rules else None
        """Challenge rules and refills (`core.challenge`); None without rules."""
        self._gap_then = -1
        """While a price is applied: when the previous one of its kind came (-1: none, or no
        price being applied), `_gap_was` that price and `_gap_now` this one; a liquidation
        works out its gap from them only when it happens (`core.challenge.gap_of`)."""
        self._gap_was: Decimal | None = None
        self._gap_now = ZERO
        self._bind_hot()
        self._handlers: dict[type, Callable[[Any], list[ev.Outcome]]] = {
            ev.MarkPrice: self._on_mark,
            ev.Quote: self._on_quote,
            ev.Trade: self._on_trade,
            ev.Funding: self._on_funding,
            ev.Book: self._on_book,
            ev.PlaceOrder: self._on_order,
            ev.CancelOrder: self._on_cancel,
            ev.AmendOrder: self._on_amend,
            ev.ClosePosition: self._on_close,
            ev.AdjustMargin: self._on_adjust_margin,
            ev.SetLeverage: self._on_set_leverage,
            ev.SetMarginMode: self._on_set_margin_mode,
            ev.SetPositionMode: self._on_set_position_mode,
            ev.Snapshot: self._on_snapshot,
        }

    # --- the one way in ----------------------------------------------------------------------

    def apply(self, event: ev.Event) -> list[ev.Outcome]:
        if self.challenge is not None:
            return self._apply_challenged(event)
        self.last_ts = event.ts
        kind = type(event)
        if kind is not _QUOTE and kind is not _TRADE and self.acct.banded:
            self.acct.unband()  # quotes and trades keep the bands they can (`_on_quote`)
        deadlines = self._deadlines
        if deadlines and deadlines[0][0] <= event.ts:
            self.acct.unband()
            return self._expire(event.ts) + self._handlers[kind](event)
        return self._handlers[kind](event)

    def _apply_challenged(self, event: ev.Event) -> list[ev.Outcome]:
        """`apply` with the challenge's score kept after the event (`core.challenge`). No
        safe bands: the score reads the account after every event."""
        assert self.challenge is not None
        self.last_ts = event.ts
        self.acct.unband()
        deadlines = self._deadlines
        out = self._expire(event.ts) if deadlines and deadlines[0][0] <= event.ts else []
        out += self._handlers[type(event)](event)
        return out + self.challenge.check(self.acct, event.ts, out)

    def _bind_hot(self) -> None:
        """Direct references for the per-event checks (a tick pays two lookups, not calls)."""
        self._deadlines = self.expiries.heap
        self._waiting = self.algo.by_symbol

    # --- read side ---------------------------------------------------------------------------

    @property
    def positions(self) -> dict[str, Position]:
        return self.acct.positions

    @property
    def orders(self) -> dict[str, Order]:
        return self.acct.orders

    def market(self, symbol: str) -> MarketState:
        m = self.markets.get(symbol)
        if m is None:
            m = self.markets[symbol] = MarketState(symbol)
        return m

    def symbol_setting(self, symbol: str) -> tuple[ev.MarginMode, int]:
        """(margin mode, leverage) of a symbol: cross and 20× unless changed (capped at the
        instrument's maximum)."""
        setting = self.symbol_settings.get(symbol)
        if setting is not None:
            return setting
        inst = self.instruments.get(symbol)
        lev = min(DEFAULT_LEVERAGE, inst.max_leverage) if inst else DEFAULT_LEVERAGE
        return (DEFAULT_MODE, lev)

    def wallet_balance(self) -> Decimal:
        return self.acct.wallet_balance()

    def available_balance(self) -> Decimal:
        return money(self.acct.available_balance())

    def symbol_positions(self, symbol: str) -> list[Position]:
        """The symbol's open positions: one in one-way mode, up to two (long, short) in hedge."""
        return self.acct.symbol_positions(symbol)

    def _isolated_position(self, symbol: str, slot: ev.PositionSlot | None) -> Position | None:
        if slot is None:
            isolated = [p for p in self.acct.symbol_positions(symbol) if p.mode == "isolated"]
            return isolated[0] if len(isolated) == 1 else None
        return self.acct.position(symbol, slot)

    def max_removable_margin(self, symbol: str, slot: ev.PositionSlot | None = None) -> Decimal:
        """Isolated margin that may be taken out of `symbol`'s position now (0 without an
        isolated position). `slot` picks the hedge side; left out, the symbol's only isolated
        position."""
        pos = self._isolated_position(symbol, slot)
        if pos is None or pos.mode != "isolated":
            return ZERO
        return money(
            max_removable_margin(pos.margin, pos.mm, pos.size, pos.entry, pos.mark, pos.leverage)
        )

    def max_addable_margin(self, symbol: str, slot: ev.PositionSlot | None = None) -> Decimal:
        """Isolated margin that may be added to `symbol`'s position now (0 without an isolated
        position): backed by the cross wallet, never by unrealized profit."""
        pos = self._isolated_position(symbol, slot)
        if pos is None or pos.mode != "isolated":
            return ZERO
        return money(self.acct.max_addable_margin())

    def position_liquidation_price(self, pos: Position) -> Decimal | None:
        """Isolated: the position's own. Cross: with the other cross positions held at their
        marks; a hedged symbol's cross long and short share one (the two-sided formula)."""
        self.acct.settle()
        if pos.mode == "isolated":
            return liquidation_price(pos.instrument, pos.size, pos.entry, pos.margin)
        if pos.slot != "both":
            other = self.acct.position(pos.symbol, "short" if pos.slot == "long" else "long")
            if other is not None and other.mode == "cross":
                long, short = (pos, other) if pos.slot == "long" else (other, pos)
                return hedged_liquidation_price(
                    pos.instrument,
                    long.qty,
                    long.entry,
                    short.qty,
                    short.entry,
                    self.acct.cross_wallet,
                    self.acct.cross_mm - long.mm - short.mm,
                    self.acct.cross_upnl - long.upnl - short.upnl,
                    pos.mark,
                )
        return liquidation_price(
            pos.instrument,
            pos.size,
            pos.entry,
            self.acct.cross_wallet,
            self.acct.cross_mm - pos.mm,
            self.acct.cross_upnl - pos.upnl,
        )

    def position_margin(self, pos: Position) -> Decimal:
        """Isolated: its isolated margin. Cross: initial margin at the current mark."""
        if pos.mode == "isolated":
            return pos.margin
        return money(initial_margin(pos.qty * pos.mark, pos.leverage))

    def position_margin_ratio(self, pos: Position) -> Decimal | None:
        """Isolated: the position's own ratio. Cross: the cross account's ratio."""
        if pos.mode == "cross":
            return self.acct.cross_margin_ratio()
        return margin_ratio(pos.mm, pos.margin + pos.upnl)

    def position_state(self, pos: Position) -> ev.PositionState:
        ratio = self.position_margin_ratio(pos)
        return ev.PositionState(
            symbol=pos.symbol,
            side=pos.side,
            qty=pos.qty,
            entry_price=pos.entry,
            mark_price=pos.mark,
            margin_mode=pos.mode,
            leverage=pos.leverage,
            margin=self.position_margin(pos),
            maintenance_margin=money(pos.mm),
            unrealized_pnl=money(pos.upnl),
            liquidation_price=self.position_liquidation_price(pos),
            margin_ratio=None if ratio is None else ratio.quantize(Decimal("0.0001")),
            position_side=pos.slot,
        )

    def account(self, ts: int | None = None) -> ev.AccountState:
        acct = self.acct
        ratio = acct.cross_margin_ratio()
        return ev.AccountState(
            ts=self.last_ts if ts is None else ts,
            wallet_balance=money(acct.wallet_balance()),
            margin_balance=money(acct.margin_balance()),
            available_balance=money(acct.available_balance()),
            positions=tuple(self.position_state(acct.positions[s]) for s in sorted(acct.positions)),
            open_orders=tuple(o.state() for o in acct.orders.values())
            + tuple(o.state(*self.symbol_setting(o.symbol)) for o in self.algo),
            cross_margin_ratio=None if ratio is None else ratio.quantize(Decimal("0.0001")),
        )

    # --- market events -----------------------------------------------------------------------

    def _on_mark(self, e: ev.MarkPrice) -> list[ev.Outcome]:
        symbol, price, ts = e.symbol, e.price, e.ts
        m = self.markets.get(symbol)
        if m is None:
            m = self.market(symbol)
        then, was = m.mark_ts, m.mark
        m.mark = price
        m.mark_ts = ts
        m.has_mark = True
        if e.index is not None:
            m.index = e.index
        if e.funding_rate is not None:
            m.funding_rate = e.funding_rate
        if e.next_funding_ts is not None:
            m.next_funding_ts = e.next_funding_ts
        self._gap_then = then
        self._gap_was = was
        self._gap_now = price
        if self.position_mode == "one_way":  # `_remark_symbol`'s hot path, without the call
            pos = self.acct.positions.get(symbol)
            out = [] if pos is None else self._remark(pos, price, ts)
        else:
            out = self._remark_symbol(symbol, price, ts)
        if symbol in self._waiting:
            out += self._triggers(symbol, "mark", price, ts)
        self._gap_then = -1
        return self._named(out, then, was, ts, price) if out else out

    def _on_quote(self, e: ev.Quote) -> list[ev.Outcome]:
        symbol, bid, ask = e.symbol, e.bid, e.ask
        m = self.markets.get(symbol)
        if m is None:
            m = self.market(symbol)
        m.bid = bid
        m.ask = ask
        acct = self.acct
        if symbol not in acct.orders_by_symbol:
            if m.has_mark:
                return []
            # No mark stream: the mid marks the symbol (the usual tick of a drill or a venue
            # without marks). A one-way position inside its safe band takes the mark alone
            # (`Account.band`: no liquidation is possible there); outside it, the full test.
            mid = m.mark = (bid + ask) / _TWO
            if self.position_mode == "one_way":
                pos = acct.positions.get(symbol)
                if pos is None:
                    return []
                if pos.safe_lo < mid < pos.safe_hi:
                    pos.mark = mid
                    acct.hits += 1
                    return []
                return self._remark_outside(pos, mid, e.ts)
            return self._remark_symbol(symbol, mid, e.ts)
        acct.unband()  # resting orders: a fill may move anything
        if self._queue:
            out = self._match_queue(symbol, e.ts, None, ZERO, bid, ask, e)
        else:
            out = self._match(symbol, e.ts, ask, bid)
        if not m.has_mark:
            mid = m.mark = (bid + ask) / _TWO
            out += self._remark_symbol(symbol, mid, e.ts)
        return out

    def _on_book(self, e: ev.Book) -> list[ev.Outcome]:
        """Keep the symbol's latest book (what the `book` and `queue` fill models walk). A
        book with both sides is also the symbol's best quote, in every model: its top sets
        bid and ask and resting orders are matched against it as against a quote."""
        m = self.markets.get(e.symbol)
        if m is None:
            m = self.market(e.symbol)
        m.bids = e.bids
        m.asks = e.asks
        if not e.bids or not e.asks:
            return []
        bid, ask = e.bids[0][0], e.asks[0][0]
        return self._on_quote(ev.Quote(e.ts, e.symbol, bid, ask, e.bids[0][1], e.asks[0][1]))

    def _on_trade(self, e: ev.Trade) -> list[ev.Outcome]:
        m = self.markets.get(e.symbol)
        if m is None:
            m = self.market(e.symbol)
        then, was = m.last_ts, m.last
        m.last = e.price
        m.last_ts = e.ts
        self._gap_then = then
        self._gap_was = was
        self._gap_now = e.price
        out: list[ev.Outcome] = []
        acct = self.acct
        busy = e.symbol in acct.orders_by_symbol or e.symbol in self._waiting
        if busy:  # a fill or a trigger may move anything
            acct.unband()
        if e.symbol in acct.orders_by_symbol:
            if self._queue:
                out = self._match_queue(e.symbol, e.ts, e.price, e.qty, None, None, None)
            else:
                out = self._match(e.symbol, e.ts, buy_at=e.price, sell_at=e.price)
        if not m.has_mark:
            m.mark = e.price
            if busy or self.position_mode != "one_way":
                out += self._remark_symbol(e.symbol, e.price, e.ts)
            else:  # the trade marks the symbol as a quote's mid does (`_on_quote`)
                pos = acct.positions.get(e.symbol)
                if pos is not None:
                    if pos.safe_lo < e.price < pos.safe_hi:
                        pos.mark = e.price
                        acct.hits += 1
                    else:
                        out += self._remark_outside(pos, e.price, e.ts)
        if e.symbol in self._waiting:
            out += self._triggers(e.symbol, "contract", e.price, e.ts)
        self._gap_then = -1
        return self._named(out, then, was, e.ts, e.price) if out else out

    @staticmethod
    def _named(
        out: list[ev.Outcome], then: int, was: Decimal | None, ts: int, price: Decimal
    ) -> list[ev.Outcome]:
        """The outcomes of a price, its triggers and liquidations carrying the gap it came
        after (worked out only when something happened)."""
        gap = gap_of(then, was, ts, price)
        return out if gap is None else named(out, gap)

    def _on_funding(self, e: ev.Funding) -> list[ev.Outcome]:
        positions = self.acct.symbol_positions(e.symbol)
        if not positions:
            return []
        out: list[ev.Outcome] = []
        for pos in positions:  # hedge mode: each side pays or receives on its own
            # Positive rate: longs pay, shorts receive. Isolated funding moves the isolated
            # margin. A payment never takes more than the wallet it comes from holds: what
            # funding took is reported as funding, so a liquidation that follows never shows
            # a negative loss.
            amount = money(-pos.size * pos.mark * e.rate)
            if pos.mode == "isolated":
                amount = max(amount, -pos.margin)
                pos.margin += amount
            else:
                amount = max(amount, -max(ZERO, self.acct.cross_wallet))
                self.acct.cross_wallet += amount
            self.totals.funding += amount
            out.append(ev.FundingPaid(e.ts, e.symbol, amount))
        out += self._check_liquidations(e.ts)
        return out

    # --- marking and liquidation ------------------------------------------------------------

    def _remark_symbol(self, symbol: str, price: Decimal, ts: int) -> list[ev.Outcome]:
        """Mark every position of the symbol, then test maintenance: a hedged symbol's two
        sides both move to the new mark before either is tested."""
        if self.position_mode == "one_way":  # the hot path: one dict lookup, as it always was
            pos = self.acct.positions.get(symbol)
            return [] if pos is None else self._remark(pos, price, ts)
        positions = self.acct.symbol_positions(symbol)
        if not positions:
            return []
        if len(positions) == 1:
            return self._remark(positions[0], price, ts)
        for pos in positions:
            upnl = unrealized_pnl(pos.size, pos.entry, price)
            mm = maintenance_margin(pos.instrument, pos.qty * price)
            if pos.mode == "cross":
                self.acct.cross_upnl += upnl - pos.upnl
                self.acct.cross_mm += mm - pos.mm
            pos.mark, pos.upnl, pos.mm = price, upnl, mm
        out: list[ev.Outcome] = []
        if any(p.mode == "cross" for p in positions) and self.acct.cross_liquidatable():
            out += self._liquidate_cross(ts)
        for pos in positions:
            if (
                pos.mode == "isolated"
                and pos.key in self.acct.positions
                and liquidatable(pos.margin + pos.upnl, pos.mm)
            ):
                out += self._liquidate_isolated(pos, ts)
        return out

    def _remark_outside(self, pos: Position, price: Decimal, ts: int) -> list[ev.Outcome]:
        """A quote's (or a trade's, without a mark stream) re-mark of a one-way position
        outside its safe band (or without one), the last thing its event does:
        inside the band worked out now, the mark alone; else the full re-mark and test at
        settled totals, after which the account, if not liquidated, is banded afresh. An
        isolated position is re-marked in full and leaves the cross bands be (it is not in
        the cross pot) unless it is liquidated."""
        acct = self.acct
        if pos.mode == "isolated":
            out = self._remark(pos, price, ts)
            if out:
                acct.unband()
            return out
        if pos.floor is not None and acct.band_of(pos, price):
            pos.mark = price
            acct.hits += 1
            return []
        if acct.banded:
            acct.unband()
        out = self._remark(pos, price, ts)
        if not out and self.challenge is None:
            if acct.wait:  # bands did not pay lately (`Account.backoff`)
                acct.wait -= 1
            else:
                acct.band()
        return out

    def _remark(self, pos: Position, price: Decimal, ts: int) -> list[ev.Outcome]:
        # The hot path of every mark: `unrealized_pnl`, `maintenance_margin` and
        # `liquidatable` written out (same arithmetic, no calls), compared with Decimal zero.
        size = pos.size
        upnl = size * (price - pos.entry)
        notional = abs(size) * price  # `pos.qty * price`, without the property's call
        brackets = pos.instrument.brackets
        bracket = (
            brackets[0] if notional < brackets[0].cap else pos.instrument.bracket_for(notional)
        )
        mm = notional * bracket.mmr - bracket.cum
        pos.mark = pos._at = price
        if pos.mode == "cross":  # the account is settled here: no band is held
            acct = self.acct
            acct.cross_upnl += upnl - pos._upnl
            acct.cross_mm += mm - pos._mm
            pos._upnl = upnl
            pos._mm = mm
            cross_mm = acct.cross_mm
            if cross_mm > ZERO and acct.cross_wallet + acct.cross_upnl <= cross_mm:
                return self._liquidate_cross(ts)
            return []
        pos._upnl = upnl
        pos._mm = mm
        if mm > ZERO and pos.margin + upnl <= mm:
            return self._liquidate_isolated(pos, ts)
        return []

    def _check_liquidations(self, ts: int) -> list[ev.Outcome]:
        out: list[ev.Outcome] = []
        if self.acct.cross_liquidatable():
            out += self._liquidate_cross(ts)
        for pos in list(self.acct.positions.values()):
            if pos.mode == "isolated" and liquidatable(pos.margin + pos.upnl, pos.mm):
                out += self._liquidate_isolated(pos, ts)
        return out

    def _liquidate_isolated(self, pos: Position, ts: int) -> list[ev.Outcome]:
        out = liquidate_isolated(self.acct, self.totals, pos, ts)
        if self._gap_then >= 0:  # named here: the post-mortem keeps these very lines
            out = self._named(out, self._gap_then, self._gap_was, ts, self._gap_now)
        return self._cancel_liquidated(out)

    def _liquidate_cross(self, ts: int) -> list[ev.Outcome]:
        out = liquidate_cross(self.acct, self.totals, ts)
        if self._gap_then >= 0:
            out = self._named(out, self._gap_then, self._gap_was, ts, self._gap_now)
        return self._cancel_liquidated(out)

    # --- fills -------------------------------------------------------------------------------

    def _fill_refusal(
        self,
        inst: Instrument,
        side: ev.Side,
        qty: Decimal,
        price: Decimal,
        liquidity: ev.Liquidity,
        mode: ev.MarginMode,
        leverage: int,
        cost_price: Decimal,
        slot: ev.PositionSlot = "both",
    ) -> str | None:
        plan = plan_fill(
            self.acct, self.settings, inst, side, qty, price, liquidity, mode, leverage, slot
        )
        return fill_refusal(self.acct, plan, inst, side, price, leverage, cost_price, slot)

    def _fill(
        self,
        ts: int,
        order_id: str,
        inst: Instrument,
        side: ev.Side,
        qty: Decimal,
        price: Decimal,
        liquidity: ev.Liquidity,
        mode: ev.MarginMode,
        leverage: int,
        slot: ev.PositionSlot = "both",
    ) -> list[ev.Outcome]:
        acct = self.acct
        symbol = inst.symbol
        plan = plan_fill(
            acct, self.settings, inst, side, qty, price, liquidity, mode, leverage, slot
        )
        out: list[ev.Outcome] = []
        pos = acct.position(symbol, slot)
        if plan.close_qty and pos is not None:
            pos.margin -= plan.released
            acct.cross_wallet += plan.released
            if plan.closes_whole:
                acct.remove_position(pos)
                pos = None
            else:
                pos.size += plan.close_qty if side == "buy" else -plan.close_qty
        if plan.open_qty:
            if pos is None:
                pos = Position(inst, ZERO, price, mode, leverage, slot=slot)
                acct.add_position(pos)
            new_qty = pos.qty + plan.open_qty
            if pos.size:
                pos.entry = ((pos.qty * pos.entry + plan.open_qty * price) / new_qty).quantize(
                    ENTRY_QUANTUM
                )
            pos.size = new_qty if side == "buy" else -new_qty
            acct.cross_wallet -= plan.open_im
            pos.margin += plan.open_im
        acct.cross_wallet += plan.realized - plan.fee
        self.totals.realized_pnl += plan.realized
        self.totals.fees += plan.fee
        self.totals.fills += 1
        out.append(
            ev.Fill(
                ts,
                order_id,
                symbol,
                side,
                qty,
                price,
                plan.fee,
                plan.realized,
                liquidity,
                position_side=None if slot == "both" else slot,
            )
        )
        key = position_key(symbol, slot)
        if key not in acct.positions:
            out += self._drop_reduce_only(symbol, ts, slot)
        else:
            m = self.market(symbol)
            out += self._remark(acct.positions[key], m.mark or price, ts)
        out += self._check_liquidations(ts)
        if self.attached_stops and order_id in self.attached_stops:
            out += self._attach_stop(order_id, symbol, side, ts, slot)
        return out

    def _drop_reduce_only(
        self, symbol: str, ts: int, slot: ev.PositionSlot = "both"
    ) -> list[ev.Outcome]:
        """A closed position takes its closing orders with it: reduce-only orders, or in hedge
        mode the side's reducing orders."""
        reason = (
            "position closed: nothing to reduce"
            if slot == "both"
            else f"{slot} position closed: nothing to reduce"
        )
        out: list[ev.Outcome] = []
        for order in list(self.acct.orders_by_symbol.get(symbol, ())):
            if order.slot == slot and order.reduces:
                self.acct.remove_order(order)
                out.append(ev.OrderCancelled(ts, order.id, reason))
        if symbol in self.algo.by_symbol:
            out += self.algo.drop_reduce_only(symbol, ts, slot)
        return out

    def _match(self, symbol: str, ts: int, buy_at: Decimal, sell_at: Decimal) -> list[ev.Outcome]:
        """Fill resting orders the market has reached: a buy when the ask or a trade is at or
        below its price, a sell when the bid or a trade is at or above; always at the order's
        own price, as maker."""
        book = self.acct.orders_by_symbol.get(symbol)
        if book is None:
            return []
        for order in book:  # most quotes reach no order: then nothing is copied or filled
            if (buy_at <= order.price) if order.side == "buy" else (sell_at >= order.price):
                break
        else:
            return []
        out: list[ev.Outcome] = []
        for order in list(book):
            if order.id not in self.acct.orders:
                continue  # cancelled by an earlier fill in this loop (reduce-only, liquidation)
            if (order.side == "buy" and buy_at <= order.price) or (
                order.side == "sell" and sell_at >= order.price
            ):
                out += self._fill_resting(order, ts)
        return out

    def _match_queue(
        self,
        symbol: str,
        ts: int,
        traded_at: Decimal | None,
        traded: Decimal,
        bid: Decimal | None,
        ask: Decimal | None,
        quote: ev.Quote | None,
    ) -> list[ev.Outcome]:
        """The `queue` model's matching: a trade at an order's price first works off the
        volume ahead of it, then fills it with what is left; a trade, bid or ask strictly
        through its price fills it whole; a quote or book showing less at its price than is
        counted ahead caps what is ahead (cancellations ahead of it). Always at the order's
        own price, as maker. Each order counts a trade on its own: paper orders are not in
        the venue's queue."""
        out: list[ev.Outcome] = []
        m = self.markets[symbol]
        for order in list(self.acct.orders_by_symbol.get(symbol, ())):
            if order.id not in self.acct.orders:
                continue
            price, buy = order.price, order.side == "buy"
            ahead = ZERO if order.queue_ahead is None else order.queue_ahead
            if traded_at is not None:
                if traded_at < price if buy else traded_at > price:
                    out += self._fill_resting(order, ts)
                elif traded_at == price:
                    ahead, qty = queue_take(ahead, order.qty, traded)
                    order.queue_ahead = ahead
                    if qty:
                        out += self._fill_resting(order, ts, qty)
                continue
            if (ask is not None and ask < price) if buy else (bid is not None and bid > price):
                out += self._fill_resting(order, ts)
                continue
            shown = shown_at(m.bids if buy else m.asks, price, buy=buy)
            if quote is not None:
                top, size = (quote.bid, quote.bid_qty) if buy else (quote.ask, quote.ask_qty)
                if top == price and size is not None:
                    shown = size if shown is None else min(shown, size)
            if shown is not None and shown < ahead:
                order.queue_ahead = shown
        return out

    def _fill_resting(self, order: Order, ts: int, qty: Decimal | None = None) -> list[ev.Outcome]:
        """Fill a resting order as maker at its own price: whole, or `qty` of it (the rest
        stays open, holding margin for the rest only)."""
        acct = self.acct
        inst = self.instruments[order.symbol]
        slot = order.slot
        pos = acct.position(order.symbol, slot)
        if qty is None or qty > order.qty:
            qty = order.qty
        out: list[ev.Outcome] = []
        if order.reduces:
            if pos is None or (pos.size > 0) == (order.side == "buy"):
                acct.remove_order(order)
                reason = (
                    "reduce-only: no position left to reduce"
                    if slot == "both"
                    else f"no {slot} position left to reduce"
                )
                return [ev.OrderCancelled(ts, order.id, reason)]
            if order.qty > pos.qty:
                out.append(ev.ReduceOnlyCut(ts, order.id, order.symbol, order.qty, pos.qty))
                order.qty = pos.qty
                qty = min(qty, pos.qty)
        refusal = self._fill_refusal(
            inst,
            order.side,
            qty,
            order.price,
            "maker",
            order.mode,
            order.leverage,
            order.price,
            slot,
        )
        if refusal is not None:
            acct.remove_order(order)
            return [ev.OrderCancelled(ts, order.id, f"{refusal} (at fill)")]
        if qty == order.qty:
            acct.remove_order(order)
        else:
            order.qty -= qty
        return out + self._fill(
            ts,
            order.id,
            inst,
            order.side,
            qty,
            order.price,
            "maker",
            order.mode,
            order.leverage,
            slot,
        )

    # --- commands ----------------------------------------------------------------------------

    def _instrument(self, symbol: str) -> Instrument:
        inst = self.instruments.get(symbol)
        if inst is None:
            raise _Reject(f"unknown symbol {symbol}: not a {self.instruments.venue} perpetual")
        return inst

    def _taker_price(self, symbol: str, side: ev.Side) -> Decimal | None:
        """Best ask (buy) / bid (sell) of the latest quote, else last trade, else mark."""
        m = self.markets.get(symbol)
        if m is None:
            return None
        book = m.ask if side == "buy" else m.bid
        if book is not None:
            return book
        if m.last is not None:
            return m.last
        return m.mark if m.has_mark else None

    def _run(
        self, command: str, order_id: str | None, ts: int, body: Callable[[], list[ev.Outcome]]
    ) -> list[ev.Outcome]:
        try:
            return body()
        except _Reject as exc:
            return [ev.Rejected(ts, command, order_id, exc.reason)]

    def _on_order(self, c: ev.PlaceOrder) -> list[ev.Outcome]:
        changes_settings = (c.margin_mode is not None or c.leverage is not None) and (
            (
                c.margin_mode or self.symbol_setting(c.symbol)[0],
                c.leverage or self.symbol_setting(c.symbol)[1],
            )
            != self.symbol_setting(c.symbol)
        )
        if not changes_settings:
            return self._run("order", c.id, c.ts, lambda: self._place(c))
        # What the settings changes below can touch, kept to undo exactly that if the order is
        # refused (a refused `_place` itself changes nothing): the symbol's setting and the
        # leverage of its orders and positions. Snapshotting the whole engine instead cost
        # most of the engine's time in a session that sends such orders (issue 14).
        symbol = c.symbol
        setting = self.symbol_settings.get(symbol)
        orders = [(o, o.leverage) for o in self.acct.orders_by_symbol.get(symbol, ())]
        held = [(p, p.leverage) for p in self.acct.symbol_positions(symbol)]

        def transaction() -> list[ev.Outcome]:
            out: list[ev.Outcome] = []
            if c.margin_mode is not None:
                out += self._set_margin_mode(symbol, c.margin_mode)
            if c.leverage is not None:
                out += self._set_leverage(symbol, c.leverage)
            return out + self._place(c)

        result = self._run("order", c.id, c.ts, transaction)
        if result and isinstance(result[0], ev.Rejected):
            if setting is None:
                self.symbol_settings.pop(symbol, None)
            else:
                self.symbol_settings[symbol] = setting
            for order, lev in orders:
                order.leverage = lev
            for pos, lev in held:
                pos.leverage = lev
        return result

    def _opening_cost(
        self,
        symbol: str,
        side: ev.Side,
        qty: Decimal,
        price: Decimal,
        leverage: int,
        slot: ev.PositionSlot = "both",
    ) -> tuple[Decimal, Decimal]:
        return opening_cost(self.acct, symbol, side, qty, price, leverage, slot)

    def _check_grid(self, inst: Instrument, c: ev.PlaceOrder) -> None:
        """Binance rejects an off-step quantity (-1111) or an off-tick price (-4014) rather
        than rounding it; so does the engine (a ticket may round what was typed, visibly)."""
        step = inst.step_size
        if c.qty <= 0 or c.qty % step != 0:
            raise _Reject(
                f"quantity {plain(c.qty)} is not a multiple of the {c.symbol} step "
                f"{plain(step)} {inst.base} (Binance -1111: precision is over the maximum "
                "defined for this asset)"
            )
        if c.qty < inst.min_qty:
            raise _Reject(
                f"quantity {plain(c.qty)} is below the minimum of {plain(inst.min_qty)} "
                f"{inst.base} (step {plain(step)})"
            )
        if c.price is not None:
            tick = inst.tick_size
            if c.price <= 0 or c.price % tick != 0:
                raise _Reject(
                    f"price {plain(c.price)} is not a multiple of the {c.symbol} tick "
                    f"{plain(tick)} (Binance -4014: price not increased by tick size)"
                )

    def _place(
        self,
        c: ev.PlaceOrder,
        watched: Decimal | None = None,
        reissue: bool = False,
        *,
        whole: bool = False,
    ) -> list[ev.Outcome]:
        """Place an order. `reissue` marks an order that already holds its id (a triggered
        conditional order, an amended one); `watched` is the price that triggered it, which
        its fill may not beat (a stale quote never flatters a stop); `whole` marks a hedge
        close_position order closing its side's whole position (resting closing orders do
        not count against it)."""
        acct = self.acct
        if c.id in self.used_ids and not reissue:
            raise _Reject(f"order id {c.id} is already in use")
        shape = shape_error(c)
        if shape is not None:
            raise _Reject(shape)
        inst = self._instrument(c.symbol)
        if is_conditional(c.order_type):
            return self._place_conditional(c, inst, reissue)
        mode, lev = self.symbol_setting(c.symbol)
        self._check_grid(inst, c)
        if not reissue:
            self._refuse(tif.gtd_refusal(c))
        slot = self._order_slot(c)
        qty = c.qty
        ref = self._taker_price(c.symbol, c.side)
        if watched is not None:
            ref = watched if ref is None else self._worse(c.side, ref, watched)
        force = tif.time_in_force(c)
        limits = self.settings.exchange_limits
        m = self.markets.get(c.symbol)
        mark = m.mark if m is not None and limits else None
        if limits:
            self._refuse(tif.size_refusal(inst, c.order_type == "market", qty))
        if c.order_type == "market":
            if ref is None:
                raise _Reject(f"no price for {c.symbol} yet: wait for market data")
            price = ref
            taker = True
            self._refuse(tif.take_bound_refusal(inst, c.side, price, mark))
        else:
            assert c.price is not None
            price = c.price
            self._refuse(tif.band_refusal(inst, price, mark))
            taker = ref is not None and (price >= ref if c.side == "buy" else price <= ref)
            if taker and force == "GTX":
                raise _Reject(
                    f"post-only order would take liquidity: {c.side} at {plain(price)} crosses "
                    f"the market at {plain(ref)}"  # type: ignore[arg-type]
                )
        fill_price = ref if taker else price
        assert fill_price is not None
        if c.stop_loss is not None:
            self._check_stop_loss(c, inst, fill_price)
        pos = acct.position(c.symbol, slot)
        size = pos.size if pos else ZERO
        out: list[ev.Outcome] = []
        if slot != "both" and (slot == "long") == (c.side == "sell"):
            if pos is None:
                raise _Reject(
                    f"no {slot} {c.symbol} position to reduce (a {c.side} on the {slot} side "
                    f"only closes it; to open a {'short' if slot == 'long' else 'long'}, use "
                    "that side)"
                )
            book = acct.orders_by_symbol.get(c.symbol, ())
            closing = sum((o.qty for o in book if o.slot == slot and o.reduces), ZERO)
            if qty + (ZERO if whole else closing) > pos.qty:
                held = f" ({plain(closing)} already in closing orders)" if closing else ""
                raise _Reject(
                    f"{c.side} {plain(qty)} on the {slot} side would close more than the "
                    f"{slot} {c.symbol} position of {plain(pos.qty)}{held}"
                )
        elif c.reduce_only:
            if pos is None or (size > 0) == (c.side == "buy"):
                want = "short" if c.side == "buy" else "long"
                raise _Reject(f"reduce-only order would not reduce: no {want} {c.symbol} position")
            if qty > pos.qty:
                # Binance cuts an oversized reduce-only order to the position; shown, not silent
                out.append(ev.ReduceOnlyCut(c.ts, c.id, c.symbol, qty, pos.qty))
                qty = pos.qty
        else:
            notional = qty * fill_price
            if notional < inst.min_notional:
                raise _Reject(
                    f"order value {human(notional)} USDT is below the {c.symbol} minimum of "
                    f"{human(inst.min_notional)} USDT"
                )
            same_side = [
                o
                for o in acct.orders_by_symbol.get(c.symbol, ())
                if o.side == c.side and o.slot == slot
            ]
            ahead = sum((o.qty for o in same_side if not o.reduces), ZERO)
            exposure = (size if c.side == "buy" else -size) + ahead + qty
            cap = inst.notional_cap(lev)
            if exposure * fill_price > cap:
                raise _Reject(
                    f"position would reach {human(exposure * fill_price)} USDT, above the "
                    f"{human(cap)} USDT maximum at {lev}x for {c.symbol}: lower the leverage"
                )
            if self.challenge is not None and opening_qty(qty, c.side, size, ZERO):
                self._refuse(self.challenge.opening_refusal(c.ts, lev, exposure * fill_price))
        if not taker and force in ("IOC", "FOK"):
            self.used_ids.add(c.id)
            reason = "ioc_remainder" if force == "IOC" else "fok_unfilled"
            return [*out, ev.OrderCancelled(c.ts, c.id, reason)]
        note = None
        if taker and self.settings.fill_model != "touch":
            levels = () if m is None else (m.asks if c.side == "buy" else m.bids)
            if levels:
                walked = self._take_book(c, qty, fill_price, mark, levels, mode, lev, slot)
                return out + walked
            note = f"no {c.symbol} book yet: filled whole at the touch"
        if taker:
            refusal = self._fill_refusal(
                inst, c.side, qty, fill_price, "taker", mode, lev, fill_price, slot
            )
            if refusal is not None:
                raise _Reject(refusal)
        elif not c.reduce_only:
            refusal = resting_refusal(acct, c.symbol, c.side, qty, price, mode, lev, slot)
            if refusal is not None:
                raise _Reject(refusal)
        self.used_ids.add(c.id)
        if c.stop_loss is not None:
            self._hold_stop(c.id, c.stop_loss)
        if taker:
            filled = self._fill(c.ts, c.id, inst, c.side, qty, fill_price, "taker", mode, lev, slot)
            return out + (filled if note is None else _noted(filled, note))
        self._rest(c, qty, price, mode, lev, slot)
        return out

    def _rest(
        self,
        c: ev.PlaceOrder,
        qty: Decimal,
        price: Decimal,
        mode: ev.MarginMode,
        lev: int,
        slot: ev.PositionSlot,
    ) -> None:
        """Put (the rest of) a limit order on the book; under `queue` at the back of the queue
        at its price: behind the shown quantity there (0 if the book shows no level there)."""
        ahead = None
        if self._queue:
            m = self.markets.get(c.symbol)
            levels = () if m is None else (m.bids if c.side == "buy" else m.asks)
            ahead = shown_at(levels, price, buy=c.side == "buy") or ZERO
        self.acct.add_order(
            Order(
                c.id,
                c.symbol,
                c.side,
                qty,
                price,
                c.ts,
                mode,
                lev,
                c.reduce_only,
                tif.time_in_force(c) == "GTX",
                slot,
                c.good_till,
                ahead,
            )
        )
        if c.good_till is not None:
            self.expiries.add(c.good_till, c.id)

    def _take_book(
        self,
        c: ev.PlaceOrder,
        qty: Decimal,
        touch: Decimal,
        mark: Decimal | None,
        levels: tuple[ev.Level, ...],
        mode: ev.MarginMode,
        lev: int,
        slot: ev.PositionSlot,
    ) -> list[ev.Outcome]:
        """A taking order under `book`/`queue`: one fill per level of the latest book, never
        better than `touch`; a market order stops at the take bound around `mark` (given with
        exchange limits only) and fills what the shown depth lacks by the impact rule; the
        rest of a limit order rests (GTC/GTD) or is cancelled (IOC); a FOK the book cannot
        fill whole is cancelled whole (README "Fill models")."""
        inst = self.instruments[c.symbol]
        buy = c.side == "buy"
        market = c.order_type == "market"
        bound = None
        if market and mark is not None:
            b = inst.market_take_bound
            bound = mark * (1 + b) if buy else mark * (1 - b)
        walked = take(levels, qty, touch, bound if market else c.price, buy=buy)
        pieces = list(walked.pieces)
        remaining = walked.remaining
        note = None
        if market and remaining and walked.exhausted:
            beyond = impact_price(levels, remaining, inst.tick_size, buy=buy)
            beyond = self._worse(c.side, beyond, pieces[-1][0])
            if bound is None or (beyond <= bound if buy else beyond >= bound):
                note = (
                    f"{plain(remaining)} {inst.base} beyond the shown depth: filled at "
                    f"{plain(beyond)} (impact rule)"
                )
                pieces.append((beyond, remaining))
                remaining = ZERO
        if market and not pieces:
            self._refuse(
                tif.take_bound_refusal(
                    inst,
                    c.side,
                    max(levels[0][0], touch) if buy else min(levels[0][0], touch),
                    mark,
                )
            )
        if remaining and tif.time_in_force(c) == "FOK":
            self.used_ids.add(c.id)
            return [ev.OrderCancelled(c.ts, c.id, "fok_unfilled")]
        if pieces:
            worst = pieces[-1][0]
            refusal = self._fill_refusal(
                inst, c.side, qty - remaining, worst, "taker", mode, lev, worst, slot
            )
            if refusal is not None:
                raise _Reject(refusal)
        self.used_ids.add(c.id)
        if c.stop_loss is not None:
            self._hold_stop(c.id, c.stop_loss)
        out: list[ev.Outcome] = []
        last = -1
        done = notional = ZERO
        liquidated = False
        for n, (price, part) in enumerate(pieces):
            last = len(out)
            out += self._fill(c.ts, c.id, inst, c.side, part, price, "taker", mode, lev, slot)
            done += part
            notional += price * part
            if any(isinstance(o, ev.Liquidation) for o in out[last:]):
                liquidated = True
                remaining += sum((q for _, q in pieces[n + 1 :]), ZERO)
                break
        if last >= 0:
            fill = out[last]
            assert isinstance(fill, ev.Fill)
            out[last] = dataclasses.replace(fill, average_price=money(notional / done), note=note)
        if not remaining:
            return out
        if liquidated:
            reason = "position liquidated while filling: the rest is cancelled"
        elif market:
            reason = "market_take_bound"
        elif tif.time_in_force(c) == "IOC":
            reason = "ioc_remainder"
        else:
            assert c.price is not None
            refusal = None
            if not c.reduce_only:
                refusal = resting_refusal(
                    self.acct, c.symbol, c.side, remaining, c.price, mode, lev, slot
                )
            if refusal is None:
                self._rest(c, remaining, c.price, mode, lev, slot)
                return out
            reason = f"{refusal} (the unfilled rest)"
        return [*out, ev.OrderCancelled(c.ts, c.id, reason)]

    def _order_slot(self, c: ev.PlaceOrder) -> ev.PositionSlot:
        """Which position an order trades: one-way orders the symbol's one position; hedge
        orders must name their side, and take no reduce-only (the side already says it)."""
        if self.position_mode == "one_way":
            if c.position_side in (None, "both"):
                return "both"
            raise _Reject(
                f"position_side {c.position_side} needs hedge mode; this account is in one-way "
                "mode (switch with set_position_mode while nothing is open)"
            )
        if c.position_side is None or c.position_side == "both":
            raise _Reject(
                "hedge mode: say which position the order is for (position_side long or short)"
            )
        if c.reduce_only:
            raise _Reject(
                "reduce_only is not accepted in hedge mode: the side says it (a sell on the long "
                "side or a buy on the short side only closes)"
            )
        return c.position_side

    def _on_cancel(self, c: ev.CancelOrder) -> list[ev.Outcome]:
        def body() -> list[ev.Outcome]:
            order = self.acct.orders.get(c.id)
            waiting = self.algo.orders.get(c.id)
            if order is not None:
                self.acct.remove_order(order)
            elif waiting is not None:
                self.algo.remove(waiting)
            else:
                raise _Reject(f"no open order with id {c.id}")
            return [ev.OrderCancelled(c.ts, c.id, "cancelled by user")]

        return self._run("cancel", c.id, c.ts, body)

    def _target(self, symbol: str, requested: ev.PositionSlot | None, verb: str) -> Position | None:
        """The position a close or a margin change is for: the symbol's one position in
        one-way mode; in hedge mode the side asked for, or the only side open."""
        if self.position_mode == "one_way":
            if requested not in (None, "both"):
                raise _Reject(
                    f"position_side {requested} needs hedge mode; this account is in one-way mode"
                )
            return self.acct.positions.get(symbol)
        if requested == "both":
            raise _Reject("hedge mode: position_side is long or short")
        if requested is not None:
            return self.acct.position(symbol, requested)
        held = self.acct.symbol_positions(symbol)
        if len(held) > 1:
            raise _Reject(
                f"both a long and a short {symbol} position are open: say which to {verb} "
                "(position_side long or short)"
            )
        return held[0] if held else None

    def _on_close(self, c: ev.ClosePosition) -> list[ev.Outcome]:
        def body() -> list[ev.Outcome]:
            pos = self._target(c.symbol, c.position_side, "close")
            if pos is None:
                which = f"{c.position_side} " if c.position_side not in (None, "both") else ""
                raise _Reject(f"no open {which}{c.symbol} position to close")
            side: ev.Side = "sell" if pos.size > 0 else "buy"
            price = self._taker_price(c.symbol, side)
            if price is None:
                raise _Reject(f"no price for {c.symbol} yet: wait for market data")
            order_id = f"close-{c.symbol}-{c.ts}"
            n = 1
            while order_id in self.used_ids:
                n += 1
                order_id = f"close-{c.symbol}-{c.ts}-{n}"
            inst, qty, mode, lev = pos.instrument, pos.qty, pos.mode, pos.leverage
            slot = pos.slot
            if self.settings.fill_model != "touch":
                m = self.markets[c.symbol]
                levels = m.asks if side == "buy" else m.bids
                if levels:  # a close is a market order: it walks the book like one
                    order = ev.PlaceOrder(c.ts, order_id, c.symbol, side, qty, "market")
                    return self._take_book(order, qty, price, None, levels, mode, lev, slot)
            refusal = self._fill_refusal(inst, side, qty, price, "taker", mode, lev, price, slot)
            if refusal is not None:
                raise _Reject(refusal)
            self.used_ids.add(order_id)
            out = self._fill(c.ts, order_id, inst, side, qty, price, "taker", mode, lev, slot)
            if self.settings.fill_model == "touch":
                return out
            return _noted(out, f"no {c.symbol} book yet: filled whole at the touch")

        return self._run("close", None, c.ts, body)

    def _on_adjust_margin(self, c: ev.AdjustMargin) -> list[ev.Outcome]:
        def body() -> list[ev.Outcome]:
            pos = self._target(c.symbol, c.position_side, "adjust")
            if pos is None or pos.mode != "isolated":
                raise _Reject(
                    f"margin can only be adjusted on an open isolated position; {c.symbol} has "
                    + ("none" if pos is None else "a cross position")
                )
            amount = money(c.amount)
            if amount == 0:
                raise _Reject("amount rounds to zero at 8 decimals")
            if amount > 0:
                addable = self.max_addable_margin(c.symbol, pos.slot)
                if amount > addable:
                    raise _Reject(
                        f"can add at most {human(addable)} USDT to the {c.symbol} isolated "
                        f"margin (asked {human(amount)}): only the cross wallet, less what "
                        "isolated orders hold and cross maintenance margin, can move"
                    )
            else:
                removable = self.max_removable_margin(c.symbol, pos.slot)
                if -amount > removable:
                    raise _Reject(
                        f"can remove at most {human(removable)} USDT from the {c.symbol} "
                        f"isolated margin (asked {human(-amount)})"
                    )
            pos.margin += amount
            self.acct.cross_wallet -= amount
            return self._check_liquidations(c.ts)

        return self._run("adjust_margin", None, c.ts, body)

    def _on_set_leverage(self, c: ev.SetLeverage) -> list[ev.Outcome]:
        return self._run(
            "set_leverage", None, c.ts, lambda: self._set_leverage(c.symbol, c.leverage)
        )

    def _on_set_margin_mode(self, c: ev.SetMarginMode) -> list[ev.Outcome]:
        return self._run(
            "set_margin_mode", None, c.ts, lambda: self._set_margin_mode(c.symbol, c.margin_mode)
        )

    def _set_margin_mode(self, symbol: str, mode: ev.MarginMode) -> list[ev.Outcome]:
        self._instrument(symbol)
        current, lev = self.symbol_setting(symbol)
        if mode == current:
            return []
        if (
            self.acct.symbol_positions(symbol)
            or symbol in self.acct.orders_by_symbol
            or symbol in self.algo.by_symbol
        ):
            raise _Reject(
                f"cannot switch {symbol} to {mode} while it has an open position or orders: "
                "close them first"
            )
        self.symbol_settings[symbol] = (mode, lev)
        return []

    def _on_set_position_mode(self, c: ev.SetPositionMode) -> list[ev.Outcome]:
        def body() -> list[ev.Outcome]:
            if c.position_mode == self.position_mode:
                return []
            acct = self.acct
            # waiting conditional orders count too: one placed for a side would fire into a
            # mode that has no such side
            orders = len(acct.orders) + len(self.algo)
            if acct.positions or orders:
                held = []
                if acct.positions:
                    n = len(acct.positions)
                    held.append(f"{n} open position{'s' if n != 1 else ''}")
                if orders:
                    held.append(f"{orders} open order{'s' if orders != 1 else ''}")
                raise _Reject(
                    f"cannot switch to {c.position_mode.replace('_', '-')} mode with "
                    f"{' and '.join(held)}: close and cancel everything first"
                )
            self.position_mode = c.position_mode
            return []

        return self._run("set_position_mode", None, c.ts, body)

    def _worst_exposure(self, symbol: str) -> Decimal:
        """The larger side of what the symbol could hold: the position (at mark) plus the
        resting orders that would grow it (at their prices). Orders that would only close the
        position (take-profits, reduce-only) add nothing. In hedge mode each side is its own
        position, measured on its own."""
        if self.position_mode == "hedge":
            worst = ZERO
            for slot in HEDGE_SLOTS:
                hedged = self.acct.position(symbol, slot)
                side_total = hedged.qty * hedged.mark if hedged is not None else ZERO
                for order in self.acct.orders_by_symbol.get(symbol, ()):
                    if order.slot == slot and not order.reduces:
                        side_total += order.qty * order.price
                worst = max(worst, side_total)
            return worst
        pos = self.acct.positions.get(symbol)
        size = pos.size if pos else ZERO
        held = {"buy": ZERO, "sell": ZERO}
        if pos is not None:
            held["buy" if size > 0 else "sell"] = pos.qty * pos.mark
        ahead = {"buy": ZERO, "sell": ZERO}
        for order in self.acct.orders_by_symbol.get(symbol, ()):
            if order.reduce_only:
                continue
            opening = opening_qty(order.qty, order.side, size, ahead[order.side])
            ahead[order.side] += order.qty
            held[order.side] += opening * order.price
        return max(held.values())

    def _set_leverage(self, symbol: str, leverage: int) -> list[ev.Outcome]:
        inst = self._instrument(symbol)
        mode, current = self.symbol_setting(symbol)
        if leverage < 1 or leverage > inst.max_leverage:
            raise _Reject(f"leverage {leverage}x is outside 1x..{inst.max_leverage}x for {symbol}")
        if leverage == current:
            return []
        acct = self.acct
        held = acct.symbol_positions(symbol)
        if any(p.mode == "isolated" for p in held) and leverage < current:
            raise _Reject(
                f"cannot lower {symbol} leverage from {current}x to {leverage}x with an open "
                "isolated position (Binance -4161: leverage reduction is not supported in "
                "Isolated Margin Mode with open positions): close it first"
            )
        cap = inst.notional_cap(leverage)
        exposure = self._worst_exposure(symbol)
        if exposure > cap:
            raise _Reject(
                f"{symbol} position of {human(exposure)} USDT exceeds the {human(cap)} USDT "
                f"maximum at {leverage}x"
            )
        orders = acct.orders_by_symbol.get(symbol, ())
        old = [(o, o.leverage) for o in orders]
        self.symbol_settings[symbol] = (mode, leverage)
        for o in orders:
            o.leverage = leverage
        for pos in held:
            pos.leverage = leverage
        if acct.available_raw() < 0:
            needed = -acct.available_raw()
            self.symbol_settings[symbol] = (mode, current)
            for o, lev in old:
                o.leverage = lev
            for pos in held:
                pos.leverage = current
            raise _Reject(
                f"insufficient margin for {leverage}x on {symbol}: {human(needed)} USDT short"
            )
        return []

    def _on_snapshot(self, c: ev.Snapshot) -> list[ev.Outcome]:
        return [self.account(c.ts)]

    # --- preview for the order ticket -------------------------------------------------------

    def preview(self, c: ev.PlaceOrder) -> OrderPreview:
        """What the order ticket shows before submitting (see `core.preview`)."""
        return preview_order(self, c)

    # --- state -------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Everything needed to continue exactly from here, as JSON-ready data."""
        t = self.totals
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            "venue": self.instruments.venue,
            "settings": {
                "balance": str(self.settings.balance),
                "taker_fee": str(self.settings.taker_fee),
                "maker_fee": str(self.settings.maker_fee),
                **({"exchange_limits": True} if self.settings.exchange_limits else {}),
                **(
                    {"fill_model": self.settings.fill_model}
                    if self.settings.fill_model != "touch"
                    else {}
                ),
            },
            "last_ts": self.last_ts,
            "cross_wallet": str(self.acct.cross_wallet),
            "positions": [p.to_state() for p in self.acct.positions.values()],
            "orders": [o.to_state() for o in self.acct.orders.values()],
            **({"conditional_orders": [o.to_state() for o in self.algo]} if len(self.algo) else {}),
            **self._attached_state(),
            "markets": [m.to_state() for m in self.markets.values()],
            "symbol_settings": {s: [m, lev] for s, (m, lev) in self.symbol_settings.items()},
            "used_ids": sorted(self.used_ids),
            "totals": {
                "realized_pnl": str(t.realized_pnl),
                "fees": str(t.fees),
                "funding": str(t.funding),
                "liquidation_losses": str(t.liquidation_losses),
                "fills": t.fills,
                "liquidations": t.liquidations,
                "clearance_fees": str(t.clearance_fees),
                "insurance_covered": str(t.insurance_covered),
            },
        }
        # hedge-mode keys only when used: a one-way state is what it always was, and a state
        # written before hedge mode existed loads as one-way
        if self.settings.position_mode != "one_way":
            state["settings"]["position_mode"] = self.settings.position_mode
        if self.position_mode != "one_way":
            state["position_mode"] = self.position_mode
        if self.challenge is not None:  # challenge keys only when set, like hedge mode's
            state["settings"]["rules"] = rules_to_state(self.settings)
            state["challenge"] = self.challenge.to_state()
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any], instruments: InstrumentBook | None = None) -> Engine:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported engine state version {state.get('version')!r}")
        s = state["settings"]
        settings = ev.SessionSettings(
            dec(s["balance"]),
            dec(s["taker_fee"]),
            dec(s["maker_fee"]),
            _position_mode(s.get("position_mode", "one_way")),
            bool(s.get("exchange_limits", False)),
        )
        settings = rules_from_state(settings, s.get("rules", {}))
        model = s.get("fill_model", "touch")  # states written before fill models: touch
        if model not in ev.FILL_MODELS:
            raise ValueError(f"unknown fill model {model!r} in engine state")
        settings = dataclasses.replace(settings, fill_model=model)
        engine = cls(instruments or bundled(state.get("venue", "binance")), settings)
        engine._restore(state)
        if engine.challenge is not None and "challenge" in state:
            engine.challenge = Challenge.from_state(settings, state["challenge"])
        return engine

    def _restore(self, state: dict[str, Any]) -> None:
        self.markets = {m["symbol"]: MarketState.from_state(m) for m in state["markets"]}
        acct = Account(dec(state["cross_wallet"]), self.markets)
        for p in state["positions"]:
            inst = self.instruments[p["symbol"]]
            pos = Position(
                inst,
                dec(p["size"]),
                dec(p["entry"]),
                p["mode"],
                int(p["leverage"]),
                dec(p["margin"]),
                _slot(p.get("slot", "both")),
            )
            acct.add_position(pos)
            self._remark_quiet(pos, dec(p["mark"]))
        for o in state["orders"]:
            acct.add_order(
                Order(
                    o["id"],
                    o["symbol"],
                    o["side"],
                    dec(o["qty"]),
                    dec(o["price"]),
                    int(o["ts"]),
                    o["mode"],
                    int(o["leverage"]),
                    bool(o["reduce_only"]),
                    bool(o["post_only"]),
                    _slot(o.get("slot", "both")),
                    None if o.get("good_till") is None else int(o["good_till"]),
                    None if o.get("queue_ahead") is None else dec(o["queue_ahead"]),
                )
            )
        self.algo = ConditionalBook()
        for o in state.get("conditional_orders", ()):
            self.algo.add(ConditionalOrder.from_state(o))
        self.attached_stops = {k: dec(v) for k, v in state.get("attached_stops", {}).items()}
        self.expiries = tif.Expiries()
        for order in [*acct.orders.values(), *self.algo]:
            good_till = order.good_till if isinstance(order, Order) else order.command.good_till
            if good_till is not None:
                self.expiries.add(good_till, order.id)
        self._bind_hot()
        acct.recompute_cross_totals()
        self.acct = acct
        self.symbol_settings = {s: (v[0], int(v[1])) for s, v in state["symbol_settings"].items()}
        self.used_ids = set(state["used_ids"])
        t = state["totals"]
        self.totals = Totals(
            dec(t["realized_pnl"]),
            dec(t["fees"]),
            dec(t["funding"]),
            dec(t["liquidation_losses"]),
            int(t["fills"]),
            int(t["liquidations"]),
            # states saved before clearance fees existed read as 0
            dec(t.get("clearance_fees", "0")),
            dec(t.get("insurance_covered", "0")),
        )
        self.last_ts = int(state["last_ts"])
        self.position_mode = _position_mode(state.get("position_mode", "one_way"))

    @staticmethod
    def _remark_quiet(pos: Position, price: Decimal) -> None:
        pos.mark = price
        pos.upnl = unrealized_pnl(pos.size, pos.entry, price)
        pos.mm = maintenance_margin(pos.instrument, pos.qty * price)


def _noted(out: list[ev.Outcome], note: str) -> list[ev.Outcome]:
    """`out` (a `_fill`'s outcomes, its fill first) with the fill carrying `note`."""
    fill = out[0]
    assert isinstance(fill, ev.Fill)
    return [dataclasses.replace(fill, note=note), *out[1:]]


def _position_mode(value: object) -> ev.PositionMode:
    if value == "one_way" or value == "hedge":
        return value
    raise ValueError(f"unknown position mode {value!r} in engine state")


def _slot(value: object) -> ev.PositionSlot:
    if value == "both" or value == "long" or value == "short":
        return value
    raise ValueError(f"unknown position side {value!r} in engine state")
