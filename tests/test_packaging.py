"""The wheel a user installs: one top-level package, its data files, and a working entry point.

The folders `core/ feeds/ saves/ tui/` install as `papertrade.*` through a `package-dir` mapping
that the editable install used by every other test hides; only a built wheel shows what a user
gets. A wheel that leaked a top-level `core` would overwrite other distributions' files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "core", "feeds", "saves", "tui")


def build_wheel(into: Path) -> Path:
    """Build from a copy of the sources, so the build never writes into the shared work tree."""
    src = into / "src"
    src.mkdir()
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, src / name)
    out = into / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "-w",
            str(out),
            str(src),
        ],
        check=True,
        cwd=into,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    (wheel,) = out.glob("papertrade-*.whl")
    return wheel


# building the wheel takes 5-15 s: setuptools copies and zips the whole package
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_holds_one_top_level_package_and_its_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        tops = {PurePosixPath(name).parts[0] for name in zf.namelist()}
    assert tops == {"papertrade", "papertrade-0.2.0.dist-info"}


def test_the_wheel_ships_the_bundled_instruments_and_the_stylesheet(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    bundled = {n for n in names if n.startswith("papertrade/core/data/") and n.endswith(".json")}
    # one file per venue with bundled rules: Binance, Bybit, OKX, Hyperliquid
    expected = {
        f"papertrade/core/data/{v}.json"
        for v in ("binance_usdm", "bybit_linear", "okx_swap", "hyperliquid_perp")
    }
    assert bundled == expected
    assert "papertrade/tui/app.tcss" in names
    assert "papertrade/__main__.py" in names


def test_every_source_module_is_in_the_wheel(wheel: Path) -> None:
    """A sub-package missing from pyproject's package list would import here and fail for users."""
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for folder in ("core", "feeds", "saves", "tui"):
        for module in (ROOT / folder).rglob("*.py"):
            inside = module.relative_to(ROOT).as_posix()
            # tui/_package/ holds the top-level `papertrade/__init__.py` and `__main__.py`
            installed = "papertrade/" + inside.removeprefix("tui/_package/")
            assert installed in names, f"{inside} is not in the wheel"


def test_the_unpacked_wheel_runs_python_m_papertrade_help(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    # PYTHONPATH comes before the editable install's finder: the wheel's copy is the one imported
    env = {**os.environ, "PYTHONPATH": str(site), "NO_COLOR": "1"}
    where = subprocess.run(
        [sys.executable, "-c", "import papertrade; print(papertrade.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(site)
    helped = subprocess.run(
        [sys.executable, "-m", "papertrade", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert helped.returncode == 0, helped.stderr
    assert "usage:" in helped.stdout
