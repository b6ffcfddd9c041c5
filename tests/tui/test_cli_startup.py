"""Start-up of the command line: `papertrade --help` and `simulate` load only what they use.

Checked by behaviour, not by timing: each command runs in a fresh interpreter (as a user runs
it) that then lists `sys.modules`. Textual, sqlite-utils, asyncio and the feeds cost most of
the old 0.75 s `--help`; a later import that pulls one of them back in fails here.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from papertrade.tui.app import DIALOGS
from papertrade.tui.cli import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[2]
DRILL = ROOT / "examples" / "drills" / "funding.jsonl"

PROBE = """
import contextlib, io, json, sys
from papertrade.tui.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


@functools.cache
def interpreter_start() -> frozenset[str]:
    """The modules a bare interpreter of this environment has loaded before any code of
    ours runs: what its site's `.pth` files import (a sandbox's certificate hook pulls in
    `importlib.resources` and `zipfile`, for one) is not the command's doing."""
    done = subprocess.run(
        [sys.executable, "-c", "import json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return frozenset(json.loads(done.stdout))


def run_and_list(*argv: str) -> tuple[int, str, set[str]]:
    """Exit status, output and every module `papertrade ARGV` loaded in a fresh process,
    beyond those the interpreter itself started with (`interpreter_start`)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.splitlines()[-1])
    return got["code"], got["out"], set(got["modules"]) - interpreter_start()


def loaded(modules: set[str], *names: str) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_help_lists_every_command_without_loading_textual_sqlite_asyncio_or_pydantic() -> None:
    code, out, modules = run_and_list("--help")
    assert code == 0
    for name, command in COMMANDS.items():
        assert name in out and command.summary in " ".join(out.split())
    assert "--feed FEED" in out  # the terminal's own options, in the epilog
    heavy = ("textual", "rich", "sqlite_utils", "sqlite3", "asyncio", "pydantic", "websockets")
    assert loaded(modules, *heavy) == []
    # nor `dataclasses` (and `inspect`, `ast`, `dis` behind it): a fifth of `--help`
    assert loaded(modules, "dataclasses", "inspect") == []
    ours = ("papertrade.core.codec", "papertrade.core.engine", "papertrade.feeds.base")
    assert loaded(modules, *ours, "papertrade.saves.store", "papertrade.tui.service") == []


def test_simulate_loads_neither_textual_nor_the_store_nor_any_feed() -> None:
    code, out, modules = run_and_list("simulate", str(DRILL), "--json")
    assert code == 0
    assert json.loads(out.splitlines()[-1])["type"] == "account"
    assert loaded(modules, "textual", "sqlite_utils", "sqlite3", "rich", "platformdirs") == []
    assert loaded(modules, "papertrade.feeds", "papertrade.tui.service") == []
    # of the store's package only the file naming its default path (for `--db`'s help)
    assert loaded(modules, "papertrade.saves") == ["papertrade.saves", "papertrade.saves.paths"]
    # the bundled instruments come through `pkgutil`: no resource readers, no `zipfile`
    assert "papertrade.core.instruments" in modules
    assert loaded(modules, "importlib.resources", "zipfile") == []


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action._name_parser_map)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_command_builds_only_its_own_parser(command: str) -> None:
    choices = subparsers(build_parser([command]))
    assert set(choices) == {command}  # the other nine parsers are not built at all
    own = choices[command].format_help()
    assert choices[command].description, f"{command} has no description"
    assert "--" in own or "SESSION" in own or "FILE" in own


def test_help_lists_every_command_without_building_their_options() -> None:
    choices = subparsers(build_parser([]))
    assert list(choices) == list(COMMANDS)
    # each only listed: a parser without options past -h
    assert all(len(choices[c]._actions) == 1 for c in COMMANDS)


def test_the_full_parser_gives_every_command_its_options() -> None:
    choices = subparsers(build_parser())
    assert all(len(choices[c]._actions) > 1 for c in COMMANDS)


def test_the_terminal_imports_without_plotext_or_the_dialogs() -> None:
    """Issue 14, first frame: plotext (~0.1 s of CPU) is imported when a chart is first
    painted or the post-mortem opened, and the dialogs (ticket, stops, modals, alerts, help)
    when the terminal has settled or a key opens one: not with the terminal's app, screens
    and set-up."""
    probe = (
        "import json, sys\n"
        "import papertrade.tui.app, papertrade.tui.cli.terminal, papertrade.tui.widgets.chart\n"
        "import papertrade.tui.service.setup\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(done.stdout.splitlines()[-1]))
    assert "papertrade.tui.screens.trading" in modules
    assert loaded(modules, "plotext", "textual_plotext", "papertrade.tui.screens.postmortem") == []
    assert all(importlib.util.find_spec(name) for name in DIALOGS)  # real names: can fail
    assert loaded(modules, *DIALOGS) == []
    # nor what only a `file:` feed, a branch or a config file needs, nor the order tabs (a
    # small terminal mounts them when first shown)
    later = ("papertrade.feeds.file", "papertrade.tui.service.recorded", "tomllib")
    tabs = ("textual.widgets._tabbed_content", "papertrade.tui.widgets.history")
    assert loaded(modules, *later, *tabs) == []
    # nor msgspec (~15 ms): it decodes drill lines, made on first use by `core.codec`
    assert "papertrade.core.codec" in modules and loaded(modules, "msgspec") == []
