"""Instruments and their maintenance-margin brackets, loaded from bundled data.

Binance changes brackets often, so they live in data files (`core/data/*.json`, sources in
`core/data/SOURCES.md`) rather than in code. Reading those files is the one place the core
touches its own package data: static inputs, like constants, never user files or the network.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

from papertrade.core.numbers import dec

VENUES = ("binance", "bybit", "okx", "hyperliquid")


@dataclass(slots=True, frozen=True)
class Bracket:
    """One maintenance-margin tier: notional in [floor, cap) pays `mmr` minus `cum`."""

    floor: Decimal
    cap: Decimal
    max_leverage: int
    mmr: Decimal
    cum: Decimal


@dataclass(slots=True, frozen=True)
class Instrument:
    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    min_notional: Decimal
    brackets: tuple[Bracket, ...]
    liquidation_fee: Decimal = Decimal(0)
    """Clearance rate charged on a liquidated quantity's value (Binance `liquidationFee`)."""

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
        default_liquidation_fee: Decimal = Decimal(0),
    ) -> None:
        self.venue = venue
        self.as_of = as_of
        self.default_liquidation_fee = default_liquidation_fee
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
        return InstrumentBook(self.venue, merged.values(), self.as_of, self.default_liquidation_fee)


def parse_brackets(rows: Iterable[Mapping[str, Any]]) -> tuple[Bracket, ...]:
    brackets = tuple(
        Bracket(
            floor=dec(r["floor"]),
            cap=dec(r["cap"]),
            max_leverage=int(r["max_leverage"]),
            mmr=dec(r["mmr"]),
            cum=dec(r["cum"]),
        )
        for r in rows
    )
    if not brackets:
        raise ValueError("an instrument needs at least one bracket")
    for lower, upper in pairwise(brackets):
        if upper.floor != lower.cap:
            raise ValueError(f"bracket gap: {lower.cap} then {upper.floor}")
    return brackets


def parse_liquidation_fee(value: Any) -> Decimal:
    """A clearance rate: a fraction in [0, 1) (Binance lists e.g. "0.012500")."""
    fee = dec(value)
    if not Decimal(0) <= fee < 1:
        raise ValueError(f"liquidation fee {value!r} is not a rate in [0, 1)")
    return fee


def parse_book(data: Mapping[str, Any]) -> InstrumentBook:
    """Build a book from the bundled JSON layout (see `core/data/SOURCES.md`).

    A symbol without its own `liquidation_fee` takes the file's `default_liquidation_fee`."""
    default = data.get("default_brackets")
    default_brackets = parse_brackets(default) if default else None
    default_fee = parse_liquidation_fee(data.get("default_liquidation_fee", "0"))
    instruments = []
    for row in data["instruments"]:
        rows = row.get("brackets")
        brackets = parse_brackets(rows) if rows else default_brackets
        if brackets is None:
            raise ValueError(f"{row['symbol']}: no brackets and no default table")
        instruments.append(
            Instrument(
                symbol=row["symbol"],
                base=row["base"],
                quote=row.get("quote", "USDT"),
                tick_size=dec(row["tick_size"]),
                step_size=dec(row["step_size"]),
                min_qty=dec(row.get("min_qty", row["step_size"])),
                min_notional=dec(row.get("min_notional", "0")),
                brackets=brackets,
                liquidation_fee=(
                    parse_liquidation_fee(row["liquidation_fee"])
                    if "liquidation_fee" in row
                    else default_fee
                ),
            )
        )
    return InstrumentBook(
        data.get("venue", "binance"), instruments, data.get("as_of", ""), default_fee
    )


_FILES = {
    "binance": "binance_usdm.json",
    "bybit": "bybit_linear.json",
    "okx": "okx_swap.json",
    "hyperliquid": "hyperliquid_perp.json",
}


@cache
def bundled(venue: str = "binance") -> InstrumentBook:
    """The instruments shipped with papertrade for `venue` (Binance's when a venue has none)."""
    name = _FILES.get(venue, _FILES["binance"])
    source = resources.files("papertrade.core.data").joinpath(name)
    if not source.is_file():
        source = resources.files("papertrade.core.data").joinpath(_FILES["binance"])
    book = parse_book(json.loads(source.read_text(encoding="utf-8")))
    book.venue = venue
    return book


def instruments_for(venue: str) -> InstrumentBook:
    """The instrument book a session on `venue` trades with.

    The one place that answers it: a venue with bundled data trades on its own; the offline
    feeds (`sim`, a `file:` recording) and any venue without data trade on Binance's rules.
    """
    return bundled(venue if venue in _FILES else "binance")
