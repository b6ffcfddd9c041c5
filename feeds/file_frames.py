"""The Binance frames a `file:` recording holds (hftbacktest, cryptofeed captures), validated
with the drill format's own field types (`core.codec`).

Apart from `feeds/file.py` so that naming the file feed (the terminal does, at every start)
builds no pydantic model: these are built when a capture is first played.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from papertrade.core import codec
from papertrade.core.events import MarketEvent, MarkPrice, Quote, Trade

# --- Binance frames (combined-stream `data` objects) ------------------------------------------


class BookTicker(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    e: Literal["bookTicker"]
    E: codec.Ts | None = None
    T: codec.Ts | None = None
    u: int | None = None
    s: codec.Symbol
    b: codec.Price
    B: codec.Size
    a: codec.Price
    A: codec.Size

    def to_event(self) -> Quote:
        ts = self.T or self.E
        if ts is None:
            raise ValueError("bookTicker without a time")
        return Quote(ts, self.s, self.b, self.a, self.B, self.A)


class TradeFrame(BaseModel):
    """`trade` and `aggTrade`: stamped with the trade time `T`, as the live Binance feed does."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    e: Literal["trade", "aggTrade"]
    E: codec.Ts
    T: codec.Ts | None = None
    s: codec.Symbol
    p: codec.Price
    q: codec.Qty

    def to_event(self) -> Trade:
        return Trade(self.T or self.E, self.s, self.p, self.q)


class MarkPriceUpdate(BaseModel):
    """`markPriceUpdate`, in case a capture has it (the bundled ones do not)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    e: Literal["markPriceUpdate"]
    E: codec.Ts
    s: codec.Symbol
    p: codec.Price
    i: codec.Price | None = None
    r: codec.Rate | None = None
    T: codec.Ts | None = None

    def to_event(self) -> MarkPrice:
        return MarkPrice(self.E, self.s, self.p, self.i, self.r, self.T or None)


Frame = BookTicker | TradeFrame | MarkPriceUpdate
FRAMES: dict[str, type[Frame]] = {
    "bookTicker": BookTicker,
    "trade": TradeFrame,
    "aggTrade": TradeFrame,
    "markPriceUpdate": MarkPriceUpdate,
}


def parse_binance_model(obj: Any) -> Frame | None:
    """Validate a Binance combined-stream frame (or its bare `data`); None if not played."""
    if not isinstance(obj, dict):
        return None
    data = obj.get("data", obj)
    if not isinstance(data, dict):
        return None
    model = FRAMES.get(data.get("e", ""))
    if model is None:
        return None
    return model.model_validate(data)


def parse_binance_frame(obj: Any) -> MarketEvent | None:
    """A Binance combined-stream frame (or its bare `data`) as a core event; None if ignored."""
    frame = parse_binance_model(obj)
    return None if frame is None else frame.to_event()
