"""Errors the store raises: one family, so callers (CLI, TUI) catch `StoreError` and show it.

Every message is written for the user who typed the command: it names the file or session
and says what to do. sqlite3 exceptions never leak out of `saves/` unwrapped.
"""

from __future__ import annotations


class StoreError(Exception):
    """The database cannot be used as asked (foreign, corrupt, newer, locked, unknown name)."""


class NotAStoreError(StoreError):
    """The file exists but is not a papertrade database (or not SQLite at all)."""


class CorruptStoreError(StoreError):
    """SQLite reports the file as damaged."""


class NewerSchemaError(StoreError):
    """The file was written by a newer papertrade; opening it could lose data."""


class StoreBusy(StoreError):
    """Another connection held the database's write lock for longer than the busy timeout.

    Transient: the same operation may succeed when retried later.
    """


class DamagedSession(CorruptStoreError):
    """A row of one session does not hold what papertrade wrote (hand-edited, bit rot).

    The file as a whole opens; only this session cannot be replayed. `session` names it,
    `seq` is the journal event (or snapshot) at fault when there is one, and `reason` is the
    short account a listing shows next to the name, e.g. "event 12: ts -5 is out of range".
    """

    def __init__(self, session: str, reason: str, seq: int | None = None) -> None:
        super().__init__(f"session {session} is damaged: {reason}")
        self.session = session
        self.reason = reason
        self.seq = seq


class SessionNotFound(StoreError):
    """No session has that id or name."""


class AmbiguousSession(StoreError):
    """A name that matches more than one session (e.g. an id-like name)."""


class SessionLocked(StoreError):
    """Another running papertrade is writing this session."""


class WriterFailed(StoreError):
    """The background journal writer stopped on an error; the session must be closed."""
