"""The real `papertrade` binary in a real terminal (tmux): open, trade, close, quit; and issue
10 bug 1's steps (buy, `delete`, `/` `btc` `enter`) checked against the exported journal.

Skipped when tmux is not installed. Waits by polling the screen (capture-pane) for what a
trader would look for, with a generous deadline (a loaded 2-core machine makes a test slower,
never red), rather than sleeping fixed amounts. Each run gets its own empty config file
(`$PAPERTRADE_CONFIG`), so the keys are the defaults whoever runs the tests.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from decimal import Decimal
from itertools import pairwise
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


def wait_for(
    name: str, predicate, what: str, timeout: float = 60.0, *, styled: bool = False
) -> str:
    """The screen once `predicate` holds (with its escape sequences when `styled`); an
    AssertionError after `timeout`, or at once if the program has exited (a crash shows its
    traceback instead of waiting out the deadline). Polls tmux: the condition is awaited."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        if styled:
            screen = tmux("capture-pane", "-t", name, "-p", "-e", check=False).stdout
        else:
            screen = capture(name)
        if predicate(screen):
            return screen
        if "EXITED " in screen:
            raise AssertionError(f"the program exited while waiting for {what}:\n{screen}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; screen:\n{screen}")


def trigger_focused(styled: str) -> bool:
    """The ticket's trigger field has the cursor: its placeholder is split by a style."""
    line = next((ln for ln in styled.splitlines() if "Trigger at" in ln), "")
    return "rice" in line and "price" not in line


def keys(name: str, *k: str) -> None:
    tmux("send-keys", "-t", name, *k)


def positions_panel(screen: str) -> str:
    return panel(screen, "Positions")


def panel(screen: str, title: str) -> str:
    """The text inside the bordered panel titled `title` (empty if it is not on screen)."""
    lines = screen.splitlines()
    start = next((i for i, line in enumerate(lines) if f"─ {title} " in line), None)
    if start is None:
        return ""
    left = lines[start].rfind("╭", 0, lines[start].index(f"─ {title} ") + 1)
    inside = []
    for line in lines[start + 1 :]:
        if line[left : left + 1] == "╰":
            break
        inside.append(line[left + 1 :])
    return "\n".join(inside)


def watchlist_rows(screen: str) -> list[str]:
    """The symbols listed in the watchlist panel, top to bottom."""
    return re.findall(r"^([A-Z0-9]{2,}USDT)\b", panel(screen, "Watchlist"), re.MULTILINE)


def events_shown(screen: str) -> int:
    """The status bar's count of market events applied (0 before the first)."""
    found = re.search(r"([\d,]+) events", screen)
    return int(found.group(1).replace(",", "")) if found else 0


def installed() -> list[str]:
    """The `papertrade` installed beside the interpreter running the tests (its venv's), not
    whichever one comes first on PATH; `python -m papertrade` when there is none."""
    beside = Path(sys.executable).parent / "papertrade"
    if beside.exists():
        return [str(beside)]
    exe = shutil.which("papertrade")
    return [exe] if exe else [sys.executable, "-m", "papertrade"]


