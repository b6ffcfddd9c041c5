"""Reading drill files for the commands: one place for the errors a trader sees."""

from __future__ import annotations

import sys
from pathlib import Path

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.tui.errors import UsageError


def read_lines(path: str) -> list[str]:
    """The lines of a drill file (`-` is standard input); `UsageError` when unreadable.

    Lines end at a newline only (a trailing carriage return is dropped), so `FILE:LINE` in an
    error is the line an editor shows: `str.splitlines` would also break at U+2028, U+0085 or
    a form feed inside a JSON string and shift every later line number.
    """
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        return [line.removesuffix("\r") for line in text.split("\n")]
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a UTF-8 text file") from None


def read_drill(path: str) -> tuple[ev.SessionSettings, list[ev.Event]]:
    """Read and validate a drill file whole; `UsageError` says where it is wrong."""
    lines = read_lines(path)
    try:
        return codec.parse_lines(lines)
    except codec.FormatError as exc:
        raise UsageError(f"{path}:{exc.line}: {exc.message}") from None
