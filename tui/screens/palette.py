"""`TradingCommands`: every trading action in the ctrl+p palette, offered only when it applies.

Why context-aware: a palette listing "Cancel all orders" with no orders open, or "Close BTCUSDT
position" with none, teaches the trader to ignore it. Commands are built from the trading
screen's state at the moment the palette opens.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider

from papertrade.core import events as ev
from papertrade.tui.screens.host import host
from papertrade.tui.service.trading import TradingSession


@runtime_checkable
class TradingActions(Protocol):
    """What the palette needs of the trading screen (named here: the screen imports this
    module for its `COMMANDS`, so this module must not import the screen)."""

    session: TradingSession

    @property
    def selected_symbol(self) -> str | None: ...

    def close_symbol(self, symbol: str, position_side: ev.PositionSlot | None = None) -> None: ...

    def open_margin_dialog(self, key: str) -> None: ...

    def switch_position_mode(self) -> None: ...

    @property
    def symbol_filter(self) -> str | None: ...

    @property
    def depth_shown(self) -> bool: ...


class TradingCommands(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        screen = self.screen
        if not isinstance(screen, TradingActions):
            return []
        run = self.screen.run_action
        engine = screen.session.engine
        symbol = screen.selected_symbol
        out: list[tuple[str, Callable[[], object], str]] = []
        if symbol:
            mode, lev = engine.symbol_setting(symbol)
            other = "isolated" if mode == "cross" else "cross"
            out += [
                (f"Buy {symbol}", partial(run, "buy"), "open the order ticket (b)"),
                (f"Sell {symbol}", partial(run, "sell"), "open the order ticket (s)"),
                (
                    f"Switch {symbol} to {other} margin",
                    partial(run, "margin_mode"),
                    f"now {mode} (m)",
                ),
                (f"Set {symbol} leverage", partial(run, "leverage"), f"now {lev}x (l)"),
                (f"Price alert on {symbol}", partial(run, "alert"), "above or below a price (A)"),
                (
                    f"Remove {symbol} from the watchlist",
                    partial(run, "remove_symbol"),
                    "(delete)",
                ),
            ]
        for key, pos in sorted(engine.positions.items()):
            sym = pos.symbol if pos.slot == "both" else f"{pos.symbol} {pos.slot}"
            side = None if pos.slot == "both" else pos.slot
            out.append(
                (
                    f"Close {sym} position",
                    partial(screen.close_symbol, pos.symbol, side),
                    "at market (c)",
                )
            )
            if pos.mode == "isolated":
                out.append(
                    (
                        f"Add or remove {sym} isolated margin",
                        partial(screen.open_margin_dialog, key),
                        "(a)",
                    )
                )
        if engine.positions:
            out.append(
                (
                    "Reverse the selected position",
                    partial(run, "reverse"),
                    "one market order of twice its size, asks with the cost (r)",
                )
            )
            out.append(
                (
                    f"Close all {len(engine.positions)} positions",
                    partial(run, "close_all"),
                    "at market, asks first (C)",
                )
            )
            out.append(
                (
                    "TP/SL of the selected position",
                    partial(run, "tpsl"),
                    "take-profit and stop-loss, by price or ROE % (t)",
                )
            )
            out.append(
                (
                    "Stop-loss to break-even",
                    partial(run, "break_even"),
                    "entry plus fees paid (B)",
                )
            )
        open_ids = screen.session.open_order_ids
        if open_ids:
            out.append(
                ("Cancel selected order", partial(run, "cancel_order"), "(x)"),
            )
            out.append(
                ("Amend selected order", partial(run, "amend"), "move its price or trigger (e)"),
            )
            out.append(
                (
                    f"Cancel all orders ({len(open_ids)})",
                    partial(run, "cancel_all"),
                    "asks to confirm (X)",
                )
            )
        now = engine.position_mode
        target = "one-way" if now == "hedge" else "hedge"
        held = engine.positions or open_ids
        out.append(
            (
                f"Switch to {target} position mode",
                screen.switch_position_mode,
                f"now {now.replace('_', '-')}"
                + (": close every position and order first" if held else ""),
            )
        )
        shown = screen.symbol_filter
        if shown:
            out.append(("Orders and history: every symbol", partial(run, "filter_symbol"), "(f)"))
        elif symbol:
            out.append((f"Orders and history: only {symbol}", partial(run, "filter_symbol"), "(f)"))
        if engine.totals.liquidations:
            out.append(
                (
                    "Post-mortem of the last liquidation",
                    partial(run, "postmortem"),
                    "why it happened and what would have kept it alive (P)",
                )
            )
        out += [
            ("Add a symbol to the watchlist", partial(run, "add_symbol"), "(/)"),
            ("Show the watchlist", partial(run, "panel('watchlist')"), "(1)"),
            ("Show the chart", partial(run, "panel('chart')"), "(2)"),
            ("Show the orders", partial(run, "panel('books')"), "(3)"),
            ("Show the log", partial(run, "panel('log')"), "(4)"),
            (
                f"{'Hide' if screen.depth_shown else 'Show'} the depth panel",
                partial(run, "toggle_depth"),
                "the selected symbol's order book and your orders in it (d)",
            ),
            ("Next orders tab", partial(run, "next_book"), "open > history > trades (o)"),
            ("Sessions", partial(run, "sessions"), "saved sessions (S)"),
            ("Help: keys", partial(run, "help"), "(?)"),
        ]  # quitting is the app's one "Quit and save" system command (tui/app.py)
        market = host(screen).recorded
        if market is not None:
            verb = "Play" if market.paused else "Pause"
            out += [
                (f"{verb} the recorded market", partial(run, "app.toggle_market"), "(space)"),
                ("Recorded market faster", partial(run, "app.market_faster"), "(+)"),
                ("Recorded market slower", partial(run, "app.market_slower"), "(-)"),
            ]
        return out

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
