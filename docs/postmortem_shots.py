"""Regenerate README's screenshots of the margin-mode comparison and the post-mortem screen,
on the shipped drill `examples/drills/btc-crash-cross.jsonl` traded through the terminal's
own `TradingSession` into a throwaway database:

- `docs/postmortem-mode-line.svg`: 80×24, the account strip's "all isolated · all cross" line
  under the log of the liquidation;
- `docs/postmortem-screen.svg`: 120×40, the post-mortem of the cross liquidation (`P`).

Run: `python docs/postmortem_shots.py` (a few seconds).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.saves.store import Store
from papertrade.tui.app import FeedConfig, PapertradeApp
from papertrade.tui.screens.postmortem import PostMortemScreen
from papertrade.tui.service.trading import TradingSession

OUT = Path(__file__).parent
DRILL = OUT.parent / "examples" / "drills" / "btc-crash-cross.jsonl"
MARKET = (ev.MarkPrice, ev.Quote, ev.Trade, ev.Funding)


def traded_app(tmp: Path) -> PapertradeApp:
    """The drill applied as the terminal applies it; the feed replays its last price."""
    lines = DRILL.read_text().splitlines()
    settings, events = codec.parse_lines(lines)
    symbols = sorted({e.symbol for e in events if isinstance(e, MARKET)})
    store = Store.open(tmp / "shots.db")
    engine = Engine(bundled("binance"), settings)
    writer = store.start_session("btc-crash", "file", symbols, settings, engine=engine)
    session = TradingSession(engine, symbols, writer=writer, venue="file")
    for event in events:
        if isinstance(event, MARKET):
            session.on_market(event)
        elif not isinstance(event, ev.Snapshot):
            session.submit(event)
    last = next(line for line in reversed(lines) if isinstance(codec.parse_line(line), MARKET))
    (tmp / "last.jsonl").write_text(last + "\n")
    return PapertradeApp(
        session,
        FeedConfig(spec=f"file:{tmp / 'last.jsonl'}", speed=0),
        writer=writer,
        store=store,
        session_name=writer.name,
    )


async def shoot(size: tuple[int, int], name: str, postmortem: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = traded_app(Path(tmp))
        async with app.run_test(size=size) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            app.trading.flush(force=True)
            if not postmortem:
                await pilot.press("4")  # the log: the liquidation lines and the P hint
            else:
                await pilot.press("P")
                while not (isinstance(app.screen, PostMortemScreen) and app.screen.reports):
                    await pilot.pause(0.05)
            await pilot.pause()
            app.clear_notifications()
            await pilot.pause()
            app.save_screenshot(filename=name, path=str(OUT))
        app.close_session("ended")
        app.store.close()
        print(f"wrote {OUT / name}")


async def shoot_all() -> None:
    await shoot((80, 24), "postmortem-mode-line.svg", postmortem=False)
    await shoot((120, 40), "postmortem-screen.svg", postmortem=True)


if __name__ == "__main__":
    asyncio.run(shoot_all())
