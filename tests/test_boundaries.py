"""The rooms of docs/ARCHITECTURE.md as failing checks, in one place.

Two kinds of check, one parametrized test each:

- what importing a layer *loads* (a subprocess imports it and reads `sys.modules`): the core
  loads no I/O library, no asyncio and none of our adapters; the adapters load neither each
  other nor the app; the application layer (`tui/service`) and the headless commands load no
  Textual;
- what a layer's source *names* (read with `ast`, every import, lazy ones included): the same
  rules for code paths an import alone does not reach, and no import circle among the app's
  modules.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROOMS = {"core": "core", "feeds": "feeds", "saves": "saves", "tui": "tui"}


def _modules(folder: str, under: str = "") -> list[str]:
    base = ROOT / folder / under
    out = []
    for path in sorted(base.rglob("*.py")):
        if "_package" in path.parts:
            continue
        rel = path.relative_to(ROOT / folder).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        out.append(".".join(["papertrade", folder, *parts]))
    return out


def _loaded(modules: list[str], then: str = "") -> set[str]:
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"{then}\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(done.stdout.split())


HEADLESS = ["simulate", "record", "sessions", "export", "import", "stats", "branch", "instruments"]

LOADS = {
    "core loads no I/O and no adapter": (
        _modules("core"),
        "",
        (
            "textual",
            "websockets",
            "sqlite_utils",
            "sqlite3",
            "papertrade.feeds",
            "papertrade.saves",
            "papertrade.tui",
        ),
    ),
    # pydantic (the codec's validating edge) imports asyncio itself; the engine must not.
    "the engine runs without asyncio": (
        ["papertrade.core.engine", "papertrade.core.margin", "papertrade.core.account"],
        "",
        ("asyncio",),
    ),
    "feeds load neither saves nor the app": (
        _modules("feeds"),
        "",
        ("papertrade.saves", "papertrade.tui", "textual", "sqlite3"),
    ),
    "saves load neither feeds nor the app": (
        _modules("saves"),
        "",
        ("papertrade.feeds", "papertrade.tui", "textual", "websockets"),
    ),
    "the application layer loads no Textual": (_modules("tui", "service"), "", ("textual",)),
    "the headless commands load no Textual": (
        ["papertrade.tui.cli"],
        "from papertrade.tui.cli import build_parser; build_parser()\n"
        + "".join(
            f"import papertrade.tui.cli.{'import_' if c == 'import' else c}\n" for c in HEADLESS
        ),
        ("textual",),
    ),
}


@pytest.mark.parametrize("rule", list(LOADS))
def test_importing_a_layer_loads_nothing_it_must_not(rule: str) -> None:
    modules, then, forbidden = LOADS[rule]
    assert modules
    loaded = _loaded(modules, then)
    bad = sorted(m for m in loaded if any(m == f or m.startswith(f + ".") for f in forbidden))
    assert bad == [], f"{rule}: {bad}"


def _imports(path: Path) -> Iterator[str]:
    """Every module `path` names in an import, lazy and TYPE_CHECKING ones included."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _source_of(module: str) -> Path:
    _, room, *rest = module.split(".")
    base = ROOT / ROOMS[room]
    path = base.joinpath(*rest)
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


NAMES = {
    "core": ("papertrade.feeds", "papertrade.saves", "papertrade.tui"),
    "feeds": ("papertrade.saves", "papertrade.tui"),
    "saves": ("papertrade.feeds", "papertrade.tui"),
    "tui/service": (
        "textual",
        "papertrade.tui.screens",
        "papertrade.tui.widgets",
        "papertrade.tui.cli",
        "papertrade.tui.app",
    ),
    "tui/screens": ("papertrade.tui.cli", "papertrade.tui.app"),
    "tui/widgets": ("papertrade.tui.cli", "papertrade.tui.app", "papertrade.tui.screens"),
}


@pytest.mark.parametrize("room", list(NAMES))
def test_a_layer_names_only_what_is_below_it(room: str) -> None:
    folder, _, under = room.partition("/")
    forbidden = NAMES[room]
    found = []
    for module in _modules(folder, under):
        for name in _imports(_source_of(module)):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{module} imports {name}")
    assert found == []


def test_the_apps_modules_import_each_other_in_no_circle() -> None:
    modules = set(_modules("tui"))
    graph: dict[str, set[str]] = {}
    for module in modules:
        targets = set()
        for name in _imports(_source_of(module)):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets

    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    # a package importing its own submodules (`papertrade.tui.cli` → `.sessions`) is no circle
    real = [c for c in cycles if not all(c[0].startswith(m) or m.startswith(c[0]) for m in c)]
    assert real == []


def test_headless_simulate_runs_without_textual() -> None:
    script = (
        "import sys\n"
        "from papertrade.tui.cli import main\n"
        "rc = main(['simulate', 'examples/drills/funding.jsonl', '--json'])\n"
        "print('TEXTUAL' if 'textual' in sys.modules else 'CLEAN', rc, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.stderr.strip().endswith("CLEAN 0"), done.stderr
