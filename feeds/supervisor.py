"""The one connection supervisor every live venue runs on.

A venue adapter describes its connections as data (`ConnectionSpec`: URL, subscription messages,
keepalive, which streams to watch and how quiet each may get; see `connection.py`) and decodes
frames; this module does everything else the same way for every venue: connect, replay the
desired subscriptions on every connect, change them in place on the open connection
(`add_symbol` / `remove_symbol`), keep the connection alive, watch each stream for silence,
reconnect with capped jittered backoff, act on the venue's classified error replies, renew
long-lived connections, and report a `FeedStatus`. There is no venue branch in here: a venue
that needs something new gets a new field in the spec, not an `if`.

Why the backoff has a minimum lifetime: `websockets` (and most clients) reset their backoff as
soon as a connection opens, so a server that accepts and immediately drops is re-dialled at full
speed — the reconnect storm exchanges ban IPs for. Here a connection only resets the backoff
once it has lived `min_lifetime` seconds.

Why bursts do not kill the link: frames are read in batches (the loop gets a turn every
`Timing.batch` frames, so pings, timers and the UI run while busy), events go to the consumer one
list per frame through a bounded queue (backpressure reaches the socket, never unbounded memory),
and the supervisor's own keepalive counts any data received after a ping as proof of life — in a
burst the server's pong waits behind the data, and the library's keepalive would cut a healthy
connection for it. How far behind we are shows as `lag_ms` / `behind` in the status.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
)

from papertrade.core.events import MarketEvent, MarkPrice
from papertrade.feeds.base import (
    BEHIND_LAG_MS,
    FeedFatal,
    FeedState,
    FeedStats,
    FeedStatus,
    FundingClock,
    LiveBounds,
    ReconnectRequested,
    plain_text,
)
from papertrade.feeds.connection import (
    TIMING_FIELDS,
    Adapter,
    ConnectionSpec,
    Keepalive,
    Outgoing,
    Timing,
    VenueError,
    close_text,
)
from papertrade.feeds.link import Link

__all__ = [
    "TIMING_FIELDS",
    "Adapter",
    "Clock",
    "ConnectionSpec",
    "Keepalive",
    "SupervisedFeed",
    "Timing",
    "VenueError",
]

Clock = Callable[[], float]
WallMs = Callable[[], int]

TRANSITIONS_KEPT = 1_000  # a feed flapping for days must not grow memory with its history


def wall_clock_ms() -> int:
    """The real wall clock in ms, the time venues stamp events with (lag is measured on it)."""
    return time.time_ns() // 1_000_000


class _Verdict(Exception):
    """A venue's permanent refusal that leaves nothing to deliver: the feed fails with it."""


