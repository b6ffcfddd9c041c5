"""Shared set-up for the trading-terminal tests: a deterministic market and a real store.

The market is `tests/fixtures/tui/market.jsonl` (5 symbols, 10 one-second steps) played by the
real `file:` feed, unpaced, through the real conflation and engine, into a real SQLite file in
`tmp_path`. Its last prices are fixed so tests can compute expected numbers by hand:

    symbol    bid        ask / last   mark
    BTCUSDT   94,999.9   95,000.0     95,000.0
    ETHUSDT    3,099.99   3,100.00     3,100.00
    SOLUSDT      139.99     140.00       140.00
    BNBUSDT      919.99     920.00       920.00
    XRPUSDT      2.1999     2.2000       2.2000
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tui" / "market.jsonl"
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"]
LAST = {
    "BTCUSDT": (Decimal("94999.9"), Decimal("95000.0"), Decimal("95000.0")),
    "ETHUSDT": (Decimal("3099.99"), Decimal("3100.00"), Decimal("3100.00")),
}
FIXED_WALL = 1_735_689_600.0  # 2025-01-01 00:00:00 UTC, for log stamps in snapshots


def make_app(db_path: Path, *, name: str = "test", symbols: list[str] | None = None) -> Any:
    """A `PapertradeApp` on the fixture market, saving to `db_path` (returns the app; the
    store and writer hang off it as `app.store` / `app.writer`)."""
    from papertrade.saves.store import Store
    from papertrade.tui.app import FeedConfig, PapertradeApp
    from papertrade.tui.service.trading import TradingSession

    syms = symbols or list(SYMBOLS)
    store = Store.open(db_path)
    settings = ev.SessionSettings()
    engine = Engine(bundled("binance"), settings)
    writer = store.start_session(name, "file", syms, settings, engine=engine)
    session = TradingSession(engine, syms, writer=writer, venue="file")
    feed = FeedConfig(spec=f"file:{FIXTURE}", speed=0)
    return PapertradeApp(
        session,
        feed,
        writer=writer,
        store=store,
        session_name=writer.name,
        wall_clock=lambda: FIXED_WALL,
        pacing_clock=lambda: 0.0,  # replays opened here move only when stepped or at max
    )


async def settle(pilot: Any) -> None:
    """Let the (finite) fixture feed play to its end and the screen flush it."""
    app = pilot.app
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.trading.flush()
    await pilot.pause()


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(
        *[{" ": "space", "$": "dollar_sign", "%": "percent_sign"}.get(c, c) for c in text]
    )


@pytest.fixture(autouse=True)
def no_user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: Any) -> None:
    """The terminal reads the user's config file (docs/CONFIG.md): a test never sees the
    config of whoever runs it, only an empty one (tests of the file set their own)."""
    empty = tmp_path_factory.getbasetemp() / "empty-config.toml"
    empty.touch()
    monkeypatch.setenv("PAPERTRADE_CONFIG", str(empty))


@pytest.fixture
def app_factory(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Build apps on the fixture market; every one is closed (store too) at teardown."""
    apps: list[Any] = []

    def build(**kw: Any) -> Any:
        app = make_app(tmp_path / "papertrade.db", **kw)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.close_session("interrupted")
        app.store.close()


@pytest.fixture
def tui() -> SimpleNamespace:
    """The helpers above, for test modules (importlib import mode: no `from conftest import`)."""
    return SimpleNamespace(
        settle=settle,
        type_text=type_text,
        make_app=make_app,
        LAST=LAST,
        SYMBOLS=SYMBOLS,
        FIXTURE=FIXTURE,
        FIXED_WALL=FIXED_WALL,
    )
