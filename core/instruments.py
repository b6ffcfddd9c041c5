"""Instruments, their maintenance-margin brackets and order rules, loaded from bundled data.

Binance changes brackets often, so they live in data files (`core/data/*.json`, sources in
`core/data/SOURCES.md`) rather than in code. The same files carry each symbol's order and
liquidation rules from Binance's `exchangeInfo` (clearance fee, stop price protection, price
band, largest orders). Every such number is checked here, at the edge, so the engine behind
never meets a fee of 150 % or a band that admits no price. Reading those files is the one place
the core touches its own package data: static inputs, like constants, never user files or the
network.
"""

from __future__ import annotations

import json
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from itertools import pairwise
from typing import Any

from papertrade.core.numbers import MAX_QTY, BadNumber, dec
from papertrade.core.records import Value

VENUES = ("binance", "bybit", "okx", "hyperliquid")


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class Bracket(Value):
    """One maintenance-margin tier: notional in [floor, cap) pays `mmr` minus `cum`."""

    floor: Decimal
    cap: Decimal
    max_leverage: int
    mmr: Decimal
    cum: Decimal


# Defaults for an instrument built without these rules (tests, a refreshed symbol the bundle
# does not know on a venue whose API does not state them): Binance's most common USDⓈ-M values
# (BTCUSDT's, see `core/data/SOURCES.md` §8); sizes unlimited below the global `MAX_QTY`.
DEFAULT_LIQUIDATION_FEE = Decimal("0.0125")
DEFAULT_TRIGGER_PROTECT = Decimal("0.05")
DEFAULT_PRICE_UP = Decimal("1.05")
DEFAULT_PRICE_DOWN = Decimal("0.95")
DEFAULT_MARKET_TAKE_BOUND = Decimal("0.05")

# JSON key of each rule field in `core/data/*.json` (same as the attribute name).
RULE_FIELDS = (
    "liquidation_fee",
    "trigger_protect",
    "price_up",
    "price_down",
    "market_take_bound",
    "market_max_qty",
    "max_qty",
)


@dataclass(slots=True, frozen=True, eq=False, repr=False)
class Instrument(Value):
    """One contract and its exchange rules.

    The rule fields mirror Binance `GET /fapi/v1/exchangeInfo`:
    `liquidation_fee` ← `liquidationFee` (clearance fee rate on a liquidated notional),
    `trigger_protect` ← `triggerProtect` (a stop does not trigger while last and mark price
    differ by more than this fraction), `price_up` / `price_down` ← PERCENT_PRICE
    `multiplierUp` / `multiplierDown` (limit prices must stay inside mark × [down, up]),
    `market_take_bound` ← `marketTakeBound` (furthest a market order may fill from mark, as a
    fraction), `market_max_qty` ← MARKET_LOT_SIZE `maxQty`, `max_qty` ← LOT_SIZE `maxQty`.
    They are checked on construction, so no instrument with an impossible rule exists.
    """

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    min_notional: Decimal
    brackets: tuple[Bracket, ...]
    liquidation_fee: Decimal = DEFAULT_LIQUIDATION_FEE
    trigger_protect: Decimal = DEFAULT_TRIGGER_PROTECT
    price_up: Decimal = DEFAULT_PRICE_UP
    price_down: Decimal = DEFAULT_PRICE_DOWN
    market_take_bound: Decimal = DEFAULT_MARKET_TAKE_BOUND
    market_max_qty: Decimal = MAX_QTY
    max_qty: Decimal = MAX_QTY

    def __post_init__(self) -> None:
        check_rules(self.symbol, self.rules())

    def rules(self) -> dict[str, Decimal]:
        """The rule fields by name, e.g. to carry them onto a refreshed instrument."""
        return {name: getattr(self, name) for name in RULE_FIELDS}

    @property
    def max_leverage(self) -> int:
        return self.brackets[0].max_leverage

    def bracket_for(self, notional: Decimal) -> Bracket:
        """The tier holding `notional` (floors inclusive, as freqtrade reads Binance's table)."""
        brackets = self.brackets
        if notional < brackets[0].cap:
            return brackets[0]
        for bracket in brackets:
            if notional < bracket.cap:
                return bracket
        return brackets[-1]

    def notional_cap(self, leverage: int) -> Decimal:
        """Largest position notional allowed at `leverage`: the cap of the highest tier whose
        max leverage still admits it."""
        cap = Decimal(0)
        for bracket in self.brackets:
            if bracket.max_leverage >= leverage:
                cap = bracket.cap
        return cap


