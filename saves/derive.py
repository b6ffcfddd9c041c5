"""Everything computed by feeding a journal to an engine: replay, seek, derive, branch, stats.

Outcomes and snapshots are derived data: `derive` stores them (committed in chunks, so an
interrupted derivation keeps what it did), seeks start from the nearest snapshot, and a
branch is a new session row plus a snapshot at the cut. The engine is built here and only
here from a session's settings and venue (`core.instruments.instruments_for`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from papertrade.core import events as ev
from papertrade.core.instruments import instruments_for
from papertrade.saves.catalogue import Catalogue, SessionInfo
from papertrade.saves.errors import DamagedSession, SessionLocked, StoreError
from papertrade.saves.journal import Journal
from papertrade.saves.locks import is_locked
from papertrade.saves.stats import EQUITY_POINTS, EquitySampler, SessionStats, compute_stats
from papertrade.saves.transactions import transaction
from papertrade.saves.writer import INSERT_OUTCOME, INSERT_SNAPSHOT, outcome_row

if TYPE_CHECKING:
    from papertrade.core.engine import Engine
    from papertrade.core.instruments import InstrumentBook

DERIVE_CHUNK = 50_000
"""Events derived per transaction: bounds memory and what an interruption loses."""


def new_engine(settings: ev.SessionSettings, instruments: InstrumentBook | None) -> Engine:
    from papertrade.core.engine import Engine

    return Engine(instruments=instruments, settings=settings)


def engine_from_state(state: dict[str, Any], instruments: InstrumentBook | None) -> Engine:
    from papertrade.core.engine import Engine

    return Engine.from_state(state, instruments=instruments)


def state_text(engine: Engine) -> str:
    """The engine's state as a snapshot row holds it (compact JSON)."""
    return json.dumps(engine.to_state(), separators=(",", ":"))


