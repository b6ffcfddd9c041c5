"""Byte-identical outputs: `papertrade simulate --json` here and at a baseline revision.

    python benchmarks/identical.py [--baseline REV] [--events 200000] [--keep DIR]

The speed work (issue 14) must not change a single output byte. This runs `simulate --json`
of this checkout and of `--baseline` (default: the parent of the first speed commit, "Start-up:
each command imports only its own module", found in `git log`) on every drill in
`examples/drills/` and on a deterministic random drill (seeded: marks, quotes, trades and
funding over 10 symbols, with orders, cancels and closes among them) and prints IDENTICAL or
DIFFERENT for each file; exit status 1 on any difference (a failed run of either side counts
as one, with its error).

The baseline runs from REV's source extracted to a temporary directory (`git archive`), laid
out as the installed package (the `package-dir` mapping of pyproject.toml, as symbolic links)
and put first on PYTHONPATH, so it never sees this checkout's modules (checked before use).
Rules changes since REV (engine rules version 2, new outcome fields) make some drills differ
for reasons that are not speed work: name a later revision with the same rules to separate
the two (this script only reports).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from papertrade.core.instruments import bundled  # noqa: E402
from papertrade.core.numbers import floor_to, plain  # noqa: E402

FIRST_SPEED_COMMIT = "Start-up: each command imports only its own module"
START_TS = 1_767_225_600_000


def first_speed_parent() -> str:
    """The parent of the first speed commit, by its subject in this repository's history."""
    found = subprocess.run(
        ["git", "log", "--format=%H", "--fixed-strings", f"--grep={FIRST_SPEED_COMMIT}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not found:
        raise SystemExit(f"no commit named {FIRST_SPEED_COMMIT!r} in git log: pass --baseline")
    return f"{found[-1]}^"


def random_drill(events: int, seed: int = 14) -> Iterator[str]:
    """A drill of `events` lines: the market of 10 symbols moving by ticks (a mark, a quote
    with sizes, a trade, now and then a funding), and orders, cancels and closes among them,
    in the fields every revision of the format has had."""
    book = bundled("binance")
    symbols = list(book)[:10]
    rng = random.Random(seed)
    price = {s: book[s].tick_size * rng.randint(2_000, 200_000) for s in symbols}
    open_ids: list[str] = []
    ts = START_TS
    yield '{"type":"session","balance":"100000"}'
    for n in range(events):
        ts += rng.randint(0, 40)
        sym = rng.choice(symbols)
        inst = book[sym]
        tick = inst.tick_size
        price[sym] = max(tick * 100, price[sym] + tick * rng.randint(-20, 20))
        p = price[sym]
        roll = rng.random()
        if roll < 0.35:
            yield f'{{"type":"mark","ts":{ts},"symbol":"{sym}","price":"{plain(p)}"}}'
        elif roll < 0.75:
            yield (
                f'{{"type":"quote","ts":{ts},"symbol":"{sym}","bid":"{plain(p - tick)}",'
                f'"ask":"{plain(p)}","bid_qty":"{rng.randint(1, 900)}",'
                f'"ask_qty":"{rng.randint(1, 900)}"}}'
            )
        elif roll < 0.88:
            size = plain(inst.step_size * rng.randint(1, 50))
            yield (
                f'{{"type":"trade","ts":{ts},"symbol":"{sym}","price":"{plain(p)}","qty":"{size}"}}'
            )
        elif roll < 0.89:
            rate = plain(Decimal(rng.randint(-30, 30)) / 100_000)
            yield f'{{"type":"funding","ts":{ts},"symbol":"{sym}","rate":"{rate}"}}'
        elif roll < 0.96:
            ident = f"o{n}"
            side = rng.choice(["buy", "sell"])
            qty = max(inst.min_qty, floor_to(Decimal(rng.randint(50, 4_000)) / p, inst.step_size))
            mode = rng.choice(["isolated", "cross"])
            lev = rng.choice([2, 5, 10, 20, 50])
            if rng.random() < 0.5:
                yield (
                    f'{{"type":"order","ts":{ts},"id":"{ident}","symbol":"{sym}",'
                    f'"side":"{side}","qty":"{plain(qty)}","order_type":"market",'
                    f'"margin_mode":"{mode}","leverage":{lev}}}'
                )
            else:
                off = tick * rng.randint(-30, 30)
                yield (
                    f'{{"type":"order","ts":{ts},"id":"{ident}","symbol":"{sym}",'
                    f'"side":"{side}","qty":"{plain(qty)}","order_type":"limit",'
                    f'"price":"{plain(p + off)}","margin_mode":"{mode}","leverage":{lev}}}'
                )
                open_ids.append(ident)
        elif roll < 0.98 and open_ids:
            ident = open_ids.pop(rng.randrange(len(open_ids)))
            yield f'{{"type":"cancel","ts":{ts},"id":"{ident}"}}'
        else:
            yield f'{{"type":"close","ts":{ts},"symbol":"{sym}"}}'


def baseline_tree(rev: str, where: Path) -> Path:
    """`rev`'s source under `where` (`git archive`: no worktree to register or remove) and,
    beside it, its package laid out for import."""
    tree = where / "tree"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "core", "feeds", "saves", "tui"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    package = where / "site" / "papertrade"
    package.mkdir(parents=True)
    for item in (tree / "tui" / "_package").iterdir():
        os.symlink(item, package / item.name)
    for sub in ("core", "feeds", "saves", "tui"):
        os.symlink(tree / sub, package / sub, target_is_directory=True)
    return where / "site"


def simulate(drill: Path, pythonpath: str | None) -> tuple[int, bytes, bytes]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [sys.executable, "-m", "papertrade", "simulate", str(drill), "--json"],
        capture_output=True,
        env=env,
        cwd=drill.parent,
    )
    return done.returncode, done.stdout, done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="git revision (default: before the speed work)")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--keep", type=Path, help="write the differing outputs here")
    args = parser.parse_args()
    rev = args.baseline or first_speed_parent()
    described = subprocess.run(
        ["git", "log", "-1", "--format=%h %s", rev], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(f"baseline: {described}")
    different = 0
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        site = baseline_tree(rev, tmp)
        where = subprocess.run(
            [sys.executable, "-c", "import papertrade.core.engine as m; print(m.__file__)"],
            env={**os.environ, "PYTHONPATH": str(site)},
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not where.startswith(str(tmp)):
            raise SystemExit(f"the baseline would import {where!r}, not its own source")
        random_file = tmp / f"random-{args.events}.jsonl"
        with random_file.open("w", encoding="utf-8") as f:
            for line in random_drill(args.events):
                f.write(line + "\n")
        drills = [*sorted((ROOT / "examples" / "drills").glob("*.jsonl")), random_file]
        for drill in drills:
            ours = simulate(drill, None)
            theirs = simulate(drill, str(site))
            same = ours == theirs and ours[0] == 0
            different += not same
            verdict = "IDENTICAL" if same else "DIFFERENT"
            lines = ours[1].count(b"\n")
            print(f"{verdict:9}  {drill.name}  ({lines:,} output lines)")
            if not same:
                for who, (status, _out, err) in (("here", ours), ("baseline", theirs)):
                    if status != 0:
                        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:]
                        print(f"           {who} exited {status}: {' '.join(tail)}")
                if args.keep is not None:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    (args.keep / f"{drill.stem}.here.jsonl").write_bytes(ours[1])
                    (args.keep / f"{drill.stem}.baseline.jsonl").write_bytes(theirs[1])
    print(f"{different} of the files differ" if different else "every output is identical")
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
