"""Burst survival of a live feed: a local Binance stand-in blasts bookTicker frames, the real
client (supervisor + Binance adapter + conflation, as the terminal runs it) keeps up or not.

    python benchmarks/feeds_burst.py [--rate 48000] [--seconds 5] [--symbols 4]

Why: a probe at ~48k msg/s saw the client handle ~8k/s, the backlog pile up on the server side
and the client's own keepalive time out (and 213k of 469k trades lost while "live"). This runs
the server in its own process (so it does not share the client's interpreter), sends
`--rate` frames a second for `--seconds`, with the client's keepalive at 1 s ping / 1 s timeout
so a client too busy to see its pong is caught within the run.

Figures printed: frames sent and received (msg/s), conflated events out, reconnects, the
largest lag the status showed. Target (PASS): the connection stays up (no reconnect) and every
frame the server sent arrives, whatever rate the machine allows; the rate is printed against the
48,000 msg/s of the probe (on a quiet 2-core machine both old and new code read ~48k/s of
bookTickers; under load the old client lost its connection, see BASELINE).
`--consumer-us N` makes the consumer spend N µs per conflated event (a slow engine/journal),
to watch the status report lag instead of the link dying.

Run the old code for comparison: export the previous commit's `core feeds saves tui` under a
`papertrade/` folder and put its parent first on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

BASELINE = (
    "before (4a17c50), same loaded machine (load 9-11 on 2 cores), interleaved runs: "
    "8,900-12,700 msg/s received of 20,000-24,000 sent, 1-3 reconnects (keepalive 1011, shown as "
    "'no close frame'), 45-55 % of frames lost; after: 13,200-19,600 msg/s, every frame sent "
    "received, 0 reconnects, lag shown (1.8-3.9 s)"
)


def _serve(port_out: Connection, rate: int, seconds: float, symbols: int) -> None:
    """The server process: routed Binance paths; `/public` blasts bookTickers at `rate`."""
    from websockets.asyncio.server import ServerConnection, serve

    names = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"][:symbols]

    async def blast(ws: ServerConnection) -> None:
        sent = 0
        start = time.monotonic()
        u = 1
        tick = 0.005
        per_tick = max(1, int(rate * tick))
        nxt = start
        while time.monotonic() - start < seconds:
            now_ms = time.time_ns() // 1_000_000
            for _ in range(per_tick):
                sym = names[u % len(names)]
                frame = (
                    f'{{"stream":"{sym.lower()}@bookTicker","data":{{"e":"bookTicker","u":{u},'
                    f'"s":"{sym}","b":"61800.20","B":"2.507","a":"61800.30","A":"2.510",'
                    f'"T":{now_ms},"E":{now_ms}}}}}'
                )
                await ws.send(frame)
                u += 1
                sent += 1
            nxt += tick
            delay = nxt - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        port_out.send(("sent", sent, time.monotonic() - start))
        await ws.wait_closed()

    async def handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        if path.startswith("/public/"):
            await blast(ws)
        else:
            await ws.wait_closed()

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, ping_interval=None, max_queue=None) as server:
            port_out.send(("port", server.sockets[0].getsockname()[1], 0.0))
            await asyncio.sleep(seconds + 30)

    asyncio.run(main())


async def _client(url: str, symbols: int, seconds: float, work_us: int) -> dict[str, Any]:
    from papertrade.feeds.conflate import conflate
    from papertrade.feeds.venues import open_venue_feed

    names = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"][:symbols]
    feed: Any = open_venue_feed(
        "binance", names, url, ping_interval=1.0, ping_timeout=1.0, backoff_initial=0.5
    )
    out = 0
    max_lag = 0

    async def consume() -> None:
        nonlocal out, max_lag
        async for _event in conflate(feed, 10):
            out += 1
            if work_us:
                end = time.perf_counter() + work_us / 1e6
                while time.perf_counter() < end:
                    pass
            lag = getattr(feed.status, "lag_ms", None)
            if lag is not None and lag > max_lag:
                max_lag = lag

    task = asyncio.create_task(consume())
    start = time.monotonic()
    await asyncio.sleep(seconds + 3.0)  # the run plus time to drain what is in flight
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await feed.aclose()
    received = sum(v for k, v in feed.stats.received.items() if "bookTicker" in k)
    reconnects = sum(1 for s in feed.transitions if s.state == "reconnecting")
    reasons = sorted({s.detail for s in feed.transitions if s.state == "reconnecting"})
    return {
        "received": received,
        "out": out,
        "reconnects": reconnects,
        "reasons": reasons,
        "max_lag_ms": max_lag,
        "wall": time.monotonic() - start,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=48_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--symbols", type=int, default=4)
    parser.add_argument("--consumer-us", type=int, default=0, help="work per conflated event")
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    server = ctx.Process(
        target=_serve, args=(theirs, args.rate, args.seconds, args.symbols), daemon=True
    )
    server.start()
    try:
        _kind, port, _ = ours.recv()
        url = f"ws://127.0.0.1:{port}"
        result = asyncio.run(_client(url, args.symbols, args.seconds, args.consumer_us))
        sent, send_s = 0, args.seconds
        if ours.poll(5):
            _kind, sent, send_s = ours.recv()
    finally:
        server.terminate()
        server.join(5)
    sent_rate = sent / send_s if send_s else 0.0
    rx_rate = result["received"] / send_s if send_s else 0.0
    ok = result["reconnects"] == 0 and result["received"] >= sent
    print(f"asked {args.rate:,} msg/s for {args.seconds:g} s over {args.symbols} symbols")
    print(f"sent     {sent:>10,} frames  {sent_rate:>10,.0f} msg/s (server side)")
    print(f"received {result['received']:>10,} frames  {rx_rate:>10,.0f} msg/s (client side)")
    print(f"conflated out {result['out']:,} events; largest lag shown {result['max_lag_ms']:,} ms")
    print(f"reconnects {result['reconnects']} {json.dumps(result['reasons'])}")
    print(f"baseline: {BASELINE}")
    print(f"rate: {rx_rate:,.0f} of the probe's {args.rate:,} msg/s")
    print("target: no reconnect and every frame sent received")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