class Derivation:
    """Engine work over one database's journals (same connection and thread as its `Store`)."""

    def __init__(self, catalogue: Catalogue, journal: Journal) -> None:
        self.catalogue = catalogue
        self.journal = journal
        self.conn = catalogue.conn

    @staticmethod
    def book(info: SessionInfo, instruments: InstrumentBook | None) -> InstrumentBook:
        return instruments if instruments is not None else instruments_for(info.venue)

    def start_engine(
        self, info: SessionInfo, target: int, book: InstrumentBook
    ) -> tuple[Engine, int]:
        """An engine from the newest snapshot at or before `target`, and that snapshot's seq."""
        snap = self.journal.latest_snapshot(info.id, target)
        if snap is None:
            return new_engine(info.settings, book), 0
        seq, state = snap
        try:
            return engine_from_state(state, book), seq
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            reason = f"snapshot {seq}: state does not load ({type(exc).__name__}: {exc})"
            raise DamagedSession(info.name, reason, seq) from None

    def engine_at(self, info: SessionInfo, seq: int | None, book: InstrumentBook) -> Engine:
        """The engine state after event `seq` (default: the end), from the nearest snapshot."""
        target = info.last_seq if seq is None else min(seq, info.last_seq)
        engine, done = self.start_engine(info, target, book)
        apply = engine.apply
        for _, events in self.journal.event_chunks(info.id, done + 1, target):
            for event in events:
                apply(event)
        return engine

    def replay(
        self, info: SessionInfo, book: InstrumentBook
    ) -> Iterator[tuple[int, ev.Event, list[ev.Outcome]]]:
        """Feed the whole journal to a fresh engine: `(seq, event, outcomes)` for each input."""
        apply = new_engine(info.settings, book).apply
        for rows, events in self.journal.event_chunks(info.id):
            for row, event in zip(rows, events, strict=True):
                yield row[0], event, apply(event)

    def derive(
        self, info: SessionInfo, instruments: InstrumentBook | None, every: int
    ) -> Engine | None:
        """Bring the stored outcomes (and missing snapshots) up to the end of the journal.

        Returns the engine at the end when work was done (None when already derived). A
        session being written by a live process is left alone.
        """
        if info.derived_seq >= info.last_seq:
            return None
        if info.status == "running" and is_locked(self.catalogue.locks, info.id):
            raise SessionLocked(f"session {info.name} is being recorded; try again after it ends")
        return self.catch_up(info, instruments, every)

    def catch_up(self, info: SessionInfo, instruments: InstrumentBook | None, every: int) -> Engine:
        """Derive the parent chain, then this session's own events: the engine at the end."""
        if info.parent_id is not None:
            self.derive(self.catalogue.info(info.parent_id), instruments, every)
        book = self.book(info, instruments)
        start = max(info.derived_seq, info.branch_seq or 0)
        engine = self.engine_at(info, start, book)
        self._advance(info, engine, start, info.last_seq, every)
        return engine

    def _advance(
        self, info: SessionInfo, engine: Engine, after: int, until: int, every: int
    ) -> None:
        """Apply own events (after, until], storing outcomes and missing snapshots.

        Committed every `DERIVE_CHUNK` events, so memory stays bounded and an interrupted
        derivation keeps what it did (derived_seq only moves over committed work)."""
        have = {
            r[0]
            for r in self.conn.execute(
                "SELECT seq FROM snapshots WHERE session_id = ? AND seq > ?", (info.id, after)
            )
        }
        lo = after + 1
        while lo <= until:
            hi = min(until, lo + DERIVE_CHUNK - 1)
            outcome_rows: list[tuple[Any, ...]] = []
            snap_rows: list[tuple[Any, ...]] = []
            for seq, ts, kind, text in list(self.journal.rows(info.id, lo, hi)):
                event = self.journal.decode(info.id, seq, ts, kind, text)
                for idx, outcome in enumerate(engine.apply(event)):
                    outcome_rows.append(outcome_row(info.id, seq, idx, outcome))
                if seq % every == 0 and seq not in have:
                    snap_rows.append((info.id, seq, ts, state_text(engine)))
            with transaction(self.conn, self.catalogue.path):
                self.conn.executemany(INSERT_OUTCOME, outcome_rows)
                self.conn.executemany(INSERT_SNAPSHOT, snap_rows)
                self.conn.execute(
                    "UPDATE sessions SET derived_seq = max(derived_seq, ?) WHERE id = ?",
                    (hi, info.id),
                )
            lo = hi + 1

    def branch(
        self,
        info: SessionInfo,
        at_seq: int | None,
        at_ts: int | None,
        name: str | None,
        book: InstrumentBook,
    ) -> int:
        """A new `ended` session continuing from `info`'s state after the cut; its id."""
        if (at_seq is None) == (at_ts is None):
            raise StoreError("give exactly one branch point: a sequence number or a timestamp")
        if at_ts is not None:
            cut = self.journal.seq_at_ts(info.id, at_ts)
        else:
            assert at_seq is not None
            if not 0 <= at_seq <= info.last_seq:
                raise StoreError(
                    f"branch point {at_seq} is outside {info.name}'s journal (0..{info.last_seq})"
                )
            cut = at_seq
        state = state_text(self.engine_at(info, cut, book))
        cut_ts = self.journal.ts_of(info.id, cut)
        if name is None:
            name = self.catalogue.free_name(f"{info.name}-branch-{cut}")
        with transaction(self.conn, self.catalogue.path):
            sid, _ = self.catalogue.insert(
                name, info.venue, info.symbols, info.settings, "ended", info.id, cut
            )
            self.conn.execute(INSERT_SNAPSHOT, (sid, cut, cut_ts, state))
            self.conn.execute(
                "UPDATE sessions SET first_ts = ?, last_ts = ?, ended_at = created_at,"
                " derived_seq = ? WHERE id = ?",
                (info.first_ts, cut_ts if cut else None, cut, sid),
            )
        return sid

    def stats(
        self, info: SessionInfo, book: InstrumentBook, points: int = EQUITY_POINTS
    ) -> SessionStats:
        """Replay the session and compute `saves.stats.compute_stats` over it."""
        engine = new_engine(info.settings, book)
        sampler = EquitySampler(lambda: engine.account().margin_balance)
        if info.first_ts is not None:
            sampler.series.append((info.first_ts, info.settings.balance))
        outcomes: list[ev.Outcome] = []
        last_ts = None
        for _, event in self.journal.events(info.id):
            out = engine.apply(event)
            outcomes.extend(out)
            sampler.observe(event.ts, out)
            last_ts = event.ts
        series = sampler.finish(last_ts)
        return compute_stats(
            outcomes,
            series,
            starting_balance=info.settings.balance,
            start_ts=info.first_ts,
            end_ts=info.last_ts,
            points=points,
            end_account=engine.account(),
            challenge=(
                info.settings.max_daily_loss is not None or info.settings.max_drawdown is not None
            ),
            refill=info.settings.refill,
        )
