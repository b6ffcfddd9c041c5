"""The session listing, with one error policy for the command line and the sessions screen.

Listing wants each session's results (fills, realized PnL, …), which exist only once its
outcomes are derived, and deriving replays the journal. A session can fail that in ways that
say nothing about the others (a hand-edited row, a timestamp past year 9999), so each session
is derived and summed on its own: one that fails is listed as damaged, with the reason, and
the rest are listed as usual. A session being recorded right now is listed without results.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from papertrade.saves.catalogue import Catalogue, SessionInfo, to_info
from papertrade.saves.derive import Derivation
from papertrade.saves.errors import DamagedSession, SessionLocked, StoreError
from papertrade.saves.journal import Journal
from papertrade.saves.transactions import wrap


@dataclass(slots=True, frozen=True)
class SessionRow:
    """One line of the listing: a session with its results, or the reason it has none.

    - `info` is the session (results in `info.fills` … when derived); it is `None` only when
      the session's own row in the catalogue is damaged, so just `id` and `name` are known.
    - `damaged` is why the session cannot be replayed (e.g. "event 12: ts -5 is out of range
      (0 … 253402300799999)"), `None` for a sound one.
    """

    id: int
    name: str
    info: SessionInfo | None
    damaged: str | None = None


def _reason(exc: StoreError, name: str) -> str:
    """The short reason for the listing; a damaged parent of a branch is named."""
    if not isinstance(exc, DamagedSession):
        return str(exc)
    return exc.reason if exc.session == name else f"in {exc.session}: {exc.reason}"


def list_sessions(
    catalogue: Catalogue, journal: Journal, derivation: Derivation, every: int, *, derive: bool
) -> list[SessionRow]:
    """Every session, oldest first; with `derive`, finished ones are derived first (cached)."""
    out: list[SessionRow] = []
    for row in list(catalogue.all_rows()):
        sid, name = int(row["id"]), str(row["name"])
        try:
            info = to_info(row)
        except StoreError as exc:
            out.append(SessionRow(sid, name, None, _reason(exc, name)))
            continue
        try:
            if derive and info.status != "running" and info.derived_seq < info.last_seq:
                derivation.derive(info, None, every)
                row = catalogue.row(sid)
            out.append(SessionRow(sid, name, to_info(row, journal.results(row))))
        except SessionLocked:
            out.append(SessionRow(sid, name, info))
        except StoreError as exc:
            out.append(SessionRow(sid, name, info, _reason(exc, name)))
        except sqlite3.DatabaseError as exc:  # a damaged page under this session's rows
            out.append(SessionRow(sid, name, info, str(wrap(exc, catalogue.path))))
    return out
