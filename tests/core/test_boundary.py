"""The core/ boundary of DESIGN.md as a failing check: importing every core module must pull
in no I/O library and none of our adapters."""

import pkgutil
import subprocess
import sys

import papertrade.core as core

FORBIDDEN = ("textual", "websockets", "sqlite_utils", "sqlite3", "feeds", "saves", "tui")


def _loaded_after_importing(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {roots!r}]\n"
        "print(','.join(sorted(bad)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return [m for m in result.stdout.strip().split(",") if m]


def test_core_imports_no_io_library_nor_adapter() -> None:
    modules = [f"papertrade.core.{m.name}" for m in pkgutil.iter_modules(core.__path__)]
    assert "papertrade.core.engine" in modules and "papertrade.core.codec" in modules
    assert _loaded_after_importing(modules, FORBIDDEN) == []


def test_engine_runs_without_asyncio() -> None:
    # pydantic (used only by core.codec, the validating edge) imports asyncio itself; the
    # engine and everything it needs must not.
    engine_side = [
        "papertrade.core.engine",
        "papertrade.core.margin",
        "papertrade.core.account",
        "papertrade.core.instruments",
    ]
    assert _loaded_after_importing(engine_side, ("asyncio", *FORBIDDEN)) == []


def test_headless_simulate_does_not_import_textual() -> None:
    script = (
        "import sys\n"
        "from tui.cli import main\n"
        "rc = main(['simulate', 'examples/drills/funding.jsonl', '--json'])\n"
        "print('TEXTUAL' if 'textual' in sys.modules else 'CLEAN', rc, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stderr.strip().endswith("CLEAN 0"), result.stderr


def _imported_roots(package: str) -> dict[str, set[str]]:
    """Top-level packages each module of `package` imports (read from its source)."""
    import ast
    from pathlib import Path

    root = Path(__file__).parents[2] / package
    found: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(root.parent))] = names
    return found


def test_adapters_import_only_core_never_each_other_nor_the_app() -> None:
    # DESIGN.md: feeds/ and saves/ are adapters around core/; tui/ composes them.
    rules = {
        "feeds": {"saves", "tui"},
        "saves": {"feeds", "tui"},
        "core": {"feeds", "saves", "tui"},
    }
    for package, forbidden in rules.items():
        modules = _imported_roots(package)
        assert modules, package
        for module, names in modules.items():
            assert not names & forbidden, f"{module} imports {sorted(names & forbidden)}"
