"""Liquidation post-mortem: why a position died, in numbers that add up, and what would have
kept it alive on the same prices.

The run is replayed on a `Recorder`, an ordinary engine that also keeps, after every event,
a `Frame` (each open position's size, entry, mark, uPnL, maintenance margin, margin and
liquidation price, the cross wallet and every symbol's mark), and at every liquidation
trigger the same picture a moment before the liquidation (after the mark or fill that set it
off, before anything was closed). Frames are dropped whenever the account is flat: no window
can reach back past a moment with nothing open.

For each trigger the *pool* is the money that failed the maintenance test: an isolated
position's margin + uPnL, or the cross margin balance (cross wallet + Σ cross uPnL). Its
window runs from just after the oldest liquidated position opened to the trigger, and the
pool's change over the window is taken apart, interval by interval, into signed parts that sum
exactly to it (−drop):

- `contributions[symbol]`: each symbol's uPnL change in the pool plus, for cross, the realized
  PnL its fills and earlier liquidation parts brought to the cross wallet;
- `funding`: funding the pool paid (−) or received (+);
- `fees`: trading and clearance fees taken from the pool (cross; isolated fees come from the
  cross wallet, so an isolated pool's is 0);
- `margin_moves`: margin moved in (+) or out (−): isolated margin put in or released, cross
  wallet moved to or from isolated positions, insurance cover. For cross this is what the
  wallet moved that is not PnL, fee or funding.

What-ifs hold the liquidated positions as they were at the trigger through every later price
of the run (to its end), with nothing else changing:
- `survive_with_added_margin`: the least whole-cent margin that keeps the pool's balance above
  its maintenance margin at every one of those prices;
- `survive_at_leverage` (isolated): the highest whole leverage whose initial margin
  (notional at entry / leverage) keeps it above maintenance from its opening to the end; a
  cross liquidation does not depend on leverage, so it is None with that reason;
- `stop_that_caps_loss`: a stop at the last mark before the trigger that was already a loss
  (strictly between entry and the liquidating mark), filled there at the taker fee; None when
  the price jumped from a non-losing mark straight to liquidation (no stop fills before it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import pairwise
from typing import Any

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import InstrumentBook
from papertrade.core.margin import maintenance_margin, margin_ratio, unrealized_pnl
from papertrade.core.numbers import ZERO, human, money, plain
from papertrade.core.positions import Position

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Held:
    """One open position in a frame."""

    key: str
    symbol: str
    mode: ev.MarginMode
    side: ev.PositionSide
    size: Decimal
    entry: Decimal
    mark: Decimal
    upnl: Decimal
    mm: Decimal
    margin: Decimal
    leverage: int
    liquidation_price: Decimal | None


@dataclass(slots=True)
class Frame:
    ts: int
    cross_wallet: Decimal
    held: dict[str, Held]
    marks: dict[str, Decimal]
    outcomes: list[ev.Outcome] = field(default_factory=list)
    """What happened between the frame before and this one."""
    iso_funding: dict[str, Decimal] = field(default_factory=dict)
    """Funding each isolated position's margin took in that interval, by position key."""


@dataclass(slots=True)
class Trigger:
    """A liquidation: the frame a moment before it and the lines it produced."""

    frame: Frame
    mode: ev.MarginMode
    key: str | None
    """The isolated position's key; None for the cross account."""
    lines: list[ev.Liquidation]
    history: list[Frame]
    """Frames from the last flat moment up to (not including) the trigger."""
    held: list[Held] = field(default_factory=list)
    """The positions the what-ifs hold through the later prices (the pool's, at the trigger)."""
    base: Decimal = ZERO
    """The wallet part of the pool at the trigger (isolated margin, or the cross wallet)."""
    worst_need: Decimal = ZERO
    """Max of MM − balance of `held` on `base`, at the trigger and every later price."""
    extremes: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    """Lowest and highest mark of each held symbol from its opening to the end of the run."""


