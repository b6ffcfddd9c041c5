"""One supervised connection: its state, and the two helpers that run beside its reader while it
is open — the sender of subscription changes and the watch (keepalive pings, per-stream
silence, renewal before the venue's time limit).

Split from `supervisor.py` so that module holds the feed (status, reconnects, reading) and this
one what happens on a single open socket; neither knows any venue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection

from papertrade.feeds.base import FeedState
from papertrade.feeds.connection import ConnectionSpec, Timing


class Link:
    """Mutable state of one supervised connection.

    `last_seen` is keyed by exactly the desired streams of `spec` (kept so on every change), so
    no server can grow it; `stale` holds the silent ones with the time they went quiet;
    `outbox` the subscription changes not yet sent on the open `ws`.
    """

    __slots__ = (
        "close_reason",
        "detail",
        "last_rx",
        "last_seen",
        "outbox",
        "renew",
        "retry_at",
        "server_closed",
        "since",
        "spec",
        "stale",
        "state",
        "task",
        "wake",
        "ws",
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
        self.server_closed = False
        self.renew = False
        self.task: asyncio.Task[None] | None = None
        self.ws: ClientConnection | None = None
        self.outbox: list[str] = []
        self.wake: asyncio.Event | None = None

    async def send_changes(self, ws: ClientConnection) -> None:
        """Send subscription changes on the open connection, in the order they were made,
        `spec.send_interval` apart."""
        wake = self.wake
        assert wake is not None
        while True:
            while self.outbox:
                await ws.send(self.outbox.pop(0))
                if self.outbox and self.spec.send_interval > 0:
                    await asyncio.sleep(self.spec.send_interval)
            wake.clear()
            await wake.wait()

    async def watch(
        self,
        ws: ClientConnection,
        timing: Timing,
        clock: Callable[[], float],
        changed: Callable[[], None],
    ) -> None:
        """Keepalive pings, per-stream watchdog and renewal while the connection is open; ends
        by closing it with the reason in `close_reason`. `changed()` is called when a stream
        goes stale (the feed's status must be folded again)."""
        t = timing
        opened = clock()
        last_ping = opened
        ping_sent: float | None = None
        proto_at = opened
        proto: asyncio.Future[Any] | None = None
        tick = t.watchdog_tick
        keepalive = self.spec.keepalive
        if keepalive is not None:
            tick = min(tick, keepalive.interval / 4)
        if t.ping_interval is not None:
            tick = min(tick, t.ping_interval / 4)

        async def drop(reason: str, renew: bool = False) -> None:
            self.close_reason = reason
            self.renew = renew
            await ws.close(1000, "client reconnecting")

        while True:
            await asyncio.sleep(tick)
            now = clock()
            spec = self.spec
            if spec.max_lifetime is not None and now - opened >= spec.max_lifetime:
                await drop("renewing the connection before the venue's time limit", renew=True)
                return
            if t.ping_interval is not None:
                if proto is not None and proto.done():
                    proto = None
                if proto is None and now - proto_at >= t.ping_interval:
                    proto = _quiet(await ws.ping())
                    proto_at = now
                elif (
                    proto is not None
                    and t.ping_timeout is not None
                    # data since the ping proves the link alive as of when it came
                    and now - max(proto_at, self.last_rx) > t.ping_timeout
                ):
                    await drop(f"no reply to keepalive ping within {t.ping_timeout:g} s")
                    return
            if keepalive is not None:
                if ping_sent is not None and self.last_rx >= ping_sent:
                    ping_sent = None
                if (
                    ping_sent is not None
                    and keepalive.pong_timeout is not None
                    and now - ping_sent > keepalive.pong_timeout
                ):
                    await drop(f"no reply to keepalive ping within {keepalive.pong_timeout:g} s")
                    return
                if keepalive.idle_only:
                    due = ping_sent is None and now - self.last_rx >= keepalive.interval
                else:
                    due = now - last_ping >= keepalive.interval
                if due:
                    await ws.send(keepalive.message)
                    last_ping = now
                    if ping_sent is None:
                        ping_sent = now
            if self._check_streams(now, opened, t.stale_reconnect_factor, changed):
                await drop(self.close_reason)
                return

    def _check_streams(
        self, now: float, opened: float, factor: float, changed: Callable[[], None]
    ) -> bool:
        """Mark silent streams stale; True when one has been silent long enough to reconnect
        (the reason is left in `close_reason`)."""
        newly = False
        for stream, limit in self.spec.streams.items():
            if limit is None:
                continue
            seen = self.last_seen.get(stream, opened)
            silent = now - seen
            if silent > limit * factor:
                self.close_reason = f"{stream} silent for {silent:.1f} s"
                return True
            if silent > limit and stream not in self.stale:
                self.stale[stream] = seen
                newly = True
        if newly:
            changed()
        return False


def _quiet(waiter: Any) -> asyncio.Future[Any]:
    """A ping's pong waiter whose failure (the connection closing) needs no one to read it."""
    fut: asyncio.Future[Any] = asyncio.ensure_future(waiter)
    fut.add_done_callback(lambda f: f.cancelled() or f.exception())
    return fut
