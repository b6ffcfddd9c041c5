"""Type-check the `papertrade` package as it installs, then the tests.

mypy cannot follow the import hook an editable install uses for pyproject's `package-dir`
mapping (`papertrade.core` → `core/`, …), so this lays the same mapping out as a tree of
symbolic links under `build/typecheck/` and checks that: `mypy --strict` on the package,
plain `mypy` on `tests/` and `benchmarks/`. Exit status: mypy's (non-zero on any error).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / "build" / "typecheck"
MAPPING = {"core": "core", "feeds": "feeds", "saves": "saves", "tui": "tui"}


def lay_out() -> Path:
    package = TREE / "papertrade"
    if TREE.exists():
        shutil.rmtree(TREE)
    package.mkdir(parents=True)
    for name in ("__init__.py", "__main__.py", "py.typed"):
        source = ROOT / "tui" / "_package" / name
        if source.exists():
            os.symlink(source, package / name)
    for sub, folder in MAPPING.items():
        os.symlink(ROOT / folder, package / sub, target_is_directory=True)
    return package


def main() -> int:
    package = lay_out()
    env = {**os.environ, "MYPYPATH": str(TREE)}
    steps = [
        [sys.executable, "-m", "mypy", "--strict", str(package)],
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "tests" / "mypy.ini"),
            "tests",
            "benchmarks",
        ],
    ]
    status = 0
    for cmd in steps:
        print("+ mypy", " ".join(cmd[3:]), flush=True)
        status |= subprocess.run(cmd, cwd=ROOT, env=env).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
