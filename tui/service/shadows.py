"""`LiveShadows`: the session being traded, run again as it goes, all isolated and all cross.

Why live: the lesson of the margin modes lands when the trader sees it on their own trades,
while they still hold them — "all isolated: 9,120 · all cross: 0 (1 liq)" next to the real
account. The shadows are ordinary engines fed the same events through `core.shadow`'s mapping
(`shadow_command`), so the line says exactly what `simulate --compare-modes` and
`stats --compare-modes` would say of the same journal.

Cost: stepping two more engines per event, nothing else. The figures the account panel
shows (`standing`) are read on the UI's flush, not per event; the whole-run figures (max
drawdown, worst margin ratio) are the summary's, recomputed from the journal
(`compare_journal`), so nothing per event is spent on them here.

A session opened on an engine that already has history (a resume, a take-over) must get its
shadows rebuilt from that history: `replayed` runs the journal through them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import InstrumentBook
from papertrade.core.shadow import ModeComparison, shadow_command

if TYPE_CHECKING:
    from papertrade.saves.store import Store


@dataclass(frozen=True, slots=True)
class Standing:
    """One shadow now: its equity (margin balance: wallet + uPnL) and liquidations so far."""

    mode: ev.MarginMode
    equity: Decimal
    liquidations: int


class LiveShadows:
    """An all-isolated and an all-cross engine, stepped with every input of the session."""

    def __init__(self, settings: ev.SessionSettings, instruments: InstrumentBook) -> None:
        self.engines: dict[ev.MarginMode, Engine] = {
            mode: Engine(instruments, settings) for mode in ev.MARGIN_MODES
        }

    @classmethod
    def replayed(
        cls,
        settings: ev.SessionSettings,
        instruments: InstrumentBook,
        events: Iterable[ev.Event],
    ) -> LiveShadows:
        """Shadows that have seen `events` (a journal from its first input)."""
        shadows = cls(settings, instruments)
        for event in events:
            shadows.step(event)
        return shadows

    def step(self, event: ev.Event) -> bool:
        """Give both shadows the event the real engine just applied (as `ModeComparison`
        does: a command a shadow skips still moves its clock). True when a shadow's equity
        may have moved: something happened in it, or a mark moved a symbol it holds (a shadow
        can hold what the real account no longer does, so the panel must repaint for it;
        equity follows the mark, so a quote or trade that fills nothing moves nothing)."""
        moved = False
        marked = event.symbol if isinstance(event, ev.MarkPrice) else None
        for mode, engine in self.engines.items():
            mapped = event if marked is not None else shadow_command(event, mode)
            if mapped is None:
                engine.last_ts = max(engine.last_ts, event.ts)
                continue
            if engine.apply(mapped) or (marked is not None and _holds(engine, marked)):
                moved = True
        return moved

    @property
    def last_ts(self) -> int:
        """The latest event time both shadows have seen (0: none yet)."""
        return min(engine.last_ts for engine in self.engines.values())

    def standing(self) -> tuple[Standing, ...]:
        """All isolated, then all cross."""
        return tuple(
            Standing(mode, engine.acct.margin_balance(), engine.totals.liquidations)
            for mode, engine in self.engines.items()
        )


def _holds(engine: Engine, symbol: str) -> bool:
    """Whether `engine` has a position in `symbol` (a one-way position is keyed by its symbol;
    only hedge mode needs the slower look)."""
    if symbol in engine.positions:
        return True
    return engine.position_mode == "hedge" and bool(engine.symbol_positions(symbol))


def journal_shadows(store: Store, session_id: int, engine: Engine) -> LiveShadows:
    """The shadows of a saved session, rebuilt from its journal (through a branch's parents)
    with the settings and instruments its engine runs on."""
    events = (event for _, event in store.events(session_id))
    return LiveShadows.replayed(engine.settings, engine.instruments, events)


def compare_journal(store: Store, session_id: int, instruments: InstrumentBook) -> ModeComparison:
    """A saved session's whole journal run as written, all isolated and all cross: the
    figures `stats --compare-modes` and the quit summary show."""
    info = store.session(session_id, totals=False)
    comparison = ModeComparison(info.settings, instruments)
    for _, event in store.events(session_id):
        comparison.apply(event)
    return comparison
