"""The one sanitiser for untrusted text: nothing that reaches a terminal acts as a control."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from papertrade.core.text import csv_cell, printable

OSC_TITLE = "\x1b]0;pwned\x07"
OSC_CLIPBOARD = "\x1b]52;c;ZWNobyBoaQ==\x07"
CSI_RED = "\x1b[31m"
C1_CSI = "\x9b31m"
BIDI_OVERRIDE = "\u202e"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (f"crash{OSC_TITLE}", "crash\\x1b]0;pwned\\x07"),
        (f"x{OSC_CLIPBOARD}", "x\\x1b]52;c;ZWNobyBoaQ==\\x07"),
        (f"{CSI_RED}red", "\\x1b[31mred"),
        (f"{C1_CSI}c1", "\\x9b31mc1"),
        (f"abc{BIDI_OVERRIDE}fed", "abc\\u202efed"),
        ("tab\there\r\nnext", "tab\\x09here\\x0d\\x0anext"),
        ("[b]markup[/b] stays as text", "[b]markup[/b] stays as text"),
        ("BTCUSDT", "BTCUSDT"),
    ],
)
def test_control_characters_are_shown_as_escapes(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_long_text_is_cut_with_an_ellipsis() -> None:
    assert printable("x" * 10, limit=5) == "xxxx…"
    assert printable("short", limit=5) == "short"


@given(st.text())
def test_no_output_ever_holds_a_control_character(raw: str) -> None:
    out = printable(raw)
    assert all(c.isprintable() for c in out)


@pytest.mark.parametrize(
    ("raw", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-12.5", "-12.5"),
        ("+7", "+7"),
        ("plain", "plain"),
        ("\t=1", "\\x09=1"),  # the tab is escaped: no longer a formula start
    ],
)
def test_csv_cells_are_never_formulas(raw: str, cell: str) -> None:
    assert csv_cell(raw) == cell
