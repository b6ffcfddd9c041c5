"""Challenge rules, account refills and named gaps: practice for a funded-trader account.

A funded-trader challenge is lost by one bad day or one deep slide, so the engine keeps score
the way such a desk does: equity is the margin balance (wallet plus unrealized PnL).

- `max_daily_loss`: the day's loss is the equity at the end of the previous UTC day (the
  starting balance on the first day) less equity now; a percent limit is of that opening
  equity. Reached, new opening orders are refused until 00:00 UTC.
- `max_drawdown`: trailing, from the highest equity seen; a percent limit is of that peak.
  Reached, new opening orders are refused for the rest of the session.
- `max_leverage`, `max_position_notional`: an opening order above either is refused, with
  the reason. Orders that only reduce or close are never refused by a rule.

A limit is reached when the loss equals it (`>=`), both compared at 8 decimals. Rules are
checked after every event, so a breach is one `rule_breached` outcome at the event that
caused it. `refill`: when a liquidation leaves the wallet at or below 0 and nothing open, the
wallet is refilled to the starting balance (a deposit: peak and day-opening equity move up by
the same amount, so a refill never counts as profit).

A gap (`gap_of`, from `MarketState.mark_ts` / `last_ts`): a liquidation or a triggered order
on a price that came more than `GAP_MS` after the previous price of the same kind for that
symbol, or that moved more than `GAP_MOVE` percent from it, carries `after_gap_ms` and
`price_move`. The engine works the gap out only when such an outcome happens: a price that
liquidates nothing pays two attribute stores for it.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from papertrade.core import events as ev
from papertrade.core.account import Account
from papertrade.core.numbers import dec, human, money

DAY_MS = 86_400_000
GAP_MS = 5_000
"""A live feed sends a mark every second and trades far more often: five seconds without
one is an outage, not a quiet market."""
GAP_MOVE = Decimal(2)
"""Percent: a larger jump between two consecutive prices is a gap whatever the time between
(a drill's market that jumps; a live book that skipped levels)."""
MOVE_QUANTUM = Decimal("0.01")


Gap = tuple[int, Decimal]
"""(milliseconds since the previous price, the move from it in percent)."""


def gap_of(then: int, was: Decimal | None, ts: int, price: Decimal) -> Gap | None:
    """The gap `price` at `ts` came after, from the previous price `was` at `then`; None when
    there is none (or no previous price: `then` < 0)."""
    if then < 0 or was is None:
        return None
    if ts - then <= GAP_MS and abs(price - was) * 100 <= was * GAP_MOVE:
        return None
    move = (price - was) / was * 100
    # a bounded price can move by up to 1e26 %: keep the cents only where they fit the context
    return (
        ts - then,
        move.quantize(MOVE_QUANTUM) if move.adjusted() < 20 else move.to_integral_value(),
    )


def named(out: list[ev.Outcome], gap: Gap) -> list[ev.Outcome]:
    """`out` with its liquidations and triggers carrying the gap (one already named is kept
    as it is: the post-mortem knows its lines by identity)."""
    return [
        replace(o, after_gap_ms=gap[0], price_move=gap[1])
        if isinstance(o, ev.Liquidation | ev.OrderTriggered) and o.after_gap_ms is None
        else o
        for o in out
    ]


def gap_words(verb: str, after_gap_ms: int | None, price_move: Decimal | None) -> str:
    """The log's words for a gap in time, "liquidated on the first price after a 47 s feed
    gap (price moved -3.1 %)", or in price, "liquidated on the first price after a -10 %
    jump (2 s after the previous)"; "" when the outcome came after no gap."""
    if after_gap_ms is None or price_move is None:
        return ""
    seconds = Decimal(after_gap_ms) / 1000
    shown = f"{seconds:,.0f}" if seconds >= 10 else f"{seconds.normalize():f}"
    move = f"{price_move.normalize():f}"
    if after_gap_ms > GAP_MS:
        return f"{verb} on the first price after a {shown} s feed gap (price moved {move} %)"
    return f"{verb} on the first price after a {move} % jump ({shown} s after the previous)"


def opening_rule_refusal(
    settings: ev.SessionSettings, leverage: int, notional: Decimal
) -> str | None:
    """Why an opening order breaks `max_leverage` or `max_position_notional`, or None."""
    if settings.max_leverage is not None and leverage > settings.max_leverage:
        return (
            f"challenge rule max_leverage: {leverage}x is above the {settings.max_leverage}x "
            "allowed: lower the leverage"
        )
    cap = settings.max_position_notional
    if cap is not None and notional > cap:
        return (
            f"challenge rule max_position_notional: the position would reach {human(notional)} "
            f"USDT, above the {human(cap)} USDT allowed"
        )
    return None


class Challenge:
    """The running score of a session with rules: peak and day-opening equity, breaches and
    refills. The engine asks it before an opening order and after every event."""

    def __init__(self, settings: ev.SessionSettings) -> None:
        self.settings = settings
        self.peak = settings.balance
        self.day: int | None = None
        self.day_open = settings.balance
        self.last_equity = settings.balance
        self.blocked_day: int | None = None
        """The UTC day (ts // DAY_MS) `max_daily_loss` was reached on."""
        self.drawdown_breached = False
        self.breaches: list[tuple[int, str]] = []
        self.refills: list[tuple[int, Decimal]] = []
        self.last_ts = 0

    @property
    def judged(self) -> bool:
        """A loss rule is set, so the session can pass or fail (leverage and size rules only
        refuse orders; a refill only refills)."""
        return self.settings.max_daily_loss is not None or self.settings.max_drawdown is not None

    @property
    def passed(self) -> bool:
        """No loss rule reached (so far)."""
        return not self.breaches

    def blocked(self, ts: int) -> str | None:
        """Why opening orders are refused at `ts`, or None."""
        if self.drawdown_breached:
            return (
                "challenge rule max_drawdown was reached: no new positions for the rest of the "
                "session (reducing and closing still allowed)"
            )
        if self.blocked_day is not None and self.blocked_day == ts // DAY_MS:
            return (
                "challenge rule max_daily_loss was reached today: no new positions until "
                "00:00 UTC (reducing and closing still allowed)"
            )
        return None

    def status(self, ts: int) -> tuple[str, bool]:
        """The status bar's words and whether opening orders are refused at `ts` now."""
        if self.drawdown_breached:
            return ("RULE BREACHED max_drawdown: no new positions for the session", True)
        if self.blocked_day is not None and self.blocked_day == ts // DAY_MS:
            return ("RULE BREACHED max_daily_loss: no new positions until 00:00 UTC", True)
        words = []
        if self.judged:
            words.append("challenge failed" if self.breaches else "challenge on track")
        if self.settings.refill:
            words.append(f"{len(self.refills)} wipe{'' if len(self.refills) == 1 else 's'}")
        return (" · ".join(words) or "challenge rules on", False)

    def opening_refusal(self, ts: int, leverage: int, notional: Decimal) -> str | None:
        return self.blocked(ts) or opening_rule_refusal(self.settings, leverage, notional)

    def check(self, acct: Account, ts: int, out: list[ev.Outcome]) -> list[ev.Outcome]:
        """The breaches and the refill the event just applied caused."""
        found: list[ev.Outcome] = []
        self.last_ts = ts
        day = ts // DAY_MS
        if self.day != day:
            if self.day is not None:
                self.day_open = self.last_equity
            self.day = day
        equity = money(acct.margin_balance())
        s = self.settings
        if s.max_daily_loss is not None and self.blocked_day != day:
            loss = self.day_open - equity
            limit = money(s.max_daily_loss.resolve(self.day_open))
            if loss > 0 and loss >= limit:
                self.blocked_day = day
                self.breaches.append((ts, "max_daily_loss"))
                found.append(ev.RuleBreached(ts, "max_daily_loss", limit, loss))
        self.peak = max(self.peak, equity)
        if s.max_drawdown is not None and not self.drawdown_breached:
            drawdown = self.peak - equity
            limit = money(s.max_drawdown.resolve(self.peak))
            if drawdown > 0 and drawdown >= limit:
                self.drawdown_breached = True
                self.breaches.append((ts, "max_drawdown"))
                found.append(ev.RuleBreached(ts, "max_drawdown", limit, drawdown))
        if (
            s.refill
            and not acct.positions
            and acct.wallet_balance() <= 0
            and any(isinstance(o, ev.Liquidation) for o in out)
        ):
            amount = money(s.balance - acct.wallet_balance())
            acct.cross_wallet += amount
            equity += amount
            self.peak += amount
            self.day_open += amount
            self.refills.append((ts, amount))
            found.append(ev.Refill(ts, amount))
        self.last_equity = equity
        return found

    def to_state(self) -> dict[str, Any]:
        return {
            "peak": str(self.peak),
            "day": self.day,
            "day_open": str(self.day_open),
            "last_equity": str(self.last_equity),
            "blocked_day": self.blocked_day,
            "drawdown_breached": self.drawdown_breached,
            "breaches": [[ts, rule] for ts, rule in self.breaches],
            "refills": [[ts, str(amount)] for ts, amount in self.refills],
            "last_ts": self.last_ts,
        }

    @classmethod
    def from_state(cls, settings: ev.SessionSettings, state: dict[str, Any]) -> Challenge:
        c = cls(settings)
        c.peak = dec(state["peak"])
        c.day = None if state["day"] is None else int(state["day"])
        c.day_open = dec(state["day_open"])
        c.last_equity = dec(state["last_equity"])
        c.blocked_day = None if state["blocked_day"] is None else int(state["blocked_day"])
        c.drawdown_breached = bool(state["drawdown_breached"])
        c.breaches = [(int(ts), str(rule)) for ts, rule in state["breaches"]]
        c.refills = [(int(ts), dec(amount)) for ts, amount in state["refills"]]
        c.last_ts = int(state["last_ts"])
        return c


RULE_KEYS = ("max_daily_loss", "max_drawdown", "max_leverage", "max_position_notional", "refill")


def rules_to_state(settings: ev.SessionSettings) -> dict[str, Any]:
    """The rules that are set, as JSON-ready text (the engine state, the sessions column)."""
    out: dict[str, Any] = {}
    for key in ("max_daily_loss", "max_drawdown"):
        limit = getattr(settings, key)
        if limit is not None:
            out[key] = str(limit)
    if settings.max_leverage is not None:
        out["max_leverage"] = settings.max_leverage
    if settings.max_position_notional is not None:
        out["max_position_notional"] = str(settings.max_position_notional)
    if settings.refill:
        out["refill"] = True
    return out


def parse_limit(text: str) -> ev.Limit:
    """`"500"` or `"5%"` as a `Limit`; ValueError with the reason otherwise (no bounds here:
    the edges that take a limit from outside check it with `core.codec`)."""
    text = text.strip()
    if text.endswith("%"):
        return ev.Limit(dec(text[:-1].strip()), True)
    return ev.Limit(dec(text))


def rules_from_state(settings: ev.SessionSettings, rules: dict[str, Any]) -> ev.SessionSettings:
    """`settings` with the rules of `rules_to_state`'s output (absent keys: no rule)."""
    return replace(
        settings,
        max_daily_loss=None
        if "max_daily_loss" not in rules
        else parse_limit(rules["max_daily_loss"]),
        max_drawdown=None if "max_drawdown" not in rules else parse_limit(rules["max_drawdown"]),
        max_leverage=None if "max_leverage" not in rules else int(rules["max_leverage"]),
        max_position_notional=(
            None if "max_position_notional" not in rules else dec(rules["max_position_notional"])
        ),
        refill=bool(rules.get("refill", False)),
    )
