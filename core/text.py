"""Untrusted text made safe to print: the one sanitiser for names, ids and messages from outside.

Session names, venue names and order ids come from imported drills and shared exports; error
texts come from servers. Printed raw, an ESC or C1 byte in them can retitle the terminal (OSC
0/2), recolour it or write the clipboard (OSC 52); a bidirectional override can make text read
backwards. `printable` shows every such character as a visible escape (`\\x1b`, `\\u202e`), so
the text is still readable and nothing reaches the terminal as a control. `csv_cell` also
neutralises spreadsheet formulas (a cell starting with `=`, `+`, `-` or `@`), as
OWASP's "CSV injection" advice says: a leading apostrophe makes the cell plain text.

Pure and tiny, so every room can use it: the CLI printers, the Textual screens (which also
render untrusted text as `Text`, never as markup), the feeds' error reports.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@")
"""(A leading tab or CR is escaped by `printable` first, so it cannot start a formula.)"""


def printable(text: object, limit: int | None = None) -> str:
    """`text` with every non-printable character (C0, DEL, C1, format and separator
    characters other than the space) shown as its escape; cut to `limit` characters."""
    raw = str(text)
    shown = raw if raw.isprintable() else "".join(map(_visible, raw))
    if limit is not None and len(shown) > limit:
        return shown[: max(0, limit - 1)] + "…"
    return shown


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 fill`, `5 fills`, `1 instrument`, `0 positions`, `1,234 events`: the one way a
    count and its noun are written (issue 10: "1 events", "5 fill")."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def csv_cell(text: object) -> str:
    """A CSV cell from untrusted text: printable, and never read as a formula."""
    shown = printable(text)
    if shown.startswith(FORMULA_START) and not _is_number(shown):
        return "'" + shown
    return shown


def _visible(char: str) -> str:
    return char if char.isprintable() else _escape(char)


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _is_number(text: str) -> bool:
    """A plain signed number (`-12.5`) is data, not a formula: keep it as it is."""
    body = text[1:] if text[:1] in "+-" else text
    return bool(body) and body.replace(".", "", 1).isdigit()
