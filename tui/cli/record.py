"""`papertrade record`: record any feed headlessly into a saved session (and a drill file).

Why: a recorded session replays the exact market the engine saw, so it can be resumed,
branched or exported later; `--out` also writes it as a drill (`papertrade simulate` reads it).

What is recorded is what the engine would consume: the feed conflated (at most `--conflate`
quotes and books per symbol per second, quote extremes kept, the latest book, see
`feeds/conflate.py`; `--conflate 0` records every one). Books (the top `--depth` levels a side,
20 by default; 0 records none) come from every venue's depth stream, the `file:` feed's depth
diffs and the sim. The recording ends on `--duration`, at the end of a `file:` feed, or on Ctrl-C /
SIGTERM; each way everything is saved and the exit status is 0.

It never ends in a traceback. Exit status 2: nothing was recorded because an argument, the
session name or the database cannot be used (read-only, not papertrade's, a taken name).
Exit status 1: the recording started and then failed: the feed failed (a corrupt file, the
venue permanently refusing, in the venue's words) or saving failed (disk full, the file
locked by another program for 30 s at the end); the error line says what was saved up to
which time.

`--duration S` stops at whichever comes first: S seconds of wall-clock time, or S seconds of
*event* time (from the first event). For live venues and real-time offline feeds they agree;
for an unpaced feed (`--speed max`) it is the event time, so `--feed sim --speed max
--duration 3600` records one simulated hour in a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.text import plural, printable
from papertrade.feeds.base import DEFAULT_DEPTH, Feed
from papertrade.feeds.conflate import DEFAULT_PER_SECOND, Conflator, Monotonic
from papertrade.feeds.pacing import parse_speed
from papertrade.feeds.registry import DEFAULT_SYMBOLS, VALID_FEEDS, feed_kind, open_feed
from papertrade.saves.errors import StoreError, WriterFailed
from papertrade.tui.cli import UsageError
from papertrade.tui.service.setup import NAME_RULES, SetupError, check_name, parse_symbols

_SYMBOL = re.compile(r"^[A-Z0-9]{2,30}$")
_STREAMS = ("quote", "trade", "mark", "funding", "book")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `papertrade record` (its summary is in `tui.cli.COMMANDS`)."""
    p.description = (
        "Record market data headlessly into a session of the store (and, with "
        "--out, a JSON-lines drill file). Ends on --duration, at the end of a file, or on "
        "Ctrl-C; everything is saved either way."
    )
    p.add_argument(
        "--feed",
        required=True,
        metavar="FEED",
        help=f"one of: {', '.join(VALID_FEEDS)}",
    )
    p.add_argument(
        "--symbols",
        metavar="SYM,SYM",
        help=f"comma-separated symbols (default {','.join(DEFAULT_SYMBOLS)}; "
        "for file: feeds, every symbol in the file)",
    )
    p.add_argument(
        "--duration",
        type=float,
        metavar="SECONDS",
        help="stop after this many seconds (wall clock, or event time if that runs faster)",
    )
    p.add_argument("--ws-url", metavar="URL", help="override the venue's websocket base URL")
    p.add_argument("--db", metavar="PATH", help="session store (default: $PAPERTRADE_DB)")
    p.add_argument("--out", metavar="FILE.jsonl", help="also write the events as a drill file")
    p.add_argument(
        "--name",
        help=f"session name (default: generated): {NAME_RULES}; spaces at the ends are dropped",
    )
    p.add_argument(
        "--speed",
        default="1",
        help="sim and file: feeds: 1 = real time, N or Nx = N times faster, max = unpaced",
    )
    p.add_argument("--seed", type=int, default=0, help="sim feed: random seed (default 0)")
    p.add_argument(
        "--conflate",
        type=int,
        default=DEFAULT_PER_SECOND,
        metavar="N",
        help=f"at most N quotes and N books per symbol per second (default "
        f"{DEFAULT_PER_SECOND}; 0 = all)",
    )
    p.add_argument(
        "--depth",
        type=int,
        default=DEFAULT_DEPTH,
        metavar="N",
        help=f"order-book levels a side to record (default {DEFAULT_DEPTH}; 0 = no books)",
    )
    p.set_defaults(handler=run)


class FeedFailed(Exception):
    """The feed ended because it failed for good (its status says `failed`, with why)."""


class _Recorder:
    """Counts what is saved and where it goes (store writer and optional drill file)."""

    def __init__(
        self,
        append: Callable[[ev.MarketEvent], object],
        out: TextIO | None,
        saving: Callable[[], str] | None = None,
    ) -> None:
        self.append = append
        self.out = out
        self.saving = saving  # the journal's health, when it has something to say
        self.received = 0
        self.saved: Counter[str] = Counter()

    def save(self, event: ev.MarketEvent) -> None:
        self.append(event)
        if self.out is not None:
            self.out.write(codec.dumps(event))
            self.out.write("\n")
        self.saved[event.type] += 1

    def describe(self) -> str:
        parts = "  ".join(f"{kind} {self.saved[kind]}" for kind in _STREAMS)
        return f"{parts}; received {self.received}"


