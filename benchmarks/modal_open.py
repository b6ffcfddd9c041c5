"""How long a dialog takes to open: keypress to the dialog painted on the terminal.

    python benchmarks/modal_open.py [--rounds 4] [--size 120x40]

What it measures: the real `PapertradeApp` (headless), trading the simulated market as
`papertrade --feed sim` does (5 symbols, paced at speed 1), with one isolated position open. Each
round opens every dialog of the trading screen with its key, as a terminal key press arrives
(the driver's message queue): the order ticket (`b`), leverage (`l`), isolated margin (`a`),
price alert (`A`), add symbol (`/`) and help (`?`), and closes it with escape. A dialog's
latency is the time from the key to the first frame written to the terminal with the dialog
composed on it (its widgets laid out). Target (issue 10, bug 13: "make them instant"):
median < 150 ms on a quiet machine. A report, not a test: a busy machine makes it slower.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

# `python benchmarks/modal_open.py` puts benchmarks/ first on sys.path, where feeds.py would
# shadow the feeds package: the repository root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import RenderableType
from textual import events
from textual.screen import Screen
from textual.widget import Widget

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.saves.store import Store
from papertrade.tui.app import FeedConfig, PapertradeApp
from papertrade.tui.service.trading import TradingSession

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"]
DIALOGS = {
    "b": ("order ticket", "b"),
    "l": ("leverage", "l"),
    "a": ("isolated margin", "a"),
    "A": ("price alert", "A"),
    "slash": ("add symbol", "/"),
    "question_mark": ("help", "?"),
}
TARGET_MS = 150.0
GUARD_S = 30.0


def composed(screen: Screen[object]) -> bool:
    """Every widget of the dialog is mounted and laid out (has a place on the screen)."""
    widgets = [
        w
        for w in screen.walk_children(Widget)
        if w.display and all(a.display for a in w.ancestors_with_self if isinstance(a, Widget))
    ]
    placed = screen._compositor.widgets
    return bool(widgets) and all(w.is_mounted and w in placed for w in widgets)


async def measure(
    rounds: int, size: tuple[int, int], db: Path
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    store = Store.open(db)
    settings = ev.SessionSettings()
    engine = Engine(bundled("binance"), settings)
    writer = store.start_session("bench", "sim", SYMBOLS, settings, engine=engine)
    session = TradingSession(engine, SYMBOLS, writer=writer, venue="sim")
    app = PapertradeApp(
        session, FeedConfig(spec="sim"), writer=writer, store=store, session_name=writer.name
    )
    painted: list[tuple[float, float, Screen[object]]] = []
    display = app._display

    def timed_display(screen: Screen[object], renderable: RenderableType | None) -> None:
        display(screen, renderable)
        if app.screen is not trading and composed(app.screen):
            painted.append((time.perf_counter(), time.process_time(), app.screen))

    app._display = timed_display  # type: ignore[method-assign]
    results: dict[str, list[float]] = {key: [] for key in DIALOGS}
    cpu: dict[str, list[float]] = {key: [] for key in DIALOGS}
    trading: Screen[object] | None = None

    async def wait(done: Callable[[], bool], what: str) -> None:
        deadline = time.perf_counter() + GUARD_S
        while not done():
            if time.perf_counter() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            await asyncio.sleep(0.001)

    def press(key: str) -> None:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        driver = app._driver
        assert driver is not None
        driver.send_message(event)

    async with app.run_test(headless=True, size=size) as pilot:
        await wait(lambda: session.events_in >= 50, "the sim feed")
        session.order("BTCUSDT", "buy", Decimal("0.01"), margin_mode="isolated", leverage=10)
        await pilot.pause(0.5)
        trading = app.screen
        painted.clear()
        for _ in range(rounds):
            for key in DIALOGS:
                start, start_cpu = time.perf_counter(), time.process_time()
                press(key)
                await wait(lambda: bool(painted), f"the {DIALOGS[key][0]} dialog")
                shown, shown_cpu, _ = painted[0]
                results[key].append((shown - start) * 1000)
                cpu[key].append((shown_cpu - start_cpu) * 1000)
                await pilot.pause(0.1)
                press("escape")
                await wait(lambda: app.screen is trading, "the dialog to close")
                painted.clear()
                await pilot.pause(0.2)
        app.stop_feeds()
        await pilot.pause()
    app.close_session("ended")
    store.close()
    return results, cpu


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="openings of each dialog")
    parser.add_argument("--size", default="120x40", help="terminal size, e.g. 80x24")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu = asyncio.run(measure(args.rounds, (width, height), Path(tmp) / "bench.db"))
    print(f"dialog opening, key to painted, {width}x{height}, sim feed live")
    print(f"{'':>22} {'median':>8} {'p90':>8}   {'cpu median':>10}   (cpu: this process's CPU)")
    for key, (name, shown) in DIALOGS.items():
        print(
            f"{name + ' (' + shown + ')':>22} {statistics.median(wall[key]):6.1f}ms "
            f"{p90(wall[key]):6.1f}ms   {statistics.median(cpu[key]):8.1f}ms"
        )
    every = [ms for values in wall.values() for ms in values]
    every_cpu = [ms for values in cpu.values() for ms in values]
    median = statistics.median(every)
    print(
        f"{'all (n=' + str(len(every)) + ')':>22} {median:6.1f}ms {p90(every):6.1f}ms   "
        f"{statistics.median(every_cpu):8.1f}ms"
    )
    verdict = "PASS" if median < TARGET_MS else "FAIL"
    print(f"target: median < {TARGET_MS:.0f} ms from key to dialog on a quiet machine: {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
