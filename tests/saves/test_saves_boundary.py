"""saves/ imports only core/ (DESIGN.md): never feeds/, tui/ or Textual."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import papertrade.saves as saves


def test_saves_imports_neither_feeds_nor_tui() -> None:
    modules = [f"papertrade.saves.{m.name}" for m in pkgutil.iter_modules(saves.__path__)]
    assert {"papertrade.saves.store", "papertrade.saves.writer", "papertrade.saves.stats"} <= set(
        modules
    )
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('feeds', 'tui', 'textual')]\n"
        "print(','.join(sorted(bad)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
