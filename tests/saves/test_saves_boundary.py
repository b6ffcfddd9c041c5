"""saves/ imports only core/ (DESIGN.md): never feeds/, tui/ or Textual."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import papertrade.saves as saves

FORBIDDEN = ("papertrade.feeds", "papertrade.tui", "textual")


def _forbidden_after_importing(modules: list[str]) -> list[str]:
    """Forbidden modules loaded by a fresh interpreter that imports `modules` (installed names)."""
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"roots = {FORBIDDEN!r}\n"
        "prefixes = tuple(r + '.' for r in roots)\n"
        "bad = [m for m in sys.modules if m in roots or m.startswith(prefixes)]\n"
        "print(','.join(sorted(bad)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()
    return [m for m in out.split(",") if m]


def test_saves_imports_neither_feeds_nor_tui() -> None:
    modules = [f"papertrade.saves.{m.name}" for m in pkgutil.iter_modules(saves.__path__)]
    assert {"papertrade.saves.store", "papertrade.saves.writer", "papertrade.saves.stats"} <= set(
        modules
    )
    assert _forbidden_after_importing(modules) == []


def test_the_boundary_check_sees_a_forbidden_import() -> None:
    assert "papertrade.feeds.base" in _forbidden_after_importing(["papertrade.feeds.base"])
