"""The watchlist's rows take turns (`WATCHLIST_EVERY`): each flush repaints the moved rows of
one interleaved group. A row's first data is the exception: it is painted at the next flush
whatever the turn, so the first price on screen (the start-up's first frame, a symbol just
added) is never a flush late."""

from __future__ import annotations

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.tui.screens.trading import WATCHLIST_EVERY, TradingScreen
from papertrade.tui.service.trading import TradingSession

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"]


def _screen() -> TradingScreen:
    engine = Engine(bundled("binance"), ev.SessionSettings())
    return TradingScreen(TradingSession(engine, list(SYMBOLS), writer=None, venue="sim"))


def _flush(screen: TradingScreen, moved: set[str], listed: list[str] = SYMBOLS) -> set[str]:
    """What `flush` does with the moved symbols, for the watchlist: the rows it repaints."""
    screen._watch_dirty |= moved
    screen._flushes += 1
    return screen._watch_due(listed)


def test_first_data_is_painted_at_once_then_rows_take_turns() -> None:
    assert WATCHLIST_EVERY == 2
    screen = _screen()
    # First flush (turn 1: the odd rows): every row's first price is painted, whatever its turn.
    assert _flush(screen, set(SYMBOLS)) == set(SYMBOLS)
    # From then on the turns hold: odd rows at turn 1, even rows at turn 0, nothing lost.
    assert _flush(screen, set(SYMBOLS)) == {"BTCUSDT", "SOLUSDT"}  # turn 0
    assert _flush(screen, {"BTCUSDT"}) == {"ETHUSDT", "BNBUSDT"}  # turn 1: BTC waits
    assert _flush(screen, set()) == {"BTCUSDT"}  # turn 0: its move is painted, one flush on


def test_a_symbol_removed_and_added_again_gets_its_first_paint_at_once() -> None:
    screen = _screen()
    without_eth = [s for s in SYMBOLS if s != "ETHUSDT"]
    assert _flush(screen, set(SYMBOLS)) == set(SYMBOLS)  # turn 1
    assert _flush(screen, set(), without_eth) == set()  # turn 0: ETHUSDT removed, forgotten
    assert _flush(screen, set(), without_eth) == set()  # turn 1
    # Back in the list (its row is odd: its turn is 1), its first data comes at turn 0 and
    # is painted at once; BTCUSDT's move there is its own turn's.
    assert _flush(screen, {"ETHUSDT", "BTCUSDT"}) == {"ETHUSDT", "BTCUSDT"}
    assert _flush(screen, {"ETHUSDT"}) == {"ETHUSDT"}  # turn 1: its own turn
    assert _flush(screen, {"ETHUSDT"}) == set()  # turn 0: waits now, like every other row
