"""The terminal on the `sim` feed: one price path per symbol whatever the watchlist does, and a
resumed session that continues its clock and its prices.

The sim runs on a manual clock (`manual_time.ManualTime`): time moves only when the feed
sleeps, so these tests never wait on the wall clock and play the same prices every run.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from manual_time import ManualTime
from screen_host import SIZE, until

from papertrade.core import events as ev
from papertrade.saves.store import Store
from papertrade.tui.app import PapertradeApp
from papertrade.tui.cli.terminal import build_parser, prepare
from papertrade.tui.screens.modals import AddSymbolModal

pytestmark = pytest.mark.slow  # a live sim feed each: started first (tests/conftest.py)


def args(db: Path, *extra: str) -> argparse.Namespace:
    return build_parser().parse_args(
        ["--feed", "sim", "--symbols", "BTCUSDT,ETHUSDT", "--db", str(db), *extra]
    )


def on_manual_time(app: PapertradeApp) -> ManualTime:
    time = ManualTime(real_pause=0.01)
    app.feed_config.options.update(clock=time.clock, sleep=time.sleep)
    return time


def btc_marks(db: Path, name: str) -> list[tuple[int, Decimal]]:
    with Store.open(db) as store:
        sid = store.resolve(name)
        return [
            (e.ts, e.price)
            for _, e in store.events(sid)
            if isinstance(e, ev.MarkPrice) and e.symbol == "BTCUSDT"
        ]


def largest_step(marks: list[tuple[int, Decimal]]) -> Decimal:
    return max(abs(b - a) for (_, a), (_, b) in pairwise(marks))


async def test_removing_and_re_adding_a_symbol_keeps_one_price_path(tmp_path: Path) -> None:
    """Issue steps: buy 0.01 BTCUSDT, `delete` on BTCUSDT, `/` `btc` `enter`. Before the fix a
    second feed started and BTC marks alternated between two paths ~140 USDT apart."""
    db = tmp_path / "sim.db"
    app = prepare(args(db, "--name", "one-path"))
    on_manual_time(app)
    session = app.session
    assert session is not None and app.store is not None and app.writer is not None
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: session.events_in > 200, "the sim's first prices")
            session.order("BTCUSDT", "buy", Decimal("0.01"))
            removed_at = session.events_in
            app.trading.watchlist.focus()
            app.trading.watchlist.move_cursor(row=0)
            await pilot.press("delete")
            await until(pilot, lambda: "BTCUSDT" not in session.watchlist, "the removal")
            await pilot.press("slash")
            await until(pilot, lambda: isinstance(app.screen, AddSymbolModal), "the add dialog")
            await pilot.press("b", "t", "c", "enter")
            await until(pilot, lambda: "BTCUSDT" in session.watchlist, "BTC back")
            readded = session.events_in
            await until(pilot, lambda: session.events_in > readded + 400, "more prices")
            assert list(app.feeds) == ["main"]  # never a second feed
            feed: Any = app.feeds["main"]
            assert list(feed.symbols).count("BTCUSDT") == 1
            app.writer.flush()
            marks = btc_marks(db, "one-path")
    finally:
        app.close_session("interrupted")
        app.store.close()
    assert removed_at < readded
    times = [ts for ts, _ in marks]
    assert times == sorted(times) and len(set(times)) == len(times)  # one mark a step
    half = len(marks) // 3
    before, after = marks[:half], marks[half:]
    # The sim is seeded and the clock manual: these prices are the same on every run. Two
    # interleaved paths ~140 USDT apart would jump far beyond the sim's own largest step.
    assert largest_step(after) <= 3 * largest_step(before)
    assert largest_step(marks) < Decimal("50")


async def test_a_resumed_sim_continues_its_clock_and_its_prices(tmp_path: Path) -> None:
    db = tmp_path / "sim.db"
    first = prepare(args(db, "--name", "resumable", "--speed", "100"))
    on_manual_time(first)
    assert first.session is not None and first.store is not None and first.writer is not None
    async with first.run_test(size=SIZE) as pilot:
        await until(
            pilot,
            lambda: first.session is not None and first.session.events_in > 300,
            "the first session's prices",
        )
    first.close_session("interrupted")  # as if killed
    first.store.close()
    marks = btc_marks(db, "resumable")
    last_ts, last_price = marks[-1]

    again = prepare(args(db, "--resume"))
    on_manual_time(again)
    session = again.session
    assert session is not None and again.store is not None and again.writer is not None
    try:
        options = again.feed_config.options
        assert options["after_ts"] == session.engine.last_ts >= last_ts
        assert options["start_prices"]["BTCUSDT"] == last_price
        async with again.run_test(size=SIZE) as pilot:
            start = session.events_in
            await until(pilot, lambda: session.events_in > start + 100, "the resumed prices")
            again.writer.flush()
    finally:
        again.close_session("ended")
        again.store.close()
    resumed = [(ts, p) for ts, p in btc_marks(db, "resumable") if ts > last_ts]
    assert resumed, "the clock went on past the last journaled time"
    first_ts, first_price = resumed[0]
    assert first_ts > last_ts  # never clamped to (or before) the last journaled time
    # prices continue from the last mark: within a normal step, not back at the seed's start
    assert abs(first_price - last_price) <= 2 * largest_step(marks)
