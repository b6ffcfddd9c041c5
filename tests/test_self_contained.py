"""Nothing in the repository points at files outside it.

A clone is all a user, a reviewer or CI has: a README sentence, a source citation or a test that
reads `../somewhere` works only on the machine it was written on (and a test that skips when the
path is missing passes silently everywhere else). Sources are cited by name and URL instead.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# spelled in pieces so that this file does not match itself
OUTSIDE = re.compile(
    "|".join([r"\.\./" + "shared", "/work/" + "shared", r"\bshared/(reference|data)\b"])
)


def tracked_text_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: nothing to list")
    files = [ROOT / name for name in listed.decode().split("\0") if name]
    return [f for f in files if f.is_file() and f.suffix not in {".gz", ".svg", ".png"}]


def test_no_tracked_file_refers_to_a_path_outside_the_repository() -> None:
    offenders = []
    for path in tracked_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert offenders == []
