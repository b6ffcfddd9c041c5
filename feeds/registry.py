"""One place that turns a feed spec (`binance`, `sim`, `file:PATH`, …) into a `Feed`.

Why: the TUI, the recorder and the tests all choose a feed from a string; keeping the mapping
here means a new venue or offline feed is added once. Live venues are imported lazily, so the
offline feeds work (and start fast) without touching the websocket stack; the feeds
themselves (and asyncio with them) are imported only by `open_feed`, so the command line can
name the feeds in its help without loading any (issue 14).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Feed

VENUES = ("binance", "bybit", "okx", "hyperliquid")
OFFLINE = ("sim", "file:PATH")
VALID_FEEDS = (*VENUES, *OFFLINE)
DEFAULT_SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT")
"""The watchlist when none is given (and the `sim` feed's symbols)."""


def feed_kind(spec: str) -> str:
    """The feed family of a spec: a venue name, `sim` or `file` (ValueError if unknown)."""
    text = spec.strip()
    if text.startswith("file:"):
        if not text[5:]:
            raise ValueError("file: needs a path, e.g. file:session.jsonl")
        return "file"
    name = text.lower()
    if name in VENUES or name == "sim":
        return name
    raise ValueError(f"unknown feed {spec!r}; valid feeds: {', '.join(VALID_FEEDS)}")


def open_feed(
    spec: str,
    symbols: Sequence[str],
    ws_url: str | None = None,
    speed: str | float = 1.0,
    seed: int | None = None,
    **kw: Any,
) -> Feed:
    """Build the feed named by `spec` for `symbols`.

    `speed` and `seed` apply to the offline feeds (`seed` defaults to 0 for `sim`); `ws_url`
    overrides a venue's base URL. Extra keywords go to the feed's constructor (`sim`:
    `start_ts`, `interval_ms`, `end_ts`, `instruments`, and to resume a saved session
    `after_ts` + `start_prices`; both offline feeds: `clock` and `sleep` for their pacing;
    `file:`: `derive_marks`; every feed: `depth`, the book levels a side, 20 by default, 0 for
    no books).
    """
    from .pacing import parse_speed

    kind = feed_kind(spec)
    factor = parse_speed(speed)
    if kind == "sim":
        from .sim import SimFeed

        return SimFeed(list(symbols) or list(DEFAULT_SYMBOLS), seed=seed or 0, speed=factor, **kw)
    if kind == "file":
        from .file import FileFeed

        return FileFeed(spec.strip()[5:], list(symbols) or None, speed=factor, **kw)
    from .venues import open_venue_feed

    return open_venue_feed(kind, list(symbols), ws_url=ws_url, **kw)
