"""Per-session writer locks that die with their process.

`fcntl.flock` on a sidecar file (`<db>.locks/<session id>.lock`): the kernel drops it when
the holder exits, `kill -9` included, so "status running and nobody holds the lock" is a
reliable sign of a crashed writer. flock locks belong to the open file, so a second open in
the same process conflicts too (which is what a test of "already being written" needs).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from papertrade.saves.errors import SessionLocked


class SessionLock:
    """An exclusive, non-blocking lock on one session of one database."""

    def __init__(self, directory: Path, session_id: int) -> None:
        self.path = directory / f"{session_id}.lock"
        self._fd: int | None = None

    def try_acquire(self, *, note_pid: bool = True) -> bool:
        """Take the lock if free; False when another writer holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        if note_pid:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def acquire(self, what: str) -> None:
        """Take the lock or raise `SessionLocked` naming the session and the holder's pid."""
        if not self.try_acquire():
            holder = ""
            with contextlib.suppress(OSError):
                holder = self.path.read_text().strip()
            pid = f" (pid {holder})" if holder else ""
            raise SessionLocked(
                f"session {what} is being written by another running papertrade{pid}; "
                "close that one first"
            )

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def is_locked(directory: Path, session_id: int) -> bool:
    """Whether a live process holds the session's writer lock right now."""
    path = directory / f"{session_id}.lock"
    if not path.exists():
        return False
    probe = SessionLock(directory, session_id)
    if probe.try_acquire(note_pid=False):
        probe.release()
        return False
    return True
