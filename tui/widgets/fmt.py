"""Number formatting shared by the trading widgets (plain functions, no Textual).

Why one place: prices are shown on the instrument's tick grid and money with two decimals
everywhere, so the same value never reads differently in two panels. A value that rounds to
zero is shown as zero, never `-0.00` (a zero fee, `-fees`, used to read "-0.00").

Sign convention (issue 10): money is signed as it moved the account. Costs — fees, funding
paid, liquidation losses — are negative wherever a trader reads them (summary, `stats`, log).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from rich.text import Text

from papertrade.core import events as ev
from papertrade.core.challenge import gap_words
from papertrade.core.instruments import Instrument
from papertrade.core.margin import initial_margin
from papertrade.core.numbers import plain
from papertrade.core.positions import Position
from papertrade.core.text import plural

DASH = "--"


def _fixed(value: Decimal, places: int, spec: str = ",") -> str:
    """`value` at `places` decimals (half-even), zero never signed."""
    shown = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    if shown.is_zero():
        shown = shown.copy_abs()
    return f"{shown:{spec}.{places}f}"


def roe(pos: Position) -> Decimal | None:
    """Return on equity as Binance shows it: uPnL / initial margin (entry notional / leverage).

    Not over the position's isolated margin: margin added to an isolated position makes it
    safer, not less profitable (issue 10, bug 13: ROE fell when margin was added)."""
    im = initial_margin(pos.qty * pos.entry, pos.leverage)
    return pos.upnl / im if im else None


def places_of(step: Decimal) -> int:
    """Decimal places of a tick or step size (0.10 -> 1, 0.001 -> 3, 1 -> 0)."""
    exp = step.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def price(value: Decimal | None, inst: Instrument | None = None) -> str:
    """A price at the instrument's tick precision, with thousands separators."""
    if value is None:
        return DASH
    places = places_of(inst.tick_size) if inst is not None else 2
    return _fixed(value, places)


def qty(value: Decimal | None, inst: Instrument | None = None) -> str:
    if value is None:
        return DASH
    places = places_of(inst.step_size) if inst is not None else 4
    return _fixed(value, places)


