"""Balances of one paper account, derived from its positions and orders.

Stored: the cross wallet, each isolated position's margin, and the running cross totals
(Σ uPnL, Σ MM) that make the per-tick liquidation test O(1). Everything else — wallet
balance, margin balance, available balance, held margin — is computed on demand so it can
never disagree with the positions it comes from.

Invariant: wallet balance = cross wallet + Σ isolated margins.

Safe bands (`band`): after a full re-mark that liquidated nothing, each cross position gets a
band of marks in which, whatever the others do inside theirs, the cross margin balance stays
above the maintenance margin. A quote inside its position's band moves the mark alone (no
figures, no totals, no test); the first quote outside any band settles every position and
runs the full test. Anything else that changes the account first calls `unband`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from papertrade.core.events import MarginMode, PositionSlot
from papertrade.core.margin import (
    INFINITY,
    band_above,
    band_line,
    initial_margin,
    liquidatable,
    margin_ratio,
    max_addable_margin,
    safe_share,
)
from papertrade.core.market import MarketState
from papertrade.core.numbers import CONTEXT, ZERO
from papertrade.core.orders import Order, held_margin
from papertrade.core.positions import HEDGE_SLOTS, SLOTS, Position, position_key


@dataclass(slots=True)
class Totals:
    """Running sums of what moved the wallet (for the account panel and stats)."""

    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    liquidation_losses: Decimal = ZERO
    fills: int = 0
    liquidations: int = 0
    clearance_fees: Decimal = ZERO
    """Part of `liquidation_losses`: clearance fees charged on liquidated parts."""
    insurance_covered: Decimal = ZERO
    """What the insurance fund paid so the wallet did not go below 0 (offsets the above)."""


class Account:
    __slots__ = (
        "backoff",
        "banded",
        "cross_mm",
        "cross_upnl",
        "cross_wallet",
        "hits",
        "markets",
        "orders",
        "orders_by_symbol",
        "positions",
        "wait",
    )

    def __init__(
        self, cross_wallet: Decimal, markets: Mapping[str, MarketState] | None = None
    ) -> None:
        self.cross_wallet = cross_wallet
        self.markets: Mapping[str, MarketState] = markets if markets is not None else {}
        self.positions: dict[str, Position] = {}
        self.orders: dict[str, Order] = {}
        self.orders_by_symbol: dict[str, list[Order]] = {}
        self.cross_upnl = ZERO
        self.cross_mm = ZERO
        self.banded = False
        """Whether cross positions hold safe bands (so marks may have moved alone)."""
        self.hits = 0
        """Marks moved alone since the last `band` (counted by the engine)."""
        self.wait = 0
        self.backoff = 0
        """Bands that paid for less than themselves (fewer marks moved alone than there are
        positions: events other than quotes come that often) are not set again for the next
        `wait` chances, a number that doubles while that goes on: the time only, never a
        decision, depends on it."""

    # --- safe bands --------------------------------------------------------------------------

    def settle(self) -> None:
        """Bring the figures of every position a quote moved alone, and the cross totals, to
        the current marks. The totals then have the value a re-mark at every quote would have
        given them: each is the same exact sum of the same figures."""
        if not self.banded:
            return
        for p in self.positions.values():
            mark = p.mark
            if p._at is not mark:
                upnl, mm = p.figures_at(mark)
                if p.mode == "cross":
                    self.cross_upnl += upnl - p._upnl
                    self.cross_mm += mm - p._mm
                p._upnl, p._mm, p._at = upnl, mm, mark

    def unband(self) -> None:
        """Settle, then drop every band: what comes next may change what they rest on."""
        if not self.banded:
            return
        self.settle()
        for p in self.positions.values():
            p.safe_lo = p.safe_hi = INFINITY
            p.floor = None
        self.banded = False
        if self.hits < len(self.positions):
            self.backoff = self.wait = min(2 * self.backoff or 1, 1024)
        else:
            self.backoff = 0

    def band(self) -> None:
        """Share the cross headroom out as floors (the account settled, not liquidatable).

        The headroom H = cross wallet + Σ uPnL − Σ MM is shared out, rounded down, one share
        s per cross position: each position's uPnL − MM is to stay above its value now minus
        s (its `floor`). While every cross position stays above its floor, H stays above
        H − Σ s ≥ 0, so the account cannot be liquidated. A position's band, the marks that
        keep it above its floor, is worked out when a quote first needs it (`band_of`).
        The floors rest on the wallet, every cross position's size, entry and mark and the
        instruments' brackets: `unband` before any of them changes.
        """
        self.unband()
        cross = [p for p in self.positions.values() if p.mode == "cross"]
        if not cross:
            return
        exact = CONTEXT
        headroom = exact.subtract(exact.add(self.cross_wallet, self.cross_upnl), self.cross_mm)
        if headroom <= ZERO:
            return
        share = safe_share(headroom, len(cross))
        if share <= ZERO:
            return
        for p in cross:
            p.floor = exact.subtract(exact.subtract(p._upnl, p._mm), share)
        self.banded = True
        self.hits = 0

    @staticmethod
    def band_of(pos: Position, mark: Decimal) -> bool:
        """Work out `pos`'s band from its floor (once per `band`) and say whether `mark` is
        inside it; False when it has no floor (not banded, or its band already worked out).
        The bracket's line is kept on the position for the next `band` (an event between two
        runs of quotes, a funding payment, needs only the floor cut anew) while its size and
        entry are the same objects and the mark stays in that bracket."""
        floor = pos.floor
        if floor is None:
            return False
        pos.floor = None
        kept = pos.line
        if kept is not None and kept[0] is pos.size and kept[1] is pos.entry:
            line = kept[2]
            if not line.lo < mark < line.hi:
                line = band_line(pos.instrument, pos.size, pos.entry, mark)
        else:
            line = band_line(pos.instrument, pos.size, pos.entry, mark)
        pos.line = (pos.size, pos.entry, line)
        lo, hi = band_above(line, pos.size, floor)
        pos.safe_lo, pos.safe_hi = lo, hi
        return lo < mark < hi

    # --- positions ---------------------------------------------------------------------------

    def cross_positions(self) -> Iterator[Position]:
        return (p for p in self.positions.values() if p.mode == "cross")

    def position(self, symbol: str, slot: PositionSlot) -> Position | None:
        return self.positions.get(position_key(symbol, slot))

    def symbol_positions(self, symbol: str) -> list[Position]:
        """The symbol's open positions: its one-way position, or its hedge long then short."""
        found = (self.positions.get(position_key(symbol, s)) for s in SLOTS)
        return [p for p in found if p is not None]

    def add_position(self, pos: Position) -> None:
        self.positions[pos.key] = pos

    def remove_position(self, pos: Position) -> None:
        self.settle()
        if pos.mode == "cross":
            self.cross_upnl -= pos.upnl
            self.cross_mm -= pos.mm
        del self.positions[pos.key]

    def recompute_cross_totals(self) -> None:
        self.settle()
        self.cross_upnl = sum((p.upnl for p in self.cross_positions()), ZERO)
        self.cross_mm = sum((p.mm for p in self.cross_positions()), ZERO)

    # --- orders ------------------------------------------------------------------------------

    def add_order(self, order: Order) -> None:
        self.orders[order.id] = order
        self.orders_by_symbol.setdefault(order.symbol, []).append(order)

    def remove_order(self, order: Order) -> None:
        del self.orders[order.id]
        book = self.orders_by_symbol[order.symbol]
        book.remove(order)
        if not book:
            del self.orders_by_symbol[order.symbol]

    def held_margin(
        self, symbol: str | None = None, mode: MarginMode | None = None, flat: str | None = None
    ) -> Decimal:
        """Cost held by resting orders (one symbol, or all; one margin mode, or both), at the
        symbols' current mark and last price. `flat` names a symbol whose position is taken
        as already closed (what its orders would hold once a flipping fill closed it).
        Hedge orders are held per side, against that side's position: no netting."""
        symbols = [symbol] if symbol is not None else list(self.orders_by_symbol)
        total = ZERO
        for sym in symbols:
            book = self.orders_by_symbol.get(sym)
            if book:
                m = self.markets.get(sym)
                mark, last = (m.mark, m.last) if m is not None else (None, None)
                if book[0].slot == "both":  # an account's orders all share its position mode
                    pos = self.positions.get(sym)
                    size = pos.size if pos is not None and sym != flat else ZERO
                    total += held_margin(book, size, mark, last, mode)
                    continue
                for slot in HEDGE_SLOTS:
                    side_book = [o for o in book if o.slot == slot]
                    if side_book:
                        pos = self.positions.get(position_key(sym, slot))
                        size = pos.size if pos is not None else ZERO
                        total += held_margin(side_book, size, mark, last, mode)
        return total

    # --- balances ----------------------------------------------------------------------------

    def isolated_margin(self) -> Decimal:
        return sum((p.margin for p in self.positions.values() if p.mode == "isolated"), ZERO)

    def wallet_balance(self) -> Decimal:
        return self.cross_wallet + self.isolated_margin()

    def unrealized_pnl(self) -> Decimal:
        return sum((p.upnl for p in self.positions.values()), ZERO)

    def margin_balance(self) -> Decimal:
        return self.wallet_balance() + self.unrealized_pnl()

    def cross_initial_margin(self) -> Decimal:
        cross = self.cross_positions()
        return sum((initial_margin(p.qty * p.mark, p.leverage) for p in cross), ZERO)

    def available_raw(self) -> Decimal:
        """Cross wallet + cross uPnL − cross IM (at mark) − margin held by orders; may be < 0."""
        self.settle()
        return (
            self.cross_wallet + self.cross_upnl - self.cross_initial_margin() - self.held_margin()
        )

    def available_after_closing(self, pos: Position, credit: Decimal) -> Decimal:
        """Available for order (may be < 0) once `pos` is closed whole and `credit` (its
        realized PnL and freed isolated margin) has reached the cross wallet: the balance the
        opening part of a flipping order is costed against."""
        self.settle()
        avail = self.cross_wallet + credit + self.cross_upnl - self.cross_initial_margin()
        if pos.mode == "cross":
            avail += initial_margin(pos.qty * pos.mark, pos.leverage) - pos.upnl
        return avail - self.held_margin(flat=pos.symbol)

    def available_balance(self) -> Decimal:
        return max(ZERO, self.available_raw())

    def cross_margin_balance(self) -> Decimal:
        self.settle()
        return self.cross_wallet + self.cross_upnl

    def max_addable_margin(self) -> Decimal:
        """What may move from the cross wallet into isolated margin (Binance's max addable):
        backed by the cross wallet itself, never by unrealized profit."""
        self.settle()
        return max_addable_margin(
            self.cross_wallet,
            self.held_margin(mode="isolated"),
            self.cross_mm,
            self.available_balance(),
        )

    def cross_liquidatable(self) -> bool:
        self.settle()
        return liquidatable(self.cross_wallet + self.cross_upnl, self.cross_mm)

    def cross_margin_ratio(self) -> Decimal | None:
        """Σ cross MM / cross margin balance; None without cross positions; ≥ 1 means
        liquidation (an exhausted balance reports 1)."""
        self.settle()
        return margin_ratio(self.cross_mm, self.cross_wallet + self.cross_upnl)
