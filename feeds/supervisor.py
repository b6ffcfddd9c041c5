"""The one connection supervisor every live venue runs on.

A venue adapter describes its connections as data (`ConnectionSpec`: URL, subscription messages,
keepalive, which streams to watch and how quiet each may get) and decodes frames; this module
does everything else the same way for every venue: connect, replay the desired subscriptions on
every connect, keep the connection alive, watch each stream for silence, reconnect with capped
jittered backoff, renew long-lived connections, and report a `FeedStatus`. There is no venue
branch in here: a venue that needs something new gets a new field in the spec, not an `if`.

Why the backoff has a minimum lifetime: `websockets` (and most clients) reset their backoff as
soon as a connection opens, so a server that accepts and immediately drops is re-dialled at full
speed — the reconnect storm exchanges ban IPs for. Here a connection only resets the backoff
once it has lived `min_lifetime` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from papertrade.core.events import MarketEvent, MarkPrice
from papertrade.feeds.base import (
    FeedFatal,
    FeedState,
    FeedStats,
    FeedStatus,
    FundingClock,
    ReconnectRequested,
    plain_text,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
)

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Keepalive:
    """An application-level ping the venue requires (protocol pings are handled by websockets).

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
    """One websocket connection a venue needs, as data.

    `streams` maps every stream key the adapter reports for this connection to the silence (in
    seconds) after which it counts as stale, or None for streams that may legitimately be quiet
    (trades of an illiquid symbol).
    """

    name: str
    url: str
    subscribe: tuple[str, ...] = ()
    streams: Mapping[str, float | None] = field(default_factory=dict)
    keepalive: Keepalive | None = None
    max_lifetime: float | None = None


@dataclass(frozen=True, slots=True)
class Timing:
    """Every timing knob, injectable so tests run in milliseconds.

    The `*_override` fields replace what the adapter asks for (keepalive interval, stream
    silence thresholds, connection lifetime) without the test knowing venue defaults.
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

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Delay before attempt number `failures` (0-based): capped exponential, ± jitter."""
        base = min(self.backoff_max, self.backoff_initial * self.backoff_factor**failures)
        return max(0.0, base * (1.0 + self.jitter * (2.0 * rng.random() - 1.0)))


TIMING_FIELDS = frozenset(Timing.__dataclass_fields__)


class Adapter(Protocol):
    """What a venue module provides to the supervisor."""

    venue: str
    stats: FeedStats

    def connections(self) -> Sequence[ConnectionSpec]:
        """The connections to keep open, with URL and the subscriptions to (re)play."""
        ...

    def on_connect(self, conn: str) -> None:
        """A connection (re)opened: forget per-connection state (e.g. snapshot+delta merges)."""
        ...

    def decode(self, conn: str, raw: str | bytes) -> tuple[str | None, list[MarketEvent]]:
        """Parse one frame: (stream key it fed, or None for control frames; events). Counts and
        swallows bad input; raises `FeedFatal` / `ReconnectRequested` for venue verdicts."""
        ...


_END = object()


class _Link:
    """Mutable state of one supervised connection."""

    __slots__ = (
        "close_reason",
        "detail",
        "last_rx",
        "last_seen",
        "renew",
        "retry_at",
        "since",
        "spec",
        "stale",
        "state",
        "task",
    )

    def __init__(self, spec: ConnectionSpec, now: float) -> None:
        self.spec = spec
        self.state: FeedState = "connecting"
        self.since = now
        self.detail = ""
        self.retry_at: float | None = None
        self.last_rx = now
        self.last_seen: dict[str, float] = {}
        self.stale: dict[str, float] = {}
        self.close_reason = ""
        self.renew = False
        self.task: asyncio.Task[None] | None = None


def _close_text(exc: ConnectionClosed | None, ws: ClientConnection | None) -> str:
    """Describe how a connection closed, from the close frame the server sent if any."""
    if exc is not None:
        if exc.rcvd is None:
            return "connection lost (no close frame)"
        code, reason = exc.rcvd.code, exc.rcvd.reason
    elif ws is not None and ws.close_code not in (None, 1006):
        code, reason = ws.close_code, ws.close_reason or ""
    else:
        return "connection lost (no close frame)"
    text = f"closed by server ({code}"
    return f"{text} {plain_text(reason, 80)})" if reason else f"{text})"