class Recorder(Engine):
    """The engine, keeping frames and triggers for the post-mortem (rules unchanged).

    Memory stays bounded on long runs: past `MAX_FRAMES` the older half of the history is
    thinned (every other frame folded into the next one, its outcomes and funding carried, so
    the parts still add up exactly); frames where a position opened are always kept, and so
    are the latest `RECENT_FRAMES`. The what-ifs need no history: each trigger keeps its own
    running worst case, and the lowest and highest mark of each symbol since its position
    opened are tracked as the run goes."""

    MAX_FRAMES = 4096
    RECENT_FRAMES = 512

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frames: list[Frame] = []
        self.triggers: list[Trigger] = []
        self._watching: dict[str, list[Trigger]] = {}
        self._extremes: dict[str, tuple[Decimal, Decimal]] = {}
        """Per open position key: the lowest and highest mark since it opened."""

    def frame(self, ts: int) -> Frame:
        held = {p.key: self._held(p) for p in self.acct.positions.values()}
        marks = {s: m.mark for s, m in self.markets.items() if m.mark is not None}
        return Frame(ts, self.acct.cross_wallet, held, marks)

    def _held(self, p: Position) -> Held:
        return Held(
            p.key,
            p.symbol,
            p.mode,
            p.side,
            p.size,
            p.entry,
            p.mark,
            p.upnl,
            p.mm,
            p.margin,
            p.leverage,
            self.position_liquidation_price(p),
        )

    def apply(self, event: ev.Event) -> list[ev.Outcome]:
        first_new = len(self.triggers)
        before = self.frames[-1] if self.frames else None
        out = super().apply(event)
        rest = list(out)
        new = self.triggers[first_new:]
        for trig in new:
            # the outcomes before this trigger's first line happened before it
            first = trig.lines[0] if trig.lines else None
            cut = next((i for i, o in enumerate(rest) if o is first), len(rest))
            trig.frame.outcomes = rest[:cut]
            rest = rest[cut:]  # its lines belong to the interval after it
        frame = self.frame(event.ts)
        frame.outcomes = rest
        if isinstance(event, ev.Funding) and before is not None:
            # nothing but funding moves isolated margin in a funding event before a liquidation
            into = new[0].frame if new else frame
            into.iso_funding = {
                k: h.margin - before.held[k].margin
                for k, h in into.held.items()
                if h.mode == "isolated" and k in before.held
            }
        self._track(event, frame, new)
        if self.acct.positions:
            self.frames.append(frame)
            if len(self.frames) > self.MAX_FRAMES:
                self.frames = _thinned(self.frames, self.RECENT_FRAMES)
        else:
            self.frames = [frame]
        return out

    def _track(self, event: ev.Event, frame: Frame, new: list[Trigger]) -> None:
        """Keep the running extremes and each trigger's worst case up to date."""
        extremes = {}
        for key, h in frame.held.items():
            lo, hi = self._extremes.get(key, (h.mark, h.mark))
            extremes[key] = (min(lo, h.mark), max(hi, h.mark))
        self._extremes = extremes
        symbol = getattr(event, "symbol", None)
        watching = self._watching.get(symbol, []) if isinstance(symbol, str) else []
        for trig in [*watching, *new]:
            need = _need(trig.held, trig.base, frame.marks, self.instruments)
            trig.worst_need = max(trig.worst_need, need)
            for sym, (lo, hi) in trig.extremes.items():
                mark = frame.marks.get(sym, lo)
                trig.extremes[sym] = (min(lo, mark), max(hi, mark))

    def _trigger(self, mode: ev.MarginMode, key: str | None, ts: int) -> Trigger:
        frame = self.frame(ts)
        trig = Trigger(frame, mode, key, [], list(self.frames))
        if key is not None:
            trig.held, trig.base = [frame.held[key]], frame.held[key].margin
        else:
            trig.held = [h for h in frame.held.values() if h.mode == "cross"]
            trig.base = frame.cross_wallet
        trig.worst_need = _need(trig.held, trig.base, frame.marks, self.instruments)
        for h in trig.held:
            lo, hi = self._extremes.get(h.key, (h.mark, h.mark))
            trig.extremes[h.symbol] = (min(lo, h.mark), max(hi, h.mark))
            self._watching.setdefault(h.symbol, []).append(trig)
        self.triggers.append(trig)
        self.frames.append(frame)
        return trig

    def _liquidate_isolated(self, pos: Position, ts: int) -> list[ev.Outcome]:
        trig = self._trigger("isolated", pos.key, ts)
        out = super()._liquidate_isolated(pos, ts)
        trig.lines = [o for o in out if isinstance(o, ev.Liquidation)]
        return out

    def _liquidate_cross(self, ts: int) -> list[ev.Outcome]:
        trig = self._trigger("cross", None, ts)
        out = super()._liquidate_cross(ts)
        trig.lines = [o for o in out if isinstance(o, ev.Liquidation)]
        return out