def start(name: str, tmp_path: Path, args: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text("# the defaults\n", encoding="utf-8")
    exe = shlex.join(installed())
    cmd = f"PAPERTRADE_CONFIG={shlex.quote(str(config))} {exe} {args}; echo EXITED $?; sleep 60"
    tmux("-f", "/dev/null", "new-session", "-d", "-s", name, "-x", "120", "-y", "40", cmd)


def test_real_binary_opens_a_position_with_keys_closes_it_and_saves(tmp_path: Path):
    name = f"pt-{uuid.uuid4().hex[:8]}"
    db = tmp_path / "tmux.db"
    start(name, tmp_path, f"--feed sim --db {shlex.quote(str(db))} --name tmux-test")
    try:
        wait_for(name, lambda s: "BTCUSDT" in s and " live " in s, "the live sim watchlist")
        keys(name, "b")
        wait_for(name, lambda s: "BUY BTCUSDT" in s, "the order ticket")
        keys(name, "0.01")
        wait_for(name, lambda s: "whole cross balance" in s, "the risk preview")
        keys(name, "Enter")
        # the BUY ticket (waiting on "SELL" here let "3" reach its quantity: 0.013 was bought)
        wait_for(name, lambda s: "BUY BTCUSDT" not in s, "the ticket to close")
        keys(name, "3")  # the orders panel (a small terminal shows one panel at a time)
        screen = wait_for(
            name, lambda s: "LONG" in positions_panel(s), "the position in the positions panel"
        )
        assert "0.010" in positions_panel(screen)
        # a stop-loss from the ticket (issue 12): Type is the row above the quantity
        keys(name, "s")
        wait_for(name, lambda s: "SELL BTCUSDT" in s, "the sell ticket")
        keys(name, "0.01")  # the quantity has the focus when the ticket opens
        wait_for(name, lambda s: re.search(r"Quantity\s+0\.01\b", s) is not None, "the qty")
        keys(name, "BTab", "Right", "Right")
        wait_for(name, lambda s: "Trigger at" in s, "the stop's trigger field")
        keys(name, "Tab", "Tab", "Tab")  # quantity, leverage, trigger
        # keys sent with the Tab would reach the field it leaves: wait for the cursor, which
        # splits the focused field's placeholder ("p" in reverse, then "rice")
        wait_for(name, trigger_focused, "the trigger field's cursor", styled=True)
        keys(name, "80000")
        wait_for(name, lambda s: "fires at 80,000.0 (last price)" in s, "the trigger preview")
        keys(name, "Enter")
        wait_for(name, lambda s: "SELL BTCUSDT" not in s, "the ticket to close")
        keys(name, "3")  # the orders panel (a small terminal shows one panel at a time)
        screen = wait_for(
            name,
            lambda s: (
                re.search(r"\bstop\s+sell\s+0\.010\s+80,000\.0", panel(s, "Orders")) is not None
            ),
            "the stop in the open orders",
        )
        assert "Trigger" in panel(screen, "Orders")  # the column heading, on 80 columns
        keys(name, "1")
        wait_for(name, lambda s: "BTCUSDT" in panel(s, "Watchlist"), "the watchlist again")
        keys(name, "c")
        wait_for(name, lambda s: "Close LONG" in s, "the close dialog")
        keys(name, "Enter")
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


def test_real_binary_keeps_one_btc_price_path_after_delete_and_re_add(tmp_path: Path):
    """Issue 10 bug 1 on `--feed sim`: buy 0.01 BTCUSDT, `delete` on BTCUSDT, `/` `btc`
    `enter`. Before the fix a second feed started and BTC marks alternated between two paths
    130-150 USDT apart, twice a second. At `--speed 20` the sim plays twenty simulated seconds
    (twenty BTC marks) each wall second, so the run takes seconds, not minutes.

    Checked against the binary of commit 602e8cc (before the fix): its export has 59 pairs of
    BTC marks at one timestamp, and a largest step of 175.2 against 28.0 in the first part.
    The first part is long (~150 simulated seconds) because a second path starts from the
    sim's starting price: the further the first one has wandered, the larger the jump."""
    name = f"pt-{uuid.uuid4().hex[:8]}"
    db = tmp_path / "one-path.db"
    start(name, tmp_path, f"--feed sim --speed 20 --db {shlex.quote(str(db))} --name one-path")
    try:
        # the first part: ~150 simulated seconds (the sim sends ~80 events a second)
        screen = wait_for(
            name, lambda s: " live " in s and events_shown(s) >= 12000, "the sim's first prices"
        )
        assert watchlist_rows(screen)[0] == "BTCUSDT"  # the cursor's row: delete removes it
        keys(name, "b")
        wait_for(name, lambda s: "BUY BTCUSDT" in s, "the order ticket")
        keys(name, "0.01")
        wait_for(name, lambda s: "whole cross balance" in s, "the risk preview")
        keys(name, "Enter")
        wait_for(name, lambda s: "LONG" in positions_panel(s), "the position")
        wait_for(name, lambda s: "BUY BTCUSDT" not in s, "the ticket to close")
        keys(name, "DC")
        wait_for(name, lambda s: "BTCUSDT" not in watchlist_rows(s), "BTCUSDT off the watchlist")
        keys(name, "/")
        wait_for(name, lambda s: "Add a symbol to the watchlist" in s, "the add dialog")
        keys(name, "btc")
        wait_for(name, lambda s: re.search(r"\bbtc\b", s) is not None, "the typed search")
        keys(name, "Enter")
        screen = wait_for(
            name, lambda s: "BTCUSDT" in watchlist_rows(s), "BTCUSDT back on the watchlist"
        )
        readded = events_shown(screen)
        # the second part: ~100 more simulated seconds with BTCUSDT re-added
        wait_for(name, lambda s: events_shown(s) >= readded + 8000, "prices after the re-add")
        keys(name, "q")
        wait_for(name, lambda s: "Summary" in s, "the session summary")
        keys(name, "q")
        wait_for(name, lambda s: "EXITED 0" in s, "the program to exit")
    finally:
        tmux("kill-server", check=False)
    cli = installed()
    exported = subprocess.run(
        [*cli, "export", "one-path", "--db", str(db)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    events = [json.loads(line) for line in exported.splitlines() if line.strip()]
    bought_at = next(e["ts"] for e in events if e["type"] == "order")
    marks = [
        (e["ts"], Decimal(e["price"]))
        for e in events
        if e["type"] == "mark" and e["symbol"] == "BTCUSDT"
    ]
    times = [ts for ts, _ in marks]
    # One path: the sim marks once a simulated second, so consecutive BTC marks are exactly
    # 1000 ms apart; a second path would interleave its own marks (two at one time, or gaps
    # under a second).
    assert Counter(b - a for a, b in pairwise(times)) == Counter({1000: len(times) - 1})
    before = [m for m in marks if m[0] < bought_at]
    after = [m for m in marks if m[0] > bought_at]
    assert len(before) >= 20, "the first part must show the sim's own step size"
    assert len(after) >= 50, "the re-added symbol must play long enough to show a second path"

    def largest_step(part: list[tuple[int, Decimal]]) -> Decimal:
        return max(abs(b - a) for (_, a), (_, b) in pairwise(part))

    # The sim's own largest one-second move in the first part (BTC at 50 % a year moves ~9
    # USDT a second: a largest step of 20-30), against the rest of the run: two paths 130-150
    # USDT apart would jump several times further.
    step = largest_step(before)
    assert largest_step(after) <= 3 * step, (step, largest_step(after))
