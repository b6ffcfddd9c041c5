"""Reusable trading widgets: each refreshes itself from an `Engine` (`update_from(engine, ...)`),
so the trading screen, the replay screen or any screen owning an engine can drive them.

| module | widget | refresh |
|---|---|---|
| `watchlist` | `Watchlist` (DataTable) | `update_from(engine, symbols, dirty, start_prices)` |
| `positions` | `PositionsTable` (DataTable) | `update_from(engine)` |
| `orders` | `OrdersTable` (DataTable) | `update_from(engine)` |
| `account` | `AccountPanel` (repaints in place) | `update_from(engine)` |
| `chart` | `PriceChart` (plotext) | `update_from(engine, symbol, history)` |
| `depth` | `DepthPanel` (in place) | `update_from(engine, symbol)` |
| `log` | `EventLog` (RichLog, bounded) | `add_outcomes(outcomes)`, `add_text(text, style)` |
| `status` | `FeedStatusBar` (in place) | `update_from(name, status, now_ms, hint, extra)` |
| `ticket` | `OrderTicket` (ModalScreen) | dismisses with a `PlaceOrder` (id/ts to stamp) or None |

Shared helpers: `table.KeyedTable` (keyed rows, cell writes only when the text changed) and
`fmt` (prices on the tick grid, money, percentages, the health bar).
"""
