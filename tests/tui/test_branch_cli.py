"""`papertrade branch` options are bounded like every number from outside: a time past year
9999 or a sequence number past SQLite's INTEGER is one error line, exit 2 — it used to end in
`OverflowError: Python int too large to convert to SQLite INTEGER`."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from papertrade.tui.cli import main

DRILL = Path(__file__).parents[2] / "examples" / "drills" / "funding.jsonl"


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--at-ts", "99999999999999999999", "0 to 253402300799999 (year 9999)"),
        ("--at-ts", "253402300800000", "0 to 253402300799999 (year 9999)"),
        ("--at-ts", "-5", "0 to 253402300799999"),
        ("--at", "9223372036854775808", "sequence number"),  # 2**63
        ("--at", "-1", "sequence number"),
    ],
)
def test_out_of_range_branch_points_are_one_clean_error(
    tmp_path: Path, option: str, value: str, words: str
) -> None:
    db = str(tmp_path / "j.db")
    assert run_cli(["import", str(DRILL), "--db", db, "--name", "f"])[0] == 0
    code, out, err = run_cli(["branch", "f", option, value, "--db", db])
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and words in err


def test_a_branch_at_the_last_instant_of_year_9999_is_accepted(tmp_path: Path) -> None:
    db = str(tmp_path / "j.db")
    assert run_cli(["import", str(DRILL), "--db", db, "--name", "f"])[0] == 0
    code, out, _ = run_cli(["branch", "f", "--at-ts", "253402300799999", "--db", db])
    assert code == 0 and "branch of f" in out
