"""Open a live venue feed by name: the one place that knows which adapter serves which venue."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from papertrade.feeds.binance import BinanceAdapter
from papertrade.feeds.bybit import BybitAdapter
from papertrade.feeds.connection import TIMING_FIELDS, Adapter, Timing
from papertrade.feeds.hyperliquid import HyperliquidAdapter
from papertrade.feeds.okx import OkxAdapter
from papertrade.feeds.supervisor import SupervisedFeed, WallMs, wall_clock_ms

ADAPTERS: dict[str, Callable[..., Adapter]] = {
    "binance": BinanceAdapter,
    "bybit": BybitAdapter,
    "okx": OkxAdapter,
    "hyperliquid": HyperliquidAdapter,
}
LIVE_VENUES = tuple(ADAPTERS)


def open_venue_feed(
    venue: str,
    symbols: list[str],
    ws_url: str | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    wall_ms: WallMs | None = None,
    rng: random.Random | None = None,
    **timing: Any,
) -> SupervisedFeed:
    """A supervised live feed for `venue` ("binance", "bybit", "okx", "hyperliquid").

    `ws_url` replaces the venue's base URL (testnets, proxies, local servers; `ws://` works);
    paths and subscriptions are built as for the real venue. Keyword arguments named like
    `Timing` fields set timing; the rest go to the adapter (e.g. OKX `contracts`). `wall_ms`
    is the wall clock lag is measured on (Hyperliquid also stamps its marks with it). Nothing
    connects until the feed is iterated. The feed takes `add_symbol` / `remove_symbol` while
    running (see `Subscribable` in `base.py`).
    """
    factory = ADAPTERS.get(venue)
    if factory is None:
        raise ValueError(f"unknown venue {venue!r}; choose one of {', '.join(LIVE_VENUES)}")
    timing_args = {k: v for k, v in timing.items() if k in TIMING_FIELDS}
    adapter_args = {k: v for k, v in timing.items() if k not in TIMING_FIELDS}
    if wall_ms is not None and factory is HyperliquidAdapter:
        adapter_args["wall_ms"] = wall_ms  # its marks carry no time of their own
    adapter = factory(symbols, ws_url, **adapter_args)
    return SupervisedFeed(
        adapter, Timing(**timing_args), clock=clock, rng=rng, wall_ms=wall_ms or wall_clock_ms
    )
