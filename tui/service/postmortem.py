"""The post-mortems of a saved session, for the screen (`core.postmortem` does the work).

Why from the store: a post-mortem needs the whole run up to the liquidation (the margin ratio
over time, the window since the position opened), and the journal already holds every input.
Keeping a recording engine beside the live one would cost every event; reading the journal
once, when the trader asks, costs nothing until then. Runs on a worker thread with its own
store connection (the caller commits the journal first, so the liquidation is on disk).
"""

from __future__ import annotations

from pathlib import Path

from papertrade.core.postmortem import PostMortem, analyse, record
from papertrade.saves.store import Store, instruments_for


def session_postmortems(db_path: Path | str | None, session: int | str) -> list[PostMortem]:
    """One post-mortem per liquidation of `session`, in order."""
    with Store.open(db_path) as store:
        info = store.session(session, totals=False)
        events = (event for _, event in store.events(info.id))
        recorder = record(info.settings, events, instruments_for(info.venue))
    return analyse(recorder)