def _thinned(frames: list[Frame], recent: int) -> list[Frame]:
    """Every other older frame folded into the next one (see `Recorder`). Frames are never
    changed in place: a trigger's history may share them."""
    old, tail = frames[:-recent], frames[-recent:]
    kept = [old[0]]
    carried: list[ev.Outcome] = []
    funding: dict[str, Decimal] = {}
    for i in range(1, len(old) + 1):
        f = old[i] if i < len(old) else tail[0]
        opened = any(k not in frames[i - 1].held for k in f.held)
        if i < len(old) and i % 2 == 1 and not opened:
            carried += f.outcomes
            for k, v in f.iso_funding.items():
                funding[k] = funding.get(k, ZERO) + v
            continue
        if carried or funding:
            merged = dict(funding)
            for k, v in f.iso_funding.items():
                merged[k] = merged.get(k, ZERO) + v
            f = replace(f, outcomes=carried + f.outcomes, iso_funding=merged)
            carried, funding = [], {}
        if i < len(old):
            kept.append(f)
        else:
            tail = [f, *tail[1:]]
    return kept + tail


# --- the report --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    ts: int
    margin_ratio: Decimal | None
    mark: Decimal | None
    liquidation_price: Decimal | None


@dataclass(frozen=True, slots=True)
class Victim:
    """A position a cross liquidation took, with its uPnL a moment before."""

    symbol: str
    side: ev.PositionSide
    qty: Decimal
    upnl: Decimal
    notional: Decimal


@dataclass(frozen=True, slots=True)
class Stop:
    price: Decimal
    loss: Decimal
    """qty × |entry − stop| + the taker fee on the close (USDT, ≥ 0 for a losing stop)."""


@dataclass(slots=True)
class PostMortem:
    number: int
    ts: int
    mode: ev.MarginMode
    symbol: str
    """The position that drained the pool (isolated: the one liquidated)."""
    side: ev.PositionSide
    qty: Decimal
    entry: Decimal
    trigger_mark: Decimal
    start_ts: int
    balance_before: Decimal
    balance_at_trigger: Decimal
    contributions: dict[str, Decimal]
    funding: Decimal
    fees: Decimal
    margin_moves: Decimal
    samples: list[Sample]
    survive_with_added_margin: Decimal | None
    survive_at_leverage: int | None
    leverage_note: str
    stop_that_caps_loss: Stop | None
    stop_note: str
    liquidation_loss: Decimal
    went_down_with: list[Victim]

    @property
    def drop(self) -> Decimal:
        return self.balance_before - self.balance_at_trigger

    def parts_total(self) -> Decimal:
        """The signed parts added up: always −drop."""
        return sum(self.contributions.values(), ZERO) + self.funding + self.fees + self.margin_moves


def _pool(frame: Frame, key: str | None) -> tuple[Decimal, Decimal]:
    """(balance, maintenance margin) of an isolated position's pool or the cross pool."""
    if key is not None:
        h = frame.held.get(key)
        return (ZERO, ZERO) if h is None else (h.margin + h.upnl, h.mm)
    cross = [h for h in frame.held.values() if h.mode == "cross"]
    upnl = sum((h.upnl for h in cross), ZERO)
    return frame.cross_wallet + upnl, sum((h.mm for h in cross), ZERO)


def _modes(frame: Frame) -> dict[str, ev.MarginMode]:
    return {h.symbol: h.mode for h in frame.held.values()}


