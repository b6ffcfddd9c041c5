"""A replay decodes its journal a chunk of rows at a time (`saves.journal._CHUNK`, for the
CPU's caches) and still hands on every event in order, and every event before a damaged row
before it fails, wherever in a chunk that row falls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from papertrade.core import events as ev
from papertrade.saves import journal
from papertrade.saves.errors import DamagedSession
from papertrade.saves.store import Store
from papertrade.saves.synthetic import random_stream

EVENTS = list(random_stream(21, journal._CHUNK * 2 + 50))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "journal.sqlite3") as s:
        s.import_session(ev.SessionSettings(), EVENTS, name="s")
        yield s


def test_a_journal_of_several_chunks_replays_every_event_in_order(store: Store) -> None:
    assert [(seq, event) for seq, event, _ in store.replay("s")] == list(enumerate(EVENTS, start=1))


@pytest.mark.parametrize("damaged", [1, journal._CHUNK + 1, journal._CHUNK + 7, len(EVENTS)])
def test_every_event_before_a_damaged_row_comes_before_the_error(
    store: Store, damaged: int
) -> None:
    store.conn.execute(
        "UPDATE events SET payload = '[1,' WHERE session_id = 1 AND seq = ?", (damaged,)
    )
    seen: list[int] = []
    with pytest.raises(DamagedSession, match=f"event {damaged}: payload is not valid JSON"):
        for seq, _, _ in store.replay("s"):
            seen.append(seq)
    assert seen == list(range(1, damaged))