async def record(
    feed: Feed,
    recorder: _Recorder,
    *,
    duration: float | None,
    per_second: int,
    progress: TextIO | bool | None = True,
) -> str:
    """Pump `feed` into `recorder` until the end, the duration, or a signal; returns why.

    `progress`: a stream for the progress line, True for the current `sys.stderr` (looked up
    now, not at import, so captured or redirected stderr is honoured), False/None for none.
    """
    out: TextIO | None = sys.stderr if progress is True else (progress or None)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    conflator = Conflator(per_second) if per_second > 0 else None
    monotonic = Monotonic()  # drills and the engine need time that never runs backwards
    limit_ms = None if duration is None else duration * 1000
    reason = "end of feed"

    async def pump() -> None:
        nonlocal reason
        first_ts: int | None = None
        async for event in feed:
            recorder.received += 1
            if limit_ms is not None:
                if first_ts is None:
                    first_ts = event.ts
                elif event.ts - first_ts >= limit_ms:
                    reason = "duration (event time)"
                    return
            if conflator is None:
                recorder.save(monotonic(event))
            else:
                for item in conflator.push(event):
                    recorder.save(item)
        status = feed.status
        if status.state == "failed":
            raise FeedFailed(printable(status.detail) or "the feed failed")

    started = time.monotonic()

    async def report() -> None:
        tty = out is not None and out.isatty()
        while True:
            await asyncio.sleep(1.0)
            if out is None:
                continue
            saving = recorder.saving() if recorder.saving is not None else ""
            line = (
                f"recording {feed.name} [{printable(feed.status.describe())}] "
                f"{time.monotonic() - started:6.1f} s  {recorder.describe()}"
                + (f"  [{saving}]" if saving else "")
            )
            out.write(f"\r{line}\x1b[K" if tty else f"{line}\n")
            out.flush()

    pump_task = asyncio.create_task(pump(), name="record-pump")
    stop_task = asyncio.create_task(stop.wait(), name="record-stop")
    report_task = asyncio.create_task(report(), name="record-progress")
    try:
        done, _ = await asyncio.wait(
            {pump_task, stop_task}, timeout=duration, return_when=asyncio.FIRST_COMPLETED
        )
        if stop_task in done:
            reason = "interrupted"
        elif not done:
            reason = "duration"
    finally:
        for task in (pump_task, stop_task, report_task):
            task.cancel()
        await asyncio.gather(pump_task, stop_task, report_task, return_exceptions=True)
        for sig in installed:
            loop.remove_signal_handler(sig)
        await feed.aclose()
        if conflator is not None:
            with contextlib.suppress(WriterFailed):  # said by close(), with what was saved
                for item in conflator.flush():
                    recorder.save(item)
        if out is not None and out.isatty():
            out.write("\n")
    if pump_task.done() and not pump_task.cancelled() and pump_task.exception() is not None:
        raise pump_task.exception()  # type: ignore[misc]
    return reason


def run(args: argparse.Namespace) -> int:
    try:
        kind = feed_kind(args.feed)
        speed = parse_speed(args.speed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        symbols = parse_symbols(args.symbols, kind)
        name = check_name(args.name)
    except SetupError as exc:
        raise UsageError(str(exc)) from None
    if args.duration is not None and not args.duration > 0:
        raise UsageError("--duration must be a positive number of seconds")
    if args.conflate < 0:
        raise UsageError("--conflate must be >= 0")
    if args.depth < 0:
        raise UsageError("--depth must be >= 0 (0 records no books)")
    try:
        feed = open_feed(
            args.feed, symbols, ws_url=args.ws_url, speed=speed, seed=args.seed, depth=args.depth
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    from papertrade.saves.store import Store

    venue = "file" if kind == "file" else kind
    try:
        store = Store.open(args.db)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    with contextlib.ExitStack() as stack:
        stack.callback(store.close)
        out: TextIO | None = None
        if args.out:
            try:
                out = stack.enter_context(Path(args.out).open("w", encoding="utf-8"))
            except OSError as exc:
                raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None
        settings = ev.SessionSettings()
        try:
            writer = store.start_session(name, venue, symbols, settings)
        except StoreError as exc:
            raise UsageError(f"cannot start a session: {exc}") from None
        if out is not None:
            head = codec.to_dict(settings) | {"name": writer.name, "venue": venue}
            out.write(json.dumps(head, separators=(",", ":")) + "\n")

        def saving() -> str:
            health = writer.health
            return health.detail if health.state != "ok" else ""

        recorder = _Recorder(writer.append, out, saving)
        code = 0
        try:
            reason = asyncio.run(
                record(feed, recorder, duration=args.duration, per_second=args.conflate)
            )
        except KeyboardInterrupt:
            reason = "interrupted"
        except WriterFailed:
            reason = "saving failed"
            code = 1
        except Exception as exc:  # a failed feed: keep what was recorded, say why
            reason = f"feed failed: {printable(str(exc))}"
            code = 1
        try:
            writer.close(status="ended")  # gives up after 30 s locked out: never hangs
        except WriterFailed as exc:
            print(f"papertrade record: error: {exc}", file=sys.stderr)
            print(
                f"received {plural(recorder.received, 'event')}; session #{writer.id} "
                f"{writer.name!r} of"
                f" {store.path} is kept as interrupted; stopped: {reason}",
                file=sys.stderr,
            )
            return 1
        total = sum(recorder.saved.values())
        where = f" and {args.out}" if args.out else ""
        print(
            f"recorded {plural(total, 'event')} [{recorder.describe()}] into session "
            f"#{writer.id} {writer.name!r} of {store.path}{where}; stopped: {reason}"
            f"{_dropped(feed, writer.dropped)}",
            file=sys.stderr,
        )
        return code


def _dropped(feed: Feed, journal: int) -> str:
    """What was thrown away, when anything was: the feed's count (malformed, out of bounds)
    and market data the journal could not keep while saving was stalled."""
    feed_dropped = int(getattr(feed.status, "dropped", 0) or 0)
    parts = [f"{feed_dropped} by the feed"] if feed_dropped else []
    if journal:
        parts.append(f"{journal} by the journal (saving stalled)")
    return f"; dropped {', '.join(parts)}" if parts else ""
