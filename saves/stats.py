"""Session statistics: pure arithmetic over outcomes and an equity series (imports only core).

Definitions (also what `papertrade stats` prints):
- realized PnL: sum of fills' `realized_pnl` (gross of fees); fees: sum of fill fees;
  funding: sum of `FundingPaid.amount` (positive = received); liquidation losses: sum of
  `Liquidation.loss` (the wallet's fall: the liquidated parts' realized loss plus clearance
  fees, less what the insurance fund covered; the breakdown shows the three apart when
  fees or cover exist). net PnL = realized − fees + funding − liquidation losses (what closed
  trades made: the wallet's change). Fees and liquidation losses are held here as the amounts
  paid (≥ 0); every place a trader reads them shows them as costs, negative (`costs()`).
- unrealized PnL at end: the open positions' PnL at the last mark (margin balance − wallet).
  equity change = final equity − starting balance = net PnL + unrealized at end, exactly: the
  summary shows the parts and that they add up.
- trades: fills. Win rate, average win/loss: over closing fills (realized PnL ≠ 0), gross of
  fees. Largest loss: the worst closing fill or liquidation.
- max drawdown: the largest fall of equity (margin balance: wallet + unrealized PnL) from a
  previous peak, over the sampled equity series (see `EquitySampler`), absolute and as a
  fraction of that peak.
- time in market: milliseconds during which at least one position was open, from fills and
  liquidations (one-way mode: buys add, sells subtract, a liquidation leaves its
  `remaining_qty`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from papertrade.core import events as ev
from papertrade.core.numbers import ZERO

EQUITY_POINTS = 200
SAMPLE_EVERY_MS = 1000


@dataclass(slots=True, frozen=True)
class SessionStats:
    start_ts: int | None
    end_ts: int | None
    starting_balance: Decimal
    final_equity: Decimal
    realized_pnl: Decimal
    fees: Decimal
    funding: Decimal
    liquidation_losses: Decimal
    net_pnl: Decimal
    trades: int
    closing_trades: int
    wins: int
    losses: int
    win_rate: Decimal | None
    average_win: Decimal | None
    average_loss: Decimal | None
    largest_loss: Decimal | None
    max_drawdown: Decimal
    max_drawdown_pct: Decimal | None
    liquidations: int
    time_in_market_ms: int
    time_in_market_pct: Decimal | None
    equity_curve: tuple[tuple[int, Decimal], ...] = field(default=())
    unrealized_pnl: Decimal = ZERO
    """Open positions' PnL at the end (not in `net_pnl`, in `final_equity`)."""
    clearance_fees: Decimal = ZERO
    """Part of `liquidation_losses`: clearance fees charged on liquidated parts (≥ 0)."""
    insurance_covered: Decimal = ZERO
    """Part of `liquidation_losses`, against it: what the insurance fund paid (≥ 0)."""
    challenge: bool = False
    """The session traded under a challenge loss rule (`core.challenge`): it passed or not."""
    refill: bool = False
    """The session refilled a wiped account (`refills` counts the wipes)."""
    breaches: tuple[tuple[int, str], ...] = ()
    """(ts, rule) of each challenge rule reached: none means the challenge was passed."""
    refills: tuple[tuple[int, Decimal], ...] = ()
    """(ts, amount) of each wipe refilled (`refill`): a deposit, a part of the equity change."""

    @property
    def passed(self) -> bool | None:
        """Whether the challenge was passed; None without challenge rules."""
        return not self.breaches if self.challenge else None

    @property
    def equity_change(self) -> Decimal:
        return self.final_equity - self.starting_balance

    def breakdown(self) -> list[tuple[str, Decimal]]:
        """The parts of the equity change, signed as they moved the account (costs negative);
        they add up to `equity_change` exactly."""
        parts = [
            ("realized PnL", self.realized_pnl),
            ("unrealized PnL at end", self.unrealized_pnl),
            ("fees", -self.fees),
            ("funding", self.funding),
        ]
        if self.refills:
            parts.append(("refills", sum((amount for _, amount in self.refills), ZERO)))
        if not (self.clearance_fees or self.insurance_covered):
            return [*parts, ("liquidation losses", -self.liquidation_losses)]
        positions = self.liquidation_losses - self.clearance_fees + self.insurance_covered
        return [
            *parts,
            ("liquidation losses", -positions),
            ("clearance fees", -self.clearance_fees),
            ("insurance covered", self.insurance_covered),
        ]


def max_drawdown(equity: Iterable[tuple[int, Decimal]]) -> tuple[Decimal, Decimal | None]:
    """(largest peak-to-trough fall, that fall / its peak)."""
    peak: Decimal | None = None
    worst = ZERO
    worst_pct: Decimal | None = None
    for _, value in equity:
        if peak is None or value > peak:
            peak = value
        fall = peak - value
        if fall > worst:
            worst = fall
            worst_pct = fall / peak if peak > 0 else None
    return worst, worst_pct


def downsample(
    series: Sequence[tuple[int, Decimal]], points: int = EQUITY_POINTS
) -> tuple[tuple[int, Decimal], ...]:
    """At most `points` samples, evenly spread by index, keeping the first and the last."""
    n = len(series)
    if n <= points:
        return tuple(series)
    if points < 2:
        return (series[-1],)
    picks = sorted({round(i * (n - 1) / (points - 1)) for i in range(points)})
    return tuple(series[i] for i in picks)