def _take_apart(
    window: list[Frame], key: str | None
) -> tuple[dict[str, Decimal], Decimal, Decimal, Decimal]:
    contributions: dict[str, Decimal] = {}
    funding = fees = moves = ZERO

    def add(symbol: str, amount: Decimal) -> None:
        contributions[symbol] = contributions.get(symbol, ZERO) + amount

    for before, after in pairwise(window):
        if key is not None:
            b, a = before.held.get(key), after.held.get(key)
            if b is None or a is None:
                continue
            add(a.symbol, a.upnl - b.upnl)
            paid = after.iso_funding.get(key, ZERO)
            funding += paid
            moves += a.margin - b.margin - paid
            continue
        keys = {k for k, h in before.held.items() if h.mode == "cross"}
        keys |= {k for k, h in after.held.items() if h.mode == "cross"}
        for k in keys:
            bh, ah = before.held.get(k), after.held.get(k)
            either = ah if ah is not None else bh
            if either is not None:
                add(either.symbol, (ah.upnl if ah else ZERO) - (bh.upnl if bh else ZERO))
        explained = ZERO
        modes = _modes(before) | _modes(after)
        for o in after.outcomes:
            if isinstance(o, ev.Fill):
                add(o.symbol, o.realized_pnl)
                fees -= o.fee
                explained += o.realized_pnl - o.fee
            elif isinstance(o, ev.FundingPaid) and modes.get(o.symbol) == "cross":
                funding += o.amount
                explained += o.amount
            elif isinstance(o, ev.Liquidation) and o.margin_mode == "cross":
                add(o.symbol, o.realized_pnl)
                fees -= o.clearance_fee
                explained += o.realized_pnl - o.clearance_fee
        moves += after.cross_wallet - before.cross_wallet - explained
    return contributions, funding, fees, moves


def _need(
    held: list[Held], base: Decimal, marks: dict[str, Decimal], instruments: InstrumentBook
) -> Decimal:
    """MM − balance of the held positions at `marks`, `base` being the wallet part."""
    balance, mm = base, ZERO
    for h in held:
        price = marks.get(h.symbol, h.mark)
        balance += unrealized_pnl(h.size, h.entry, price)
        mm += maintenance_margin(instruments[h.symbol], abs(h.size) * price)
    return mm - balance


def _cents_above(need: Decimal) -> Decimal:
    """The least whole-cent amount strictly above `need` (0 when nothing is needed)."""
    if need < 0:
        return ZERO
    return (need / CENT).to_integral_value(rounding="ROUND_FLOOR") * CENT + CENT


def analyse(recorder: Recorder) -> list[PostMortem]:
    """One post-mortem per liquidation trigger of the recorded run, in order."""
    reports: list[PostMortem] = []
    instruments = recorder.instruments
    for number, trig in enumerate(recorder.triggers, start=1):
        frame = trig.frame
        if trig.key is not None:
            victims = [frame.held[trig.key]]
        else:
            liquidated = {line.symbol for line in trig.lines}
            victims = [
                h for h in frame.held.values() if h.mode == "cross" and h.symbol in liquidated
            ]
        keys = {h.key for h in victims}
        history = [*trig.history, frame]
        start = 0
        for i in range(len(history) - 1, -1, -1):
            if keys & set(history[i].held):
                start = i
            else:
                break
        window = history[start:]
        contributions, funding, fees, moves = _take_apart(window, trig.key)
        drained = min(victims, key=lambda h: (contributions.get(h.symbol, ZERO), h.key))
        balance_before, _ = _pool(window[0], trig.key)
        balance_at, _ = _pool(frame, trig.key)
        samples = []
        for f in window:
            bal, mm = _pool(f, trig.key)
            h = f.held.get(drained.key)
            samples.append(
                Sample(
                    f.ts,
                    margin_ratio(mm, bal),
                    f.marks.get(drained.symbol),
                    h.liquidation_price if h is not None else None,
                )
            )
        added = _cents_above(trig.worst_need)
        lev, lev_note = _survive_leverage(trig, drained, instruments)
        stop, stop_note = _stop(drained, window, frame, recorder.settings.taker_fee)
        lines = trig.lines
        went_down = [
            Victim(h.symbol, h.side, abs(h.size), h.upnl, abs(h.size) * h.mark)
            for h in victims
            if h.key != drained.key
        ]
        reports.append(
            PostMortem(
                number=number,
                ts=frame.ts,
                mode=trig.mode,
                symbol=drained.symbol,
                side=drained.side,
                qty=abs(drained.size),
                entry=drained.entry,
                trigger_mark=drained.mark,
                start_ts=window[0].ts,
                balance_before=balance_before,
                balance_at_trigger=balance_at,
                contributions=contributions,
                funding=funding,
                fees=fees,
                margin_moves=moves,
                samples=samples,
                survive_with_added_margin=added,
                survive_at_leverage=lev,
                leverage_note=lev_note,
                stop_that_caps_loss=stop,
                stop_note=stop_note,
                liquidation_loss=sum((line.loss for line in lines), ZERO),
                went_down_with=went_down,
            )
        )
    return reports