def money(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return DASH
    return _fixed(value, places)


def pct(value: Decimal | None, places: int = 2, signed: bool = True) -> str:
    """A fraction as a percentage (0.0123 -> '+1.23%')."""
    if value is None:
        return DASH
    v = value * 100
    return _fixed(v, places, "+," if signed else ",") + "%"


def signed_text(text: str, value: Decimal | None) -> Text:
    """Green when positive, red when negative: the trader's reflex colours."""
    if value is None or value == 0:
        return Text(text)
    return Text(text, style="green" if value > 0 else "red")


def countdown(ms: int | None) -> str:
    """Milliseconds to 'HH:MM:SS' (funding countdown)."""
    if ms is None:
        return DASH
    s = max(0, ms // 1000)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def ratio_style(ratio: Decimal | None) -> str:
    """Margin-ratio colour bands: < 50 % calm, 50-80 % warning, 80-100 % danger."""
    if ratio is None or ratio < Decimal("0.5"):
        return "green"
    if ratio < Decimal("0.8"):
        return "yellow"
    if ratio < 1:
        return "bold red"
    return "bold reverse red"


def health_bar(ratio: Decimal | None, width: int = 10) -> Text:
    """A bar filling towards liquidation (100 % margin ratio), coloured by `ratio_style`."""
    if ratio is None:
        return Text("░" * width + "   --", style="dim")
    filled = min(width, max(0, int(ratio * width + Decimal("0.5"))))
    text = Text("█" * filled, style=ratio_style(ratio))
    text.append("░" * (width - filled), style="dim")
    shown = min(ratio, Decimal("9.99")) * 100
    text.append(f" {shown:>3.0f}%", style=ratio_style(ratio))
    return text


# --- liquidations, worded once for the log and `papertrade simulate` -------------------------


@dataclass(frozen=True, slots=True)
class CrossLiquidated:
    """One cross liquidation as a whole: the per-position `Liquidation`s it closed."""

    ts: int
    parts: tuple[ev.Liquidation, ...]

    @property
    def total(self) -> Decimal:
        return sum((p.loss for p in self.parts), Decimal(0))


def liquidation_words(o: ev.Liquidation) -> str:
    """What one liquidated position cost. Isolated: its own margin, nothing else. Cross: its
    part of the account's loss (its own unrealized loss plus a share of what was left, never
    negative; a position in profit can have a part of 0.00 — the total line says the rest)."""
    who = f"{o.margin_mode} {o.side} {plain(o.qty)} {o.symbol} at mark {plain(o.mark_price)}"
    if o.remaining_qty:
        return (
            f"{who}, partial: {plain(o.remaining_qty)} {o.symbol} stays open; lost "
            f"{money(o.loss)} USDT, clearance fee {money(o.clearance_fee)} included"
        )
    if o.margin_mode == "isolated":
        text = f"{who}: the account lost this position's margin, {money(o.loss)} USDT; nothing else"
    else:
        text = f"{who}: its part of the account's loss {money(o.loss)} USDT"
    notes = []
    if o.price is not None and o.price != o.mark_price:
        # isolated: the position's own bankruptcy price; cross: the price that realizes its
        # share of the wallet (README "Liquidation as executed" 3), not a market price
        if o.margin_mode == "isolated":
            notes.append(f"closed at the bankruptcy price {plain(o.price)}")
        else:
            notes.append(f"closed at {plain(o.price)}, where its share of the wallet runs out")
    if o.insurance_covered:
        notes.append(f"clearance fee {money(o.clearance_fee)} paid by the insurance fund")
    gap = gap_words("liquidated", o.after_gap_ms, o.price_move)
    if gap:
        notes.append(gap)
    return f"{text} ({'; '.join(notes)})" if notes else text


def rule_words(o: ev.RuleBreached) -> str:
    """A challenge breach and what it blocks."""
    until = "until 00:00 UTC" if o.rule == "max_daily_loss" else "for the rest of the session"
    return (
        f"challenge rule {o.rule} reached: {money(o.value)} USDT against a limit of "
        f"{money(o.limit)} USDT; no new positions {until}"
    )


def trigger_gap_words(o: ev.OrderTriggered) -> str:
    """ "; triggered on the first price after …" for a trigger after a gap, else ""."""
    gap = gap_words("triggered", o.after_gap_ms, o.price_move)
    return f"; {gap}" if gap else ""


def utc(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def challenge_verdict(breaches: Iterable[tuple[int, str]]) -> str:
    """ "passed", or "failed: max_drawdown reached at …" naming each breach."""
    reached = [f"{rule} reached at {utc(ts)}" for ts, rule in breaches]
    return f"failed: {'; '.join(reached)}" if reached else "passed: no loss rule reached"


def wipes_words(refills: Iterable[tuple[int, Decimal]]) -> str:
    """ "2 (2026-01-01 00:03:00 UTC, …)": how often the account was wiped and refilled."""
    times = [utc(ts) for ts, _ in refills]
    return f"{len(times)} ({', '.join(times)})" if times else "0"


def refill_words(o: ev.Refill) -> str:
    return f"account wiped: refilled with {money(o.amount)} USDT to the starting balance"


def cross_total_words(total: CrossLiquidated) -> str:
    n = len(total.parts)
    parts = " + ".join(f"{p.symbol} {money(p.loss)}" for p in total.parts)
    closed = plural(n, "cross position")
    return (
        f"lost {money(total.total)} USDT in all, the whole cross wallet ({parts}); "
        f"{closed} closed, winners too"
    )


def with_cross_totals(outcomes: Iterable[ev.Outcome]) -> Iterator[ev.Outcome | CrossLiquidated]:
    """`outcomes` with a `CrossLiquidated` after each run of whole cross `Liquidation`s of
    one instant (one engine step closes every cross position together; a partial cross
    liquidation closes nothing whole and gets no total)."""
    run: list[ev.Liquidation] = []

    def whole_cross(o: object) -> bool:
        return isinstance(o, ev.Liquidation) and o.margin_mode == "cross" and not o.remaining_qty

    for o in outcomes:
        if run and not (whole_cross(o) and o.ts == run[0].ts):
            yield CrossLiquidated(run[0].ts, tuple(run))
            run = []
        yield o
        if isinstance(o, ev.Liquidation) and whole_cross(o):
            run.append(o)
    if run:
        yield CrossLiquidated(run[0].ts, tuple(run))
