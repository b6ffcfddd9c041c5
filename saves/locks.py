"""Per-session writer locks that die with their process.

An OS lock on a sidecar file (`<db>.locks/<session id>.lock`): the kernel drops it when the
holder exits, `kill -9` included, so "status running and nobody holds the lock" is a
reliable sign of a crashed writer. Both kinds belong to the open file (handle), not the
process, so a second open in the same process conflicts too (which is what a test of
"already being written" needs).

- POSIX: `fcntl.flock` on the whole file.
- Windows: `msvcrt.locking` on one byte far past the end, so the holder's pid written at the
  start stays readable by the process that is refused.

The module picks one at import time; the other module is never imported (it does not exist
on that platform), and mypy follows the `sys.platform` test.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from papertrade.saves.errors import SessionLocked

if sys.platform == "win32":
    import msvcrt

    _LOCK_OFFSET = 1 << 30

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        """Closing the descriptor releases a flock; nothing to do before that."""


class SessionLock:
    """An exclusive, non-blocking lock on one session of one database."""

    def __init__(self, directory: Path, session_id: int) -> None:
        self.path = directory / f"{session_id}.lock"
        self._fd: int | None = None

    def try_acquire(self, *, note_pid: bool = True) -> bool:
        """Take the lock if free; False when another writer holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
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
            _unlock(self._fd)
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