class InstrumentBook(Mapping[str, Instrument]):
    """The instruments one venue offers, by the user-facing symbol (`BTCUSDT`)."""

    def __init__(
        self,
        venue: str,
        instruments: Iterable[Instrument],
        as_of: str = "",
        default_rules: Mapping[str, Decimal] | None = None,
    ) -> None:
        self.venue = venue
        self.as_of = as_of
        # The rules a symbol new to this book gets (the file's `default_rules`), e.g. when a
        # refresh lists a symbol the bundle lacks and the venue's API does not state them.
        self.default_rules = dict(default_rules if default_rules is not None else _BUILTIN_RULES)
        self._by_symbol = {i.symbol: i for i in instruments}

    def __getitem__(self, symbol: str) -> Instrument:
        return self._by_symbol[symbol]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_symbol)

    def __len__(self) -> int:
        return len(self._by_symbol)

    def with_instruments(self, extra: Iterable[Instrument]) -> InstrumentBook:
        """A new book where `extra` (e.g. refreshed from a venue's REST API) overrides."""
        merged = dict(self._by_symbol)
        merged.update({i.symbol: i for i in extra})
        return InstrumentBook(self.venue, merged.values(), self.as_of, self.default_rules)


def parse_brackets(
    rows: Iterable[Mapping[str, Any]], number: Callable[[Any], Decimal] = dec
) -> tuple[Bracket, ...]:
    brackets = tuple(
        Bracket(
            floor=number(r["floor"]),
            cap=number(r["cap"]),
            max_leverage=int(r["max_leverage"]),
            mmr=number(r["mmr"]),
            cum=number(r["cum"]),
        )
        for r in rows
    )
    if not brackets:
        raise ValueError("an instrument needs at least one bracket")
    for lower, upper in pairwise(brackets):
        if upper.floor != lower.cap:
            raise ValueError(f"bracket gap: {lower.cap} then {upper.floor}")
    return brackets


def check_rules(symbol: str, rules: Mapping[str, Decimal]) -> None:
    """Refuse a rule no exchange could mean: rates in [0, 1), bands with up > 1 > down > 0,
    order-size caps in (0, MAX_QTY]."""
    for name in ("liquidation_fee", "trigger_protect", "market_take_bound"):
        value = rules[name]
        if not Decimal(0) <= value < 1:
            raise BadNumber(f"{symbol}: {name} must be a rate in [0, 1), got {value}")
    up, down = rules["price_up"], rules["price_down"]
    if not (up > 1 and Decimal(0) < down < 1):
        raise BadNumber(
            f"{symbol}: price band needs price_up > 1 > price_down > 0, got {up} / {down}"
        )
    for name in ("market_max_qty", "max_qty"):
        value = rules[name]
        if not Decimal(0) < value <= MAX_QTY:
            raise BadNumber(f"{symbol}: {name} must be in (0, {MAX_QTY}], got {value}")


def parse_rules(
    symbol: str,
    row: Mapping[str, Any],
    defaults: Mapping[str, Decimal],
    number: Callable[[Any], Decimal] = dec,
) -> dict[str, Decimal]:
    """The rule fields of one JSON row, each falling back to `defaults`; checked."""
    rules: dict[str, Decimal] = {}
    for name in RULE_FIELDS:
        raw = row.get(name)
        try:
            rules[name] = defaults[name] if raw is None else number(raw)
        except BadNumber as exc:
            raise BadNumber(f"{symbol}: {name}: {exc}") from exc
    check_rules(symbol, rules)
    return rules


