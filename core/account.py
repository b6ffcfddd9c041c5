"""Balances of one paper account, derived from its positions and orders.

Stored: the cross wallet, each isolated position's margin, and the running cross totals
(Σ uPnL, Σ MM) that make the per-tick liquidation test O(1). Everything else — wallet
balance, margin balance, available balance, held margin — is computed on demand so it can
never disagree with the positions it comes from.

Invariant: wallet balance = cross wallet + Σ isolated margins.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from papertrade.core.events import MarginMode, PositionSlot
from papertrade.core.margin import initial_margin, liquidatable, margin_ratio, max_addable_margin
from papertrade.core.market import MarketState
from papertrade.core.numbers import ZERO
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
        "cross_mm",
        "cross_upnl",
        "cross_wallet",
        "markets",
        "orders",
        "orders_by_symbol",
        "positions",
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
        if pos.mode == "cross":
            self.cross_upnl -= pos.upnl
            self.cross_mm -= pos.mm
        del self.positions[pos.key]

    def recompute_cross_totals(self) -> None:
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
        return (
            self.cross_wallet + self.cross_upnl - self.cross_initial_margin() - self.held_margin()
        )

    def available_after_closing(self, pos: Position, credit: Decimal) -> Decimal:
        """Available for order (may be < 0) once `pos` is closed whole and `credit` (its
        realized PnL and freed isolated margin) has reached the cross wallet: the balance the
        opening part of a flipping order is costed against."""
        avail = self.cross_wallet + credit + self.cross_upnl - self.cross_initial_margin()
        if pos.mode == "cross":
            avail += initial_margin(pos.qty * pos.mark, pos.leverage) - pos.upnl
        return avail - self.held_margin(flat=pos.symbol)

    def available_balance(self) -> Decimal:
        return max(ZERO, self.available_raw())

    def cross_margin_balance(self) -> Decimal:
        return self.cross_wallet + self.cross_upnl

    def max_addable_margin(self) -> Decimal:
        """What may move from the cross wallet into isolated margin (Binance's max addable):
        backed by the cross wallet itself, never by unrealized profit."""
        return max_addable_margin(
            self.cross_wallet,
            self.held_margin(mode="isolated"),
            self.cross_mm,
            self.available_balance(),
        )

    def cross_liquidatable(self) -> bool:
        return liquidatable(self.cross_wallet + self.cross_upnl, self.cross_mm)

    def cross_margin_ratio(self) -> Decimal | None:
        """Σ cross MM / cross margin balance; None without cross positions; ≥ 1 means
        liquidation (an exhausted balance reports 1)."""
        return margin_ratio(self.cross_mm, self.cross_wallet + self.cross_upnl)
