"""The real `papertrade` binary in a real terminal (tmux): open, trade, close, quit.

Skipped when tmux is not installed. Waits by polling the screen (capture-pane) for what a
trader would look for, with a deadline, rather than sleeping fixed amounts.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


SOCKET = f"papertrade-test-{uuid.uuid4().hex[:8]}"  # a private tmux server: no shared options


def tmux(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=check
    )


def capture(name: str) -> str:
    return tmux("capture-pane", "-t", name, "-p", "-J", check=False).stdout


def wait_for(name: str, predicate, what: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = capture(name)
        if predicate(screen):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; screen:\n{screen}")


def keys(name: str, *k: str) -> None:
    tmux("send-keys", "-t", name, *k)


def positions_panel(screen: str) -> str:
    lines = screen.splitlines()
    start = next((i for i, line in enumerate(lines) if "─ Positions " in line), None)
    if start is None:
        return ""
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("╰")), len(lines))
    return "\n".join(lines[start:end])


def test_real_binary_opens_a_position_with_keys_closes_it_and_saves(tmp_path: Path):
    name = f"pt-{uuid.uuid4().hex[:8]}"
    db = tmp_path / "tmux.db"
    exe = shutil.which("papertrade") or f"{sys.executable} -m tui.cli"
    cmd = f"{exe} --feed sim --db {db} --name tmux-test; echo EXITED $?; sleep 60"
    tmux("-f", "/dev/null", "new-session", "-d", "-s", name, "-x", "120", "-y", "40", cmd)
    try:
        wait_for(name, lambda s: "BTCUSDT" in s and " live " in s, "the live sim watchlist")
        keys(name, "b")
        wait_for(name, lambda s: "BUY BTCUSDT" in s, "the order ticket")
        keys(name, "0.01")
        wait_for(name, lambda s: "whole cross balance" in s, "the risk preview")
        keys(name, "Enter")
        screen = wait_for(
            name, lambda s: "LONG" in positions_panel(s), "the position in the positions panel"
        )
        assert "0.010" in positions_panel(screen)
        keys(name, "c")
        wait_for(name, lambda s: "LONG" not in positions_panel(s), "the position to close")
        keys(name, "q")
        wait_for(name, lambda s: "Summary" in s, "the session summary")
        keys(name, "q")
        screen = wait_for(name, lambda s: "EXITED 0" in s, "the program to exit")
        assert "saved in" in screen and "(ended)" in screen
    finally:
        tmux("kill-server", check=False)
    conn = sqlite3.connect(db)
    try:
        status, last_seq = conn.execute(
            "SELECT status, last_seq FROM sessions WHERE name = 'tmux-test'"
        ).fetchone()
        kinds = {k for (k,) in conn.execute("SELECT DISTINCT kind FROM events")}
    finally:
        conn.close()
    assert status == "ended"
    assert last_seq > 0
    assert {"order", "close"} <= kinds