def compute_stats(
    outcomes: Iterable[ev.Outcome],
    equity: Sequence[tuple[int, Decimal]],
    *,
    starting_balance: Decimal,
    start_ts: int | None,
    end_ts: int | None,
    points: int = EQUITY_POINTS,
    end_account: ev.AccountState | None = None,
    challenge: bool = False,
    refill: bool = False,
) -> SessionStats:
    """All the numbers of `papertrade stats` from outcomes in order and an equity series.

    `end_account` is the account after the last event: its margin balance is the final
    equity and margin − wallet the unrealized PnL at the end. Without it both come from the
    series' last sample (the unrealized part as what the closed trades do not explain)."""
    realized = fees = funding = liq_losses = clearance = insured = ZERO
    trades = wins = losses = liquidations = 0
    win_sum = loss_sum = ZERO
    largest: Decimal | None = None
    breaches: list[tuple[int, str]] = []
    refills: list[tuple[int, Decimal]] = []
    size: dict[str, Decimal] = {}
    open_since: int | None = None
    in_market = 0
    for o in outcomes:
        if isinstance(o, ev.Fill):
            trades += 1
            realized += o.realized_pnl
            fees += o.fee
            if o.realized_pnl > 0:
                wins += 1
                win_sum += o.realized_pnl
            elif o.realized_pnl < 0:
                losses += 1
                loss_sum += o.realized_pnl
                largest = o.realized_pnl if largest is None else min(largest, o.realized_pnl)
            signed = o.qty if o.side == "buy" else -o.qty
            size[o.symbol] = size.get(o.symbol, ZERO) + signed
        elif isinstance(o, ev.Liquidation):
            liquidations += 1
            liq_losses += o.loss
            if o.loss > 0:
                largest = -o.loss if largest is None else min(largest, -o.loss)
            clearance += o.clearance_fee
            insured += o.insurance_covered
            left = o.remaining_qty if o.side == "long" else -o.remaining_qty
            size[o.symbol] = left
        elif isinstance(o, ev.FundingPaid):
            funding += o.amount
        elif isinstance(o, ev.RuleBreached):
            breaches.append((o.ts, o.rule))
            continue
        elif isinstance(o, ev.Refill):
            refills.append((o.ts, o.amount))
            continue
        else:
            continue
        is_open = any(v != 0 for v in size.values())
        if is_open and open_since is None:
            open_since = o.ts
        elif not is_open and open_since is not None:
            in_market += o.ts - open_since
            open_since = None
    if open_since is not None and end_ts is not None:
        in_market += max(0, end_ts - open_since)
    closing = wins + losses
    span = (end_ts - start_ts) if start_ts is not None and end_ts is not None else 0
    dd, dd_pct = max_drawdown(equity)
    net = realized - fees + funding - liq_losses
    if end_account is not None:
        final = end_account.margin_balance
        unrealized = end_account.margin_balance - end_account.wallet_balance
    else:
        final = equity[-1][1] if equity else starting_balance + net
        unrealized = final - starting_balance - net - sum((a for _, a in refills), ZERO)
    return SessionStats(
        start_ts=start_ts,
        end_ts=end_ts,
        starting_balance=starting_balance,
        final_equity=final,
        realized_pnl=realized,
        fees=fees,
        funding=funding,
        liquidation_losses=liq_losses,
        net_pnl=net,
        trades=trades,
        closing_trades=closing,
        wins=wins,
        losses=losses,
        win_rate=Decimal(wins) / closing if closing else None,
        average_win=win_sum / wins if wins else None,
        average_loss=loss_sum / losses if losses else None,
        largest_loss=largest,
        max_drawdown=dd,
        max_drawdown_pct=dd_pct,
        liquidations=liquidations,
        time_in_market_ms=in_market,
        time_in_market_pct=Decimal(in_market) / span if span > 0 else None,
        equity_curve=downsample(equity, points),
        unrealized_pnl=unrealized,
        clearance_fees=clearance,
        insurance_covered=insured,
        challenge=challenge,
        refill=refill,
        breaches=tuple(breaches),
        refills=tuple(refills),
    )


class EquitySampler:
    """Collects (ts, equity) while a replay runs, bounded by session time, not event count.

    A sample is taken at the start, after any event that produced a fill, liquidation or
    funding, and otherwise at most once per `every_ms` of session time while the equity moves;
    the last event is always sampled. Drawdown between samples of a quiet second is missed,
    which is the price of not building an account state per tick.
    """

    def __init__(self, equity_of: Callable[[], Decimal], every_ms: int = SAMPLE_EVERY_MS) -> None:
        self._equity_of = equity_of
        self._every = every_ms
        self._last_ts: int | None = None
        self.series: list[tuple[int, Decimal]] = []

    def observe(self, ts: int, outcomes: Sequence[ev.Outcome]) -> None:
        important = any(isinstance(o, ev.Fill | ev.Liquidation | ev.FundingPaid) for o in outcomes)
        if important or self._last_ts is None or ts - self._last_ts >= self._every:
            value = self._equity_of()
            if important or not self.series or self.series[-1][1] != value:
                self.series.append((ts, value))
            self._last_ts = ts

    def finish(self, ts: int | None) -> list[tuple[int, Decimal]]:
        """Sample the final state (if anything happened since the last sample)."""
        if ts is not None and (not self.series or self.series[-1][0] != ts):
            self.series.append((ts, self._equity_of()))
        return self.series
