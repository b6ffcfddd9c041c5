"""A trading terminal on a shipped drill, traded through the real `TradingSession` (on
pytest's pythonpath: `tests/support`; `docs/postmortem_shots.py` uses it too).

The drill's inputs are applied before the app starts, exactly as the feed worker and the
ticket would apply them (`on_market` for prices, `submit` for the trader's commands), into a
real SQLite journal; the app's own feed is the real `file:` feed playing the drill's last
market event again, so it ends at once and the screen then stands still.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.saves.store import Store
from papertrade.tui.app import FeedConfig, PapertradeApp
from papertrade.tui.service.trading import TradingSession

ROOT = Path(__file__).resolve().parents[2]
DRILLS = ROOT / "examples" / "drills"
FIXED_WALL = 1_735_689_600.0
MARKET = (ev.MarkPrice, ev.Quote, ev.Trade, ev.Funding, ev.Book)


def drill_inputs(drill: str) -> tuple[ev.SessionSettings, list[ev.Event]]:
    return codec.parse_lines((DRILLS / drill).read_text().splitlines())


def trade_drill(session: TradingSession, events: list[ev.Event]) -> None:
    """Every input of a drill through the session, as the terminal would apply it."""
    for event in events:
        if isinstance(event, MARKET):
            session.on_market(event)
        elif not isinstance(event, ev.Snapshot):
            session.submit(event)


def drill_app(tmp: Path, drill: str = "btc-crash-cross.jsonl", *, name: str = "crash") -> Any:
    """A `PapertradeApp` whose session has traded `drill` (its store hangs off `app.store`;
    close it with `app.close_session(...)` and `app.store.close()`)."""
    settings, events = drill_inputs(drill)
    symbols = sorted({e.symbol for e in events if isinstance(e, MARKET)})
    store = Store.open(tmp / "papertrade.db")
    engine = Engine(bundled("binance"), settings)
    writer = store.start_session(name, "file", symbols, settings, engine=engine)
    session = TradingSession(engine, symbols, writer=writer, venue="file")
    trade_drill(session, events)
    lines = (DRILLS / drill).read_text().splitlines()
    last = next(line for line in reversed(lines) if isinstance(codec.parse_line(line), MARKET))
    market = tmp / "last-price.jsonl"
    market.write_text(last + "\n")
    return PapertradeApp(
        session,
        FeedConfig(spec=f"file:{market}", speed=0),
        writer=writer,
        store=store,
        session_name=writer.name,
        wall_clock=lambda: FIXED_WALL,
        pacing_clock=lambda: 0.0,
    )
