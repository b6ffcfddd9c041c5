"""Per-session writer locks: exclusive, released on close, dead with their process, and built
on the platform's own primitive (fcntl here, msvcrt on Windows) without importing the other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from papertrade.core import events as ev
from papertrade.saves.errors import SessionLocked
from papertrade.saves.locks import SessionLock, is_locked
from papertrade.saves.store import Store


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    first = SessionLock(tmp_path, 7)
    first.acquire("alpha")
    assert first.held and is_locked(tmp_path, 7)
    with pytest.raises(
        SessionLocked, match=rf"session alpha is being written .*\(pid {os.getpid()}\)"
    ):
        SessionLock(tmp_path, 7).acquire("alpha")
    assert SessionLock(tmp_path, 8).try_acquire()  # another session is another lock
    first.release()
    assert not first.held and not is_locked(tmp_path, 7)
    again = SessionLock(tmp_path, 7)
    assert again.try_acquire()
    again.release()


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")
def test_a_lock_dies_with_its_process(tmp_path: Path) -> None:
    holder = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from papertrade.saves.locks import SessionLock
        SessionLock(Path({str(tmp_path)!r}), 3).acquire("s")
        print("held", flush=True)
        sys.stdin.read()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        assert is_locked(tmp_path, 3)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not is_locked(tmp_path, 3)


# A stand-in for Windows' msvcrt: one-byte locks per (file, offset) that belong to the
# descriptor that took them, refused to any other descriptor, like LockFile on a handle.
_MSVCRT_STAND_IN = textwrap.dedent(
    """
    import os, sys, types
    held = {}
    def locking(fd, mode, nbytes):
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino, os.lseek(fd, 0, os.SEEK_CUR), nbytes)
        if mode == msvcrt.LK_NBLCK:
            if key in held and held[key] != fd:
                raise PermissionError(13, "Permission denied")
            held[key] = fd
        elif mode == msvcrt.LK_UNLCK:
            if held.get(key) != fd:
                raise PermissionError(13, "not locked")
            del held[key]
    msvcrt = types.ModuleType("msvcrt")
    msvcrt.LK_NBLCK, msvcrt.LK_UNLCK, msvcrt.locking = 2, 0, locking
    sys.modules["msvcrt"] = msvcrt
    sys.modules["fcntl"] = None  # importing it now fails, as on Windows
    sys.platform = "win32"
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="runs the real msvcrt there")
def test_on_windows_the_lock_uses_msvcrt_and_never_imports_fcntl(tmp_path: Path) -> None:
    script = _MSVCRT_STAND_IN + textwrap.dedent(
        f"""
        from pathlib import Path
        from papertrade.saves import locks
        d = Path({str(tmp_path)!r})
        first = locks.SessionLock(d, 1)
        assert first.try_acquire()
        assert not locks.SessionLock(d, 1).try_acquire()
        assert locks.is_locked(d, 1)
        assert (d / "1.lock").read_text() == str(os.getpid())  # pid readable while held
        first.release()
        assert held == {{}}
        assert not locks.is_locked(d, 1)
        print("ok", "fcntl" in vars(locks))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout.strip() == "ok False", result.stderr


def test_a_session_being_written_cannot_be_deleted_under_its_writer(tmp_path: Path) -> None:
    # The writer's connection skips SQLite's foreign-key lookup on the rows it inserts because
    # the session row cannot go away while the writer holds the session's lock.
    with Store.open(tmp_path / "j.sqlite3") as store:
        writer = store.start_session("live", "binance", ["BTCUSDT"], ev.SessionSettings())
        with pytest.raises(SessionLocked):
            store.delete("live")
        writer.append(ev.Snapshot(1))
        writer.close()
        assert store.session("live").last_seq == 1
        store.delete("live")
