"""Price alerts: "tell me when BTCUSDT's mark goes above 96,000", fired once, then gone.

Why Textual-free and outside the engine: an alert is the trader's wish to be told, not
something the simulated exchange acts on, so it is not an engine input and is not journaled
(a replay or a resume does not ring old alerts; a resumed session starts with none).

The price watched is the mark the engine holds after applying a market event: the venue's
mark-price stream, or — for a market without one (a quotes-only recording) — the quote mid or
last trade the engine marks positions at. So an alert agrees with the uPnL, the liquidation
check and the chart, which all follow that price.

Hot path: `check` is called only for an event whose symbol has alerts (`symbol in alerts`, a
dict lookup), and then compares the mark with that symbol's few alerts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from papertrade.core.numbers import PRICE, plain
from papertrade.tui.service.typed import parse_decimal

Direction = Literal["above", "below"]
DIRECTIONS: tuple[Direction, ...] = ("above", "below")
MAX_PER_SYMBOL = 20
"""More would be a mistake (a key held down), not a plan; the modal says so."""


@dataclass(frozen=True, slots=True)
class PriceAlert:
    """Fire when `symbol`'s mark is at or `above` / `below` `price`."""

    symbol: str
    direction: Direction
    price: Decimal

    def met_by(self, mark: Decimal) -> bool:
        return mark >= self.price if self.direction == "above" else mark <= self.price

    def describe(self) -> str:
        return f"{self.symbol} mark {self.direction} {plain(self.price)}"


@dataclass(frozen=True, slots=True)
class FiredAlert:
    """An alert and the mark (and its event time, ms) that met it."""

    alert: PriceAlert
    mark: Decimal
    ts: int

    def message(self) -> str:
        a = self.alert
        return f"{a.symbol} mark {plain(self.mark)} is {a.direction} your alert at {plain(a.price)}"


class AlertError(ValueError):
    """An alert that cannot be set; the message says why, for the modal to show."""


class PriceAlerts:
    """The session's armed alerts, by symbol."""

    __slots__ = ("_by_symbol",)

    def __init__(self) -> None:
        self._by_symbol: dict[str, list[PriceAlert]] = {}

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._by_symbol

    def __iter__(self) -> Iterator[PriceAlert]:
        for alerts in self._by_symbol.values():
            yield from alerts

    def __len__(self) -> int:
        return sum(len(a) for a in self._by_symbol.values())

    def for_symbol(self, symbol: str) -> list[PriceAlert]:
        return list(self._by_symbol.get(symbol, ()))

    def add(
        self, symbol: str, direction: Direction, price: Decimal, mark: Decimal | None
    ) -> PriceAlert:
        """Arm an alert; AlertError if the price is out of bounds, the mark already meets it
        (it would fire at once: the trader meant the other direction or a different price),
        or the symbol has `MAX_PER_SYMBOL` already. A duplicate is not added twice."""
        if direction not in DIRECTIONS:
            raise AlertError(f"direction must be above or below, not {direction!r}")
        if not PRICE.low < price <= PRICE.high:
            raise AlertError(f"alert price must be above 0 and at most {PRICE.high:,.0f}")
        alert = PriceAlert(symbol, direction, price)
        if mark is not None and alert.met_by(mark):
            raise AlertError(
                f"{symbol} mark is {plain(mark)}, already {direction} {plain(price)}: "
                f"it would fire at once"
            )
        armed = self._by_symbol.setdefault(symbol, [])
        if alert in armed:
            return alert
        if len(armed) >= MAX_PER_SYMBOL:
            raise AlertError(f"{symbol} has {MAX_PER_SYMBOL} alerts already: that is the most")
        armed.append(alert)
        return alert

    def remove(self, alert: PriceAlert) -> bool:
        armed = self._by_symbol.get(alert.symbol)
        if not armed or alert not in armed:
            return False
        armed.remove(alert)
        if not armed:
            del self._by_symbol[alert.symbol]
        return True

    def clear(self, symbol: str) -> int:
        """Disarm every alert of `symbol`; how many there were."""
        return len(self._by_symbol.pop(symbol, ()))

    def check(self, symbol: str, mark: Decimal | None, ts: int) -> list[FiredAlert]:
        """The alerts of `symbol` that `mark` meets, each removed as it fires (once only)."""
        armed = self._by_symbol.get(symbol)
        if not armed or mark is None:
            return []
        fired = [FiredAlert(a, mark, ts) for a in armed if a.met_by(mark)]
        if fired:
            left = [a for a in armed if not a.met_by(mark)]
            if left:
                self._by_symbol[symbol] = left
            else:
                del self._by_symbol[symbol]
        return fired


def parse_alert(text: str, mark: Decimal | None) -> tuple[Direction, Decimal]:
    """What the trader typed in the alert dialog: `above 96000`, `below 90000`, `>96000`,
    `<90000`, or a bare `96000` — above the mark if it is higher, below if lower. ValueError
    with the words to show otherwise (the price through the one typed-number parser)."""
    raw = text.strip().lower()
    direction: Direction | None = None
    for word, sign, meant in (("above", ">", "above"), ("below", "<", "below")):
        if raw.startswith(word) or raw.startswith(sign):
            direction = "above" if meant == "above" else "below"
            raw = raw.removeprefix(word).removeprefix(sign).strip()
            break
    if not raw:
        raise ValueError("type a price: 96000, above 96000 or below 90000")
    price = parse_decimal(raw, "alert price")
    if direction is None:
        if mark is None:
            raise ValueError("no mark yet: say above or below (above 96000)")
        if price == mark:
            raise ValueError(f"that is the mark now ({plain(mark)}): say above or below")
        direction = "above" if price > mark else "below"
    return direction, price
