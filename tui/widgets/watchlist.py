"""`Watchlist`: one row per watched symbol — mark, change, funding, countdown, bid/ask, last.

Refresh: `update_from(engine, symbols, dirty=None, start_prices=None)`. `symbols` is the
watchlist in order; `dirty` limits the cell writes to the symbols that moved (None = all);
`start_prices` (symbol -> price) gives the "change" column its base — the trading screen
passes the first price this session saw, so the header reads "Δ sess.". The funding
countdown is measured on market time (`engine.last_ts`), so it is exact on replays too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import ClassVar

from rich.text import Text

from papertrade.core.engine import Engine
from papertrade.tui.widgets import fmt
from papertrade.tui.widgets.table import KeyedTable


class Watchlist(KeyedTable):
    DEFAULT_CSS = """
    Watchlist { height: 1fr; }
    """
    # Widths fit the widest bundled symbol with its position marker ("1000PEPEUSDT •"); at 80
    # columns everything up to bid/ask fits whole, at 120 (88 wide) everything.
    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = (
        ("symbol", "Symbol", 14),
        ("mark", "Mark", 10),
        ("change", "Δ sess.", 7),
        ("funding", "Funding", 8),
        ("next", "Funds in", 8),
        ("book", "Bid / Ask", 21),
        ("last", "Last", 10),
    )

    def update_from(
        self,
        engine: Engine,
        symbols: Iterable[str],
        dirty: Iterable[str] | None = None,
        start_prices: Mapping[str, Decimal] | None = None,
    ) -> None:
        symbols = list(symbols)
        added = self.sync_rows(symbols, {"symbol": ""})
        todo = symbols if dirty is None or added else [s for s in dirty if s in symbols]
        for symbol in todo:
            self.set_row(symbol, self.row_values(engine, symbol, start_prices))

    @staticmethod
    def row_values(
        engine: Engine, symbol: str, start_prices: Mapping[str, Decimal] | None = None
    ) -> dict[str, str | Text]:
        inst = engine.instruments.get(symbol)
        m = engine.markets.get(symbol)
        has_pos = bool(engine.symbol_positions(symbol))
        name = Text(symbol, style="bold" if has_pos else "")
        if has_pos:
            name.append(" •", style="cyan")
        if m is None:
            return {"symbol": name, "mark": fmt.DASH, "last": fmt.DASH, "book": fmt.DASH}
        start = (start_prices or {}).get(symbol)
        ref = m.mark if m.mark is not None else m.last
        change = ref / start - 1 if start and ref is not None else None
        rate = m.funding_rate
        nxt = m.next_funding_ts - engine.last_ts if m.next_funding_ts is not None else None
        return {
            "symbol": name,
            "mark": fmt.price(m.mark, inst),
            "last": fmt.price(m.last, inst),
            "book": f"{fmt.price(m.bid, inst)} / {fmt.price(m.ask, inst)}",
            "change": fmt.signed_text(fmt.pct(change), change),
            "funding": fmt.signed_text(fmt.pct(rate, 4), rate),
            "next": fmt.countdown(nxt),
        }
