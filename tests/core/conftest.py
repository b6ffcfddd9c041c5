"""Shared builders for engine tests: an engine with zero or default fees and terse events."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from papertrade.core import events as ev
from papertrade.core.engine import Engine


class Driver:
    """Feeds an engine terse events with increasing timestamps and keeps every outcome."""

    def __init__(self, balance: str = "10000", taker: str = "0.0005", maker: str = "0.0002"):
        self.engine = Engine(settings=ev.SessionSettings(D(balance), D(taker), D(maker)))
        self.ts = 1_700_000_000_000
        self.outcomes: list[ev.Outcome] = []

    def apply(self, event: ev.Event) -> list[ev.Outcome]:
        out = self.engine.apply(event)
        self.outcomes += out
        return out

    def tick(self) -> int:
        self.ts += 1000
        return self.ts

    def mark(self, symbol: str, price: str) -> list[ev.Outcome]:
        return self.apply(ev.MarkPrice(self.tick(), symbol, D(price)))

    def quote(self, symbol: str, bid: str, ask: str) -> list[ev.Outcome]:
        return self.apply(ev.Quote(self.tick(), symbol, D(bid), D(ask)))

    def trade(self, symbol: str, price: str, qty: str = "1") -> list[ev.Outcome]:
        return self.apply(ev.Trade(self.tick(), symbol, D(price), D(qty)))

    def order(
        self, id: str, symbol: str, side: ev.Side, qty: str, price: str | None = None, **kw: Any
    ) -> list[ev.Outcome]:
        kind = "limit" if price is not None else "market"
        return self.apply(
            ev.PlaceOrder(
                self.tick(),
                id,
                symbol,
                side,
                D(qty),
                kind,  # type: ignore[arg-type]
                D(price) if price else None,
                **kw,
            )
        )

    def account(self) -> ev.AccountState:
        return self.engine.account()

    def position(self, symbol: str) -> ev.PositionState:
        return next(p for p in self.account().positions if p.symbol == symbol)


@pytest.fixture
def driver() -> Driver:
    return Driver()


@pytest.fixture
def nofee() -> Driver:
    return Driver(taker="0", maker="0")


@pytest.fixture
def make_driver() -> type[Driver]:
    """For a test that needs its own balance or fees: `make_driver(balance="100")`."""
    return Driver
