"""`Ledger`: this run's order history, trade history and the fees paid on each open position.

Why here and not in the engine: these are read models for the trader (Binance's "Order
History", "Trade History" and break-even price), derived from the commands the session sends
and the outcomes the engine returns. The engine stays the one source of truth; the ledger
only remembers what it was told, bounded, and says "unknown" rather than guess.

The fees on open positions (`OpenFees`) come from fills, wherever the fills are: this run's
outcomes, a replay's, or a journal's stored outcomes (`carry_journal`) — so a resumed session,
a take-over and a replay know the break-even of a position opened before they started. Each
is kept with the size it belongs to: if the position's size differs (outcomes skipped by a
seek), the fees are unknown and the break-even reads "--".

Two small pure formulas live here too, so the widgets and the tests share one definition:

- break-even price (fees paid on the open position spread over its size):
  long  `BE = entry + fees_paid / size`, short `BE = entry - fees_paid / size`;
- estimated next funding payment, the engine's own settlement rule `-size * mark * rate`
  (a positive rate: longs pay, shorts receive), at the current mark and the announced rate.
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict, deque
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from papertrade.core import events as ev
from papertrade.core.numbers import ZERO
from papertrade.core.positions import position_key

MAX_ROWS = 500
"""Rows each history keeps: a long session never grows memory or the tables without bound."""


@dataclasses.dataclass(slots=True)
class OrderRecord:
    """One order as the trader placed it and what became of it."""

    id: str
    symbol: str
    side: ev.Side
    order_type: str
    qty: Decimal
    price: Decimal | None
    ts: int
    status: str = "open"
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    reason: str = ""

    @property
    def avg_price(self) -> Decimal | None:
        return self.notional / self.filled if self.filled else None


def break_even(entry: Decimal, size: Decimal, fees_paid: Decimal) -> Decimal:
    """The price at which closing gives back exactly the fees paid to open `size` (signed).

    Long: `entry + fees_paid / size`; short: `entry - fees_paid / |size|`.
    """
    if size == 0:
        return entry
    return entry + fees_paid / size


def funding_estimate(size: Decimal, mark: Decimal, rate: Decimal) -> Decimal:
    """Next funding payment at today's mark and rate, signed for the wallet: `-size*mark*rate`
    (negative = paid). Same rule as the engine's settlement, before its wallet cap."""
    return -size * mark * rate


_CARRIED = ('{"type":"fill"', '{"type":"liquidation"')


def _fill_key(symbol: str, position_side: ev.PositionSlot | None) -> str:
    """The position a fill traded (`core.positions.position_key`): hedge fills name their
    side, one-way fills none."""
    return position_key(symbol, position_side or "both")


class OpenFees:
    """Fees paid on each open position, carried fill by fill: the break-even's input. Keyed
    by the account's position key (`core.positions.position_key`): the symbol, or a hedge
    side `SYMBOL:long`/`SYMBOL:short` (hedge fills name their side)."""

    def __init__(self) -> None:
        self._size: dict[str, Decimal] = {}
        self._fees: dict[str, Decimal] = {}

    def open_fees(self, symbol: str, size: Decimal) -> Decimal | None:
        """Fees paid on the open position `symbol` (its position key) of signed `size`; None
        when the fills seen do not add up to that position (opened before what was seen, or
        outcomes skipped)."""
        if size == 0 or self._size.get(symbol) != size:
            return None
        return self._fees.get(symbol, ZERO)

    def on_outcomes(self, outcomes: Iterable[ev.Outcome]) -> None:
        for outcome in outcomes:
            if isinstance(outcome, ev.Fill):
                key = _fill_key(outcome.symbol, outcome.position_side)
                self.carry(key, outcome.side, outcome.qty, outcome.fee)
            elif isinstance(outcome, ev.Liquidation):
                self.liquidated(outcome.symbol, outcome.side, outcome.qty, outcome.remaining_qty)

    def carry_journal(self, stored: Iterable[tuple[int, str]], upto: int | None = None) -> None:
        """Carry the fills of a journal's stored outcomes `(seq, JSON line)` up to event
        `upto` (`Store.stored_outcomes`). A line that does not read as a fill is skipped as a
        fill; then the sizes no longer match and the break-even stays unknown."""
        for seq, text in stored:
            if upto is not None and seq > upto:
                break
            if not text.startswith(_CARRIED):
                continue  # account snapshots, funding, orders: no fees on a position
            try:
                row = json.loads(text)
                kind = row["type"]
                if kind == "fill":
                    side = row["side"]
                    if side not in ("buy", "sell"):
                        raise ValueError(side)
                    slot = row.get("position_side")
                    if slot not in (None, "long", "short"):
                        raise ValueError(slot)
                    key = _fill_key(str(row["symbol"]), slot)
                    self.carry(key, side, Decimal(row["qty"]), Decimal(row["fee"]))
                elif kind == "liquidation":
                    remaining = Decimal(row.get("remaining_qty") or "0")
                    symbol, qty = str(row["symbol"]), Decimal(row["qty"])
                    self.liquidated(symbol, str(row.get("side")), qty, remaining)
            except (ValueError, KeyError, TypeError, InvalidOperation):
                continue

    def drop(self, symbol: str) -> None:
        self._size.pop(symbol, None)
        self._fees.pop(symbol, None)

    def liquidated(
        self, symbol: str, side: str, qty: Decimal, remaining_qty: Decimal | None
    ) -> None:
        """A partial liquidation keeps the share of the fees that belongs to what is left,
        like any reduction; a whole one ends the position. A liquidation names its side
        (long/short), not its slot: a hedge side is the one carried under `SYMBOL:side`."""
        hedged = f"{symbol}:{side}"
        if hedged in self._size:
            symbol = hedged
        before = self._size.get(symbol, ZERO)
        if remaining_qty and abs(before) == qty + remaining_qty:
            self._fees[symbol] = self._fees.get(symbol, ZERO) * remaining_qty / abs(before)
            self._size[symbol] = remaining_qty if before > 0 else -remaining_qty
        else:
            self.drop(symbol)

    def carry(self, symbol: str, side: ev.Side, qty: Decimal, fee: Decimal) -> None:
        """Opening or adding pays into the position's fees; reducing keeps the share of the
        fees that belongs to what is left; a flip starts over with the opening part's share."""
        before = self._size.get(symbol, ZERO)
        delta = qty if side == "buy" else -qty
        after = before + delta
        fees = self._fees.get(symbol, ZERO)
        if before == 0 or (before > 0) == (delta > 0):
            fees += fee
        elif abs(delta) <= abs(before):
            fees = fees * abs(after) / abs(before)
        else:
            fees = fee * abs(after) / abs(delta)
        if after == 0:
            self.drop(symbol)
        else:
            self._size[symbol], self._fees[symbol] = after, fees


