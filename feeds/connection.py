"""What a venue adapter tells the supervisor, as data: its connections (`ConnectionSpec`), their
keepalive, the timing knobs, the `Adapter` protocol and the verdicts a venue can hand down.

Kept apart from `supervisor.py` so each venue module reads as "URL, messages, wire schemas"
against a small vocabulary, and the supervisor's module holds only the running machinery.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from papertrade.core.events import MarketEvent
from papertrade.feeds.base import FeedStats, plain_text


@dataclass(frozen=True, slots=True)
class Keepalive:
    """An application-level ping the venue requires (protocol pings are the supervisor's).

    `idle_only`: send only after `interval` seconds without receiving anything (OKX); otherwise
    send every `interval` seconds (Bybit, Hyperliquid). `pong_timeout`: if nothing at all
    arrives that long after a ping, the connection is dead — reconnect.
    """

    message: str
    interval: float
    idle_only: bool = False
    pong_timeout: float | None = None


@dataclass(frozen=True, slots=True)
class ConnectionSpec:
    """One websocket connection a venue needs, as data, for the symbols desired right now.

    `streams` maps every stream key the adapter reports for this connection to the silence (in
    seconds) after which it counts as stale, or None for streams that may legitimately be quiet
    (trades of an illiquid symbol). It is also the connection's whole desired set: a stream key
    not in it is dropped and counted, never tracked (a server cannot grow our memory by
    inventing stream names). `subscribe` is replayed on every connect; the URL may carry
    streams too (Binance), and is rebuilt from the desired set for each connect.
    `send_interval`: the least time between two subscription changes sent on the open
    connection (Binance cuts a connection that sends more than 10 messages a second).
    """

    name: str
    url: str
    subscribe: tuple[str, ...] = ()
    streams: Mapping[str, float | None] = field(default_factory=dict)
    keepalive: Keepalive | None = None
    max_lifetime: float | None = None
    send_interval: float = 0.0


@dataclass(frozen=True, slots=True)
class Timing:
    """Every timing knob, injectable so tests run in milliseconds.

    `ping_interval` / `ping_timeout` drive the supervisor's own protocol pings (not the
    library's): a ping unanswered for `ping_timeout` only kills the connection if nothing else
    arrived since it was sent either — during a burst the pong waits behind the data, and data
    proves the link alive. The `*_override` fields replace what the adapter asks for (keepalive
    interval, stream silence thresholds, connection lifetime) without the test knowing venue
    defaults. `batch`: frames handled before yielding to the event loop. `max_size`: the
    largest message accepted (bigger ones close the connection with 1009).
    """

    open_timeout: float = 10.0
    close_timeout: float = 5.0
    backoff_initial: float = 1.0
    backoff_factor: float = 2.0
    backoff_max: float = 60.0
    jitter: float = 0.2
    min_lifetime: float = 30.0
    stale_reconnect_factor: float = 3.0
    watchdog_tick: float = 0.5
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    max_attempts: int | None = None
    keepalive_override: float | None = None
    pong_timeout_override: float | None = None
    stale_override: float | None = None
    lifetime_override: float | None = None
    queue_size: int = 10_000
    batch: int = 256
    max_size: int = 2**23

    def apply(self, spec: ConnectionSpec) -> ConnectionSpec:
        """`spec` with the `*_override` knobs applied."""
        keepalive = spec.keepalive
        if keepalive is not None and self.keepalive_override is not None:
            keepalive = replace(keepalive, interval=self.keepalive_override)
        if keepalive is not None and self.pong_timeout_override is not None:
            keepalive = replace(keepalive, pong_timeout=self.pong_timeout_override)
        streams = spec.streams
        if self.stale_override is not None:
            limit = self.stale_override
            streams = {k: (None if v is None else limit) for k, v in streams.items()}
        lifetime = spec.max_lifetime
        if self.lifetime_override is not None:
            lifetime = self.lifetime_override
        return replace(spec, keepalive=keepalive, streams=streams, max_lifetime=lifetime)

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Delay before attempt number `failures` (0-based): capped exponential, ± jitter."""
        base = min(self.backoff_max, self.backoff_initial * self.backoff_factor**failures)
        return max(0.0, base * (1.0 + self.jitter * (2.0 * rng.random() - 1.0)))


TIMING_FIELDS = frozenset(Timing.__dataclass_fields__)

Outgoing = Mapping[str, Sequence[str]]
"""Messages to send now on open connections, by connection name (subscribe / unsubscribe)."""


class VenueError(Exception):
    """A venue's error reply, parsed and classified by its adapter (the supervisor has no venue
    knowledge): `retryable` ones (rate limit, maintenance, busy) reconnect with backoff;
    permanent ones end the `symbols` they name, or the whole feed when they name none."""

    def __init__(self, text: str, *, retryable: bool, symbols: Sequence[str] = ()) -> None:
        super().__init__(text)
        self.text = plain_text(text)
        self.retryable = retryable
        self.symbols = tuple(symbols)


_RETRYABLE = re.compile(
    r"too many|rate.?limit|frequen|busy|overload|maintenance|upgrad|timeout|timed out|"
    r"try again|temporar|unavailable|internal error|server error|system error",
    re.IGNORECASE,
)


def retryable_text(text: str) -> bool:
    """Does a venue's error text say that waiting and retrying can help? Venues word this
    freely (Binance "Too many requests", Bybit "system busy", OKX "Requests too frequent"),
    so the shared words are recognised here and a venue's codes are added in its module."""
    return _RETRYABLE.search(text) is not None


class Adapter(Protocol):
    """What a venue module provides to the supervisor.

    Optionally an `outbox: list[tuple[str, str]]` of (connection name, message) the adapter
    itself needs sent, e.g. Bybit's resubscribe of a book that lost a delta: the supervisor
    sends and empties it after each frame.
    """

    venue: str
    stats: FeedStats

    def connections(self) -> Sequence[ConnectionSpec]:
        """The connections to keep open for the symbols desired now (same names every time)."""
        ...

    @property
    def symbols(self) -> Sequence[str]:
        """The user symbols desired now."""
        ...

    def add_symbol(self, symbol: str) -> Outgoing:
        """Desire `symbol` too; the subscribe messages to send on the open connections (nothing
        if it was already desired). `connections()` includes it from now on."""
        ...

    def remove_symbol(self, symbol: str) -> Outgoing:
        """Stop desiring `symbol`; the unsubscribe messages (nothing if it was not desired)."""
        ...

    def on_connect(self, conn: str) -> None:
        """A connection (re)opened: forget per-connection state (e.g. snapshot+delta merges)."""
        ...

    def decode(self, conn: str, raw: str | bytes) -> tuple[str | None, list[MarketEvent]]:
        """Parse one frame: (desired stream key it fed, or None; events). Counts and swallows
        bad input (a stream key not desired is counted `unknown_stream` and reported as None);
        raises `VenueError` for a venue's error reply, `ReconnectRequested` for a notice."""
        ...


def close_text(exc: ConnectionClosed | None, ws: ClientConnection | None) -> tuple[str, bool]:
    """How a connection closed, and whether the server said so (a close frame it sent).

    A close we started ourselves for a protocol reason (1009: a message over our size limit;
    1011: our keepalive ping unanswered) is named for that reason: "no close frame" would send
    the user looking for a network problem that is not there.
    """
    lost = "connection lost (no close frame)"
    if exc is None:
        if ws is None or ws.close_code in (None, 1006):
            return lost, False
        if ws.close_code in (1009, 1011):
            return _ours(ws.close_code), False
        return _server(ws.close_code, ws.close_reason or ""), True
    rcvd, sent = exc.rcvd, exc.sent
    if rcvd is not None and (sent is None or exc.rcvd_then_sent):
        if rcvd.code == 1009:
            return "message too big (1009)", True
        return _server(rcvd.code, rcvd.reason), True
    if sent is not None and sent.code in (1009, 1011):
        return _ours(sent.code), False
    if rcvd is not None:
        return _server(rcvd.code, rcvd.reason), True
    return lost, False


def _ours(code: int) -> str:
    return "message too big (1009)" if code == 1009 else "keepalive ping unanswered (1011)"


def _server(code: int, reason: str) -> str:
    text = f"closed by server ({code}"
    return f"{text} {plain_text(reason, 80)})" if reason else f"{text})"
