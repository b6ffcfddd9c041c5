"""`FeedConfig`: which market a terminal session trades on, and how to open it.

Why Textual-free: the command line chooses the feed before any screen exists, and a take-over
swaps the live venue for a recorded market; both are decisions about the session, not about
drawing it. The kinds are honest: a venue name, `sim`, `file` (a recording on disk) or
`replay` (a saved session's recorded market after a take-over), and the questions the app
asks of them (`offline`, `plays_every_symbol`) are answered here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from papertrade.feeds.base import Feed
from papertrade.feeds.conflate import DEFAULT_PER_SECOND
from papertrade.feeds.registry import feed_kind, open_feed

if TYPE_CHECKING:
    from papertrade.tui.service.recorded import RecordedMarketFeed

OFFLINE_KINDS = frozenset({"sim", "file", "replay"})


@dataclass(slots=True)
class FeedConfig:
    """A feed spec (`binance`, `sim`, `file:PATH`) and its options, or a recorded market."""

    spec: str = "binance"
    ws_url: str | None = None
    speed: str | float = 1.0
    seed: int = 0
    per_second: int = DEFAULT_PER_SECOND
    options: dict[str, Any] = field(default_factory=dict)
    recorded: RecordedMarketFeed | None = None
    """Set for a take-over: the saved session's market after the branch point."""

    @classmethod
    def recording(cls, feed: RecordedMarketFeed) -> FeedConfig:
        return cls(spec=feed.name, speed=feed.speed, recorded=feed)

    @property
    def kind(self) -> str:
        """`binance`, `bybit`, `okx`, `hyperliquid`, `sim`, `file` or `replay`."""
        return "replay" if self.recorded is not None else feed_kind(self.spec)

    @property
    def offline(self) -> bool:
        """No network involved: an unreachable-venue hint would be wrong."""
        return self.kind in OFFLINE_KINDS

    @property
    def plays_every_symbol(self) -> bool:
        """A recording plays every symbol it holds: adding one to the watchlist just shows it."""
        return self.kind in ("file", "replay")

    def open(self, symbols: Sequence[str]) -> Feed:
        if self.recorded is not None:
            return self.recorded
        syms = [] if self.plays_every_symbol else list(symbols)
        return open_feed(
            self.spec, syms, ws_url=self.ws_url, speed=self.speed, seed=self.seed, **self.options
        )
