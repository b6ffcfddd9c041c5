"""A position's take-profit and stop-loss, as a trader handles them from the positions table.

Why a module of its own: the positions table (its TP/SL column and "no SL"), the `t` dialog,
`B` (stop to break-even) and the palette all need the same answers — which waiting orders
protect a position, what price an ROE % means, where break-even is — so they are worked out
once here, from the engine's state, without Textual.

Rules (README "Position TP/SL"): a position's stop-loss is any waiting stop, stop-limit or
trailing stop on the side that closes it, its take-profit any waiting take-profit on that
side. `t` and `B` place Binance's position TP/SL: `close_position` stop-market /
take-profit-market orders, which close whatever is open at trigger. Setting one replaces the
position's earlier close-position order of that kind (one TP and one SL, as on Binance).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from papertrade.core import events as ev
from papertrade.core.conditional import ConditionalOrder, condition_holds
from papertrade.core.engine import Engine
from papertrade.core.margin import unrealized_pnl
from papertrade.core.market import MarketState
from papertrade.core.numbers import ceil_to, floor_to, round_to
from papertrade.core.positions import Position

SL_TYPES = frozenset({"stop_market", "stop_limit", "trailing_stop_market"})
TP_TYPES = frozenset({"take_profit_market", "take_profit_limit"})
Leg = str  # "tp" or "sl"
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Protection:
    """The waiting orders that would close a position: take-profits and stop-losses."""

    tp: tuple[ConditionalOrder, ...]
    sl: tuple[ConditionalOrder, ...]


def protection(engine: Engine, pos: Position) -> Protection:
    closing_side = "sell" if pos.side == "long" else "buy"
    mine = [
        o
        for o in engine.algo
        if o.symbol == pos.symbol
        and o.side == closing_side
        and (o.command.position_side or "both") == pos.slot
    ]
    return Protection(
        tp=tuple(o for o in mine if o.command.order_type in TP_TYPES),
        sl=tuple(o for o in mine if o.command.order_type in SL_TYPES),
    )


def price_for_roe(pos: Position, roe_pct: Decimal) -> Decimal:
    """The price at which the position's ROE (uPnL over its initial margin, entry notional /
    leverage) is `roe_pct` percent: entry × (1 ± ROE / (100 × leverage)), + for a long."""
    move = roe_pct / (HUNDRED * pos.leverage)
    return pos.entry * (1 + move) if pos.side == "long" else pos.entry * (1 - move)


def to_tick(price: Decimal, tick: Decimal, leg: Leg, pos: Position) -> Decimal:
    """A computed trigger put on the tick grid, rounded toward the position's side of it
    (a long's stop up, a short's down: never a worse stop than asked)."""
    if leg == "sl":
        return ceil_to(price, tick) if pos.side == "long" else floor_to(price, tick)
    return round_to(price, tick)


def close_position_order(
    pos: Position,
    leg: Leg,
    trigger: Decimal,
    working: ev.WorkingType,
    *,
    ts: int,
    order_id: str,
) -> ev.PlaceOrder:
    """Binance's position TP/SL: closes whatever is open when it triggers."""
    return ev.PlaceOrder(
        ts=ts,
        id=order_id,
        symbol=pos.symbol,
        side="sell" if pos.side == "long" else "buy",
        qty=Decimal(0),
        order_type="stop_market" if leg == "sl" else "take_profit_market",
        trigger_price=trigger,
        working_type=None if working == "contract" else working,
        close_position=True,
        position_side=None if pos.slot == "both" else pos.slot,
    )


def replaced(engine: Engine, pos: Position, leg: Leg) -> list[str]:
    """Ids of the position's close-position orders of `leg` that a new one replaces."""
    found = protection(engine, pos)
    orders = found.sl if leg == "sl" else found.tp
    return [o.id for o in orders if o.command.close_position]


@dataclass(frozen=True, slots=True)
class LegPreview:
    """What one leg of the `t` dialog would do, as the trader types it: how far the watched
    price has to go, what the whole position would make or lose there, and whether the
    exchange would refuse it for triggering at once (-2021)."""

    leg: Leg
    trigger: Decimal
    watched: Decimal | None
    """The price the trigger watches now (last or mark); None before the first."""
    away: Decimal | None
    """(trigger - watched) / watched: the move still needed, signed."""
    pnl: Decimal
    """The position's PnL closed at the trigger price, before fees and slippage."""
    at_once: bool


def watched_price(market: MarketState | None, working: ev.WorkingType) -> Decimal | None:
    """The price a trigger with `working` watches, as the engine judges it
    (`MarketState.watched`); None before the first."""
    return None if market is None else market.watched(working)


def leg_preview(pos: Position, leg: Leg, trigger: Decimal, watched: Decimal | None) -> LegPreview:
    """The close-position order `close_position_order` would place, judged as the engine
    judges it (`condition_holds`, the -2021 rule) without placing it."""
    side: ev.Side = "sell" if pos.side == "long" else "buy"
    order_type: ev.OrderType = "stop_market" if leg == "sl" else "take_profit_market"
    at_once = watched is not None and condition_holds(order_type, side, trigger, watched)
    return LegPreview(
        leg,
        trigger,
        watched,
        away_from(trigger, watched),
        unrealized_pnl(pos.size, pos.entry, trigger),
        at_once,
    )


def away_from(price: Decimal, watched: Decimal | None) -> Decimal | None:
    """(price - watched) / watched: the move the market still has to make, signed; None
    before the first price."""
    return (price - watched) / watched if watched else None


@dataclass(frozen=True, slots=True)
class AmendPreview:
    """One price of the `e` dialog against the market: a limit against the last trade, a
    trigger against what it watches, and whether the engine would refuse that trigger for
    firing at once (-2021)."""

    what: str
    """"limit" or "trigger"."""
    on: str
    """The price it is compared with: "last" or "mark"."""
    away: Decimal
    at_once: bool


def amend_preview(
    order: ev.OrderState, market: MarketState, trigger: bool, value: Decimal
) -> AmendPreview | None:
    """How `value`, typed as the order's new limit price or trigger (`trigger`), stands
    against the market; None before the price it is compared with has come."""
    working: ev.WorkingType = (order.working_type or "contract") if trigger else "contract"
    watched = market.watched(working)
    away = away_from(value, watched)
    if watched is None or away is None:
        return None
    at_once = trigger and condition_holds(order.order_type, order.side, value, watched)
    on = "mark" if working == "mark" else "last"
    return AmendPreview("trigger" if trigger else "limit", on, away, at_once)