class SupervisedFeed:
    """A live venue feed: the `Feed` protocol over one adapter and its connections.

    `FundingClock` turns announced funding into one `Funding` per funding time for any venue.
    `transitions` records the latest status changes (`TRANSITIONS_KEPT`) so tests and logs can
    see the story;
    `refused` maps each symbol the venue refused to its words.
    """

    def __init__(
        self,
        adapter: Adapter,
        timing: Timing | None = None,
        *,
        clock: Clock = time.monotonic,
        wall_ms: WallMs = wall_clock_ms,
        rng: random.Random | None = None,
        connect_fn: Callable[..., object] = connect,
    ) -> None:
        self.adapter = adapter
        self.name = adapter.venue
        self.timing = timing or Timing()
        self._clock = clock
        self._wall_ms = wall_ms
        self._rng = rng or random.Random()
        self._connect = connect_fn
        self._funding = FundingClock()
        self._queue: asyncio.Queue[list[MarketEvent] | None] | None = None  # None: the end
        self._pending: deque[MarketEvent] = deque()
        now = clock()
        self._links = [Link(self.timing.apply(s), now) for s in adapter.connections()]
        self._started = False
        self._closing = False
        self._ended = False
        self._fatal: str | None = None
        self._fatal_server = False
        self.refused: dict[str, str] = {}
        self._refusal = ""
        self._lag_ms: int | None = None
        self._behind = False
        self._status = FeedStatus("connecting", since_ms=self._ms(now))
        self.transitions: deque[FeedStatus] = deque([self._status], maxlen=TRANSITIONS_KEPT)
        self._status_waiters: list[tuple[Callable[[FeedStatus], bool], asyncio.Future[None]]] = []

    # --- Feed protocol --------------------------------------------------------------------

    @property
    def stats(self) -> FeedStats:
        return self.adapter.stats

    @property
    def symbols(self) -> list[str]:
        """The symbols desired now (refused ones are no longer among them)."""
        return list(self.adapter.symbols)

    @property
    def status(self) -> FeedStatus:
        """The current status, with the live figures: reconnect countdown, dropped, lag."""
        status = self._status
        retry_in = status.retry_in_s
        if status.state == "reconnecting":
            retry = [link.retry_at for link in self._links if link.retry_at is not None]
            if retry:
                retry_in = max(0.0, min(retry) - self._clock())
        return replace(
            status,
            retry_in_s=retry_in,
            dropped=sum(self.stats.dropped.values()),
            lag_ms=self._lag_ms,
        )

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
        self._end()

    # --- changing the subscriptions in place -------------------------------------------------

    def add_symbol(self, symbol: str) -> None:
        """Deliver `symbol` too, subscribing on the open connection(s) — never a second
        connection, never a second price path. Idempotent; replayed on every reconnect.
        `ValueError` if the venue module cannot map the symbol (OKX without a contract size)."""
        self.refused.pop(symbol.upper(), None)
        self._respec(self.adapter.add_symbol(symbol))

    def remove_symbol(self, symbol: str) -> None:
        """Stop delivering `symbol` (unsubscribe on the open connection). Idempotent."""
        self._respec(self.adapter.remove_symbol(symbol))

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
            link.wake = asyncio.Event()
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

    def _respec(self, outgoing: Outgoing) -> None:
        """The desired set changed: new specs for the next connects, messages for the open
        connections, stream tracking for exactly the desired streams."""
        specs = {spec.name: spec for spec in self.adapter.connections()}
        now = self._clock()
        for link in self._links:
            spec = specs.get(link.spec.name)
            if spec is None:
                continue
            link.spec = self.timing.apply(spec)
            if link.ws is not None:
                wanted = link.spec.streams
                for gone in [s for s in link.last_seen if s not in wanted]:
                    del link.last_seen[gone]
                    link.stale.pop(gone, None)
                for stream in wanted:
                    link.last_seen.setdefault(stream, now)
            messages = outgoing.get(link.spec.name, ())
            if messages:
                link.outbox.extend(messages)
                if link.wake is not None:
                    link.wake.set()
        self._refresh()

    async def _iterate(self) -> AsyncIterator[MarketEvent]:
        self.start()
        queue = self._queue
        assert queue is not None
        pending = self._pending  # outlives this iterator: closing it mid-frame loses nothing
        while True:
            while pending:
                yield pending.popleft()
            if self._ended and queue.empty():
                return
            item = await queue.get()
            if item is None:
                queue.put_nowait(None)  # later iterators end too
                return
            pending.extend(item)

    def _end(self) -> None:
        """End iteration once what is queued is consumed (the queue may be full: then the
        iterator sees `_ended` when it has drained it)."""
        self._ended = True
        if self._queue is not None:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(None)

    def _set_link(
        self, link: Link, state: FeedState, detail: str = "", retry_at: float | None = None
    ) -> None:
        link.state = state
        link.since = self._clock()
        link.detail = detail
        link.retry_at = retry_at
        if state not in ("live", "waiting"):
            link.stale.clear()
        self._refresh()

    def _refresh(self) -> None:
        """Fold the links into one feed status; record it if it changed."""
        if self._closing and self._status.state in ("ended", "failed"):
            return
        links = self._links
        multi = len(links) > 1
        server = False
        if self._fatal is not None:
            new = FeedStatus("failed", self._fatal, self._ms(self._clock()))
            server = self._fatal_server
        elif any(link.state == "failed" for link in links):
            link = next(link for link in links if link.state == "failed")
            new = FeedStatus("failed", link.detail, self._ms(link.since))
            server = link.server_closed
        elif any(link.state == "reconnecting" for link in links):
            link = min(
                (link for link in links if link.state == "reconnecting"),
                key=lambda x: x.retry_at or 0.0,
            )
            retry = max(0.0, (link.retry_at or 0.0) - self._clock())
            detail = f"{link.spec.name}: {link.detail}" if multi else link.detail
            server = link.server_closed
            new = FeedStatus("reconnecting", detail, self._ms(link.since), retry)
        elif any(link.state == "connecting" for link in links):
            link = next(link for link in links if link.state == "connecting")
            server = link.server_closed
            new = FeedStatus("connecting", link.detail, self._ms(link.since))
        elif any(link.state == "waiting" for link in links):
            link = next(link for link in links if link.state == "waiting")
            detail = self._refusal or (f"{link.spec.name} connection" if multi else "")
            new = FeedStatus("waiting", detail, self._ms(link.since))
        elif any(link.stale for link in links):
            stream, since = min(
                ((s, t) for link in links for s, t in link.stale.items()), key=lambda x: x[1]
            )
            new = FeedStatus("stale", f"{stream} silent", self._ms(since))
        else:
            since = max(link.since for link in links)
            new = FeedStatus("live", self._refusal, self._ms(since))
        new = replace(new, lag_ms=self._lag_ms, behind=self._behind, closed_by_server=server)
        old = self._status
        if (old.state, old.detail, old.behind) != (new.state, new.detail, new.behind):
            self._set_status(new)

    def _set_status(self, status: FeedStatus) -> None:
        self._status = status
        self.transitions.append(status)
        self._wake(status)

    def _wake(self, status: FeedStatus) -> None:
        for predicate, fut in list(self._status_waiters):
            if not fut.done() and predicate(status):
                fut.set_result(None)

    def _fail(self, reason: str, *, server: bool = False) -> None:
        """A verdict no retry can change: stop every connection and end the iteration."""
        self._fatal = plain_text(reason)
        self._fatal_server = server  # the venue said so: the network works
        self._refresh()
        current = asyncio.current_task()
        for link in self._links:
            if link.task is not None and link.task is not current:
                link.task.cancel()
        self._end()

    def _refuse(self, exc: VenueError) -> None:
        """A permanent refusal naming symbols: those stop (and are not replayed on reconnect);
        the rest go on. With nothing left to deliver, the feed fails with the venue's words."""
        desired = {s.upper() for s in self.adapter.symbols}
        named = [s for s in exc.symbols if s.upper() in desired]
        if not exc.symbols:
            raise _Verdict(exc.text)
        for symbol in named:
            self.refused[symbol.upper()] = exc.text
            self.adapter.remove_symbol(symbol)  # no unsubscribe: the venue never subscribed it
            self._respec({})
        if not self.adapter.symbols:
            raise _Verdict(exc.text)
        if named:
            self._refusal = exc.text
            self._refresh()

    def _observe_lag(self, event_ts: int) -> None:
        lag = max(0, self._wall_ms() - event_ts)
        self._lag_ms = lag
        # Hysteresis: behind past the threshold, caught up only below half of it.
        behind = lag > BEHIND_LAG_MS if not self._behind else lag > BEHIND_LAG_MS // 2
        if behind != self._behind:
            self._behind = behind
            self._refresh()

    async def _run(self, link: Link) -> None:
        """Connect, read, and reconnect one link until the feed closes or fails."""
        t = self.timing
        failures = 0
        while not self.closing():
            self._set_link(link, "connecting", link.detail)
            opened_at: float | None = None
            link.renew = False
            link.close_reason = ""
            link.server_closed = False
            link.outbox.clear()  # the spec taken now holds everything desired so far
            dialed = link.spec
            try:
                async with self._connect(
                    dialed.url,
                    open_timeout=t.open_timeout,
                    close_timeout=t.close_timeout,
                    ping_interval=None,  # our own keepalive, which knows data is proof of life
                    ping_timeout=None,
                    max_size=t.max_size,
                    max_queue=max(16, t.batch),
                    compression=None,
                ) as ws:  # type: ignore[attr-defined]
                    opened_at = self._clock()
                    self.stats.connects[dialed.name] += 1
                    self.adapter.on_connect(dialed.name)
                    link.ws = ws
                    link.last_rx = opened_at
                    link.last_seen = dict.fromkeys(link.spec.streams, opened_at)
                    for message in dialed.subscribe:
                        await ws.send(message)
                    self._set_link(link, "waiting")
                    reason = await self._pump(link, ws)
            except _Verdict as exc:
                self._fail(str(exc), server=True)
                return
            except FeedFatal as exc:
                text = f"{dialed.name}: {exc}" if len(self._links) > 1 else str(exc)
                self._fail(text, server=True)
                return
            except ConnectionClosed as exc:
                reason, link.server_closed = close_text(exc, None)
                reason = link.close_reason or reason
            except InvalidStatus as exc:
                code = exc.response.status_code
                link.server_closed = True
                if code == 429 or code >= 500:
                    reason = f"HTTP {code} from server"
                else:
                    self._fail(f"server refused the connection: HTTP {code}", server=True)
                    return
            except InvalidURI as exc:
                self._fail(f"bad websocket URL: {plain_text(exc)}")
                return
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                reason = plain_text(f"{type(exc).__name__}: {exc}".rstrip(": "))
            except Exception as exc:  # anything else: retry with backoff, never die silently
                reason = plain_text(f"unexpected {type(exc).__name__}: {exc}".rstrip(": "))
            finally:
                link.ws = None
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
                    text = f"gave up after {failures} attempts: {reason}"
                    self._fail(text, server=link.server_closed)
                    return
            self._set_link(link, "reconnecting", reason, now + delay)
            await asyncio.sleep(delay)

    async def _pump(self, link: Link, ws: ClientConnection) -> str:
        """Read frames into events until the connection ends; return why it ended."""
        helpers = [
            asyncio.create_task(link.watch(ws, self.timing, self._clock, self._refresh)),
            asyncio.create_task(link.send_changes(ws)),
        ]
        decode = self.adapter.decode
        name = link.spec.name
        clock = self._clock
        queue = self._queue
        assert queue is not None
        funding = self._funding
        stats = self.stats
        admit = LiveBounds(stats).admit
        requests: list[tuple[str, str]] | None = getattr(self.adapter, "outbox", None)
        batch = max(1, self.timing.batch)
        count = 0
        try:
            try:
                async for raw in ws:
                    now = clock()
                    link.last_rx = now
                    count += 1
                    if count >= batch:  # a burst must not starve pings, timers and the UI
                        count = 0
                        await asyncio.sleep(0)
                    try:
                        stream, events = decode(name, raw)
                    except ReconnectRequested as exc:
                        link.close_reason = plain_text(f"venue asked to reconnect: {exc}")
                        link.renew = True
                        link.server_closed = True
                        await ws.close(1000, "reconnecting")
                        break
                    except VenueError as exc:
                        if not exc.retryable:
                            self._refuse(exc)
                            continue
                        link.close_reason = exc.text
                        await ws.close(1000, "retrying later")
                        link.server_closed = True
                        break
                    except FeedFatal:
                        raise
                    except Exception:  # a decoder bug must not take the feed down: count it
                        stats.dropped["decode_error"] += 1
                        continue
                    if requests:  # the adapter asks for something itself (a book resubscribe)
                        self._send_requests(requests)
                    if stream is not None:
                        seen = link.last_seen
                        if stream not in seen:  # adapters filter these; never track them
                            stats.dropped["unknown_stream"] += 1
                            continue
                        seen[stream] = now
                        stats.received[stream] += 1
                        if link.stale and link.stale.pop(stream, None) is not None:
                            self._refresh()
                        if link.state == "waiting":
                            self._set_link(link, "live")
                    if events:  # times within 2015 … wall + 1 day, else dropped, counted
                        wall = self._wall_ms()
                        events = [e for e in events if admit(e, wall)]
                    if not events:
                        continue
                    out = self._with_funding(funding, events)
                    self._observe_lag(events[-1].ts)
                    if queue.full():
                        await queue.put(out)
                    else:
                        queue.put_nowait(out)
            except ConnectionClosed as exc:
                reason, link.server_closed = close_text(exc, ws)
                return link.close_reason or reason
            reason, server = close_text(None, ws)
            link.server_closed = link.server_closed or server
            return link.close_reason or reason
        finally:
            for task in helpers:
                task.cancel()
            for task in helpers:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def _send_requests(self, requests: list[tuple[str, str]]) -> None:
        """Queue an adapter's own requests on their open connections (dropped for a connection
        that is not open: its next connect subscribes everything afresh anyway)."""
        links = {link.spec.name: link for link in self._links}
        for conn, message in requests:
            link = links.get(conn)
            if link is not None and link.ws is not None:
                link.outbox.append(message)
                if link.wake is not None:
                    link.wake.set()
        requests.clear()

    @staticmethod
    def _with_funding(funding: FundingClock, events: list[MarketEvent]) -> list[MarketEvent]:
        """The frame's events with any funding settlement a mark in them brings, just before
        that mark."""
        if not any(type(e) is MarkPrice for e in events):
            return events
        out: list[MarketEvent] = []
        for event in events:
            if type(event) is MarkPrice:
                settled = funding.observe(event)
                if settled is not None:
                    out.append(settled)
            out.append(event)
        return out