_BUILTIN_RULES: dict[str, Decimal] = {
    "liquidation_fee": DEFAULT_LIQUIDATION_FEE,
    "trigger_protect": DEFAULT_TRIGGER_PROTECT,
    "price_up": DEFAULT_PRICE_UP,
    "price_down": DEFAULT_PRICE_DOWN,
    "market_take_bound": DEFAULT_MARKET_TAKE_BOUND,
    "market_max_qty": MAX_QTY,
    "max_qty": MAX_QTY,
}


def parse_book(data: Mapping[str, Any]) -> InstrumentBook:
    """Build a book from the bundled JSON layout (see `core/data/SOURCES.md`).

    Rule fields (`RULE_FIELDS`) may be given per instrument or once in a top-level
    `default_rules` object; a missing one takes the built-in default."""
    number = _remembered()
    rule_defaults = parse_rules(
        "default_rules", data.get("default_rules") or {}, _BUILTIN_RULES, number
    )
    default = data.get("default_brackets")
    default_brackets = parse_brackets(default, number) if default else None
    instruments = []
    for row in data["instruments"]:
        rows = row.get("brackets")
        brackets = parse_brackets(rows, number) if rows else default_brackets
        if brackets is None:
            raise ValueError(f"{row['symbol']}: no brackets and no default table")
        rules = parse_rules(str(row["symbol"]), row, rule_defaults, number)
        instruments.append(
            Instrument(
                symbol=row["symbol"],
                base=row["base"],
                quote=row.get("quote", "USDT"),
                tick_size=number(row["tick_size"]),
                step_size=number(row["step_size"]),
                min_qty=number(row.get("min_qty", row["step_size"])),
                min_notional=number(row.get("min_notional", "0")),
                brackets=brackets,
                liquidation_fee=rules["liquidation_fee"],
                trigger_protect=rules["trigger_protect"],
                price_up=rules["price_up"],
                price_down=rules["price_down"],
                market_take_bound=rules["market_take_bound"],
                market_max_qty=rules["market_max_qty"],
                max_qty=rules["max_qty"],
            )
        )
    return InstrumentBook(
        data.get("venue", "binance"), instruments, data.get("as_of", ""), rule_defaults
    )


def _remembered() -> Callable[[Any], Decimal]:
    """`dec`, each text parsed once: a venue's file repeats the same few numbers ("0",
    "0.0125", its bracket tiers) across all its instruments, and `dec` was most of the
    time `papertrade simulate` spent loading them (issue 14)."""
    seen: dict[str, Decimal] = {}

    def number(value: Any) -> Decimal:
        if value.__class__ is not str:  # (True == 1: only texts share an entry)
            return dec(value)
        got = seen.get(value)
        if got is None:
            got = seen[value] = dec(value)
        return got

    return number


_FILES = {
    "binance": "binance_usdm.json",
    "bybit": "bybit_linear.json",
    "okx": "okx_swap.json",
    "hyperliquid": "hyperliquid_perp.json",
}


def _package_data(name: str) -> bytes:
    """A file of `papertrade.core.data`, through the package's own loader (a wheel, a zip):
    `pkgutil.get_data`, where `importlib.resources` cost `simulate` ~25M instructions of
    imports (its readers, `zipfile`) on its way to the first line (issue 14)."""
    data = pkgutil.get_data("papertrade.core.data", name)
    if data is None:  # a loader that cannot read data files
        raise FileNotFoundError(f"papertrade.core.data/{name}")
    return data


@cache
def bundled(venue: str = "binance") -> InstrumentBook:
    """The instruments shipped with papertrade for `venue` (Binance's when a venue has none)."""
    try:
        data = _package_data(_FILES.get(venue, _FILES["binance"]))
    except FileNotFoundError:
        data = _package_data(_FILES["binance"])
    book = parse_book(json.loads(data.decode("utf-8")))
    book.venue = venue
    return book


def instruments_for(venue: str) -> InstrumentBook:
    """The instrument book a session on `venue` trades with.

    The one place that answers it: a venue with bundled data trades on its own; the offline
    feeds (`sim`, a `file:` recording) and any venue without data trade on Binance's rules.
    """
    return bundled(venue if venue in _FILES else "binance")
