"""Shared fixtures for the feed tests: local websocket servers that speak each venue's protocol.

Each fake venue checks paths and subscriptions the way the real one does, answers its keepalive
and acks, and then runs a per-connection script written by the test (send frames, go silent,
drop the TCP connection, close cleanly, ...). The real client code connects to them over
`ws://127.0.0.1:<port>` through the `ws_url` override.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from papertrade.core.events import MarketEvent
from papertrade.feeds.supervisor import SupervisedFeed
from papertrade.feeds.venues import open_venue_feed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

FAST: dict[str, Any] = {
    "open_timeout": 2.0,
    "close_timeout": 0.2,
    "backoff_initial": 0.02,
    "backoff_factor": 2.0,
    "backoff_max": 0.2,
    "jitter": 0.0,
    "min_lifetime": 0.5,
    "watchdog_tick": 0.01,
    "ping_interval": None,
}


def fixture_lines(relative: str) -> list[str]:
    """Raw frames of a fixture file, one per line, exactly as recorded."""
    return (FIXTURES / relative).read_text(encoding="utf-8").splitlines()


@dataclass
class Conn:
    """One client connection as the fake venue sees it."""

    ws: ServerConnection
    path: str
    index: int
    opened: float
    received: list[str] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)
    topics: list[Any] = field(default_factory=list)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    answer_pings: bool = True
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def wait_received(
        self, predicate: Callable[[list[str]], bool], within: float = 2
    ) -> None:
        """Wait until what the client sent satisfies `predicate` (no polling)."""
        async with asyncio.timeout(within), self.arrived:
            await self.arrived.wait_for(lambda: predicate(self.received))

    async def send(self, frame: str | bytes | dict[str, Any] | list[Any]) -> None:
        await self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def hold(self) -> None:
        """Keep the connection open (and silent) until the client goes away."""
        await self.ws.wait_closed()

    def drop(self) -> None:
        """Abrupt loss: the TCP connection vanishes without a close frame."""
        self.ws.transport.abort()

    async def close(self, code: int = 1001, reason: str = "going away") -> None:
        await self.ws.close(code, reason)


Script = Callable[[Conn], Awaitable[None]]


async def hold(conn: Conn) -> None:
    await conn.hold()


class FakeVenue:
    """Base fake server: records connections, runs the protocol reader beside the test script.

    `scripts[i]` runs for connection i (the last one repeats). `refuse` can make the HTTP
    upgrade fail (e.g. 503 for the first attempts).
    """

    def __init__(self, scripts: Sequence[Script]) -> None:
        self.scripts = list(scripts) or [hold]
        self.connections: list[Conn] = []
        self.url = ""
        self.refuse: Callable[[int, str], int | None] = lambda attempt, path: None
        self.attempts: list[float] = []
        self._changed = asyncio.Condition()

    # --- protocol hooks (overridden per venue) ---------------------------------------------

    def check_path(self, conn: Conn) -> bool:
        return True

    async def on_message(self, conn: Conn, text: str) -> None:
        """Answer subscriptions and keepalive pings."""

    # --- machinery ---------------------------------------------------------------------------

    def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        self.attempts.append(time.monotonic())
        status = self.refuse(len(self.attempts) - 1, request.path)
        if status is not None:
            return ws.respond(status, "refused by test\n")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        conn = Conn(ws, path, len(self.connections), time.monotonic())
        self.connections.append(conn)
        async with self._changed:
            self._changed.notify_all()
        if not self.check_path(conn):
            # Legacy paths: accept, ack, send nothing (Binance's silent failure).
            reader = asyncio.create_task(self._read(conn))
            await conn.hold()
            reader.cancel()
            return
        reader = asyncio.create_task(self._read(conn))
        script = self.scripts[min(conn.index, len(self.scripts) - 1)]
        try:
            await script(conn)
        except ConnectionClosed:
            pass
        finally:
            reader.cancel()

    async def _read(self, conn: Conn) -> None:
        try:
            async for message in conn.ws:
                text = message if isinstance(message, str) else message.decode()
                conn.received.append(text)
                conn.received_at.append(time.monotonic())
                async with conn.arrived:
                    conn.arrived.notify_all()
                await self.on_message(conn, text)
        except ConnectionClosed:
            pass

    async def wait_connections(self, n: int, within: float = 5.0) -> Conn:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(self.connections) >= n)
        return self.connections[n - 1]

    async def start(self) -> AsyncIterator[FakeVenue]:
        async with serve(
            self._handler, "127.0.0.1", 0, process_request=self._process_request, ping_interval=None
        ) as server:
            host, port = server.sockets[0].getsockname()[:2]
            self.url = f"ws://{host}:{port}"
            yield self
            server.close()


class BinanceServer(FakeVenue):
    """Routed `/market` and `/public` combined streams; anything else is the silent legacy.
    Live SUBSCRIBE / UNSUBSCRIBE are acked `{"result": null, "id": N}`; a SUBSCRIBE naming a
    symbol outside `KNOWN` is refused `{"error": {"code": 2, "msg": ...}, "id": N}`."""

    ROUTES: ClassVar[dict[str, tuple[str, ...]]] = {
        "/market/stream": ("markPrice", "aggTrade"),
        "/public/stream": ("bookTicker", "depth5", "depth10", "depth20"),
    }
    KNOWN = frozenset({"btcusdt", "ethusdt", "ctkusdt", "solusdt", "bnbusdt"})

    def check_path(self, conn: Conn) -> bool:
        parts = urlsplit(conn.path)
        kinds = self.ROUTES.get(parts.path)
        if kinds is None:
            return False
        streams = parse_qs(parts.query).get("streams", [""])[0].split("/")
        if not all(s.split("@")[1] in kinds for s in streams if "@" in s):
            return False  # a stream on the wrong route is silently never delivered
        conn.topics = [s for s in streams if s]
        conn.subscribed.set()
        return True

    async def on_message(self, conn: Conn, text: str) -> None:
        request = json.loads(text)
        method, params = request.get("method"), request.get("params", [])
        if method == "SUBSCRIBE":
            bad = [p for p in params if p.split("@")[0] not in self.KNOWN]
            if bad:
                msg = f"Invalid request: unknown stream {bad[0]}"
                await conn.send({"error": {"code": 2, "msg": msg}, "id": request.get("id")})
                return
            conn.topics.extend(p for p in params if p not in conn.topics)
            await conn.send({"result": None, "id": request.get("id")})
        elif method == "UNSUBSCRIBE":
            conn.topics = [t for t in conn.topics if t not in params]
            await conn.send({"result": None, "id": request.get("id")})


class BybitServer(FakeVenue):
    """`/v5/public/linear`: op subscribe with success ack, op ping answered with pong."""

    KNOWN = frozenset({"BTCUSDT", "ETHUSDT", "SOLUSDT", "1000PEPEUSDT"})

    def check_path(self, conn: Conn) -> bool:
        return conn.path == "/v5/public/linear"

    async def on_message(self, conn: Conn, text: str) -> None:
        request = json.loads(text)
        op = request.get("op")
        if op == "ping":
            if conn.answer_pings:
                pong = {"success": True, "ret_msg": "pong", "conn_id": "c1", "op": "ping"}
                await conn.send(pong | {"req_id": ""})
        elif op == "subscribe":
            bad = [a for a in request["args"] if a.split(".")[-1] not in self.KNOWN]
            if bad:
                await conn.send(
                    {
                        "success": False,
                        "ret_msg": f"error:handler not found,topic:{bad[0]}",
                        "conn_id": "c1",
                        "req_id": request.get("req_id", ""),
                        "op": "subscribe",
                    }
                )
                return
            conn.topics.extend(request["args"])
            await conn.send(
                {"success": True, "ret_msg": "", "conn_id": "c1", "req_id": "", "op": "subscribe"}
            )
            conn.subscribed.set()
        elif op == "unsubscribe":
            conn.topics = [t for t in conn.topics if t not in request["args"]]
            await conn.send(
                {"success": True, "ret_msg": "", "conn_id": "c1", "req_id": "", "op": op}
            )


class OkxServer(FakeVenue):
    """`/ws/v5/public`: per-arg subscribe acks, error 60018 for unknown instruments, text
    `ping` → `pong` (unless the test turns pongs off)."""

    KNOWN = frozenset({"BTC-USDT-SWAP", "ETH-USDT-SWAP", "PEPE-USDT-SWAP", "UNI-USD-SWAP"})

    def check_path(self, conn: Conn) -> bool:
        return conn.path == "/ws/v5/public"

    async def on_message(self, conn: Conn, text: str) -> None:
        if text == "ping":
            if conn.answer_pings:
                await conn.send("pong")
            return
        request = json.loads(text)
        op, echo = request.get("op"), {"id": request["id"]} if "id" in request else {}
        if op == "unsubscribe":
            for arg in request["args"]:
                conn.topics = [t for t in conn.topics if t != arg]
                await conn.send({"event": op, "arg": arg, "connId": "a4d3ae55"} | echo)
            return
        if op != "subscribe":
            return
        for arg in request["args"]:
            if arg["instId"] not in self.KNOWN:
                await conn.send(
                    {
                        "event": "error",
                        "code": "60018",
                        "msg": f"Wrong URL or channel:{arg['channel']},instId:{arg['instId']}"
                        " doesn't exist.",
                        "connId": "a4d3ae55",
                    }
                    | echo
                )
                return
            await conn.send({"event": "subscribe", "arg": arg, "connId": "a4d3ae55"} | echo)
            conn.topics.append(arg)
        conn.subscribed.set()


class HyperliquidServer(FakeVenue):
    """`/ws`: subscriptionResponse acks, `{"method":"ping"}` → `{"channel":"pong"}`."""

    KNOWN = frozenset({"BTC", "ETH", "kPEPE"})

    def check_path(self, conn: Conn) -> bool:
        return conn.path == "/ws"

    async def on_message(self, conn: Conn, text: str) -> None:
        request = json.loads(text)
        method = request.get("method")
        if method == "ping":
            if conn.answer_pings:
                await conn.send({"channel": "pong"})
        elif method == "subscribe":
            sub = request["subscription"]
            if sub.get("coin") not in self.KNOWN:
                await conn.send(
                    {"channel": "error", "data": f"Invalid subscription {json.dumps(sub)}"}
                )
                return
            conn.topics.append(sub)
            ack = {"method": "subscribe", "subscription": sub}
            await conn.send({"channel": "subscriptionResponse", "data": ack})
            if len(conn.topics) >= 3:
                conn.subscribed.set()
        elif method == "unsubscribe":
            sub = request["subscription"]
            conn.topics = [t for t in conn.topics if t != sub]
            ack = {"method": "unsubscribe", "subscription": sub}
            await conn.send({"channel": "subscriptionResponse", "data": ack})


SERVERS: dict[str, type[FakeVenue]] = {
    "plain": FakeVenue,
    "binance": BinanceServer,
    "bybit": BybitServer,
    "okx": OkxServer,
    "hyperliquid": HyperliquidServer,
}

VenueFactory = Callable[..., Awaitable[FakeVenue]]


@pytest.fixture
async def venue() -> AsyncIterator[VenueFactory]:
    """`await venue("okx", script1, script2, ...)` starts a fake venue for this test."""
    running: list[AsyncIterator[FakeVenue]] = []

    async def start(name: str, *scripts: Script) -> FakeVenue:
        server = SERVERS[name](scripts)
        gen = server.start()
        await gen.__anext__()
        running.append(gen)
        return server

    yield start
    for gen in running:
        with pytest.raises(StopAsyncIteration):
            await gen.__anext__()


@pytest.fixture
async def feeds() -> AsyncIterator[Callable[..., SupervisedFeed]]:
    """`feeds(venue, symbols, url, **timing)` opens a feed with fast test timing; closed after."""
    opened: list[SupervisedFeed] = []

    def make(name: str, symbols: list[str], url: str, **overrides: Any) -> SupervisedFeed:
        feed = open_venue_feed(name, symbols, url, **(FAST | overrides))
        assert isinstance(feed, SupervisedFeed)
        opened.append(feed)
        return feed

    yield make
    for feed in opened:
        await feed.aclose()


async def take(feed: SupervisedFeed, n: int, within: float = 5.0) -> list[MarketEvent]:
    """The next `n` events of a feed (starting it if needed)."""
    feed.start()
    it = feed.__aiter__()
    out: list[MarketEvent] = []
    async with asyncio.timeout(within):
        while len(out) < n:
            out.append(await anext(it))
    await it.aclose()  # type: ignore[attr-defined]
    return out


def states(feed: SupervisedFeed) -> list[str]:
    """The feed's status transitions, consecutive repeats folded."""
    out: list[str] = []
    for status in feed.transitions:
        if not out or out[-1] != status.state:
            out.append(status.state)
    return out


@pytest.fixture
def helpers() -> Any:
    """Plain helper functions for tests (shared here because test files cannot import each
    other under --import-mode=importlib)."""

    class H:
        take = staticmethod(take)
        states = staticmethod(states)
        lines = staticmethod(fixture_lines)
        hold = staticmethod(hold)

    return H
