"""The bare `papertrade`: open the trading terminal on a feed, saving the session as it goes.

Set-up happens here, before Textual starts, so a bad option or a locked session prints a plain
error and exit status 2 instead of a half-drawn screen. This module may import Textual (only
through `tui.app`, and only inside `run`).
"""

from __future__ import annotations

import argparse
import re
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.feeds.pacing import parse_speed
from papertrade.feeds.registry import VALID_FEEDS, feed_kind
from papertrade.feeds.sim import DEFAULT_SYMBOLS

_SYMBOL = re.compile(r"^[A-Z0-9]{2,30}$")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="papertrade",
        description="Paper-trade crypto perpetual futures in the terminal. With no "
        "subcommand: the trading terminal on live Binance USDⓈ-M prices, a 10,000 USDT paper "
        "account, saved as it goes. Subcommands: simulate, record (papertrade COMMAND -h).",
    )
    p.add_argument(
        "--feed",
        default=None,
        metavar="FEED",
        help=f"one of: {', '.join(VALID_FEEDS)} (default binance)",
    )
    p.add_argument(
        "--symbols", metavar="SYM,SYM", help=f"watchlist (default {','.join(DEFAULT_SYMBOLS)})"
    )
    p.add_argument("--balance", default="10000", help="starting balance in USDT (default 10000)")
    p.add_argument(
        "--db", metavar="PATH", help="session store (default: $PAPERTRADE_DB or the user data dir)"
    )
    p.add_argument("--ws-url", metavar="URL", help="override the venue's websocket base URL")
    p.add_argument("--name", help="name of the new session (default: generated)")
    p.add_argument(
        "--resume",
        nargs="?",
        const="",
        default=None,
        metavar="SESSION",
        help="resume an interrupted session (id or name; default: the latest interrupted one)",
    )
    p.add_argument("--speed", default="1", help="sim and file: feeds: 1 = real time, Nx, max")
    p.add_argument("--seed", type=int, default=0, help="sim feed: random seed (default 0)")
    return p


def _symbols(text: str | None, venue: str) -> list[str]:
    if not text:
        return list(DEFAULT_SYMBOLS)
    book = bundled("binance" if venue in ("sim", "file") else venue)
    out = []
    for raw in text.split(","):
        sym = raw.strip().upper()
        if not sym:
            continue
        if not _SYMBOL.match(sym) or sym not in book:
            raise ValueError(f"unknown symbol {raw.strip()!r} (e.g. {', '.join(list(book)[:4])})")
        out.append(sym)
    if not out:
        raise ValueError("--symbols needs at least one symbol")
    return list(dict.fromkeys(out))


class SetupError(Exception):
    """A bad option or an unusable store/session: printed plainly, exit status 2."""


def prepare(args: argparse.Namespace) -> Any:
    """Open the store, start (or resume) the session and build the app, without running it.

    Separate from `run` so tests can drive the exact app the command line builds.
    """
    from papertrade.saves.errors import StoreError
    from papertrade.saves.store import Store
    from papertrade.tui.app import FeedConfig, PapertradeApp
    from papertrade.tui.service.trading import TradingSession

    try:
        spec = args.feed or "binance"
        kind = feed_kind(spec)
        parse_speed(args.speed)
        balance = Decimal(args.balance)
        if not balance.is_finite() or balance <= 0:
            raise ValueError("--balance must be a positive number")
    except InvalidOperation:
        raise SetupError(f"--balance: not a number ({args.balance!r})") from None
    except ValueError as exc:
        raise SetupError(str(exc)) from None
    try:
        store = Store.open(args.db)
    except StoreError as exc:
        raise SetupError(str(exc)) from None
    writer = None
    try:
        if args.resume is not None:
            ref = args.resume or _latest_interrupted(store)
            if ref is None:
                raise SetupError("no interrupted session to resume (see `papertrade sessions`)")
            info = store.session(ref)
            if args.feed is None and info.venue == "file":
                raise SetupError(
                    f"session {info.name!r} was recorded from a file: feed; pass --feed file:PATH"
                )
            if args.feed is None:
                spec, kind = info.venue, feed_kind(info.venue)
            engine, writer = store.resume(info.id)
            symbols = list(info.symbols) or _symbols(None, kind)
            if args.symbols:
                symbols = list(dict.fromkeys([*symbols, *_symbols(args.symbols, kind)]))
        else:
            symbols = _symbols(args.symbols, kind)
            settings = ev.SessionSettings(balance=balance)
            engine = Engine(bundled("binance" if kind in ("sim", "file") else kind), settings)
            writer = store.start_session(args.name, kind, symbols, settings, engine=engine)
    except (StoreError, ValueError, SetupError) as exc:
        if writer is not None:
            writer.close("interrupted")
        store.close()
        raise SetupError(str(exc)) from None
    session = TradingSession(engine, symbols, writer=writer, venue=kind)
    feed = FeedConfig(spec=spec, ws_url=args.ws_url, speed=args.speed, seed=args.seed)
    app = PapertradeApp(session, feed, writer=writer, store=store, session_name=writer.name)
    if args.resume is not None:
        app.log_line(
            f"resumed session #{writer.id} {writer.name}: {len(engine.positions)} position(s), "
            f"{len(engine.orders)} open order(s), wallet {engine.wallet_balance():,.2f} USDT",
            "cyan",
        )
    return app


def offer_resume(args: argparse.Namespace, ask: Any = input) -> None:
    """On an interactive start, offer to resume the latest interrupted session (a crash or a
    kill left it): answering yes (the default) sets `args.resume`. Scripts, pipes and tests
    (no terminal) are never asked; they say `--resume` when they mean it."""
    from papertrade.saves.errors import StoreError
    from papertrade.saves.store import Store

    if args.resume is not None:
        return
    try:
        with Store.open(args.db) as store:
            ref = _latest_interrupted(store)
            if ref is None:
                return
            info = store.session(ref)
    except StoreError:
        return  # prepare() reports an unusable store properly
    try:
        answer = ask(
            f"Session #{info.id} {info.name!r} ({info.venue}) was interrupted. Resume it? [Y/n] "
        )
    except EOFError:
        return
    if answer.strip().lower() in ("", "y", "yes"):
        args.resume = str(info.id)


def run(args: argparse.Namespace) -> int:
    if sys.stdin.isatty() and sys.stdout.isatty():
        offer_resume(args)
    try:
        app = prepare(args)
    except SetupError as exc:
        print(f"papertrade: error: {exc}", file=sys.stderr)
        return 2
    try:
        app.run()
    finally:
        app.close_session("interrupted")
        app.store.close()
    writer = app.writer
    status = app.saved_status or "ended"
    print(f"papertrade: session #{writer.id} {writer.name!r} saved in {app.store.path} ({status})")
    return 0


def _latest_interrupted(store: object) -> int | None:
    sessions = [s for s in store.sessions() if s.status == "interrupted"]  # type: ignore[attr-defined]
    return sessions[-1].id if sessions else None
