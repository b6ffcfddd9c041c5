"""Reading drill files for the commands: one place for the errors a trader sees.

`simulate` streams its file (`DrillFile`, `stream_drill`): the lines are read, decoded by the
codec's per-line function and checked one at a time, so memory does not grow with the file
(a million events used to take half a gigabyte). `read_drill` reads a file whole, for the
commands that need every event at once; both refuse the same lines with the same words.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

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


class DrillFile:
    """A drill file read line by line, as many times as asked, never held whole.

    Lines are split exactly as `read_lines` splits them (at a newline only, a trailing
    carriage return dropped). Standard input (`-`) can be read once; with `again=True` it is
    copied to an anonymous temporary file on the way, so later passes read that copy.
    """

    def __init__(self, path: str, *, again: bool = False) -> None:
        self.path = path
        self._again = again
        self._copy: IO[str] | None = None

    def close(self) -> None:
        if self._copy is not None:
            self._copy.close()
            self._copy = None

    def __enter__(self) -> DrillFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lines(self) -> Iterator[str]:
        """The lines as read, each with its newline (the last maybe without): the reader
        strips them, and a layer that only dropped the newline cost a tenth of `simulate`'s
        time on a 200,000-line drill."""
        try:
            if self.path != "-":
                with open(self.path, encoding="utf-8", newline="\n") as f:
                    yield from f
            elif self._copy is not None:
                self._copy.seek(0)
                yield from self._copy
            elif self._again:
                # closed by close() / the `with` around the reads, once every pass is done
                copy = self._copy = tempfile.TemporaryFile(  # noqa: SIM115
                    "w+", encoding="utf-8", newline="\n"
                )
                for line in sys.stdin:
                    copy.write(line)
                    yield line
            else:
                yield from sys.stdin
        except OSError as exc:
            raise UsageError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{self.path} is not a UTF-8 text file") from None


def stream_drill(drill: DrillFile) -> Iterator[ev.SessionSettings | ev.Event]:
    """The drill's settings (its `session` line's, else the defaults), then its events, each
    decoded and checked as its line is read (`codec.stream`, the rules and words of
    `codec.parse_lines`); `UsageError` `FILE:LINE: ...` at the first bad one."""
    try:
        yield from codec.stream(drill.lines())
    except codec.FormatError as exc:
        raise UsageError(f"{drill.path}:{exc.line}: {exc.message}") from None
