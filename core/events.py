"""The engine's vocabulary: what goes in (market events and user commands) and what comes out.

Inputs carry their own timestamp (`ts`, integer milliseconds UTC); the engine never reads a
clock. These are light slotted dataclasses because millions of them cross the hot path; the
validating edge (pydantic, in `core.codec` and the feed adapters) builds them from untrusted
text, inside the bounds of `core.numbers` (prices and quantities ≤ 1e12 with ≤ 18 digits,
`ts` within 0 … year 9999): the engine trusts that and never re-checks on the hot path.
Treat them as immutable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Literal

from papertrade.core.records import Record, Value

Side = Literal["buy", "sell"]
PositionSide = Literal["long", "short"]
PositionSlot = Literal["both", "long", "short"]
"""Which position of a symbol: `both` is the one-way position, `long`/`short` the hedge ones."""
PositionMode = Literal["one_way", "hedge"]
MarginMode = Literal["isolated", "cross"]
OrderType = Literal[
    "market",
    "limit",
    "stop_market",
    "stop_limit",
    "take_profit_market",
    "take_profit_limit",
    "trailing_stop_market",
]
WorkingType = Literal["contract", "mark"]
TimeInForce = Literal["GTC", "IOC", "FOK", "GTX", "GTD"]
Liquidity = Literal["maker", "taker"]
FillModel = Literal["touch", "book", "queue"]
"""How orders fill (README "Fill models"): `touch` fills whole at the best price; `book` walks
the latest order book level by level; `queue` is `book` plus a resting limit order's place in
the queue at its price."""

SIDES: tuple[Side, ...] = ("buy", "sell")
MARGIN_MODES: tuple[MarginMode, ...] = ("isolated", "cross")
ORDER_TYPES: tuple[OrderType, ...] = ("market", "limit")
"""The order types that go on the book (or fill) at once."""
CONDITIONAL_TYPES: tuple[OrderType, ...] = (
    "stop_market",
    "stop_limit",
    "take_profit_market",
    "take_profit_limit",
    "trailing_stop_market",
)
"""The order types that wait for a trigger (Binance's algo orders): they hold no margin."""
WORKING_TYPES: tuple[WorkingType, ...] = ("contract", "mark")
TIMES_IN_FORCE: tuple[TimeInForce, ...] = ("GTC", "IOC", "FOK", "GTX", "GTD")
POSITION_MODES: tuple[PositionMode, ...] = ("one_way", "hedge")
FILL_MODELS: tuple[FillModel, ...] = ("touch", "book", "queue")


# --- market events -------------------------------------------------------------------------


@dataclass(slots=True, eq=False, repr=False)
class MarkPrice(Record):
    """Mark price (drives uPnL, margin ratio and liquidation), with the venue's funding info."""

    ts: int
    symbol: str
    price: Decimal
    index: Decimal | None = None
    funding_rate: Decimal | None = None
    next_funding_ts: int | None = None
    type: ClassVar[str] = "mark"


@dataclass(slots=True, eq=False, repr=False)
class Quote(Record):
    """Best bid and ask: market orders take them, resting limit orders fill against them."""

    ts: int
    symbol: str
    bid: Decimal
    ask: Decimal
    bid_qty: Decimal | None = None
    ask_qty: Decimal | None = None
    type: ClassVar[str] = "quote"


@dataclass(slots=True, eq=False, repr=False)
class Trade(Record):
    """A public trade: sets the last price; resting limit orders fill when it reaches them."""

    ts: int
    symbol: str
    price: Decimal
    qty: Decimal
    type: ClassVar[str] = "trade"


Level = tuple[Decimal, Decimal]
"""One price level of a book: `(price, qty)`."""


@dataclass(slots=True, eq=False, repr=False)
class Book(Record):
    """The top of a symbol's order book, replacing whatever book the symbol had: `bids` best
    (highest) first, `asks` best (lowest) first, each level `(price, qty)`. The validating edge
    guarantees the order, positive quantities and a book that is not crossed."""

    ts: int
    symbol: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    type: ClassVar[str] = "book"


@dataclass(slots=True, eq=False, repr=False)
class Funding(Record):
    """A funding settlement: every open position of the symbol pays or receives now."""

    ts: int
    symbol: str
    rate: Decimal
    type: ClassVar[str] = "funding"


# --- user commands ---------------------------------------------------------------------------


@dataclass(slots=True, eq=False, repr=False)
class PlaceOrder(Record):
    """A new order: market, limit or conditional (the fields below the first six are
    optional, each None or false when unused)."""

    ts: int
    id: str
    symbol: str
    side: Side
    qty: Decimal
    order_type: OrderType
    price: Decimal | None = None
    margin_mode: MarginMode | None = None
    leverage: int | None = None
    reduce_only: bool = False
    post_only: bool = False
    position_side: PositionSlot | None = None
    trigger_price: Decimal | None = None
    working_type: WorkingType | None = None
    activation_price: Decimal | None = None
    callback_rate: Decimal | None = None
    time_in_force: TimeInForce | None = None
    good_till: int | None = None
    close_position: bool | None = None
    price_protect: bool | None = None
    stop_loss: Decimal | None = None
    type: ClassVar[str] = "order"
    """`working_type` None is `contract`, `time_in_force` None is `GTC` (`GTX` when
    `post_only`), the two flags None are false: an order that uses none of the fields added
    for conditional orders is journaled exactly as before they existed (older versions read
    it). A `close_position` order carries qty 0 (it closes what exists at trigger).
    `stop_loss` (last, so rows journaled before it decode unchanged) attaches a
    close-position `stop_market` with id `<id>:sl` to a market or limit entry, placed by the
    engine when the entry fills (README "Stop loss with the entry")."""


@dataclass(slots=True, eq=False, repr=False)
class CancelOrder(Record):
    """Cancel an open or waiting order by its id."""

    ts: int
    id: str
    type: ClassVar[str] = "cancel"


@dataclass(slots=True, eq=False, repr=False)
class AmendOrder(Record):
    """Change an open order's quantity, limit price or trigger price, keeping its id (a trader
    moving a stop); the fields left None stay as they are."""

    ts: int
    id: str
    qty: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    type: ClassVar[str] = "amend"


@dataclass(slots=True, eq=False, repr=False)
class ClosePosition(Record):
    """Close a position at the market; in hedge mode `position_side` says which one (it may
    be left out while only one side of the symbol is open)."""

    ts: int
    symbol: str
    position_side: PositionSlot | None = None
    type: ClassVar[str] = "close"


@dataclass(slots=True, eq=False, repr=False)
class AdjustMargin(Record):
    """Move margin into (+) or out of (−) an isolated position."""

    ts: int
    symbol: str
    amount: Decimal
    position_side: PositionSlot | None = None
    type: ClassVar[str] = "adjust_margin"


@dataclass(slots=True, eq=False, repr=False)
class SetLeverage(Record):
    """Change a symbol's leverage (refused outside the instrument's brackets, and a cut
    under an open isolated position)."""

    ts: int
    symbol: str
    leverage: int
    type: ClassVar[str] = "set_leverage"


@dataclass(slots=True, eq=False, repr=False)
class SetMarginMode(Record):
    """Switch a symbol between isolated and cross margin (refused while it has a
    position or orders)."""

    ts: int
    symbol: str
    margin_mode: MarginMode
    type: ClassVar[str] = "set_margin_mode"


@dataclass(slots=True, eq=False, repr=False)
class SetPositionMode(Record):
    """One-way or hedge (Binance `dualSidePosition`): account-wide, refused while any
    position or open order exists."""

    ts: int
    position_mode: PositionMode
    type: ClassVar[str] = "set_position_mode"


@dataclass(slots=True, eq=False, repr=False)
class Snapshot(Record):
    """Ask for an `AccountState` outcome at this point of the stream."""

    ts: int
    type: ClassVar[str] = "snapshot"


MarketEvent = MarkPrice | Quote | Trade | Funding | Book
Command = (
    PlaceOrder
    | CancelOrder
    | AmendOrder
    | ClosePosition
    | AdjustMargin
    | SetLeverage
    | SetMarginMode
    | SetPositionMode
)
Event = MarketEvent | Command | Snapshot

MARKET_TYPES = frozenset({"mark", "quote", "trade", "funding", "book"})
COMMAND_TYPES = frozenset(
    {
        "order",
        "cancel",
        "amend",
        "close",
        "adjust_margin",
        "set_leverage",
        "set_margin_mode",
        "set_position_mode",
    }
)


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class SessionSettings(Value):
    """Starting conditions of an account: the optional first line of a drill file."""

    balance: Decimal = Decimal("10000")
    taker_fee: Decimal = Decimal("0.0005")
    maker_fee: Decimal = Decimal("0.0002")
    position_mode: PositionMode = "one_way"
    exchange_limits: bool = False
    """Enforce the symbols' percent-price band, market take bound and largest order sizes
    (`core.tif`): opt-in, so drills written before these limits replay as they always did."""
    max_daily_loss: Limit | None = None
    """Challenge rules (`core.challenge`): all off by default, so a session without them
    trades as it always did."""
    max_drawdown: Limit | None = None
    max_leverage: int | None = None
    max_position_notional: Decimal | None = None
    refill: bool = False
    """Refill a wiped account to `balance` and go on (liquidation drills)."""
    fill_model: FillModel = "touch"
    """How orders fill (`FillModel`): `touch` unless the session says otherwise, so drills
    written before books existed replay as they always did."""
    type: ClassVar[str] = "session"

    @property
    def has_rules(self) -> bool:
        return (
            self.max_daily_loss is not None
            or self.max_drawdown is not None
            or self.max_leverage is not None
            or self.max_position_notional is not None
            or self.refill
        )


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class Limit(Value):
    """A loss limit in USDT, or in percent of the equity it is measured from (`percent`)."""

    value: Decimal
    percent: bool = False

    def __str__(self) -> str:
        text = format(self.value.normalize(), "f")
        return f"{text}%" if self.percent else text

    def resolve(self, base: Decimal) -> Decimal:
        """The limit in USDT against `base` equity (exact: a percent of a Decimal)."""
        return base * self.value / 100 if self.percent else self.value


# --- outcomes --------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class Fill(Value):
    """An order (or part of one) traded: the price, the fee and the PnL it realised."""

    ts: int
    order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    realized_pnl: Decimal
    liquidity: Liquidity
    average_price: Decimal | None = None
    """On the last fill of an order that walked a book (`book`/`queue` models): the
    volume-weighted average price of all its fills so far (README "Fill models")."""
    note: str | None = None
    """Why a fill left the model's usual rule: no book yet (the touch rule applied), or the
    remainder beyond the shown depth (the impact rule). None (not written) otherwise."""
    position_side: PositionSlot | None = None
    """In hedge mode, the side the fill traded (`long`/`short`: a sell can close the long or
    open the short); None (not written) in one-way mode."""
    type: ClassVar[str] = "fill"


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class Rejected(Value):
    """A command the engine refused, and why: the state is as if it had never come."""

    ts: int
    command: str
    order_id: str | None
    reason: str
    type: ClassVar[str] = "rejected"


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class Liquidation(Value):
    """One liquidated part of a position (README "Liquidation as executed").

    A partial liquidation leaves `remaining_qty` of the position open. `loss` is what the line
    took from the wallet (≥ 0): the part's realized loss at `price` (the mark, or the
    bankruptcy price of a last close) plus `clearance_fee`, less `insurance_covered` (what the
    insurance fund paid so the wallet does not go below 0). Lines written before these fields
    existed read with `clearance_fee`, `insurance_covered` and `remaining_qty` 0 and `price`
    None (= the mark)."""

    ts: int
    symbol: str
    margin_mode: MarginMode
    side: PositionSide
    qty: Decimal
    mark_price: Decimal
    loss: Decimal
    clearance_fee: Decimal = Decimal(0)
    insurance_covered: Decimal = Decimal(0)
    price: Decimal | None = None
    remaining_qty: Decimal = Decimal(0)
    """What stays open of the position after this line (0: closed whole)."""
    after_gap_ms: int | None = field(default=None, compare=False)
    """Set when the mark that liquidated was the first after a gap (`core.challenge`)."""
    price_move: Decimal | None = field(default=None, compare=False)
    """With `after_gap_ms`: the mark's move since the previous mark, in percent."""
    type: ClassVar[str] = "liquidation"

    @property
    def realized_pnl(self) -> Decimal:
        """The part's own PnL at its fill price: the loss before fee and insurance."""
        return self.clearance_fee - self.insurance_covered - self.loss


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class FundingPaid(Value):
    """A funding settlement of one position in USDT: received when `amount` ≥ 0, else paid."""

    ts: int
    symbol: str
    amount: Decimal
    type: ClassVar[str] = "funding_paid"


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class OrderCancelled(Value):
    """An order taken off the book: by the trader, or by the engine, which says why."""

    ts: int
    order_id: str
    reason: str
    type: ClassVar[str] = "order_cancelled"


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class OrderTriggered(Value):
    """A conditional order's trigger condition held at `watched_price`; the fill, resting
    order or rejection of the order it became follows."""

    ts: int
    order_id: str
    symbol: str
    order_type: OrderType
    trigger_price: Decimal
    watched_price: Decimal
    after_gap_ms: int | None = field(default=None, compare=False)
    """Set when the watched price was the first after a gap (`core.challenge.GAP_MS`)."""
    price_move: Decimal | None = field(default=None, compare=False)
    """With `after_gap_ms`: the watched price's move since the previous one, in percent."""
    type: ClassVar[str] = "order_triggered"


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class RuleBreached(Value):
    """A challenge loss rule was reached (`core.challenge`): `limit` and `value` in USDT.
    From here new opening orders are refused: until the next UTC day for `max_daily_loss`,
    for the rest of the session for `max_drawdown`."""

    ts: int
    rule: str
    limit: Decimal
    value: Decimal
    type: ClassVar[str] = "rule_breached"


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class Refill(Value):
    """A wiped account (wallet at or below 0, nothing open) refilled to the starting balance."""

    ts: int
    amount: Decimal
    type: ClassVar[str] = "refill"


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class ReduceOnlyCut(Value):
    """A reduce-only order larger than the position it reduces, cut to the position's size
    (as Binance does); emitted before the fill or the resting order it cut."""

    ts: int
    order_id: str
    symbol: str
    requested_qty: Decimal
    qty: Decimal
    type: ClassVar[str] = "reduce_only_cut"


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class PositionState(Value):
    """One open position as the account state reports it, its figures at the current mark."""

    symbol: str
    side: PositionSide
    qty: Decimal
    entry_price: Decimal
    mark_price: Decimal | None
    margin_mode: MarginMode
    leverage: int
    margin: Decimal
    maintenance_margin: Decimal
    unrealized_pnl: Decimal
    liquidation_price: Decimal | None
    margin_ratio: Decimal | None
    position_side: PositionSlot = "both"


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class OrderState(Value):
    """One open or waiting order as the account state reports it."""

    id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None
    reduce_only: bool
    post_only: bool
    margin_mode: MarginMode
    leverage: int
    ts: int
    position_side: PositionSlot = "both"
    time_in_force: TimeInForce = "GTC"
    """GTC or GTD for a resting order (GTX shows as `post_only`, its alias); what a waiting
    stop-limit becomes with."""
    good_till: int | None = None
    trigger_price: Decimal | None = None
    working_type: WorkingType | None = None
    close_position: bool = False
    price_protect: bool = False
    activation_price: Decimal | None = None
    callback_rate: Decimal | None = None
    extreme: Decimal | None = None
    """Trailing stops: the highest (sell) / lowest (buy) watched price since activation."""
    queue_ahead: Decimal | None = None
    """`queue` model: the quantity still ahead of this resting order at its price (None under
    the other models)."""


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class AccountState(Value):
    """The account at `ts`: balances, positions and open orders (a `snapshot`'s answer,
    and the last line of every run)."""

    ts: int
    wallet_balance: Decimal
    margin_balance: Decimal
    available_balance: Decimal
    positions: tuple[PositionState, ...]
    open_orders: tuple[OrderState, ...]
    cross_margin_ratio: Decimal | None = None
    type: ClassVar[str] = "account"


Outcome = (
    Fill
    | Rejected
    | Liquidation
    | FundingPaid
    | OrderCancelled
    | OrderTriggered
    | ReduceOnlyCut
    | RuleBreached
    | Refill
    | AccountState
)
