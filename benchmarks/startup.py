"""Start-up: `papertrade --help`, and the time to the first frame of `papertrade --feed sim`.

    python benchmarks/startup.py [--runs 5]

Both are whole processes started as a user starts them (`python -m papertrade ...`).
`--help` is timed to its exit, against `python -c pass` in the same run (the interpreter's own
start). The first frame is timed in a pseudo-terminal (80×24, TERM=xterm-256color) from the
start of the process to the first screen that shows the watchlist's first symbol with a
price, against a bare Textual app that shows one label (Textual's own floor). Each trading
run uses a fresh temporary session store. Targets: `--help` < 0.25 s, first frame < 0.8 s.

Bytecode: an installed package has its `.pyc` files (pip compiles them at install). Where
`PYTHONDONTWRITEBYTECODE` is set (as in some sandboxes) every start would compile all of
papertrade's modules again, about 0.3 s that no user pays; so the children write and reuse
their caches under a temporary `PYTHONPYCACHEPREFIX`, after one unmeasured warm-up run.
`--cold` measures without any cache instead.
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import RUNS, interleaved, verdict

HELP_TARGET_S = 0.25
FRAME_TARGET_S = 0.8
FRAME_TIMEOUT_S = 30.0
ENV = dict(os.environ)
"""The children's environment (`main` sets the bytecode cache)."""

BARE_APP = """
from textual.app import App
from textual.widgets import Label

class Bare(App[None]):
    def compose(self):
        yield Label("BTCUSDT 95000.0")

Bare().run()
"""

_ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")
_PRICED = re.compile(rb"BTCUSDT\s+[0-9][0-9,]*\.[0-9]")


def timed_help() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "papertrade", "--help"], check=True,
                   stdout=subprocess.DEVNULL, env=ENV)  # fmt: skip
    return time.perf_counter() - start


def timed_pass() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, env=ENV)
    return time.perf_counter() - start


def first_frame(argv: list[str], shown: re.Pattern[bytes]) -> float:
    """Seconds from starting `argv` in an 80×24 pseudo-terminal until its screen shows
    `shown` (escape sequences removed); the process is then stopped."""
    env = {**ENV, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the program, on the terminal's slave side
        os.execvpe(argv[0], argv, env)
    seen = b""
    try:
        _resize(fd)
        while True:
            left = FRAME_TIMEOUT_S - (time.perf_counter() - start)
            if left <= 0:
                raise SystemExit(f"no first frame within {FRAME_TIMEOUT_S} s: {argv}")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                raise SystemExit(f"{argv} ended before its first frame") from None
            seen += chunk
            if shown.search(_ESCAPES.sub(b"", seen)):
                return time.perf_counter() - start
    finally:
        os.kill(pid, signal.SIGTERM)
        _drain(fd)
        os.waitpid(pid, 0)
        os.close(fd)


def _resize(fd: int) -> None:
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))


def _drain(fd: int) -> None:
    """Read what the stopping program still writes, so it never blocks on a full terminal."""
    deadline = time.perf_counter() + 5
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            return
        try:
            if not os.read(fd, 65536):
                return
        except OSError:
            return


def timed_terminal() -> float:
    with tempfile.TemporaryDirectory() as d:
        argv = [sys.executable, "-m", "papertrade", "--feed", "sim", "--db", f"{d}/s.sqlite3"]
        return first_frame(argv, _PRICED)


def timed_bare() -> float:
    return first_frame([sys.executable, "-c", BARE_APP], _PRICED)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--cold", action="store_true", help="no bytecode cache (see above)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        if args.cold:
            ENV["PYTHONDONTWRITEBYTECODE"] = "1"
            ENV.pop("PYTHONPYCACHEPREFIX", None)
        else:
            ENV.pop("PYTHONDONTWRITEBYTECODE", None)
            ENV["PYTHONPYCACHEPREFIX"] = cache
            timed_help(), timed_terminal(), timed_bare()  # warm-up: writes the caches
        return measure(args.runs)


def measure(runs: int) -> int:
    ok = True
    helps, passes = interleaved([timed_help, timed_pass], runs)
    ok &= verdict(
        "papertrade --help", helps, "s", passes, "python -c pass",
        target=f"< {HELP_TARGET_S} s (median)", passed=helps.median < HELP_TARGET_S,
    )  # fmt: skip
    frames, bares = interleaved([timed_terminal, timed_bare], runs)
    ok &= verdict(
        "first frame, papertrade --feed sim (80x24)", frames, "s", bares,
        "a bare Textual app's first frame", target=f"< {FRAME_TARGET_S} s (median)",
        passed=frames.median < FRAME_TARGET_S,
    )  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
