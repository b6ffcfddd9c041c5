"""Reading a session's journal back: its inputs, stored outcomes, snapshots, totals.

A branch's journal is its parent's up to the branch point (by reference, not copied) and
then its own rows, so every read goes through `segments`. Every row read is checked before
it leaves this module: a timestamp outside `saves.bounds`, a payload that does not decode to
a valid event, money that is not a finite decimal, or a snapshot that is not JSON raises
`DamagedSession` naming the session and the event (never a raw JSON/decimal/Key error).

`write_imported` is the one bulk write of a journal (the live path is `saves.writer`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from papertrade.core import events as ev
from papertrade.core.numbers import ZERO
from papertrade.saves import bounds, payload
from papertrade.saves.catalogue import Catalogue, Results, SessionInfo, now_ms
from papertrade.saves.errors import CorruptStoreError, DamagedSession
from papertrade.saves.transactions import transaction
from papertrade.saves.writer import INSERT_EVENT

END = 2**62
"""Past any sequence number: "to the end of the journal"."""
_CHUNK = 256
"""Rows fetched, and decoded, at a time. A replay that decoded a row then ran it through the
engine, row by row, measured a third slower per event than one that decodes 256 rows and
then runs their events (each part's working set stays in the CPU's caches while it works);
chunks of thousands were slower again (the chunk's objects no longer fit)."""


@dataclass(slots=True, frozen=True)
class Segment:
    """A run of a session's journal held under `session_id` (branches chain their parent's)."""

    session_id: int
    lo: int
    hi: int


class Journal:
    """Reads of one database's journals (same connection and thread as its `Store`)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.conn = catalogue.conn

    def _damaged(self, sid: int, reason: str, seq: int | None = None) -> DamagedSession:
        return DamagedSession(self.catalogue.name_of(sid), reason, seq)

    def segments(self, sid: int) -> list[Segment]:
        row = self.catalogue.row(sid)
        if row["parent_id"] is None:
            return [Segment(sid, 1, END)]
        cut = int(row["branch_seq"])
        inherited = [
            Segment(s.session_id, s.lo, min(s.hi, cut))
            for s in self.segments(int(row["parent_id"]))
            if s.lo <= cut
        ]
        return [*inherited, Segment(sid, cut + 1, END)]

    # --- inputs ------------------------------------------------------------------------

    def _chunks(
        self, sid: int, start_seq: int, end_seq: int | None
    ) -> Iterator[tuple[int, list[tuple[int, int, str, str]]]]:
        """Raw rows `(seq, ts, kind, payload)` in order, through a branch's parents, a chunk at
        a time with the session that holds them (timestamps not checked yet)."""
        end = END if end_seq is None else end_seq
        for seg in self.segments(sid):
            lo, hi = max(seg.lo, start_seq), min(seg.hi, end)
            if lo > hi:
                continue
            cur = self.conn.execute(
                "SELECT seq, ts, kind, payload FROM events"
                " WHERE session_id = ? AND seq BETWEEN ? AND ? ORDER BY seq",
                (seg.session_id, lo, hi),
            )
            while True:
                chunk = cur.fetchmany(_CHUNK)
                if not chunk:
                    break
                yield seg.session_id, chunk

    def _bad_ts(self, holder: int, seq: int, ts: int) -> DamagedSession:
        return self._damaged(holder, f"event {seq}: {bounds.ts_problem(ts)}", seq)

    def rows(
        self, sid: int, start_seq: int = 1, end_seq: int | None = None
    ) -> Iterator[tuple[int, int, str, str]]:
        """Raw journal rows `(seq, ts, kind, payload)` in order, through a branch's parents,
        each with its timestamp checked against `saves.bounds`."""
        lowest, highest = bounds.TS_MIN, bounds.TS_MAX
        for holder, chunk in self._chunks(sid, start_seq, end_seq):
            for row in chunk:
                ts = row[1]
                if not lowest <= ts <= highest:  # STRICT: ts is an int; only range to check
                    raise self._bad_ts(holder, row[0], ts)
                yield row

    def decode(self, sid: int, seq: int, ts: int, kind: str, text: str) -> ev.Event:
        """The event of one row of session `sid`'s journal, or `DamagedSession`."""
        try:
            return payload.decode(kind, ts, text, seq)
        except CorruptStoreError as exc:
            raise self._damaged(sid, f"event {seq}: {exc}", seq) from None

    def events(
        self, sid: int, start_seq: int = 1, end_seq: int | None = None
    ) -> Iterator[tuple[int, ev.Event]]:
        """The session's inputs `(seq, event)` from `start_seq` to `end_seq` inclusive."""
        for rows, events in self.event_chunks(sid, start_seq, end_seq):
            for row, event in zip(rows, events, strict=True):
                yield row[0], event

    def event_chunks(
        self, sid: int, start_seq: int = 1, end_seq: int | None = None
    ) -> Iterator[tuple[list[tuple[int, int, str, str]], list[ev.Event]]]:
        """`events` a chunk at a time, `(rows, events)`: the raw rows `(seq, ts, kind,
        payload)` and their events, one for one. What a replay loops over: one generator
        step per chunk of rows between the journal and the engine, not one per event, and
        no `(seq, event)` pair built per row.

        `rows` and `decode` written out in one loop: this is a replay's cost per row beside
        the engine's (issue 14: replay at least half the engine's speed): a row goes through
        its kind's cheapest reader (`payload.READERS`), and on any doubt through
        `payload.decode`, whose strict path words what is wrong. A chunk of rows is decoded
        whole before its events are handed on (see `_CHUNK`); a damaged row still comes
        after every event before it (the rows of its chunk before it come with their events,
        then the error)."""
        lowest, highest = bounds.TS_MIN, bounds.TS_MAX
        readers = payload.READERS
        decode = payload.decode
        for holder, chunk in self._chunks(sid, start_seq, end_seq):
            decoded: list[ev.Event] = []
            append = decoded.append
            try:
                for seq, ts, kind, text in chunk:
                    if not lowest <= ts <= highest:  # STRICT: ts is an int; only range to check
                        raise self._bad_ts(holder, seq, ts)
                    try:
                        event = readers[kind](ts, text)
                    except KeyError:  # a kind without a reader (a book): the strict path
                        event = None
                    if event is None:
                        try:
                            event = decode(kind, ts, text, seq)
                        except CorruptStoreError as exc:
                            raise self._damaged(sid, f"event {seq}: {exc}", seq) from None
                    append(event)
            except DamagedSession:
                if decoded:
                    yield chunk[: len(decoded)], decoded  # every event before the damaged row
                raise
            yield chunk, decoded

    def market_events_after(self, sid: int, seq: int) -> Iterator[tuple[int, ev.MarketEvent]]:
        """The market data of `sid` after `seq`, commands left out."""
        for row_seq, ts, kind, text in self.rows(sid, seq + 1):
            if kind in ev.MARKET_TYPES:
                yield row_seq, self.decode(sid, row_seq, ts, kind, text)  # type: ignore[misc]

    def seq_at_ts(self, sid: int, at_ts: int) -> int:
        """The last event at or before `at_ts` (0 when none is)."""
        cut = 0
        for seg in self.segments(sid):
            found = self.conn.execute(
                "SELECT max(seq) FROM events WHERE session_id = ? AND seq BETWEEN ? AND ?"
                " AND ts <= ?",
                (seg.session_id, seg.lo, seg.hi, at_ts),
            ).fetchone()
            if found and found[0] is not None:
                cut = int(found[0])
        return cut

    def ts_of(self, sid: int, seq: int) -> int:
        """The timestamp of event `seq` (0 for the start of the journal)."""
        return next((ts for _, ts, _, _ in self.rows(sid, seq, seq)), 0)

    def export_lines(self, info: SessionInfo) -> Iterator[str]:
        """The session as a drill: a `session` line, then every input, one JSON line each.

        `papertrade simulate` on this reproduces the session's outcomes exactly.
        """
        from papertrade.core import codec  # its pydantic models: built on first use

        head = codec.to_dict(info.settings)
        head["name"] = info.name
        head["venue"] = info.venue
        yield json.dumps(head, separators=(",", ":"))
        for seq, ts, kind, text in self.rows(info.id):
            yield codec.dumps(self.decode(info.id, seq, ts, kind, text))

    # --- derived rows ------------------------------------------------------------------

    def stored_outcomes(self, sid: int) -> Iterator[tuple[int, str]]:
        """Stored outcomes `(seq, codec JSON line)` through a branch's parents, in order."""
        for seg in self.segments(sid):
            for seq, text in self.conn.execute(
                "SELECT seq, payload FROM outcomes WHERE session_id = ? AND seq BETWEEN ? AND ?"
                " ORDER BY seq, idx",
                (seg.session_id, seg.lo, seg.hi),
            ):
                yield int(seq), str(text)

    def results(self, row: dict[str, Any]) -> Results | None:
        """Fills, realized PnL, fees and funding over the whole (chained) journal, if derived."""
        if row["derived_seq"] < row["last_seq"]:
            return None
        fills, realized, fees, funding = 0, ZERO, ZERO, ZERO
        for seg in self.segments(row["id"]):
            if seg.session_id != row["id"]:
                parent = self.catalogue.row(seg.session_id)
                if parent["derived_seq"] < min(seg.hi, parent["last_seq"]):
                    return None
            for seq, kind, pnl, fee, amount in self.conn.execute(
                "SELECT seq, kind, realized_pnl, fee, amount FROM outcomes"
                " WHERE session_id = ? AND seq BETWEEN ? AND ?"
                " AND kind IN ('fill', 'funding_paid')",
                (seg.session_id, seg.lo, seg.hi),
            ):
                try:
                    if kind == "fill":
                        fills += 1
                        realized += bounds.money(pnl, "realized_pnl")
                        fees += bounds.money(fee, "fee")
                    else:
                        funding += bounds.money(amount, "funding amount")
                except bounds.OutOfBounds as exc:
                    raise self._damaged(
                        seg.session_id, f"outcome of event {seq}: {exc}", seq
                    ) from None
        return Results(fills, realized, fees, funding)

    def latest_snapshot(self, sid: int, at_seq: int) -> tuple[int, dict[str, Any]] | None:
        """The newest stored engine state at or before `at_seq`, `(seq, state)`."""
        for seg in reversed(self.segments(sid)):
            found = self.conn.execute(
                "SELECT seq, state FROM snapshots WHERE session_id = ? AND seq BETWEEN ? AND ?"
                " ORDER BY seq DESC LIMIT 1",
                (seg.session_id, seg.lo - 1, min(seg.hi, at_seq)),
            ).fetchone()
            if found:
                seq = int(found[0])
                try:
                    state = bounds.json_value(found[1], "state")
                except bounds.OutOfBounds as exc:
                    raise self._damaged(seg.session_id, f"snapshot {seq}: {exc}", seq) from None
                if not isinstance(state, dict):
                    raise self._damaged(
                        seg.session_id, f"snapshot {seq}: state is not an object", seq
                    )
                return seq, state
        return None

    # --- the one bulk write ------------------------------------------------------------

    def write_imported(
        self,
        settings: ev.SessionSettings,
        events: Iterable[ev.Event],
        *,
        name: str | None,
        venue: str,
        symbols: Iterable[str] | None,
    ) -> int:
        """Store an already validated event stream as an `ended` session, in one transaction.

        A run that starts in hedge mode is stored as a one-way session whose first input
        switches to hedge: the catalogue keeps no position mode (old databases stay as they
        are), and the journal replays to exactly the same account."""
        items = list(events)
        if settings.position_mode != "one_way":
            first_ts = items[0].ts if items else 0
            items.insert(0, ev.SetPositionMode(first_ts, settings.position_mode))
            settings = replace(settings, position_mode="one_way")
        syms = (
            list(symbols)
            if symbols is not None
            else sorted({e.symbol for e in items if hasattr(e, "symbol")})
        )
        with transaction(self.conn, self.catalogue.path):
            sid, _ = self.catalogue.insert(name, venue, syms, settings, "ended")
            rows = []
            for seq, event in enumerate(items, start=1):
                kind, ts, text = payload.encode(event)
                rows.append((sid, seq, ts, kind, text))
            self.conn.executemany(INSERT_EVENT, rows)
            self.conn.execute(
                "UPDATE sessions SET last_seq = ?, first_ts = ?, last_ts = ?, ended_at = ?"
                " WHERE id = ?",
                (
                    len(rows),
                    rows[0][2] if rows else None,
                    rows[-1][2] if rows else None,
                    now_ms(),
                    sid,
                ),
            )
        return sid
