"""The bare `papertrade`: open the trading terminal on a feed, saving the session as it goes.

Set-up happens before Textual starts (`tui.service.setup`), so a bad option or a locked
session prints a plain error and exit status 2 instead of a half-drawn screen. Textual is
imported only inside `prepare`/`run`, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from papertrade.core.text import printable
from papertrade.feeds.registry import DEFAULT_SYMBOLS, VALID_FEEDS

if TYPE_CHECKING:
    from papertrade.tui.app import PapertradeApp


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
    p.add_argument(
        "--position-mode",
        choices=("one_way", "hedge"),
        default=None,
        help="one_way (default) or hedge: a long and a short of one symbol side by side",
    )
    p.add_argument(
        "--exchange-limits",
        choices=("on", "off"),
        default="on",
        help="new sessions: refuse orders outside the symbol's price band, market orders past "
        "the market take bound and oversized orders, as Binance does (default on)",
    )
    p.add_argument(
        "--fill-model",
        metavar="touch|book|queue",
        default=None,
        help="new sessions: how orders fill (default queue): touch = whole at the best price; "
        "book = market orders walk the order book; queue = book, and resting limits wait for "
        'the volume queued ahead of them (README "Fill models")',
    )
    rules = p.add_argument_group(
        'challenge rules (new sessions; see README "Challenge rules")',
    )
    rules.add_argument(
        "--max-daily-loss",
        metavar="USDT|N%",
        help="loss in a UTC day that stops new positions until the next day",
    )
    rules.add_argument(
        "--max-drawdown",
        metavar="USDT|N%",
        help="fall from the peak equity that stops new positions for the session",
    )
    rules.add_argument("--max-leverage", metavar="N", help="highest leverage an order may use")
    rules.add_argument(
        "--max-position-notional", metavar="USDT", help="largest position value an order may reach"
    )
    rules.add_argument(
        "--refill",
        action="store_true",
        help="refill a wiped account to the starting balance and go on (counts the wipes)",
    )
    p.add_argument("--speed", default="1", help="sim and file: feeds: 1 = real time, Nx, max")
    p.add_argument("--seed", type=int, default=0, help="sim feed: random seed (default 0)")
    return p


def prepare(args: argparse.Namespace) -> PapertradeApp:
    """Open the store, start (or resume) the session and build the app, without running it.

    Separate from `run` so tests can drive the exact app the command line builds. Raises
    `SetupError` for anything the trader must fix.
    """
    from papertrade.tui.app import PapertradeApp, load_terminal_config
    from papertrade.tui.service.market import FeedConfig
    from papertrade.tui.service.setup import open_session, parse_rules
    from papertrade.tui.service.trading import TradingSession

    config = load_terminal_config()  # before the session opens: a bad file changes nothing
    rules = parse_rules(
        max_daily_loss=args.max_daily_loss,
        max_drawdown=args.max_drawdown,
        max_leverage=args.max_leverage,
        max_position_notional=args.max_position_notional,
        refill=args.refill,
    )
    opened = open_session(
        args.db,
        feed=args.feed,
        symbols=args.symbols,
        balance=args.balance,
        name=args.name,
        resume=args.resume,
        speed=args.speed,
        exchange_limits=args.exchange_limits == "on",
        rules=rules,
        fill_model=args.fill_model,
    )
    writer = opened.writer
    session = TradingSession(opened.engine, opened.symbols, writer=writer, venue=opened.kind)
    if args.position_mode is not None:
        session.start_in_position_mode(args.position_mode)
    options: dict[str, object] = {}
    if opened.resumed and opened.kind == "sim":
        # A resumed sim goes on from its own clock and prices, not from the seed's start.
        options = {"after_ts": opened.engine.last_ts, "start_prices": opened.start_prices}
    feed = FeedConfig(
        spec=opened.spec, ws_url=args.ws_url, speed=args.speed, seed=args.seed, options=options
    )
    if opened.recorded is not None:
        feed = FeedConfig.recording(opened.recorded)  # a branch goes on on its recorded market
    app = PapertradeApp(
        session, feed, writer=writer, store=opened.store, session_name=writer.name, config=config
    )
    if opened.resumed:
        app.log_line(opened.describe_resume(), "cyan")
    for note in opened.notes:
        app.log_line(note, "yellow")
    return app


def offer_resume(args: argparse.Namespace, ask: Callable[[str], str] = input) -> None:
    """On an interactive start, offer to resume the latest interrupted session (a crash or a
    kill left it): answering yes (the default) sets `args.resume`. Scripts, pipes and tests
    (no terminal) are never asked; they say `--resume` when they mean it."""
    from papertrade.saves.errors import StoreError
    from papertrade.saves.store import Store
    from papertrade.tui.service.setup import latest_interrupted

    if args.resume is not None:
        return
    try:
        with Store.open(args.db) as store:
            ref = latest_interrupted(store)
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
    # No cyclic collection until the terminal has settled (the app's `_freeze_settled`
    # collects once, freezes and turns the collector back on): start-up builds a heap of
    # long-lived modules, classes and widgets and frees almost nothing, so the hundred-odd
    # collections it would otherwise trigger on the way to the first frame walk that heap
    # for nothing (issue 14: ~3 % of the first frame's instructions).
    gc.disable()
    try:
        return _run(args)
    finally:
        gc.enable()


def _run(args: argparse.Namespace) -> int:
    from papertrade.tui.service.setup import SetupError

    if sys.stdin.isatty() and sys.stdout.isatty():
        offer_resume(args)
    try:
        app = prepare(args)
    except SetupError as exc:
        print(f"papertrade: error: {printable(exc)}", file=sys.stderr)
        return 2
    store = app.store
    assert store is not None and app.writer is not None
    try:
        app.run()
    finally:
        app.close_session("interrupted")
        store.close()
    writer = app.writer
    status = app.saved_status or "ended"
    print(
        f"papertrade: session #{writer.id} {printable(writer.name)!r} saved in "
        f"{printable(store.path)} ({printable(status)})"
    )
    return 1 if app.return_code not in (0, None) else 0