class Ledger:
    """Fed every command with its outcomes (`on_command`) and every market outcome
    (`on_outcomes`); read by the history panels and the positions table."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self.orders: OrderedDict[str, OrderRecord] = OrderedDict()
        self.trades: deque[tuple[int, ev.Fill]] = deque(maxlen=max_rows)
        """(number of the fill in this run, fill): the number keys the row of a table."""
        self._fills = 0
        self._max_rows = max_rows
        self.fees = OpenFees()
        """Fees paid on each open position (seed it with `fees.carry_journal` on a resume)."""
        self.version = 0
        """Bumped on every change: a panel redraws only when it moved."""

    def on_command(self, command: ev.Command, outcomes: Iterable[ev.Outcome]) -> None:
        if isinstance(command, ev.PlaceOrder):
            self._remember(
                OrderRecord(
                    command.id,
                    command.symbol,
                    command.side,
                    command.order_type,
                    command.qty,
                    command.price,
                    command.ts,
                )
            )
        self.on_outcomes(outcomes)

    def on_outcomes(self, outcomes: Iterable[ev.Outcome]) -> None:
        for outcome in outcomes:
            if isinstance(outcome, ev.Fill):
                self._fill(outcome)
            elif isinstance(outcome, ev.OrderCancelled):
                self._end(outcome.order_id, "cancelled", outcome.reason)
            elif isinstance(outcome, ev.Rejected) and outcome.order_id:
                self._end(outcome.order_id, "rejected", outcome.reason)
            elif isinstance(outcome, ev.Liquidation):
                self.fees.liquidated(
                    outcome.symbol, outcome.side, outcome.qty, outcome.remaining_qty
                )
            else:
                continue
            self.version += 1

    def open_fees(self, symbol: str, size: Decimal) -> Decimal | None:
        return self.fees.open_fees(symbol, size)

    # --- internals -------------------------------------------------------------------------

    def _remember(self, record: OrderRecord) -> None:
        self.orders[record.id] = record
        while len(self.orders) > self._max_rows:
            self.orders.popitem(last=False)

    def _end(self, order_id: str, status: str, reason: str) -> None:
        record = self.orders.get(order_id)
        if record is not None:
            record.status, record.reason = status, reason

    def _fill(self, fill: ev.Fill) -> None:
        self._fills += 1
        self.trades.append((self._fills, fill))
        record = self.orders.get(fill.order_id)
        if record is None:  # a close (`c`): the engine placed the market order
            kind = "close" if fill.order_id.startswith("close-") else "market"
            record = OrderRecord(
                fill.order_id, fill.symbol, fill.side, kind, fill.qty, None, fill.ts
            )
            self._remember(record)
        record.filled += fill.qty
        record.notional += fill.qty * fill.price
        record.status = "filled" if record.filled >= record.qty else "partly filled"
        self.fees.carry(_fill_key(fill.symbol, fill.position_side), fill.side, fill.qty, fill.fee)
