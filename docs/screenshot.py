"""Regenerate the trading-screen screenshots on the seeded sim market, with an isolated long,
a cross short and a resting limit order:

- `docs/screenshot.svg`: 80×24, the small layout README shows — positions, account strip,
  feed status and keys, with the watchlist panel (no PNG: rsvg-convert drops the spaces
  where two colours meet, which misquotes the screen);
- `docs/screenshot-120x40.svg`: every panel at once.

Run: `python docs/screenshot.py` (about 20 s; writes to throwaway databases).
"""

from __future__ import annotations

import asyncio
import tempfile
from decimal import Decimal
from pathlib import Path

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.saves.store import Store
from papertrade.tui.app import FeedConfig, PapertradeApp
from papertrade.tui.service.trading import TradingSession

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"]
OUT = Path(__file__).parent


SHOTS = (((80, 24), "screenshot.svg"), ((120, 40), "screenshot-120x40.svg"))


async def shoot(size: tuple[int, int], name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "screenshot.db")
        settings = ev.SessionSettings()
        engine = Engine(bundled("binance"), settings)
        writer = store.start_session("screenshot", "sim", SYMBOLS, settings, engine=engine)
        session = TradingSession(engine, SYMBOLS, writer=writer, venue="sim")
        app = PapertradeApp(
            session,
            FeedConfig(spec="sim", seed=7, speed="25"),
            writer=writer,
            store=store,
            session_name="btc-eth-drill",
        )
        async with app.run_test(size=size) as pilot:
            await asyncio.sleep(3)
            session.order("BTCUSDT", "buy", Decimal("0.05"), margin_mode="isolated", leverage=25)
            session.order("ETHUSDT", "sell", Decimal("1.5"))
            session.order("SOLUSDT", "buy", Decimal("10"), "limit", Decimal("130"))
            await asyncio.sleep(4)
            app.trading.flush(force=True)
            await pilot.pause()
            app.clear_notifications()
            await pilot.pause()
            app.save_screenshot(filename=name, path=str(OUT))
        app.close_session("ended")
        store.close()


async def shoot_all() -> None:
    for size, name in SHOTS:
        await shoot(size, name)
        print(f"wrote {OUT / name}")


def main() -> None:
    asyncio.run(shoot_all())


if __name__ == "__main__":
    main()