def _survive_leverage(
    trig: Trigger, h: Held, instruments: InstrumentBook
) -> tuple[int | None, str]:
    if trig.key is None:
        return None, "cross: leverage does not move a cross liquidation, only the wallet does"
    inst = instruments[h.symbol]
    notional = abs(h.size) * h.entry
    # MM − uPnL falls as the price rises for a long (MMR < 1) and rises for a short: its
    # worst over the run is at the lowest (long) or highest (short) mark since the opening
    lo, hi = trig.extremes[h.symbol]
    worst = _need([h], ZERO, {h.symbol: lo if h.size > 0 else hi}, instruments)
    top = inst.bracket_for(notional).max_leverage
    if worst < 0:
        return top, "no price of the run reached even a margin of 0"
    # survives at L iff notional / L > worst, i.e. L < notional / worst
    if worst == 0:
        return top, "no price of the run needed margin"
    ceiling = notional / worst
    lev = int(ceiling.to_integral_value(rounding="ROUND_CEILING")) - 1
    lev = min(lev, top)
    if lev < 1:
        return None, "not even 1x survives these prices"
    return lev, f"initial margin {human(notional / lev)} USDT"


def _stop(
    h: Held, window: list[Frame], trigger: Frame, fee_rate: Decimal
) -> tuple[Stop | None, str]:
    long = h.size > 0
    for f in reversed(window[:-1]):
        mark = f.marks.get(h.symbol)
        if mark is None or h.key not in f.held:
            continue
        losing = mark < h.entry if long else mark > h.entry
        short_of_trigger = mark > h.mark if long else mark < h.mark
        if losing and short_of_trigger:
            qty = abs(h.size)
            loss = qty * abs(h.entry - mark) + qty * mark * fee_rate
            return Stop(mark, money(loss)), "a stop-market at the last losing mark before it"
        if not losing:
            break
    return None, (
        f"the price went from a mark that was not yet a loss straight to {h.mark}: "
        "no stop on these prices fills before the liquidation"
    )


def record(
    settings: ev.SessionSettings,
    events: Iterable[ev.Event],
    instruments: InstrumentBook | None = None,
) -> Recorder:
    recorder = Recorder(instruments, settings)
    for event in events:
        recorder.apply(event)
    return recorder


def to_json(report: PostMortem) -> dict[str, object]:
    """One liquidation as the `--json` line (money as exact strings)."""

    def s(d: Decimal | None) -> str | None:
        return None if d is None else plain(d)

    stop = report.stop_that_caps_loss
    return {
        "type": "postmortem",
        "liquidation": report.number,
        "ts": report.ts,
        "margin_mode": report.mode,
        "symbol": report.symbol,
        "side": report.side,
        "qty": s(report.qty),
        "entry_price": s(report.entry),
        "mark_price": s(report.trigger_mark),
        "from_ts": report.start_ts,
        "margin_balance_before": s(report.balance_before),
        "margin_balance_at_trigger": s(report.balance_at_trigger),
        "drop": s(report.drop),
        "contributions": {k: s(v) for k, v in sorted(report.contributions.items())},
        "funding": s(report.funding),
        "fees": s(report.fees),
        "margin_moves": s(report.margin_moves),
        "liquidation_loss": s(report.liquidation_loss),
        "margin_ratio": [
            {
                "ts": x.ts,
                "ratio": s(x.margin_ratio),
                "mark": s(x.mark),
                "liq": s(x.liquidation_price),
            }
            for x in report.samples
        ],
        "survive_with_added_margin": s(report.survive_with_added_margin),
        "survive_at_leverage": report.survive_at_leverage,
        "survive_at_leverage_note": report.leverage_note,
        "stop_that_caps_loss": None
        if stop is None
        else {"price": s(stop.price), "loss": s(stop.loss)},
        "stop_note": report.stop_note,
        "went_down_with": [
            {
                "symbol": v.symbol,
                "side": v.side,
                "qty": s(v.qty),
                "upnl": s(v.upnl),
                "notional": s(v.notional),
            }
            for v in report.went_down_with
        ],
    }