class SupervisedFeed:
    """A live venue feed: the `Feed` protocol over one adapter and its connections.

    Events go through a bounded queue (backpressure reaches the socket, never unbounded memory);
    `FundingClock` turns announced funding into one `Funding` per funding time for any venue.
    `transitions` records every status change so tests and logs can see the whole story.
    """

    def __init__(
        self,
        adapter: Adapter,
        timing: Timing | None = None,
        *,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
        connect_fn: Callable[..., object] = connect,
    ) -> None:
        self.adapter = adapter
        self.name = adapter.venue
        self.timing = timing or Timing()
        self._clock = clock
        self._rng = rng or random.Random()
        self._connect = connect_fn
        self._funding = FundingClock()
        self._queue: asyncio.Queue[object] | None = None
        now = clock()
        self._links = [_Link(self._apply_overrides(s), now) for s in adapter.connections()]
        self._started = False
        self._closing = False
        self._fatal: str | None = None
        self._status = FeedStatus("connecting", since_ms=self._ms(now))
        self.transitions: list[FeedStatus] = [self._status]
        self._status_waiters: list[tuple[Callable[[FeedStatus], bool], asyncio.Future[None]]] = []

    # --- Feed protocol --------------------------------------------------------------------

    @property
    def stats(self) -> FeedStats:
        return self.adapter.stats

    @property
    def status(self) -> FeedStatus:
        """The current status; `retry_in_s` counts down while reconnecting."""
        status = self._status
        if status.state == "reconnecting":
            retry = [link.retry_at for link in self._links if link.retry_at is not None]
            if retry:
                left = max(0.0, min(retry) - self._clock())
                status = replace(status, retry_in_s=left)
        return status

    def __aiter__(self) -> AsyncIterator[MarketEvent]:
        return self._iterate()

    async def aclose(self) -> None:
        """Stop every connection; iteration ends after the events already queued."""
        if self._closing:
            return
        self._closing = True
        tasks = [link.task for link in self._links if link.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._status.state != "failed":  # keep the reason a failed feed stopped
            self._set_status(FeedStatus("ended", since_ms=self._ms(self._clock())))
        if self._queue is not None:
            self._queue.put_nowait(_END)

    # --- public helpers --------------------------------------------------------------------

    def now_ms(self) -> int:
        """The feed's monotonic clock in ms: pass it to `FeedStatus.describe(now_ms=...)`."""
        return self._ms(self._clock())

    def closing(self) -> bool:
        """True once `aclose()` began: connection loops stop instead of reconnecting."""
        return self._closing

    def start(self) -> None:
        """Start the connection tasks (done by the first iteration; needs a running loop)."""
        if self._started:
            return
        self._started = True
        self._queue = asyncio.Queue(self.timing.queue_size)
        for link in self._links:
            link.task = asyncio.create_task(
                self._run(link), name=f"feed-{self.name}-{link.spec.name}"
            )

    async def wait_status(
        self, predicate: Callable[[FeedStatus], bool], within: float = 5.0
    ) -> FeedStatus:
        """Wait until the status satisfies `predicate` (an event to await instead of sleeping)."""
        if predicate(self._status):
            return self._status
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (predicate, fut)
        self._status_waiters.append(entry)
        try:
            async with asyncio.timeout(within):
                await fut
        finally:
            if entry in self._status_waiters:
                self._status_waiters.remove(entry)
        return self._status

    # --- internals -------------------------------------------------------------------------

    def _ms(self, seconds: float) -> int:
        return int(seconds * 1000)

    def _apply_overrides(self, spec: ConnectionSpec) -> ConnectionSpec:
        t = self.timing
        keepalive = spec.keepalive
        if keepalive is not None and t.keepalive_override is not None:
            keepalive = replace(keepalive, interval=t.keepalive_override)
        if keepalive is not None and t.pong_timeout_override is not None:
            keepalive = replace(keepalive, pong_timeout=t.pong_timeout_override)
        streams = spec.streams
        if t.stale_override is not None:
            streams = {k: (None if v is None else t.stale_override) for k, v in streams.items()}
        lifetime = spec.max_lifetime
        if t.lifetime_override is not None:
            lifetime = t.lifetime_override
        return replace(spec, keepalive=keepalive, streams=streams, max_lifetime=lifetime)

    async def _iterate(self) -> AsyncIterator[MarketEvent]:
        self.start()
        queue = self._queue
        assert queue is not None
        while True:
            item = await queue.get()
            if item is _END:
                queue.put_nowait(_END)  # later iterators end too
                return
            yield item  # type: ignore[misc]

    def _set_link(
        self, link: _Link, state: FeedState, detail: str = "", retry_at: float | None = None
    ) -> None:
        link.state = state
        link.since = self._clock()
        link.detail = detail
        link.retry_at = retry_at
        if state != "live":
            link.stale.clear()
        self._refresh()

    def _refresh(self) -> None:
        """Fold the links into one feed status; record it if it changed."""
        if self._closing and self._status.state in ("ended", "failed"):
            return
        links = self._links
        if self._fatal is not None:
            new = FeedStatus("failed", self._fatal, self._ms(self._clock()))
        elif any(link.state == "failed" for link in links):
            link = next(link for link in links if link.state == "failed")
            new = FeedStatus("failed", link.detail, self._ms(link.since))
        elif any(link.state == "reconnecting" for link in links):
            link = min(
                (link for link in links if link.state == "reconnecting"),
                key=lambda x: x.retry_at or 0.0,
            )
            retry = max(0.0, (link.retry_at or 0.0) - self._clock())
            detail = f"{link.spec.name}: {link.detail}" if len(links) > 1 else link.detail
            new = FeedStatus("reconnecting", detail, self._ms(link.since), retry)
        elif any(link.state == "connecting" for link in links):
            link = next(link for link in links if link.state == "connecting")
            new = FeedStatus("connecting", link.detail, self._ms(link.since))
        elif any(link.stale for link in links):
            stream, since = min(
                ((s, t) for link in links for s, t in link.stale.items()), key=lambda x: x[1]
            )
            new = FeedStatus("stale", f"{stream} silent", self._ms(since))
        else:
            since = max(link.since for link in links)
            new = FeedStatus("live", "", self._ms(since))
        old = self._status
        if (old.state, old.detail) != (new.state, new.detail):
            self._status = new
            self.transitions.append(new)
            self._wake(new)

    def _set_status(self, status: FeedStatus) -> None:
        self._status = status
        self.transitions.append(status)
        self._wake(status)

    def _wake(self, status: FeedStatus) -> None:
        for predicate, fut in list(self._status_waiters):
            if not fut.done() and predicate(status):
                fut.set_result(None)

    def _fail(self, reason: str) -> None:
        """A verdict no retry can change: stop every connection and end the iteration."""
        self._fatal = plain_text(reason)
        self._refresh()
        current = asyncio.current_task()
        for link in self._links:
            if link.task is not None and link.task is not current:
                link.task.cancel()
        if self._queue is not None:
            self._queue.put_nowait(_END)

    async def _run(self, link: _Link) -> None:
        """Connect, read, and reconnect one link until the feed closes or fails."""
        spec = link.spec
        t = self.timing
        failures = 0
        while not self.closing():
            self._set_link(link, "connecting", link.detail)
            opened_at: float | None = None
            link.renew = False
            link.close_reason = ""
            try:
                async with self._connect(
                    spec.url,
                    open_timeout=t.open_timeout,
                    close_timeout=t.close_timeout,
                    ping_interval=t.ping_interval,
                    ping_timeout=t.ping_timeout,
                    max_size=2**23,
                    compression=None,
                ) as ws:  # type: ignore[attr-defined]
                    opened_at = self._clock()
                    self.stats.connects[spec.name] += 1
                    self.adapter.on_connect(spec.name)
                    for message in spec.subscribe:
                        await ws.send(message)
                    link.last_rx = opened_at
                    link.last_seen = {s: opened_at for s in spec.streams}
                    self._set_link(link, "live")
                    reason = await self._pump(link, ws)
            except FeedFatal as exc:
                self._fail(f"{spec.name}: {exc}" if len(self._links) > 1 else str(exc))
                return
            except ConnectionClosed as exc:
                reason = link.close_reason or _close_text(exc, None)
            except InvalidStatus as exc:
                code = exc.response.status_code
                if code == 429 or code >= 500:
                    reason = f"HTTP {code} from server"
                else:
                    self._fail(f"server refused the connection: HTTP {code}")
                    return
            except InvalidURI as exc:
                self._fail(f"bad websocket URL: {plain_text(exc)}")
                return
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                reason = plain_text(f"{type(exc).__name__}: {exc}".rstrip(": "))
            except Exception as exc:  # anything else: retry with backoff, never die silently
                reason = plain_text(f"unexpected {type(exc).__name__}: {exc}".rstrip(": "))
            if self.closing():
                return
            now = self._clock()
            if link.renew:
                failures = 0
                delay = 0.0
            else:
                if opened_at is not None and now - opened_at >= t.min_lifetime:
                    failures = 0
                delay = t.backoff(failures, self._rng)
                failures += 1
                if t.max_attempts is not None and failures >= t.max_attempts:
                    self._set_link(link, "failed", f"gave up after {failures} attempts: {reason}")
                    self._fail(f"gave up after {failures} attempts: {reason}")
                    return
            self._set_link(link, "reconnecting", reason, now + delay)
            await asyncio.sleep(delay)

    async def _pump(self, link: _Link, ws: ClientConnection) -> str:
        """Read frames into events until the connection ends; return why it ended."""
        timers = asyncio.create_task(self._timers(link, ws))
        decode = self.adapter.decode
        name = link.spec.name
        clock = self._clock
        queue = self._queue
        assert queue is not None
        funding = self._funding
        try:
            try:
                async for raw in ws:
                    now = clock()
                    link.last_rx = now
                    try:
                        stream, events = decode(name, raw)
                    except ReconnectRequested as exc:
                        link.close_reason = plain_text(f"venue asked to reconnect: {exc}")
                        link.renew = True
                        await ws.close(1000, "reconnecting")
                        break
                    except FeedFatal:
                        raise
                    except Exception:  # a decoder bug must not take the feed down: count it
                        self.stats.dropped["decode_error"] += 1
                        continue
                    if stream is not None:
                        link.last_seen[stream] = now
                        if link.stale and link.stale.pop(stream, None) is not None:
                            self._refresh()
                    for event in events:
                        if type(event) is MarkPrice:
                            settled = funding.observe(event)
                            if settled is not None:
                                await queue.put(settled)
                        await queue.put(event)
            except ConnectionClosed as exc:
                return link.close_reason or _close_text(exc, ws)
            return link.close_reason or _close_text(None, ws)
        finally:
            timers.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await timers

    async def _timers(self, link: _Link, ws: ClientConnection) -> None:
        """Keepalive pings, per-stream watchdog and connection renewal for one open link."""
        spec = link.spec
        t = self.timing
        clock = self._clock
        keepalive = spec.keepalive
        opened = clock()
        last_ping = opened
        ping_sent: float | None = None
        tick = t.watchdog_tick
        if keepalive is not None:
            tick = min(tick, keepalive.interval / 4)
        watched = {s: v for s, v in spec.streams.items() if v is not None}

        async def drop(reason: str, renew: bool = False) -> None:
            link.close_reason = reason
            link.renew = renew
            await ws.close(1000, "client reconnecting")

        while True:
            await asyncio.sleep(tick)
            now = clock()
            if spec.max_lifetime is not None and now - opened >= spec.max_lifetime:
                await drop("renewing the connection before the venue's time limit", renew=True)
                return
            if keepalive is not None:
                if ping_sent is not None and link.last_rx >= ping_sent:
                    ping_sent = None
                if (
                    ping_sent is not None
                    and keepalive.pong_timeout is not None
                    and now - ping_sent > keepalive.pong_timeout
                ):
                    await drop(f"no reply to keepalive ping within {keepalive.pong_timeout:g} s")
                    return
                if keepalive.idle_only:
                    due = ping_sent is None and now - link.last_rx >= keepalive.interval
                else:
                    due = now - last_ping >= keepalive.interval
                if due:
                    await ws.send(keepalive.message)
                    last_ping = now
                    if ping_sent is None:
                        ping_sent = now
            changed = False
            for stream, limit in watched.items():
                seen = link.last_seen.get(stream, opened)
                silent = now - seen
                if silent > limit * t.stale_reconnect_factor:
                    await drop(f"{stream} silent for {silent:.1f} s")
                    return
                if silent > limit and stream not in link.stale:
                    link.stale[stream] = seen
                    changed = True
            if changed:
                self._refresh()
