"""`papertrade ARGS` in this interpreter, for the command-line tests (on pytest's pythonpath).

Why: a subprocess per call started a new interpreter and imported everything again (a third
of a second of CPU each, dozens of calls); `python -m papertrade` only calls
`papertrade.tui.cli.main` and exits with its status, so calling `main` proves the same
output, errors and status. What only a real process shows stays in a subprocess: the console
script itself (`tests/tui/test_simulate_cli.py`), the wheel (`tests/test_packaging.py`),
imports at start-up (`test_cli_startup.py`, `test_boundaries.py`), signals, pipes and tmux.
"""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

from papertrade.tui.cli import main


def papertrade(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command as `python -m papertrade ARGS` would: its status (argparse's exit
    included), what it printed to stdout and to stderr; `stdin` is what it reads there."""
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin or "")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
                if exc.code is None or isinstance(exc.code, int):
                    code = exc.code or 0
                else:  # sys.exit("text"): the interpreter prints it and exits 1
                    print(exc.code, file=sys.stderr)
                    code = 1
    finally:
        sys.stdin = saved_stdin
    return subprocess.CompletedProcess(["papertrade", *args], code, out.getvalue(), err.getvalue())
