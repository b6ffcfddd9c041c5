"""The latest market picture of one symbol, as the engine has seen it."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from papertrade.core.events import WorkingType


class MarketState:
    """Last quote, trade and mark of a symbol.

    `has_mark` tells whether a real mark-price stream has been seen; until then the engine
    marks positions at the quote mid or the last trade, so drills without marks still work.
    """

    __slots__ = (
        "ask",
        "asks",
        "bid",
        "bids",
        "funding_rate",
        "has_mark",
        "index",
        "last",
        "last_ts",
        "mark",
        "mark_ts",
        "next_funding_ts",
        "symbol",
    )

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bid: Decimal | None = None
        self.ask: Decimal | None = None
        self.last: Decimal | None = None
        self.mark: Decimal | None = None
        self.index: Decimal | None = None
        self.funding_rate: Decimal | None = None
        self.next_funding_ts: int | None = None
        self.has_mark = False
        self.mark_ts = -1
        """When the last mark-price event came (-1: none yet); with `last_ts`, what a gap is
        measured from (`core.challenge`)."""
        self.last_ts = -1
        self.bids: tuple[tuple[Decimal, Decimal], ...] = ()
        self.asks: tuple[tuple[Decimal, Decimal], ...] = ()
        """The latest `book` event's levels, best first (empty: no book seen)."""

    def watched(self, working: WorkingType) -> Decimal | None:
        """The price a trigger on `working` watches: the last trade, or the mark of a mark
        stream (a mark made from a quote's mid does not fire mark-price triggers)."""
        if working == "mark":
            return self.mark if self.has_mark else None
        return self.last

    def to_state(self) -> dict[str, object]:
        def s(v: Decimal | None) -> str | None:
            return None if v is None else str(v)

        return {
            "symbol": self.symbol,
            "bid": s(self.bid),
            "ask": s(self.ask),
            "last": s(self.last),
            "mark": s(self.mark),
            "index": s(self.index),
            "funding_rate": s(self.funding_rate),
            "next_funding_ts": self.next_funding_ts,
            "has_mark": self.has_mark,
            **({"mark_ts": self.mark_ts} if self.mark_ts >= 0 else {}),
            **({"last_ts": self.last_ts} if self.last_ts >= 0 else {}),
            # the latest book only when one was seen: states without books read as before
            **({"bids": _levels_out(self.bids)} if self.bids else {}),
            **({"asks": _levels_out(self.asks)} if self.asks else {}),
        }

    @classmethod
    def from_state(cls, data: dict[str, object]) -> MarketState:
        m = cls(str(data["symbol"]))
        for name in ("bid", "ask", "last", "mark", "index", "funding_rate"):
            value = data.get(name)
            setattr(m, name, None if value is None else Decimal(str(value)))
        nft = data.get("next_funding_ts")
        m.next_funding_ts = None if nft is None else int(str(nft))
        m.has_mark = bool(data.get("has_mark"))
        m.mark_ts = int(str(data.get("mark_ts", -1)))
        m.last_ts = int(str(data.get("last_ts", -1)))
        m.bids = _levels_in(data.get("bids", ()))
        m.asks = _levels_in(data.get("asks", ()))
        return m


def _levels_out(levels: tuple[tuple[Decimal, Decimal], ...]) -> list[list[str]]:
    return [[str(p), str(q)] for p, q in levels]


def _levels_in(data: object) -> tuple[tuple[Decimal, Decimal], ...]:
    if not isinstance(data, list | tuple):
        raise ValueError(f"book levels in engine state are not a list: {data!r}")
    return tuple((Decimal(str(p)), Decimal(str(q))) for p, q in data)
